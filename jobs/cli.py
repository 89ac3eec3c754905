"""``registry jobs run`` and ``registry jobs run-once scan|deliver|digest|all``."""

import click
from flask import current_app
from flask.cli import AppGroup

from jobs.runs import JOBS, run_job, sessions_for
from registry.database import db

jobs_cli = AppGroup(
    "jobs", help="Expiration monitoring: the daily scan, outbox delivery and the daily digest."
)


@jobs_cli.command("run")
def run_command():
    """Run the scheduler process until stopped (Ctrl-C or SIGTERM)."""
    from jobs.scheduler import run

    run(current_app._get_current_object())


@jobs_cli.command("run-once")
@click.argument("job", type=click.Choice([*JOBS, "all"]))
def run_once(job):
    """One pass of a job (all = scan, digest, deliver), for cron and tests."""
    sessions = sessions_for(db.engine)
    for name in JOBS if job == "all" else [job]:
        result = run_job(name, sessions=sessions, config=current_app.config)
        summary = ", ".join(f"{key}: {value}" for key, value in result.items())
        click.echo(f"{name}: {summary or 'nothing to do'}")
