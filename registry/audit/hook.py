"""One SQLAlchemy session hook writes an audit event for every insert and update.

The registry writes through the session. The jobs' outbox, which writes batches with plain
SQL, records its events through the same functions here, in the same transaction:
``record_inserted`` for a batch of rows, ``record_updated`` for one row.
"""

from datetime import date, datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from registry import clock
from registry.audit.context import current_actor, current_request_id
from registry.audit.models import AuditEvent
from registry.database import new_id

# Tables that are records of their own (a stored check says who asked) or the scheduler's
# bookkeeping (when each job last completed), not changes to the registry.
NOT_AUDITED = {"audit_events", "job_runs", "qualification_checks"}
SECRET_COLUMNS = {"key_hash", "password_hash", "secret"}
# payload: an alert's or digest's rendered message, fixed when queued and kept on its row
IGNORED_COLUMNS = {"updated_at", "version", "created_at", "payload"}
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
    "digests": "digest",
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


def _changed_secrets(obj) -> dict:
    """A new secret (a password set again, say) is a change the trail shows, though masked."""
    state = inspect(obj)
    return {
        key: "*** (changed)"
        for key in SECRET_COLUMNS
        if key in state.mapper.column_attrs and state.attrs[key].history.has_changes()
    }


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
        after.update(_changed_secrets(obj))
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
            before, after = None, snapshot(obj)
        connection.execute(
            _INSERT_EVENTS, _event(action, obj.__table__, _entity_id(obj), before, after)
        )


def record_inserted(connection, table, rows: list[dict]) -> None:
    """The create events of rows a plain insert just wrote (column values by name; a column
    not given holds its default), in one statement however many rows there are."""
    defaults, events = _defaults(table), []
    for row in rows:
        row = {**defaults, **row}
        events.append(_event("create", table, _row_id(table, row), None, row_snapshot(table, row)))
    if events:
        connection.execute(_INSERT_EVENTS, events)


def record_updated(connection, table, *, before: dict, after: dict) -> None:
    """The update event of one row a plain UPDATE just changed, from its column values before
    and after (at least the audited ones); nothing when no audited value changed."""
    old, new = row_snapshot(table, before), row_snapshot(table, after)
    if old != new:
        connection.execute(
            _INSERT_EVENTS, _event("update", table, _row_id(table, before), old, new)
        )


def recorded_columns(table) -> list:
    """The columns an event shows of a row of ``table`` (what ``record_updated`` needs)."""
    return [column for column in table.c if column.name not in IGNORED_COLUMNS]


def row_snapshot(table, values: dict) -> dict:
    """The audited state of a row given as column values (as ``snapshot`` is of an object)."""
    return {
        column.name: "***" if column.name in SECRET_COLUMNS else _plain(values[column.name])
        for column in recorded_columns(table)
        if column.name in values
    }


def _defaults(table) -> dict:
    return {
        column.name: column.default.arg
        if column.default is not None and column.default.is_scalar
        else None
        for column in table.c
    }


def _row_id(table, values: dict) -> str:
    return ":".join(str(values[column.name]) for column in table.primary_key.columns)


_INSERT_EVENTS = AuditEvent.__table__.insert()


def _event(action: str, table, entity_id: str, before, after) -> dict:
    return {
        "id": new_id(),
        "occurred_at": clock.now(),
        "actor": current_actor(),
        "action": action,
        "entity_type": ENTITY_TYPES.get(table.name, table.name),
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "request_id": current_request_id(),
    }


def install() -> None:
    """Attach the audit hook to every SQLAlchemy session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
