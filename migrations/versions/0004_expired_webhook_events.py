"""webhook events appointment.expired and agreement.expired

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 19:00:00

The day after an appointment or a supervision agreement lapsed, its notice used to go out as
``appointment.expiring`` / ``agreement.expiring`` with ``days_left`` -1 (only credentials had an
``*.expired`` event). It now goes out as ``appointment.expired`` / ``agreement.expired``. So
that no subscriber stops getting these notices, every webhook subscribed to an ``*.expiring``
event of those kinds is subscribed to the matching ``*.expired`` event too. Alerts queued before
the upgrade keep the event name they were queued with (their body is fixed, so that every retry
sends the same bytes).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_EVENTS = {
    "appointment.expiring": "appointment.expired",
    "agreement.expiring": "agreement.expired",
}
webhooks = sa.table("webhooks", sa.column("id", sa.String), sa.column("events", sa.JSON))


def _rewrite(change) -> None:
    connection = op.get_bind()
    for webhook_id, events in connection.execute(sa.select(webhooks.c.id, webhooks.c.events)):
        events = json.loads(events) if isinstance(events, str) else list(events or [])
        changed = change(events)
        if changed != events:
            connection.execute(
                webhooks.update().where(webhooks.c.id == webhook_id).values(events=changed)
            )


def upgrade() -> None:
    def add_expired(events: list) -> list:
        added = [NEW_EVENTS[e] for e in events if e in NEW_EVENTS and NEW_EVENTS[e] not in events]
        return events + added

    _rewrite(add_expired)


def downgrade() -> None:
    # the older code knows no such events: its lapse notices go out as *.expiring again, so a
    # subscriber to an *.expired event alone is subscribed to the *.expiring one instead
    old_events = {expired: expiring for expiring, expired in NEW_EVENTS.items()}

    def back(events: list) -> list:
        kept = [old_events.get(e, e) for e in events]
        return list(dict.fromkeys(kept))

    _rewrite(back)
