"""The facts repository reads each kind of fact with its own statement, a fixed number of them
however many candidates there are; a paged search evaluates only its page's unqualified; a
whole search pauses the cycle collector while it builds and evaluates everyone's facts."""

import gc
import threading

import pytest
from alembic import command
from sqlalchemy import inspect, text

from registry.database import db, make_engine
from registry.errors import InvalidData
from registry.migrate import alembic_config, upgrade
from registry.qualification import engine, service
from schemas.qualification import CaseSchema
from tests import factories as f
from tests.statements import counting_queries
from tests.test_qualification_api import case

# the facility with its agreements, modalities, credential types, then the people with their
# credentials, their appointments, scopes and bookings
CHECK_READS = 7


def _reads(statements) -> list[str]:
    """The statements that read the registry (SQLite's BEGIN, sent as a statement, does not)."""
    return [statement for statement in statements if statement != "BEGIN"]


def _search(where, **paging):
    return service.search(
        session=db.session,
        role="technologist",
        case=CaseSchema().load(case(where)),
        include_unqualified=True,
        **paging,
    )


def test_search_query_count_does_not_grow_with_candidates(app_context):
    where, doc, tech = f.network()
    with counting_queries() as few:
        result = _search(where)
    assert len(result["qualified"]) == 1
    for i in range(25):
        f.qualified_technologist(where, f"T{i}", f"Tech{i:02d}")
        f.person("technologist", f"U{i}", f"Unappointed{i:02d}")
    db.session.commit()
    with counting_queries() as many:
        result = _search(where)
    assert len(result["qualified"]) == 26 and len(result["unqualified"]) == 25
    assert len(_reads(many)) == len(_reads(few)) == CHECK_READS, many
    with counting_queries() as paged:
        result = _search(where, page=2, page_size=10)
    assert len(result["qualified"]) == 26 and len(result["unqualified"]) == 10
    # the appointed's ids, them in full, everyone's ids in name order, the page's others in full
    assert len(_reads(paged)) == 1 + CHECK_READS + 1 + CHECK_READS, paged


def test_a_qualified_only_search_reads_the_candidates_facts_by_id(app_context):
    # choosing the candidates once keeps each fact statement from scanning every person of
    # the kind: its cost grows with the candidates, not with the registry
    where, doc, tech = f.network()
    with counting_queries() as statements:
        service.search(
            session=db.session,
            role="technologist",
            case=CaseSchema().load(case(where)),
            include_unqualified=False,
        )
    reads = _reads(statements)
    assert len(reads) == 1 + CHECK_READS
    facts_reads = [
        s for s in reads if s.startswith(("SELECT appointments.", "SELECT scopes.", "SELECT assig"))
    ]
    assert len(facts_reads) == 3, reads
    assert all("FROM people" not in s for s in facts_reads), facts_reads


def test_single_check_uses_a_fixed_small_number_of_queries(app_context):
    where, doc, tech = f.network()
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
    assert len(_reads(statements)) == CHECK_READS, statements
    # each kind of fact is read by a plain select of its own table, never a UNION of kinds
    assert not any("UNION" in statement.upper() for statement in statements)
    # naming the supervising physician costs one more
    supervised = CaseSchema().load({**case(where), "supervising_physician_id": doc.id})
    with counting_queries() as statements:
        service.decide(
            session=db.session,
            person_id=tech.id,
            role="technologist",
            case_data=supervised,
            policy=service.policy_from_config(),
        )
    assert len(_reads(statements)) == CHECK_READS + 1, statements


def test_a_paged_search_evaluates_in_full_only_the_appointed_and_the_page(app_context, monkeypatch):
    where, doc, tech = f.network()
    for i in range(30):
        f.person("technologist", f"U{i}", f"Unappointed{i:02d}")
    db.session.commit()
    evaluated = []
    evaluate_many = engine.evaluate_many

    def counting(facts, *args, **kwargs):
        facts = list(facts)
        evaluated.append(len(facts))
        return evaluate_many(facts, *args, **kwargs)

    monkeypatch.setattr(engine, "evaluate_many", counting)
    result = _search(where, page=1, page_size=5)
    assert len(result["unqualified"]) == 5 and result["unqualified_total"] == 30
    assert evaluated == [1, 5]  # the one appointed technologist, then the page


def test_migration_0007_drops_the_rules_context_stamp_and_downgrades_again(empty_database_url):
    url = empty_database_url
    upgrade(url)

    def has_stamp() -> bool:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                return inspect(connection).has_table("rules_context_stamp")
        finally:
            engine.dispose()

    assert not has_stamp()
    command.downgrade(alembic_config(url), "0006")
    assert has_stamp()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # its triggers are back: a change renews the stamp
            before = connection.execute(text("SELECT stamp FROM rules_context_stamp")).scalar()
            connection.execute(text("INSERT INTO modalities (code, name) VALUES ('X1', 'x')"))
            after = connection.execute(text("SELECT stamp FROM rules_context_stamp")).scalar()
    finally:
        engine.dispose()
    assert before != after
    upgrade(url)
    assert not has_stamp()


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
