"""A daily job that fails is tried again with backoff by the running scheduler (APScheduler's
own one-off date jobs), until it succeeds or its next regular run comes; never piled up."""

import queue
import threading
from datetime import datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import OperationalError

from jobs import scheduler as scheduler_module
from jobs.scheduler import build_scheduler, retry_wait

# a retry's time is taken just after the failure: this much later at most, on a slow machine
SLACK = timedelta(seconds=10)


def test_retry_waits_grow_then_stay_at_fifteen_minutes():
    waits = [retry_wait(failures) / timedelta(minutes=1) for failures in range(1, 9)]
    assert waits == [1, 2, 5, 10, 15, 15, 15, 15]


class FlakyJobs:
    """Stands in for ``run_job``: the named job fails ``failures`` times (the database is
    unreachable), then succeeds; every call is noted with its time."""

    def __init__(self, name: str, failures: int):
        self.name = name
        self.failures_left = failures
        self.calls: list[tuple[str, datetime]] = []

    def __call__(self, name, *, sessions, config):
        self.calls.append((name, datetime.now().astimezone()))
        if name == self.name and self.failures_left > 0:
            self.failures_left -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database unreachable"))
        return {}


@pytest.fixture
def running(app, monkeypatch):
    """Start the real scheduler in a thread; yields (scheduler, finished job ids, use_jobs)."""
    scheduler = build_scheduler(app)
    for job_id in ("outbox-delivery", "expiration-scan-at-start", "daily-digest-at-start"):
        if scheduler.get_job(job_id):
            scheduler.remove_job(job_id)  # only the jobs a test fires itself run
    finished: queue.Queue = queue.Queue()
    scheduler.add_listener(lambda e: finished.put(e.job_id), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def use_jobs(fake):
        monkeypatch.setattr(scheduler_module, "run_job", fake)

    thread = threading.Thread(target=scheduler.start, daemon=True)
    thread.start()
    yield scheduler, finished, use_jobs
    scheduler.shutdown(wait=True)
    thread.join(timeout=10)


def fire_now(scheduler, finished, job_id: str) -> None:
    """Bring a job's next run forward to now and wait until it has run."""
    scheduler.modify_job(job_id, next_run_time=datetime.now(scheduler.timezone))
    assert finished.get(timeout=20) == job_id


def retries(scheduler) -> list:
    return [job for job in scheduler.get_jobs() if job.id.endswith("-retry")]


def test_a_failed_daily_scan_is_retried_with_backoff_until_it_succeeds(running):
    scheduler, finished, use_jobs = running
    jobs = FlakyJobs("scan", failures=7)
    use_jobs(jobs)
    # the next regular scan is a day away, whatever the time of day the test runs
    scheduler.reschedule_job("expiration-scan", trigger=IntervalTrigger(days=1))
    fire_now(scheduler, finished, "expiration-scan")
    for wait_minutes in (1, 2, 5, 10, 15, 15):
        (retry,) = retries(scheduler)  # one retry at a time, never a pile
        assert retry.id == "expiration-scan-retry" and retry.args == ("scan",)
        assert isinstance(retry.trigger, DateTrigger)
        failed_at = jobs.calls[-1][1]
        wait = timedelta(minutes=wait_minutes)
        assert failed_at + wait <= retry.next_run_time <= failed_at + wait + SLACK
        fire_now(scheduler, finished, "expiration-scan-retry")  # ...as if the minutes passed
    (retry,) = retries(scheduler)
    fire_now(scheduler, finished, "expiration-scan-retry")  # the eighth try succeeds
    assert retries(scheduler) == []
    assert [name for name, _ in jobs.calls] == ["scan"] * 8
    # the daily schedule itself is untouched: next run still a day after the regular one
    regular = scheduler.get_job("expiration-scan")
    assert regular.next_run_time - jobs.calls[0][1] >= timedelta(days=1) - SLACK


def test_retries_stop_when_the_next_regular_run_comes_first(running):
    scheduler, finished, use_jobs = running
    jobs = FlakyJobs("digest", failures=10)
    use_jobs(jobs)
    # a regular digest run due in four minutes: retries after 1 and 2 minutes come before it,
    # the one after 5 minutes would not, so the regular run is left to try again
    scheduler.reschedule_job("daily-digest", trigger=IntervalTrigger(minutes=4))
    fire_now(scheduler, finished, "daily-digest")
    regular_at = scheduler.get_job("daily-digest").next_run_time
    (retry,) = retries(scheduler)
    assert retry.id == "daily-digest-retry" and retry.next_run_time < regular_at
    fire_now(scheduler, finished, "daily-digest-retry")
    (retry,) = retries(scheduler)
    assert retry.next_run_time < regular_at
    fire_now(scheduler, finished, "daily-digest-retry")
    assert retries(scheduler) == []
    assert scheduler.get_job("daily-digest").next_run_time == regular_at
    assert [name for name, _ in jobs.calls] == ["digest"] * 3


def test_the_minutely_delivery_is_not_retried_apart(running):
    scheduler, finished, use_jobs = running
    use_jobs(FlakyJobs("deliver", failures=1))
    scheduler.add_job(
        scheduler.get_job("expiration-scan").func,
        IntervalTrigger(minutes=1),
        args=["deliver"],
        id="outbox-delivery",
    )
    fire_now(scheduler, finished, "outbox-delivery")
    assert retries(scheduler) == []  # its next run is a minute away anyway
