"""SQLAlchemy engine, session and declarative base shared by every domain package."""

import logging
import os
import uuid
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    MetaData,
    String,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

from registry import clock
from registry.config import SQLITE_SYNCHRONOUS_MODES

log = logging.getLogger("registry")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict: JSON, list: JSON}


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    """A new opaque identifier."""
    return str(uuid.uuid4())


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


class VersionedMixin:
    """Optimistic concurrency: the row version feeds the ETag and guards lost updates."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @classmethod
    def __declare_last__(cls):
        cls.__mapper__.version_id_col = cls.__table__.c.version


def begin_write(session) -> None:
    """Start the session's transaction as a writer; call it first in the transaction.

    On SQLite that is a BEGIN IMMEDIATE, which holds the write lock from the first statement
    (waiting for it up to the busy timeout); elsewhere nothing (the database's row locks do
    the work).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_immediate": True})


def switch_to_writing(session) -> None:
    """End a transaction's read-only work and go on as a writer (it must not have written).

    On SQLite: commit the reads and BEGIN IMMEDIATE on the same connection, inside the
    session's transaction, whose own COMMIT at the end commits the write; so a write never
    fails for a read snapshot gone stale. Elsewhere nothing.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if connection.info.get(_SQLITE_WRITING):
        return  # this transaction began IMMEDIATE: it holds the write lock already
    connection.exec_driver_sql("COMMIT")
    connection.exec_driver_sql("BEGIN IMMEDIATE")  # waits for the lock up to the busy timeout
    connection.info[_SQLITE_WRITING] = True


# on a SQLite connection's info: whether its current transaction holds the write lock
_SQLITE_WRITING = "sqlite_writing"


class Database:
    """Holds the engine and the request-scoped session for one app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def init_app(self, app) -> None:
        url = app.config["DATABASE_URL"]
        self.engine = make_engine(url, app.config)
        self.session.remove()
        self.session.configure(bind=self.engine)
        app.extensions["database"] = self

        if not event.contains(self.session, "after_begin", _read_only_in_read_requests):
            event.listen(self.session, "after_begin", _read_only_in_read_requests)  # once

        @app.teardown_request
        def _end_read_request(exc):
            # here, not at the app context's end: a read request's READ ONLY ends with it
            if self.session.registry.has():
                session = self.session()
                if session.info.pop(_READ_ONLY, False):
                    _end_read_only(session, failed=exc is not None)

        @app.teardown_appcontext
        def _remove_session(exc):
            self.session.remove()

    def discard_changes(self) -> None:
        """Roll back the request's transaction after an error it answers (404, 422 ...), unless
        it is a read request's READ ONLY one: that holds no changes, and ending it at the
        request's end with COMMIT keeps the connection's prepared statements (see below)."""
        if not (self.session.registry.has() and self.session().info.get(_READ_ONLY)):
            self.session.rollback()


# GET, HEAD and OPTIONS requests only read. On PostgreSQL their transaction begins READ ONLY
# (the server refuses any write in it) and ends with COMMIT rather than a rollback: psycopg
# forgets every statement it prepared on a connection when that connection rolls back (and
# sends DEALLOCATE ALL), so a check or search after a read on the same pooled connection would
# parse and plan its statements again. Measured in one process, a check interleaved with reads
# cost 3.9 ms of CPU against 2.5 ms with its statements kept (docs/performance.md).
_READ_REQUEST_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_ONLY = "read_only_request"


def _read_only_in_read_requests(session, transaction, connection) -> None:
    """A session's transaction begins (no statement sent yet): a read request's is READ ONLY,
    any other's not (whatever the connection served before)."""
    if transaction.nested or connection.dialect.driver != "psycopg":
        return
    driver = connection.connection.dbapi_connection
    if driver.info.transaction_status.name != "IDLE":
        return  # already inside a transaction the driver began: leave it as it is
    if has_request_context() and request.method in _READ_REQUEST_METHODS:
        driver.read_only = True  # psycopg's next BEGIN says BEGIN READ ONLY
        session.info[_READ_ONLY] = True
    elif driver.read_only is not None:
        driver.read_only = None


def _end_read_only(session, *, failed: bool) -> None:
    """End a read request's READ ONLY transaction: with COMMIT (see above), or a rollback if
    the request failed or the COMMIT does. Nothing was written either way."""
    if not failed:
        try:
            session.commit()
            return
        except Exception:  # the request is answered already
            log.warning("could not end a read-only transaction with COMMIT", exc_info=True)
    session.rollback()


def make_engine(url: str, config: dict | None = None) -> Engine:
    """Create an engine tuned for the backend: SQLite with WAL and FKs, PostgreSQL pre-ping."""
    config = config or {}
    if url.startswith("sqlite"):
        path = make_url(url).database
        on_disk = bool(path) and path != ":memory:" and not path.startswith("file:")
        if on_disk:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        synchronous = str(config.get("SQLITE_SYNCHRONOUS") or "NORMAL").strip().upper()
        if synchronous not in SQLITE_SYNCHRONOUS_MODES:
            raise ValueError(
                f"SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {synchronous!r} "
                "(docs/operations.md, Durability)"
            )
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, record):
            dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event manage transactions
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL never corrupts; with NORMAL a power cut or OS crash may lose the last commits
            # (a process crash loses nothing), with FULL every commit waits for the disk
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # a write asks for IMMEDIATE so it holds the write lock from the start
            immediate = bool(conn.get_execution_options().get("sqlite_immediate"))
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
            conn.info[_SQLITE_WRITING] = immediate

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=config.get("DB_POOL_TIMEOUT", 5),
        connect_args={"connect_timeout": config.get("DB_CONNECT_TIMEOUT", 3)},
    )
    if engine.dialect.driver == "psycopg":

        @event.listens_for(engine, "checkin")
        def _no_longer_read_only(dbapi_conn, record):
            # a read request's READ ONLY (see Database) ends with its request
            if dbapi_conn is not None and dbapi_conn.read_only is not None:
                try:
                    dbapi_conn.read_only = None
                except Exception:  # noqa: BLE001 - whatever it is, the connection is not reused
                    record.invalidate()

    return engine


db = Database()
