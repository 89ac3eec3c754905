"""One SQLAlchemy session hook writes an audit event for every insert and update."""

from datetime import date, datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from registry import clock
from registry.audit.context import current_actor, current_request_id
from registry.audit.models import AuditEvent
from registry.database import PreparedQuery, new_id

# Tables whose rows are operational records rather than coordinator-entered facts. Alerts are
# audited: the jobs write them with plain SQL (no ORM events), so only a person's retry shows.
NOT_AUDITED = {"audit_events", "digests", "job_runs", "qualification_checks"}
SECRET_COLUMNS = {"key_hash", "password_hash", "secret"}
IGNORED_COLUMNS = {"updated_at", "version", "created_at"}
ENTITY_TYPES = {
    "people": "person",
    "credentials": "credential",
    "credential_types": "credential_type",
    "modalities": "modality",
    "facilities": "facility",
    "appointments": "appointment",
    "scopes": "scope",
    "supervision_agreements": "supervision_agreement",
    "assignments": "assignment",
    "webhooks": "webhook",
    "alerts": "alert",
    "api_keys": "api_key",
    "users": "user",
}


class AuditTrailImmutable(Exception):
    """Raised when code tries to change or delete an audit event."""


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(obj, *, before: bool = False) -> dict:
    """The audited state of a model instance (or its state before this flush)."""
    state = inspect(obj)
    earlier = _values_before_this_flush(state) if before else {}
    data = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in IGNORED_COLUMNS:
            continue
        if key in SECRET_COLUMNS:
            data[key] = "***"
            continue
        data[key] = _plain(earlier[key] if key in earlier else getattr(obj, key))
    if hasattr(obj, "technologists"):
        history = state.attrs["technologists"].history
        people = (
            list(history.unchanged) + list(history.deleted)
            if before and history.has_changes()
            else obj.technologists
        )
        data["technologist_ids"] = sorted(p.id for p in people)
    return data


def _values_before_this_flush(state) -> dict:
    """What the changed columns held before the changes this flush writes.

    The session keeps each changed attribute's last loaded value, None included (a change from
    NULL is a change). An attribute changed without being loaded first (an object expired by a
    rollback, say) has none: those are read from the database, which still holds them.
    """
    mapper = state.mapper
    earlier, unknown = {}, []
    for key, value in state.committed_state.items():
        if key not in mapper.column_attrs:
            continue  # relationships: see technologist_ids
        if value is NO_VALUE:
            unknown.append(key)
        else:
            earlier[key] = value
    if unknown:
        identity = state.identity  # as stored: the key itself may be changing in this flush
        stored = (
            state.session.connection()
            .execute(
                select(*(mapper.column_attrs[key].columns[0] for key in unknown)).where(
                    *(
                        column == value
                        for column, value in zip(mapper.primary_key, identity, strict=True)
                    )
                )
            )
            .one_or_none()
        )
        if stored is not None:
            earlier.update(zip(unknown, stored, strict=True))
    return earlier


def _entity_id(obj) -> str:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ":".join(str(part) for part in key)


def _before_flush(session: Session, _flush_context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditTrailImmutable("audit events cannot be changed or deleted")
    # this flush's events only: a flush that failed (and was rolled back) left its list behind
    pending = session.info["audit_pending"] = []
    for obj in list(session.new):
        if obj.__tablename__ in NOT_AUDITED:
            continue
        if getattr(obj, "id", None) is None and "id" in obj.__table__.c:
            obj.id = new_id()
        # its after-state is taken after the flush, when server defaults and ids are known
        pending.append(("create", obj, None, None))
    for obj in list(session.dirty):
        if obj.__tablename__ in NOT_AUDITED or not session.is_modified(obj):
            continue
        before, after = snapshot(obj, before=True), snapshot(obj)
        if before != after:
            pending.append(("update", obj, before, after))
    for obj in list(session.deleted):
        if obj.__tablename__ not in NOT_AUDITED:
            pending.append(("delete", obj, snapshot(obj, before=True), None))


def _after_flush(session: Session, _flush_context) -> None:
    """Write the flush's events in its transaction, straight to the table (no second flush)."""
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    connection = session.connection()
    for action, obj, before, after in pending:
        if action == "create":
            record_created(connection, obj)
        else:
            _STORE_EVENT.rows(connection, **_event(action, obj, before, after))


def record_created(connection, obj) -> None:
    """The create event of a row just inserted (by the ORM's flush, or by a plain insert: then
    ``obj`` holds every value it got)."""
    _STORE_EVENT.rows(connection, **_event("create", obj, None, snapshot(obj)))


_STORE_EVENT = PreparedQuery.insert_into(AuditEvent.__table__)


def _event(action: str, obj, before, after) -> dict:
    return {
        "id": new_id(),
        "occurred_at": clock.now(),
        "actor": current_actor(),
        "action": action,
        "entity_type": ENTITY_TYPES.get(obj.__tablename__, obj.__tablename__),
        "entity_id": _entity_id(obj),
        "before": before,
        "after": after,
        "request_id": current_request_id(),
    }


def install() -> None:
    """Attach the audit hook to every SQLAlchemy session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
