"""Alerts and digests (the outbox of expiration notices) and webhook subscriptions."""

import secrets

from sqlalchemy import select

from registry import clock
from registry.alerts.models import Alert, Digest, Webhook
from registry.errors import Conflict, NotFound
from registry.ids import find


def get(*, session, alert_id: str) -> Alert:
    """The alert with this id, or NotFound."""
    alert = find(session, Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id!r} not found")
    return alert


def search_statement(*, status=None, channel=None, person_id=None, item_id=None):
    """The filtered select behind the alert list, newest first."""
    stmt = select(Alert)
    if status:
        stmt = stmt.where(Alert.status == status)
    if channel:
        stmt = stmt.where(Alert.channel == channel)
    if person_id:
        stmt = stmt.where(Alert.person_id == person_id)
    if item_id:
        stmt = stmt.where(Alert.item_id == item_id)
    return stmt.order_by(Alert.created_at.desc(), Alert.id)


def retry(*, session, alert: Alert) -> Alert:
    """Put a failed alert back in the outbox to be sent now, with a fresh series of attempts.

    Only failed alerts: a pending one is already queued (and may be on its way right now),
    a sent one has arrived.
    """
    return _queue_again(session, alert, "alert")


def get_digest(*, session, digest_id: str) -> Digest:
    """The digest with this id, or NotFound."""
    digest = find(session, Digest, digest_id)
    if digest is None:
        raise NotFound(f"digest {digest_id!r} not found")
    return digest


def digests_statement(*, status=None):
    """The filtered select behind the digest list, newest first."""
    stmt = select(Digest)
    if status:
        stmt = stmt.where(Digest.status == status)
    return stmt.order_by(Digest.created_at.desc(), Digest.id)


def retry_digest(*, session, digest: Digest) -> Digest:
    """Put a failed digest back in the outbox to be sent now (as ``retry`` does an alert)."""
    return _queue_again(session, digest, "digest")


def _queue_again(session, row, noun: str):
    if row.status != "failed":
        raise Conflict(
            f"only a failed {noun} can be retried; this one is {row.status}",
            errors={"status": [f"Is {row.status!r}, not 'failed'."]},
        )
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = clock.now()
    session.flush()
    return row


def get_webhook(*, session, webhook_id: str) -> Webhook:
    """The webhook subscription with this id, or NotFound."""
    webhook = find(session, Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"webhook {webhook_id!r} not found")
    return webhook


def webhooks_statement(*, active=None):
    """Webhook subscriptions, oldest first."""
    stmt = select(Webhook)
    if active is not None:
        stmt = stmt.where(Webhook.active == active)
    return stmt.order_by(Webhook.created_at, Webhook.id)


def create_webhook(*, session, data: dict) -> Webhook:
    """Subscribe a URL to events; a secret is generated when none is given."""
    fields = dict(data)
    if not fields.get("secret"):
        fields["secret"] = secrets.token_urlsafe(32)
    webhook = Webhook(**fields)
    session.add(webhook)
    session.flush()
    return webhook


def deactivate_webhook(*, session, webhook: Webhook) -> Webhook:
    """Stop deliveries to a subscription (kept, never deleted, for the audit trail)."""
    webhook.active = False
    session.flush()
    return webhook
