"""Count the SQL statements a piece of work sends: the tests that a count stays fixed share it."""

from contextlib import contextmanager

from sqlalchemy import event

from registry.database import db


@contextmanager
def counting_queries(engine=None):
    """Collect every statement sent to ``engine`` (the app's by default) inside the block."""
    engine = engine if engine is not None else db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
