"""Reading the audit trail."""

from sqlalchemy import select

from registry.audit.models import AuditEvent


def search_statement(*, entity_type=None, entity_id=None, actor=None, since=None):
    """Audit events matching the filters, newest first."""
    stmt = select(AuditEvent)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if since:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    return stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id)
