"""Running the Alembic migrations from the app, the CLI and the tests."""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the project's migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


@cache
def current_head() -> str:
    """The newest migration revision in the code."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every migration revision in the code (a database at another one is newer than the code)."""
    script = ScriptDirectory.from_config(alembic_config(""))
    return frozenset(rev.revision for rev in script.walk_revisions())


def database_revision(connection) -> str | None:
    """The revision a database is at."""
    return MigrationContext.configure(connection).get_current_revision()
