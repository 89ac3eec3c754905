"""``registry export expirations``: the expiration list as CSV.

The ``export`` group lives here so the CSV export of people and credentials (registry/transfer)
can add its commands to the same group instead of registering a second ``export``.
"""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from registry import clock
from registry.database import db
from registry.expirations.csv import write_csv
from registry.expirations.service import KINDS, expiring_within
from registry.transfer.csv_export import open_file

export_cli = AppGroup("export", help="Export registry data as CSV.")


@export_cli.command("expirations")
@click.option("--within-days", type=click.IntRange(0, 3660), default=90, show_default=True)
@click.option(
    "--include-expired/--no-include-expired",
    default=True,
    show_default=True,
    help="Also list what has already lapsed.",
)
@click.option("--kind", type=click.Choice(KINDS), help="An item type or a person kind.")
@click.option("--facility-id", help="Only this facility (credentials of people working there).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (UTF-8 with a byte order mark, for Excel) instead of standard output.",
)
def export_expirations(within_days, include_expired, kind, facility_id, output):
    """Credentials, appointments and agreements that lapse soon, as CSV, soonest first."""
    items = expiring_within(
        session=db.session,
        within_days=within_days,
        include_expired=include_expired,
        kind=kind,
        facility_id=facility_id,
        today=clock.now(),
        timezone=current_app.config["REGISTRY_TIMEZONE"],
    )
    if output:
        with open_file(output) as stream:
            count = write_csv(items, stream)
        click.echo(f"wrote {count} rows to {output}", err=True)
    else:
        write_csv(items, sys.stdout)
