"""The outbox: alerts and digests wait in their tables until delivered, retried with backoff.

A delivery worker claims due rows by pushing their next attempt a lease into the future
(PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite: inside BEGIN IMMEDIATE), sends
without holding any lock, then records the outcome in its own short transaction. A crash
between claim and outcome leaves the row pending; it is tried again when the lease runs out.
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from jobs.locks import begin_write

LEASE = timedelta(minutes=15)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)


def _insert_for(session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_if_absent(session, table, rows: list[dict]) -> list[str]:
    """Insert rows, skipping any that a unique key says exist already; returns the new ids.

    ``INSERT … ON CONFLICT DO NOTHING`` holds under concurrency: two schedulers racing on the
    same alert leave exactly one row.
    """
    if not rows:
        return []
    insert = _insert_for(session)
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.id)
    return list(session.scalars(stmt, rows))


def backoff(attempts: int) -> timedelta:
    """The wait before attempt ``attempts + 1``: 1, 2, 4, 8 … minutes, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def claim_due(sessions, model, *, now: datetime, limit: int) -> list[str]:
    """Claim up to ``limit`` pending rows that are due; returns their ids (one transaction)."""
    with sessions.begin() as session:
        begin_write(session)
        stmt = (
            select(model.id)
            .where(
                model.status == "pending",
                or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
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
    sessions, model, row_id: str, *, error: str | None, now: datetime, max_attempts: int
) -> str:
    """Record one delivery attempt (own transaction); returns the row's new status."""
    with sessions.begin() as session:
        begin_write(session)
        row = session.get(model, row_id)
        if row is None or row.status != "pending":
            return row.status if row else "gone"
        row.attempts = (row.attempts or 0) + 1
        if error is None:
            row.status = "sent"
            row.sent_at = now
            row.next_attempt_at = None
        else:
            row.last_error = error[:2000]
            if row.attempts >= max_attempts:
                row.status = "failed"
                row.next_attempt_at = None
            else:
                row.next_attempt_at = now + backoff(row.attempts)
        return row.status
