"""Test fixtures: one migrated database per run (SQLite, or PostgreSQL via TEST_DATABASE_URL),
emptied between tests; the app, a client, API keys and the app clock."""

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from registry import clock, create_app
from registry.audit.models import AuditEvent
from registry.credentials.models import CredentialType, Modality
from registry.database import db, make_engine
from registry.migrate import upgrade
from registry.models import Base

IN_CI = os.environ.get("CI", "").lower() == "true"
# the catalogue rows as the migrations left them; each test starts from exactly these
_MIGRATED_CATALOGUE: dict = {}


def _prepare_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _prepare_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'registry-test.db'}"
    upgrade(url)
    _MIGRATED_CATALOGUE.update(_read_catalogue(url))
    return url


def _read_catalogue(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = {
            table: [dict(row._mapping) for row in conn.execute(select(table))]
            for table in (CredentialType.__table__, Modality.__table__)
        }
    engine.dispose()
    types = rows[CredentialType.__table__]
    parents = {row["code"]: row["depends_on"] for row in types}

    def depth(code):
        return 0 if parents[code] is None else 1 + depth(parents[code])

    # a type depends on another (a foreign key): insert the one depended on first
    types.sort(key=lambda row: depth(row["code"]))
    return rows


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("var")
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "REGISTRY_VAR_DIR": str(var_dir),
            "MAIL_BACKEND": "file",
            "MAIL_FILE_DIR": str(var_dir / "mail"),
            "COORDINATOR_EMAILS": ["coordinator@example.org"],
            "WTF_CSRF_ENABLED": True,
        }
    )
    return application


def empty_database() -> None:
    """Delete every row, children first, then put back the catalogue the migrations seeded."""
    session = db.session
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    for table, rows in _MIGRATED_CATALOGUE.items():
        session.execute(table.insert(), rows)
    # the migration seeds the catalogue without audit events; keep each test's trail to itself
    session.execute(AuditEvent.__table__.delete())
    session.commit()


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        with app.app_context():
            db.session.rollback()
            empty_database()
    clock.set_source(None)


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield app


@pytest.fixture
def session(app_context):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_key(app):
    """Create an API key with the given scopes and return request headers carrying it."""
    from registry.auth import keys

    counter = iter(range(10_000))

    def _make(scopes=("read", "check", "write", "admin")) -> dict:
        with app.app_context():
            _, raw = keys.create(
                session=db.session, name=f"test-{next(counter)}", scopes=list(scopes)
            )
            db.session.commit()
        return {"Authorization": f"Bearer {raw}"}

    return _make


@pytest.fixture
def empty_database_url(database_url, tmp_path) -> str:
    """A database of its own with nothing in it, for migration tests, on the suite's engine: a
    SQLite file, or on PostgreSQL a schema of its own (dropped after)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = "migration_test"
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{database_url}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def auth(make_key) -> dict:
    """Headers of a key holding every scope."""
    return make_key()


class FrozenClock:
    """The app clock, moved by hand: ``frozen.set(datetime(...))``, ``frozen.advance(days=1)``."""

    def __init__(self, start: datetime):
        self.current = start
        clock.set_source(lambda: self.current)

    def set(self, when: datetime) -> None:
        self.current = when if when.tzinfo else when.replace(tzinfo=UTC)

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.current += timedelta(**delta)


@pytest.fixture
def frozen_clock():
    fc = FrozenClock(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    yield fc
    clock.set_source(None)


ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
_LEFT_TO_POSTGRES = pytest.StashKey[list]()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "postgres_only: needs a real PostgreSQL server; a SQLite run leaves it out"
    )


def pytest_collection_modifyitems(config, items):
    """On SQLite, deselect (not skip: CI fails skips) the tests only PostgreSQL can run."""
    if ON_POSTGRES:
        return
    left = [item for item in items if item.get_closest_marker("postgres_only")]
    if left:
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
        config.hook.pytest_deselected(items=left)
    config.stash[_LEFT_TO_POSTGRES] = [item.nodeid for item in left]


def pytest_report_collectionfinish(config, start_path, items):
    left = config.stash.get(_LEFT_TO_POSTGRES, [])
    if not left:
        return []
    return [f"left to the TEST_DATABASE_URL (PostgreSQL) pass: {len(left)} postgres_only tests"] + [
        f"  {nodeid}" for nodeid in left
    ]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """In CI a file skipped while it is collected (a module-level skip) fails the run too."""
    outcome = yield
    report = outcome.get_result()
    # changed as it is made, so every pytest_collectreport (the failure count too) sees a failure
    if IN_CI and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped at collection in CI, which must run everything: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: a skip there is turned into a failure."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, which must run everything: {reason}"


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return f"database: PostgreSQL {url}"
    return "database: SQLite (set TEST_DATABASE_URL for PostgreSQL and its postgres_only tests)"
