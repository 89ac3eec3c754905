"""The loader fetches facts in one statement, however many candidates there are; a search
pauses the cycle collector while it builds them."""

import gc
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from registry.database import db
from registry.errors import InvalidData
from registry.qualification import service
from tests import factories as f
from tests.test_qualification_api import case


@contextmanager
def counting_queries():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _reads(statements) -> int:
    """How many statements read the registry (SQLite's BEGIN, sent as a statement, does not)."""
    return len([statement for statement in statements if statement != "BEGIN"])


def _search(where):
    body = case(where)
    from schemas.qualification import CaseSchema

    return service.search(
        session=db.session,
        role="technologist",
        case=CaseSchema().load(body),
        include_unqualified=True,
    )


def test_search_query_count_does_not_grow_with_candidates(app_context):
    where, doc, tech = f.network()
    with counting_queries() as few:
        result = _search(where)
    assert len(result["qualified"]) == 1
    for i in range(25):
        f.qualified_technologist(where, f"T{i}", f"Tech{i:02d}")
    db.session.commit()
    with counting_queries() as many:
        result = _search(where)
    assert len(result["qualified"]) == 26
    assert len(many) == len(few)
    assert _reads(many) == 1, many  # the one statement of loader.py


def test_single_check_uses_a_fixed_small_number_of_queries(app_context):
    where, doc, tech = f.network()
    from schemas.qualification import CaseSchema

    parsed = CaseSchema().load(case(where))
    with counting_queries() as statements:
        decision = service.decide(
            session=db.session,
            person_id=tech.id,
            role="technologist",
            case_data=parsed,
            policy=service.policy_from_config(),
        )
    assert decision.qualified
    assert _reads(statements) == 1, statements  # the one statement of loader.py


def test_a_search_pauses_the_cycle_collector_and_always_restores_it(app_context, monkeypatch):
    where, doc, tech = f.network()
    seen = []
    evaluate_many = service.engine.evaluate_many

    def watching(*args, **kwargs):
        seen.append(gc.isenabled())
        return evaluate_many(*args, **kwargs)

    monkeypatch.setattr(service.engine, "evaluate_many", watching)
    assert gc.isenabled()
    result = _search(where)
    assert [row["person_id"] for row in result["qualified"]] == [tech.id]
    assert seen == [False] and gc.isenabled()

    # a search that fails (an unknown facility) leaves the collector as it found it
    from schemas.qualification import CaseSchema

    unknown = CaseSchema().load({**case(where), "facility_id": "0" * 36})
    with pytest.raises(InvalidData):
        service.search(
            session=db.session, role="technologist", case=unknown, include_unqualified=True
        )
    assert gc.isenabled()
    gc.disable()
    try:
        _search(where)
        assert not gc.isenabled()  # nor turns it on when it was off
    finally:
        gc.enable()


def test_overlapping_searches_share_one_pause():
    pause = service._CycleCollectorPause()
    assert gc.isenabled()
    with pause():
        with pause():  # a second search starts (another thread) ...
            assert not gc.isenabled()
        assert not gc.isenabled()  # ... and ends first: the first is still running
    assert gc.isenabled()


def test_searches_that_keep_overlapping_still_collect_now_and_then():
    pause = service._CycleCollectorPause(longest=0.0)
    full_collections = gc.get_stats()[2]["collections"]
    started = threading.Barrier(2)
    release = threading.Event()
    ended = []

    def search():
        with pause():
            started.wait(5)
            release.wait(5)
        ended.append(gc.isenabled())

    first = threading.Thread(target=search)
    first.start()
    with pause():
        started.wait(5)  # both searches are running
        release.set()
        first.join(5)  # the other one ends while this one still runs: it collected once
        assert not gc.isenabled()
        assert gc.get_stats()[2]["collections"] > full_collections
    assert ended == [False] and gc.isenabled()
