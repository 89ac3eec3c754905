"""The ``registry`` console script: Flask's CLI group over the app factory."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy import select

from registry.audit.context import acting_as
from registry.console import cli_change
from registry.database import db

db_cli = AppGroup("db", help="Database migrations.")
keys_cli = AppGroup("api-keys", help="API keys for other systems.")
users_cli = AppGroup("users", help="Admin UI users.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision):
    """Apply migrations to DATABASE_URL (creates a SQLite file if needed)."""
    from registry.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@keys_cli.command("create")
@click.argument("name")
@click.option("--scopes", default="read", show_default=True, help="Comma-separated scopes.")
def keys_create(name, scopes):
    """Create a key; the key is printed alone on the last line, once."""
    from registry.auth import keys

    with cli_change(keys.ApiKeyError):
        key, raw = keys.create(session=db.session, name=name, scopes=scopes)
    click.echo(f"created API key {key.name!r} with scopes {','.join(key.scopes)}", err=True)
    click.echo(raw)


@keys_cli.command("list")
def keys_list():
    """List keys (never the keys themselves)."""
    from registry.auth.models import ApiKey

    for key in db.session.scalars(select(ApiKey).order_by(ApiKey.name)):
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.name}\t{','.join(key.scopes)}\treg_{key.prefix}_…\t{state}")


@keys_cli.command("revoke")
@click.argument("name")
def keys_revoke(name):
    """Revoke a key by name."""
    from registry.auth import keys

    with cli_change(keys.ApiKeyError):
        keys.revoke(session=db.session, name=name)
    click.echo(f"revoked {name}")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "coordinator", "viewer"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(email, role, password):
    """Create an admin UI user."""
    from registry.auth import users

    with cli_change(users.UserError):
        user = users.create(session=db.session, email=email, role=role, password=password)
    click.echo(f"created {user.role} {user.email}")


@users_cli.command("deactivate")
@click.argument("email")
def users_deactivate(email):
    """Stop a user signing in; their open sessions end at their next request."""
    _set_active(email, active=False)


@users_cli.command("activate")
@click.argument("email")
def users_activate(email):
    """Let a deactivated user sign in again."""
    _set_active(email, active=True)


def _set_active(email: str, *, active: bool) -> None:
    from registry.auth import users

    with cli_change(users.UserError):
        user = users.set_active(session=db.session, email=email, active=active)
    click.echo(f"{'activated' if active else 'deactivated'} {user.email}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_set_password(email, password):
    """Give a user a new password (prompts when omitted); also lifts a sign-in lock-out."""
    from registry.auth import users

    with cli_change(users.UserError):
        user = users.reset_password(session=db.session, email=email, password=password)
    click.echo(f"set a new password for {user.email}")


@click.command("seed-demo")
def seed_demo():
    """Load a small, realistic demo network (idempotent)."""
    from registry.demo import seed

    with acting_as("seed-demo"):
        summary = seed(session=db.session)
        db.session.commit()
    click.echo(summary)


def register_commands(app) -> None:
    """Attach every command group to the app's CLI."""
    from jobs.cli import jobs_cli
    from registry.expirations.cli import export_cli
    from registry.transfer.cli import import_cli  # also adds export people|credentials

    for command in (db_cli, keys_cli, users_cli, seed_demo, jobs_cli, import_cli, export_cli):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the ``registry`` console script."""
    from registry import create_app
    from registry.config import SettingError, from_environment

    try:
        from_environment()  # a bad setting: one line naming it, not a traceback or a short --help
    except SettingError as exc:
        print(f"registry: {exc} (see docs/operations.md, Configuration)", file=sys.stderr)
        raise SystemExit(exc.exit_status) from None
    FlaskGroup(create_app=create_app, add_default_commands=True)(prog_name="registry")
