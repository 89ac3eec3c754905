"""``registry jobs run``: the scheduler process, apart from the web workers.

APScheduler 3.x ``BlockingScheduler`` in the organisation's time zone (``REGISTRY_TIMEZONE``),
jobs defined here with stable ids: the expiration scan daily at 06:00 and shortly after start
(a missed day is caught up), outbox delivery every minute, the coordinators' digest daily at
07:00 (and at start when that hour has passed). ``coalesce`` folds missed runs into one and
``max_instances=1`` keeps one run of each job at a time; the database locks and unique keys
make a second scheduler (another replica) harmless. A daily job that fails (the database away
at 06:00, say) is tried again after 1, 2, 5, 10 and 15 minutes, then every 15, by a one-off job
with a stable id, until it succeeds or its next regular run comes.
"""

import logging
import signal
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.runs import run_job, sessions_for
from registry.database import db

log = logging.getLogger("registry.jobs")
SCAN_AT = time(6, 0)
DIGEST_AT = time(7, 0)
START_DELAY = timedelta(seconds=5)
DAILY_GRACE = 6 * 3600
# missed runs fold into one, and a job never overlaps itself
ONE_AT_A_TIME = {"coalesce": True, "max_instances": 1}
# minutes a failed daily job waits to be tried again, after its 1st, 2nd … failure in a row
RETRY_MINUTES = (1, 2, 5, 10, 15)
# the daily jobs, by name: the id of the regular job, whose next run ends the retries
DAILY_JOBS = {"scan": "expiration-scan", "digest": "daily-digest"}


def retry_wait(failures: int) -> timedelta:
    """How long a daily job that failed ``failures`` times in a row waits to be tried again."""
    return timedelta(minutes=RETRY_MINUTES[min(failures, len(RETRY_MINUTES)) - 1])


def _run(app, sessions, scheduler, name: str, failures: int = 0) -> None:
    with app.app_context():
        try:
            run_job(name, sessions=sessions, config=app.config)
        except Exception:  # keep the scheduler alive; a daily job is tried again soon
            log.exception("job %s failed", name)
            if name in DAILY_JOBS:
                _retry_later(app, sessions, scheduler, name, failures + 1)


def _retry_later(app, sessions, scheduler, name: str, failures: int) -> None:
    """Try a failed daily job again after ``retry_wait``, unless its regular run comes first.

    One date-triggered job per daily job (a stable id, replaced by the next retry), so retries
    never pile up; a retry that fails schedules the next one.
    """
    regular_id = DAILY_JOBS[name]
    now = datetime.now(scheduler.timezone)
    retry_at = now + retry_wait(failures)
    regular = scheduler.get_job(regular_id)
    regular_at = regular.next_run_time if regular else None
    if regular_at is not None and retry_at >= regular_at:
        log.warning(
            "job %s failed %d times; its regular run at %s tries again", name, failures, regular_at
        )
        return
    scheduler.add_job(
        partial(_run, app, sessions, scheduler),
        DateTrigger(run_date=retry_at, timezone=scheduler.timezone),
        args=[name],
        kwargs={"failures": failures},
        id=f"{regular_id}-retry",
        name=f"The {name} job again after a failure",
        misfire_grace_time=DAILY_GRACE,
        replace_existing=True,
        **ONE_AT_A_TIME,
    )
    log.warning("job %s failed %d times in a row; trying again at %s", name, failures, retry_at)


def build_scheduler(app) -> BlockingScheduler:
    """The scheduler with every job registered (not started)."""
    zone = ZoneInfo(app.config["REGISTRY_TIMEZONE"])
    sessions = sessions_for(db.engine)
    scheduler = BlockingScheduler(
        timezone=zone,
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        job_defaults={**ONE_AT_A_TIME, "misfire_grace_time": 60},
    )
    job = partial(_run, app, sessions, scheduler)
    now = datetime.now(zone)
    scheduler.add_job(
        job,
        CronTrigger(hour=SCAN_AT.hour, minute=SCAN_AT.minute, timezone=zone),
        args=["scan"],
        id="expiration-scan",
        name="Daily expiration scan",
        misfire_grace_time=DAILY_GRACE,
        replace_existing=True,
        **ONE_AT_A_TIME,
    )
    scheduler.add_job(
        job,
        DateTrigger(run_date=now + START_DELAY, timezone=zone),
        args=["scan"],
        id="expiration-scan-at-start",
        name="Expiration scan at start (catches up a missed day)",
        misfire_grace_time=DAILY_GRACE,
        replace_existing=True,
        **ONE_AT_A_TIME,
    )
    scheduler.add_job(
        job,
        IntervalTrigger(minutes=1, timezone=zone),
        args=["deliver"],
        id="outbox-delivery",
        name="Deliver queued emails and webhooks",
        next_run_time=now + 3 * START_DELAY,
        misfire_grace_time=60,
        replace_existing=True,
        **ONE_AT_A_TIME,
    )
    scheduler.add_job(
        job,
        CronTrigger(hour=DIGEST_AT.hour, minute=DIGEST_AT.minute, timezone=zone),
        args=["digest"],
        id="daily-digest",
        name="Coordinators' daily digest",
        misfire_grace_time=DAILY_GRACE,
        replace_existing=True,
        **ONE_AT_A_TIME,
    )
    if now.time() >= DIGEST_AT:
        scheduler.add_job(
            job,
            DateTrigger(run_date=now + 4 * START_DELAY, timezone=zone),
            args=["digest"],
            id="daily-digest-at-start",
            name="Today's digest at start, if not sent yet",
            misfire_grace_time=DAILY_GRACE,
            replace_existing=True,
            **ONE_AT_A_TIME,
        )
    return scheduler


def run(app) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C."""
    scheduler = build_scheduler(app)

    def stop(signum, _frame):
        if scheduler.running:  # Ctrl-C under `make run` delivers SIGINT and then SIGTERM
            log.info("scheduler stopping (signal %s)", signum)
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "scheduler started (%s): %s",
        app.config["REGISTRY_TIMEZONE"],
        ", ".join(job.id for job in scheduler.get_jobs()),
    )
    scheduler.start()
