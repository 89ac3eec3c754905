"""``registry jobs run``: the scheduler process, apart from the web workers.

APScheduler 3.x ``BlockingScheduler`` in the organisation's time zone (``REGISTRY_TIMEZONE``),
jobs defined here with stable ids: the expiration scan daily at 06:00 and shortly after start
(a missed day is caught up), outbox delivery every minute, the coordinators' digest daily at
07:00 (and at start when that hour has passed). ``coalesce`` folds missed runs into one and
``max_instances=1`` keeps one run of each job at a time; the database locks and unique keys
make a second scheduler (another replica) harmless.
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


def _run(app, sessions, name: str) -> None:
    with app.app_context():
        try:
            run_job(name, sessions=sessions, config=app.config)
        except Exception:  # keep the scheduler alive; the next run tries again
            log.exception("job %s failed", name)


def build_scheduler(app) -> BlockingScheduler:
    """The scheduler with every job registered (not started)."""
    zone = ZoneInfo(app.config["REGISTRY_TIMEZONE"])
    sessions = sessions_for(db.engine)
    scheduler = BlockingScheduler(
        timezone=zone,
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        job_defaults={**ONE_AT_A_TIME, "misfire_grace_time": 60},
    )
    job = partial(_run, app, sessions)
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
