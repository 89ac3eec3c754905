"""SQLAlchemy engine, session and declarative base shared by every domain package."""

import contextlib
import fcntl
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    MetaData,
    String,
    bindparam,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
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

    On SQLite that is a BEGIN IMMEDIATE (after the writer queue), which holds the write lock
    from the first statement; elsewhere nothing (the database's row locks do the work).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_immediate": True})


def switch_to_writing(session) -> None:
    """End a transaction's read-only work and go on as a writer (it must not have written).

    On SQLite: commit the reads and BEGIN IMMEDIATE (after the writer queue) on the same
    connection, inside the session's transaction, whose own COMMIT at the end commits the
    write; so a write never fails for a read snapshot gone stale. Elsewhere nothing.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    record = connection.connection.info
    if record.get("writer_queue_fd") is not None:
        return  # this transaction began IMMEDIATE: it holds the write lock already
    # end the snapshot before queueing: an open read would hold back the WAL checkpoint
    connection.exec_driver_sql("COMMIT")
    queue = record.get("writer_queue")
    if queue is not None:
        queue.join(record)  # left when the connection goes back to the pool
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class PreparedQuery:
    """A hot-path statement: SQL written once, compiled once per dialect, run on the session's
    own DBAPI cursor (inside its transaction), with bind and result types from model columns.

    SQLAlchemy's per-execution work (statement cache keys, result objects) costs ~0.3 ms a
    statement; the cursor ~0.03 ms. A qualification check's reads (one statement) and its
    stored answer (one insert) use this; everything else uses the ORM. Errors are translated as
    SQLAlchemy's own (``OperationalError`` -> 503, a lost connection invalidated) and
    ``before_cursor_execute`` listeners still see each statement (they observe it: a
    ``retval=True`` rewrite is ignored, ``context`` is None and ``after_cursor_execute`` is not
    called).
    """

    def __init__(self, sql: str, *, columns=(), binds=()):
        self.columns = tuple(columns)
        # decided here: asking a cursor for its description costs psycopg a Column per column
        self.returns_rows = sql.lstrip().upper().startswith(("SELECT", "WITH"))
        clause = text(sql).bindparams(*binds)
        self.clause = clause.columns(*self.columns) if self.columns else clause
        self._by_dialect: dict[tuple[str, str], tuple] = {}

    @classmethod
    def insert_into(cls, table, *, returning: str = "") -> "PreparedQuery":
        """A plain INSERT of one row into ``table``: every column, bound by its name and typed
        by it (run it with a value for each column); ``returning``: SQL of a RETURNING list,
        evaluated for the row (its value is not read)."""
        for name in (table.name, *(column.name for column in table.c)):
            if not name.isidentifier():
                raise ValueError(f"insert_into writes plain names only, not {name!r}")
        names = ", ".join(f'"{column.name}"' for column in table.c)  # quoted: "case", "before"
        values = ", ".join(f":{column.name}" for column in table.c)
        tail = f" RETURNING {returning}" if returning else ""
        return cls(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({values}){tail}',
            binds=[bindparam(column.name, type_=column.type) for column in table.c],
        )

    def compiled_for(self, dialect) -> tuple:
        """(sql, bind names in order or None, bind processors, result readers) for a dialect."""
        key = (dialect.name, dialect.driver)
        prepared = self._by_dialect.get(key)
        if prepared is None:
            prepared = self._by_dialect[key] = self._prepare(dialect)
        return prepared

    def _prepare(self, dialect) -> tuple:
        compiled = self.clause.compile(dialect=dialect)
        binders = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binders[name] = process
        readers = [
            (index, process)
            for index, column in enumerate(self.columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        ]
        return (compiled.string, compiled.positiontup, binders, readers)

    def rows(self, connection, **params) -> list[tuple]:
        """Run the statement on a session's connection (``session.connection()``, inside its
        transaction); the rows, typed (none for a write)."""
        dialect = connection.dialect
        raw = connection.connection
        sql, positions, binders, readers = self.compiled_for(dialect)
        values = dict(params)
        for name, process in binders.items():
            if name in values:
                values[name] = process(values[name])
        args = tuple(values[name] for name in positions) if positions is not None else values
        cursor = None
        try:
            cursor = raw.cursor()  # a connection the driver knows is dead fails here already
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, sql, args, None, False)
            cursor.execute(sql, args)
            rows = cursor.fetchall() if self.returns_rows else []
        except dialect.loaded_dbapi.Error as exc:
            lost = dialect.is_disconnect(exc, raw.dbapi_connection, cursor)
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                sql,
                args,
                exc,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from exc
        finally:
            if cursor is not None:
                with contextlib.suppress(dialect.loaded_dbapi.Error):
                    cursor.close()
        return _typed(rows, readers)


def column_values(record) -> dict:
    """A model instance's value for each column of its table, by column name (what
    ``PreparedQuery.insert_into`` binds). Every column must have been given a value: defaults
    apply only when the ORM writes the row."""
    mapper = record.__mapper__
    given = inspect(record).dict
    values = {}
    for column in record.__table__.c:
        key = mapper.get_property_by_column(column).key
        if key not in given:
            raise ValueError(f"{type(record).__name__}.{key} has no value to insert")
        values[column.name] = given[key]
    return values


def _typed(rows: list, readers) -> list:
    """The rows with each column's result processor applied (a NULL stays None)."""
    if not readers or not rows:
        return rows
    converted = []
    for row in rows:
        row = list(row)
        for index, process in readers:
            if row[index] is not None:
                row[index] = process(row[index])
        converted.append(row)
    return converted


class _WriterQueue:
    """Writers to one SQLite file wait their turn on an OS file lock beside it.

    SQLite's own busy handler polls with growing sleeps (1, 2, 5, 10, 15, 20, 25 ms ...), so a
    writer that finds the write lock taken often sleeps long after it was freed; this queue
    polls the file lock at most half a millisecond apart. SQLite's lock still decides who
    writes: the queue only orders those who use BEGIN IMMEDIATE. After ``patience`` seconds a
    writer stops queueing and leaves the rest to SQLite's busy timeout (then a 503), so a stuck
    writer cannot hang the others forever. A thread never queues behind itself, and a lock file
    the process may not open (another user's) means no queue, not an error.
    """

    _by_path: dict[str, "_WriterQueue"] = {}
    _lock = threading.Lock()

    def __init__(self, path: str, patience: float = 5.0) -> None:
        self.path = path
        self.patience = patience
        self.held_by_thread: dict[int, int] = {}  # thread id -> descriptor

    @classmethod
    def for_database(cls, database_path: str) -> "_WriterQueue":
        """The one queue of a database file in this process (engines on one file share it)."""
        path = os.path.abspath(database_path) + "-writers"
        with cls._lock:
            return cls._by_path.setdefault(path, cls(path))

    def join(self, info: dict) -> None:
        """Wait for the turn of the connection whose pool record ``info`` is; noted in it."""
        me = threading.get_ident()
        if info.get("writer_queue_fd") is not None or me in self.held_by_thread:
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o666)
        except OSError as exc:
            log.warning("SQLite writer queue unavailable (%s); relying on the busy timeout", exc)
            return
        deadline = time.monotonic() + self.patience
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    log.warning("waited %ss in the SQLite writer queue; going on", self.patience)
                    return
                time.sleep(pause)
                pause = min(pause * 2, 0.0005)
        info["writer_queue_fd"] = fd
        info["writer_queue_thread"] = me
        self.held_by_thread[me] = fd

    def leave(self, info: dict) -> None:
        """Give up the turn (if held) of the connection whose pool record ``info`` is."""
        fd = info.pop("writer_queue_fd", None)
        owner = info.pop("writer_queue_thread", None)
        if fd is not None:
            if self.held_by_thread.get(owner) == fd:
                del self.held_by_thread[owner]
            os.close(fd)  # closing the descriptor releases its lock


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
        queue = _WriterQueue.for_database(path) if on_disk else None

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
            if queue is not None:
                record.info["writer_queue"] = queue  # for switch_to_writing

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # a booking asks for IMMEDIATE so check-then-book holds the write lock from the start
            immediate = conn.get_execution_options().get("sqlite_immediate")
            if immediate and queue is not None:
                queue.join(conn.connection.info)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        if queue is not None:

            @event.listens_for(engine, "checkin")
            def _sqlite_checkin(_dbapi_conn, record):
                # the session committed or rolled back and gave the connection back
                queue.leave(record.info)

            @event.listens_for(engine, "close")
            def _sqlite_close(_dbapi_conn, record):
                queue.leave(record.info)

            @event.listens_for(engine, "detach")
            def _sqlite_detach(_dbapi_conn, record):
                queue.leave(record.info)

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
