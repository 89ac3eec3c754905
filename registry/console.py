"""What every command of the ``registry`` console script shares: who a change is audited as."""

import contextlib
import getpass

import click

from registry.audit.context import acting_as
from registry.database import db


def cli_actor() -> str:
    """The actor of a command-line change: ``cli:`` and the login name (``cli`` without one)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


@contextlib.contextmanager
def cli_change(*refusals: type[Exception]):
    """One change made from the command line: audited with the CLI as the actor, committed at
    the end, and a refusal (one of ``refusals``) reported as a usage error (exit code 2)."""
    with acting_as(cli_actor()):
        try:
            yield
        except refusals as exc:
            raise click.UsageError(str(exc)) from exc
        db.session.commit()
