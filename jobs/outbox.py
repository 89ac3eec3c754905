"""The outbox: alerts and digests wait in their tables until delivered, retried with backoff.

A delivery worker claims due rows by pushing their next attempt a lease into the future
(PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite: inside BEGIN IMMEDIATE), sends
without holding any lock, then records the outcome in its own short transaction. A crash
between claim and outcome leaves the row pending; it is tried again when the lease runs out.

Giving up needs both ``DELIVERY_MAX_ATTEMPTS`` genuine attempts and ``DELIVERY_GIVE_UP_HOURS``
since the row was written, so an outage of the SMTP server or a webhook receiver shorter than
that loses nothing. A send that was not even tried (the SMTP server was found unreachable
earlier in the run) is deferred, not counted.

These writes are plain SQL statements, not ORM changes, so each records its audit event itself
(``registry.audit.hook``, the actor being the job) in the same transaction: the rows queued, and
each outcome (sent, failed, a failed attempt, deferred, withdrawn). The lease a claim takes is
not recorded: it is the delivery's lock, not a change of the row's state, and the outcome that
follows it within the lease is.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from registry.audit import hook as audit_hook
from registry.database import begin_write

LEASE = timedelta(minutes=15)
FIRST_RETRY = timedelta(minutes=1)
# after an outage every row is tried again within this wait
LONGEST_WAIT = timedelta(hours=1)


def _insert_for(session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_if_absent(session, table, rows: list[dict]) -> list[str]:
    """Insert rows, skipping any that a unique key says exist already, with the create events
    of those inserted; returns the new ids.

    ``INSERT … ON CONFLICT DO NOTHING`` holds under concurrency: two schedulers racing on the
    same alert leave exactly one row.
    """
    if not rows:
        return []
    insert = _insert_for(session)
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.id)
    ids = list(session.scalars(stmt, rows))
    inserted = set(ids)
    audit_hook.record_inserted(
        session.connection(), table, [row for row in rows if row["id"] in inserted]
    )
    return ids


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 1, 2, 4, 8 … minutes, at most an hour."""
    doublings = min(max(attempts - 1, 0), 16)  # 2**16 minutes is past the cap: no overflow
    return min(FIRST_RETRY * 2**doublings, LONGEST_WAIT)


def claim_due(
    sessions,
    model,
    *,
    now: datetime,
    limit: int,
    due_by: datetime | None = None,
    where: tuple = (),
) -> list[str]:
    """Claim up to ``limit`` pending rows due by ``due_by`` (default ``now``) and lease them
    until ``now`` + LEASE; returns their ids (one transaction). ``where``: more conditions."""
    with sessions.begin() as session:
        begin_write(session)
        due_by = due_by or now
        stmt = (
            select(model.id)
            .where(
                model.status == "pending",
                or_(model.next_attempt_at.is_(None), model.next_attempt_at <= due_by),
                *where,
            )
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(session.scalars(stmt))
        if ids:
            session.execute(
                update(model).where(model.id.in_(ids)).values(next_attempt_at=now + LEASE)
            )
        return ids


def record_outcome(
    sessions,
    model,
    row_id: str,
    *,
    error: str | None,
    now: datetime,
    max_attempts: int,
    give_up_after: timedelta,
) -> str:
    """Record one genuine delivery attempt (own transaction); returns the row's new status.

    A failure leaves the row pending with a backoff, unless it has had ``max_attempts``
    attempts and is ``give_up_after`` old: then it is ``failed`` until someone retries it.
    """
    with sessions.begin() as session:
        row = _locked(session, model, row_id)
        if row is None or row["status"] != "pending":
            return row["status"] if row else "gone"
        attempts = (row["attempts"] or 0) + 1
        values: dict = {"attempts": attempts, "updated_at": now}
        if error is None:
            values.update(status="sent", sent_at=now, next_attempt_at=None)
        elif attempts >= max_attempts and now - row["created_at"] >= give_up_after:
            values.update(status="failed", last_error=error[:2000], next_attempt_at=None)
        else:
            values.update(last_error=error[:2000], next_attempt_at=now + backoff(attempts))
        _change(session, model, row, values)
        return values.get("status", "pending")


def defer(sessions, model, row_id: str, *, reason: str, now: datetime) -> str:
    """Put back a claimed row that was not tried, without counting an attempt."""
    with sessions.begin() as session:
        row = _locked(session, model, row_id)
        if row is not None and row["status"] == "pending":
            values = {
                "next_attempt_at": now + FIRST_RETRY,
                "last_error": reason[:2000],
                "updated_at": now,
            }
            _change(session, model, row, values)
    return "deferred"


def withdraw(sessions, model, row_id: str, *, reason: str, now: datetime) -> str:
    """Mark a queued row that no longer applies ``withdrawn`` (kept, never deleted)."""
    with sessions.begin() as session:
        row = _locked(session, model, row_id)
        if row is not None and row["status"] == "pending":
            values = {
                "status": "withdrawn",
                "last_error": reason,
                "next_attempt_at": None,
                "updated_at": now,
            }
            _change(session, model, row, values)
    return "withdrawn"


def _locked(session, model, row_id: str) -> dict | None:
    """The row as its audit event shows it, plus when it was queued, locked for this
    transaction (SQLite: the write lock); None when it is gone."""
    begin_write(session)
    columns = [*audit_hook.recorded_columns(model.__table__), model.__table__.c.created_at]
    stmt = select(*columns).where(model.id == row_id).with_for_update()
    row = session.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def _change(session, model, row: dict, values: dict) -> None:
    """Write ``values`` to a locked row, and its update event in the same transaction."""
    session.execute(update(model).where(model.id == row["id"]).values(**values))
    audit_hook.record_updated(
        session.connection(), model.__table__, before=row, after={**row, **values}
    )
