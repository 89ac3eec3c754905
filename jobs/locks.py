"""Database locks that let several schedulers run side by side without doing a job twice.

PostgreSQL: a transaction-scoped advisory lock per job; whoever does not get it skips the run.
SQLite: there is only one writer at a time anyway; a job transaction starts with BEGIN IMMEDIATE
so it holds the write lock from its first statement and a second scheduler waits, then finds
the work already done (every job is idempotent by its unique keys).
"""

import hashlib

from sqlalchemy import text

from registry.database import begin_write


def _dialect(session) -> str:
    return session.get_bind().dialect.name


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job name."""
    digest = hashlib.sha256(f"registry-job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def hold_job_lock(session, name: str) -> bool:
    """Take the job's lock until the current transaction ends; False if another run holds it.

    Call it first in the transaction (it also starts SQLite's write transaction).
    """
    begin_write(session)
    if _dialect(session) != "postgresql":
        return True
    return bool(
        session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(name)})
    )
