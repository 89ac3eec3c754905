"""SQLite writers (BEGIN IMMEDIATE) queue on an OS file lock beside the database file.

These build their own SQLite file, so they run in the SQLite and the PostgreSQL pass alike.
"""

import fcntl
import os
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.database import _WriterQueue, make_engine, switch_to_writing


@pytest.fixture
def engine(tmp_path):
    built = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with built.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE marks (who TEXT)")
    yield built
    built.dispose()


def _queue_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases the probe's lock if it got it
    return True


def _writer(engine) -> Session:
    session = Session(engine)
    session.connection(execution_options={"sqlite_immediate": True})
    return session


def test_a_writer_holds_the_queue_until_it_commits_and_the_next_sees_its_write(engine, tmp_path):
    queue_file = str(tmp_path / "queue.db") + "-writers"
    first = _writer(engine)
    assert not _queue_is_free(queue_file)
    seen = {}
    waiting = threading.Event()

    def second_writer():
        waiting.set()
        session = _writer(engine)  # blocks on the queue until the first commits
        seen["marks"] = session.execute(text("SELECT who FROM marks")).scalars().all()
        session.execute(text("INSERT INTO marks VALUES ('second')"))
        session.commit()

    thread = threading.Thread(target=second_writer)
    thread.start()
    waiting.wait(5)
    first.execute(text("INSERT INTO marks VALUES ('first')"))
    first.commit()
    thread.join(30)
    assert not thread.is_alive()
    # the second writer got in only after the first committed
    assert seen["marks"] == ["first"]
    assert _queue_is_free(queue_file)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM marks ORDER BY rowid")).scalars().all() == [
            "first",
            "second",
        ]


def test_a_rolled_back_or_closed_writer_leaves_the_queue(engine, tmp_path):
    queue_file = str(tmp_path / "queue.db") + "-writers"
    session = _writer(engine)
    session.execute(text("INSERT INTO marks VALUES ('gone')"))
    assert not _queue_is_free(queue_file)
    session.rollback()
    assert _queue_is_free(queue_file)
    session = _writer(engine)
    assert not _queue_is_free(queue_file)
    session.close()
    assert _queue_is_free(queue_file)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM marks")).scalar() == 0


def test_readers_do_not_queue(engine, tmp_path):
    queue_file = str(tmp_path / "queue.db") + "-writers"
    reader = Session(engine)
    reader.execute(text("SELECT count(*) FROM marks"))
    assert _queue_is_free(queue_file)
    reader.close()


def test_a_thread_never_queues_behind_itself(tmp_path):
    queue = _WriterQueue.for_database(str(tmp_path / "self.db"))
    first, second = {}, {}
    queue.join(first)
    queue.join(second)  # would block forever if it queued behind the first
    assert "writer_queue_fd" in first
    assert "writer_queue_fd" not in second
    queue.leave(second)
    assert not _queue_is_free(queue.path)
    queue.leave(first)
    assert _queue_is_free(queue.path)


def test_switching_to_writing_takes_the_queue_late_and_the_sessions_commit_commits(
    engine, tmp_path
):
    queue_file = str(tmp_path / "queue.db") + "-writers"
    session = Session(engine)
    assert session.execute(text("SELECT count(*) FROM marks")).scalar() == 0  # a read snapshot
    assert _queue_is_free(queue_file)
    # someone else writes after that snapshot began: a plain upgrade would now fail
    other = _writer(engine)
    other.execute(text("INSERT INTO marks VALUES ('meanwhile')"))
    other.commit()
    switch_to_writing(session)
    assert not _queue_is_free(queue_file)
    assert session.execute(text("SELECT count(*) FROM marks")).scalar() == 1  # a fresh snapshot
    session.execute(text("INSERT INTO marks VALUES ('late')"))
    session.commit()
    assert _queue_is_free(queue_file)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM marks ORDER BY rowid")).scalars().all() == [
            "meanwhile",
            "late",
        ]


def test_engines_on_one_file_share_one_queue(tmp_path):
    path = str(tmp_path / "shared.db")
    assert _WriterQueue.for_database(path) is _WriterQueue.for_database(path)


def test_a_writer_stuck_in_the_queue_gives_up_waiting_and_holds_nothing(tmp_path):
    queue = _WriterQueue(str(tmp_path / "stuck.db-writers"), patience=0.05)
    holder = os.open(queue.path, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process's writer that never finishes
    waited: dict = {}
    thread = threading.Thread(target=queue.join, args=(waited,))
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert "writer_queue_fd" not in waited  # it went on to SQLite's own busy timeout
    os.close(holder)


def test_a_lock_file_that_cannot_be_opened_means_no_queue_not_an_error(tmp_path):
    queue = _WriterQueue(str(tmp_path / "missing-dir" / "x.db-writers"))
    info: dict = {}
    queue.join(info)
    assert info == {}
    queue.leave(info)
