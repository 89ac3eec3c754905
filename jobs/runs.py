"""One run of a job: as its own audit actor, logged, and noted in job_runs."""

import logging
import uuid

from sqlalchemy.orm import sessionmaker

from jobs.delivery import deliver
from jobs.digest import send_digests
from jobs.scan import scan
from registry import clock
from registry.alerts.models import JobRun
from registry.audit.context import acting_as
from registry.database import begin_write
from registry.expirations.service import local_date

log = logging.getLogger("registry.jobs")
# in this order, one "run-once all" writes the day's alerts and digests and then sends them
JOBS = {"scan": scan, "digest": send_digests, "deliver": deliver}


def sessions_for(engine) -> sessionmaker:
    """The session factory jobs use: one short transaction per unit of work."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def run_job(name: str, *, sessions, config) -> dict:
    """Run one job once (``scan``, ``deliver`` or ``digest``) and return its counts."""
    job = JOBS[name]
    with acting_as(f"job:{name}", request_id=f"job-{name}-{uuid.uuid4().hex[:12]}"):
        started = clock.now()
        result = job(sessions=sessions, config=config)
        if not skipped(result):
            record_run(sessions, name, started=started, timezone=config["REGISTRY_TIMEZONE"])
        log.info("job %s: %s", name, result or "nothing to do")
    return result


def skipped(result: dict) -> bool:
    """Whether a run did nothing because another scheduler held the job's lock."""
    # such a run must not count as done: the scan reads the last completed run's day
    return any(key.startswith("skipped") for key in result)


def record_run(sessions, name: str, *, started, timezone: str) -> None:
    """Note when a job last completed (an upsert, safe with two schedulers)."""
    with sessions.begin() as session:
        begin_write(session)
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        values = {
            "name": name,
            "last_run_on": local_date(started, timezone),
            "last_started_at": started,
            "last_finished_at": clock.now(),
        }
        stmt = insert(JobRun.__table__).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"], set_={k: v for k, v in values.items() if k != "name"}
        )
        session.execute(stmt)
