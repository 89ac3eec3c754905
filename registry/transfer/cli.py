"""``registry import people|credentials FILE.csv [--dry-run]`` and ``registry export ...``.

The ``export`` group is the one ``registry/expirations/cli.py`` defines (it holds
``export expirations``); people and credentials are added to it so there is one ``export``.
"""

import sys

import click
from flask.cli import AppGroup

from registry.audit.context import acting_as
from registry.console import cli_actor
from registry.database import db
from registry.expirations.cli import export_cli
from registry.transfer import csv_export
from registry.transfer.csv_import import NotUtf8, decode, import_csv

import_cli = AppGroup("import", help="Import people or credentials from CSV (all or nothing).")


def _run_import(kind: str, file, dry_run: bool) -> None:
    try:
        text = decode(file.read())
    except NotUtf8 as exc:
        raise click.UsageError(str(exc)) from exc
    with acting_as(cli_actor()):
        report = import_csv(session=db.session, kind=kind, text=text, dry_run=dry_run)
    for error in report.errors():
        row = error.pop("row")
        for name, message in error.items():
            click.echo(f"row {row}: {name}: {message}", err=True)
    count = len(report.rows)
    if not report.ok:
        problems = (
            [f"{len(report.bad_rows)} of {count} rows have errors"] if report.bad_rows else []
        )
        if report.file_errors:
            problems.append("the file has problems")
        click.echo(f"refused: {' and '.join(problems)}; nothing was written", err=True)
        raise click.exceptions.Exit(1)
    if dry_run:
        click.echo(f"dry run: all {count} rows are valid; nothing was written")
    else:
        click.echo(f"imported {count} {kind}")


@import_cli.command("people")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Validate every row and write nothing.")
def import_people(file, dry_run):
    """Import people from a CSV file with the people template's columns."""
    _run_import("people", file, dry_run)


@import_cli.command("credentials")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Validate every row and write nothing.")
def import_credentials(file, dry_run):
    """Import credentials; each row names its holder by person_external_id or person_npi.

    An empty expires_on (or no such column) gives the type's usual term from issued_on, as the
    API does; write never for a credential that does not expire.
    """
    _run_import("credentials", file, dry_run)


@import_cli.command("template")
@click.argument("kind", type=click.Choice(["people", "credentials"]))
def import_template(kind):
    """Print an empty import file (the header row) for people or credentials."""
    from registry.transfer.csv_import import template

    click.echo(template(kind), nl=False)


def _export(write, output) -> None:
    if output:
        with csv_export.open_file(output) as stream:
            count = write(session=db.session, stream=stream)
        click.echo(f"wrote {count} rows to {output}", err=True)
    else:
        write(session=db.session, stream=sys.stdout)


_output = click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (UTF-8 with a byte order mark, for Excel) instead of standard output.",
)


@export_cli.command("people")
@_output
def export_people(output):
    """Every person as CSV, in the import's columns plus id."""
    _export(csv_export.export_people, output)


@export_cli.command("credentials")
@_output
def export_credentials(output):
    """Every credential as CSV, in the import's columns plus id and the holder's name."""
    _export(csv_export.export_credentials, output)
