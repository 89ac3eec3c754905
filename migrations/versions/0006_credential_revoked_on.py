"""credentials.revoked_on: when a revoked credential was revoked

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 21:00:00

A verification made before a revocation does not vouch for a credential of the same type and
jurisdiction (the qualification rules, registry/qualification/engine.py), so the rules need
the date. Credentials revoked before this migration take the date of their last change, in the
registry's zone (REGISTRY_TIMEZONE): the revocation was that change or came before it.
"""

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from registry.config import registry_timezone
from registry.database import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("revoked_on", sa.Date(), nullable=True))
    credentials = sa.table(
        "credentials",
        sa.column("id", sa.String()),
        sa.column("status", sa.String()),
        sa.column("updated_at", UTCDateTime(timezone=True)),
        sa.column("revoked_on", sa.Date()),
    )
    connection = op.get_bind()
    zone = ZoneInfo(registry_timezone())
    revoked = connection.execute(
        sa.select(credentials.c.id, credentials.c.updated_at).where(
            credentials.c.status == "revoked"
        )
    ).all()
    for ident, updated_at in revoked:
        connection.execute(
            credentials.update()
            .where(credentials.c.id == ident)
            .values(revoked_on=updated_at.astimezone(zone).date())
        )


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("revoked_on")
