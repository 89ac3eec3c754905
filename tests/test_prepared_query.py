"""PreparedQuery, the qualification hot path's own statements: typed like the ORM, errors
translated like SQLAlchemy's, and seen by the engine's listeners, on SQLite and PostgreSQL."""

import os
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from registry.assignments.models import Assignment
from registry.database import PreparedQuery, column_values, db, make_engine
from registry.qualification import loader
from registry.qualification.models import QualificationCheck
from tests import factories as f
from tests.test_qualification_api import ask, case

CENTRAL = timezone(timedelta(hours=-6))  # Kansas City in December


def _booking(who, where, starts_at, ends_at, *, remote=False, status="booked"):
    return f.add(
        Assignment(
            person_id=who.id,
            role="technologist",
            facility_id=where.id,
            starts_at=starts_at,
            ends_at=ends_at,
            remote=remote,
            status=status,
        )
    )


def _is_utc(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() == timedelta(0)


def _rows(connection, fact, *, candidates=loader.ONE_PERSON, role="technologist", **params):
    """The rows of one kind (``fact``) from the loader's one statement."""
    every = {
        "facility": None,
        "person": None,
        "kind": None,
        "supervisor": None,
        "active": True,
        "starts": datetime(2000, 1, 1, tzinfo=UTC),
        "ends": datetime(2000, 1, 2, tzinfo=UTC),
        "kept_stamp": None,  # nothing kept: the context's rows come too
        **params,
    }
    statement = candidates.by_role[role]
    return [row for row in statement.rows(connection, **every) if row[0] == fact]


def test_facility_json_list_and_bool_come_back_as_stored(app_context):
    open_ = f.facility(required=("BLS", "CNIM", "ACLS"))
    closed = f.facility(name="Closed Clinic", state="MO", required=(), active=False)
    db.session.commit()
    connection = db.session.connection()

    (row,) = _rows(connection, "facility", facility=open_.id)
    assert tuple(row) == (
        "facility",
        open_.id,
        None,
        "Overland Park Spine Center",
        "KS",
        "America/Chicago",
        None,
        None,
        None,
        None,
        None,
        None,
        True,
        ("BLS", "CNIM", "ACLS"),  # the loader reads code lists as tuples
        None,
    )
    assert row[12] is True  # a bool, not SQLite's 1
    (row,) = _rows(connection, "facility", facility=closed.id)
    assert row[13] == () and row[12] is False
    assert _rows(connection, "facility", facility="no-such-facility") == []
    # the catalogue comes along whatever the facility
    assert {row[1] for row in _rows(connection, "modality")} >= {"SSEP", "TCMEP", "EMG"}
    types = {row[1]: tuple(row[3:6]) for row in _rows(connection, "type")}
    assert types["ABPN-CN"][1:] == ("board_certification", "ABPN-N")


def _facts(connection, kind, **params):
    """One person's facts of one kind from the loader's one statement."""
    return _rows(connection, kind, facility="no-facility", **params)


def test_credential_dates_come_back_as_dates(app_context):
    tess = f.person()
    cnim = f.credential(
        tess,
        "CNIM",
        issued_on=date(2023, 2, 28),
        expires_on=date(2028, 12, 31),
        verified_on=date(2024, 1, 5),
    )
    lifelong = f.credential(
        tess, "BLS", issued_on=date(2024, 6, 1), expires_on=None, verified=False
    )
    f.credential(tess, "ACLS", status="entered_in_error")  # the loader leaves these out
    db.session.commit()

    rows = _facts(db.session.connection(), "credential", person=tess.id)
    by_id = {row[1]: tuple(row) for row in rows}
    assert set(by_id) == {cnim.id, lifelong.id}
    assert by_id[cnim.id] == (
        "credential",
        cnim.id,
        tess.id,
        "CNIM",
        "active",
        "primary_source",
        None,
        date(2024, 1, 5),
        date(2023, 2, 28),
        date(2028, 12, 31),
        None,
        None,
        None,
        None,
        None,
    )
    for value in by_id[cnim.id][7:10]:
        assert type(value) is date  # not a string, not a datetime
    assert by_id[lifelong.id][5:10] == (None, None, None, date(2024, 6, 1), None)
    assert type(by_id[lifelong.id][8]) is date


def test_bookings_come_back_aware_utc_with_remote_as_bool(app_context):
    where = f.facility()
    tess = f.person()
    # written in Kansas City time; microseconds too, so nothing is rounded on the way
    on_site = _booking(
        tess,
        where,
        datetime(2026, 12, 1, 9, 15, 0, 123456, tzinfo=CENTRAL),
        datetime(2026, 12, 1, 11, 45, tzinfo=CENTRAL),
    )
    remote = _booking(
        tess,
        where,
        datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 17, 30, tzinfo=UTC),
        remote=True,
    )
    db.session.commit()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # the driver then hands back -06:00 datetimes; they must still come back in UTC
        connection.execute(text("SET LOCAL TIME ZONE 'America/Chicago'"))

    rows = _facts(
        connection,
        "booking",
        person=tess.id,
        starts=datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        ends=datetime(2026, 12, 2, 0, 0, tzinfo=UTC),
    )
    by_id = {row[1]: tuple(row) for row in rows}
    assert set(by_id) == {on_site.id, remote.id}
    first = by_id[on_site.id]
    assert first == (
        "booking",
        on_site.id,
        tess.id,
        "technologist",
        where.id,
        "commercial",
        None,
        None,
        None,
        None,
        datetime(2026, 12, 1, 15, 15, 0, 123456, tzinfo=UTC),
        datetime(2026, 12, 1, 17, 45, tzinfo=UTC),
        False,
        None,
        None,
    )
    assert _is_utc(first[10]) and _is_utc(first[11])
    assert first[12] is False
    second = by_id[remote.id]
    assert second[10:13] == (
        datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 17, 30, tzinfo=UTC),
        True,
    )
    assert _is_utc(second[10]) and _is_utc(second[11]) and second[12] is True


def test_bookings_window_bound_in_another_offset_compares_as_an_instant(app_context):
    where = f.facility()
    tess = f.person()
    day = datetime(2026, 12, 1, tzinfo=UTC)
    # the case: 08:00-12:00 in Kansas City (-06:00) is 14:00-18:00 UTC
    overlapping = _booking(tess, where, day.replace(hour=15), day.replace(hour=17))
    _booking(tess, where, day.replace(hour=12), day.replace(hour=14))  # ends as the case starts
    _booking(tess, where, day.replace(hour=18), day.replace(hour=20))  # starts as the case ends
    # inside 08:00-12:00 only if the -06:00 were dropped and the bounds read as UTC
    _booking(tess, where, day.replace(hour=9), day.replace(hour=10))
    _booking(tess, where, day.replace(hour=14), day.replace(hour=16), status="cancelled")
    db.session.commit()

    rows = _facts(
        db.session.connection(),
        "booking",
        person=tess.id,
        starts=datetime(2026, 12, 1, 8, 0, tzinfo=CENTRAL),
        ends=datetime(2026, 12, 1, 12, 0, tzinfo=CENTRAL),
    )
    assert [row[1] for row in rows] == [overlapping.id]
    # one microsecond of overlap is enough
    rows = _facts(
        db.session.connection(),
        "booking",
        person=tess.id,
        starts=datetime(2026, 12, 1, 7, 59, 59, 999999, tzinfo=CENTRAL),
        ends=datetime(2026, 12, 1, 7, 59, 59, 999999, tzinfo=CENTRAL) + timedelta(microseconds=2),
    )
    assert len(rows) == 1 and rows[0][11] == day.replace(hour=14)


def test_agreements_modes_dates_and_active_bind(app_context):
    where = f.facility()
    doc = f.person("physician", "Omar", "Haddad")
    tess = f.person()
    lou = f.person(given="Lou", family="Park")
    current = f.agreement(
        where,
        doc,
        technologists=[tess, lou],
        modes=("remote",),
        max_cases=2,
        effective_from=date(2025, 3, 1),
        effective_to=None,
    )
    lapsed = f.agreement(where, doc, active=False, effective_to=date(2025, 12, 31))
    db.session.commit()
    connection = db.session.connection()

    def agreements(**params):
        rows = _rows(connection, "agreement", candidates=loader.EVERYONE_OF_KIND, **params)
        # (id, technologist, physician, from, to, modes, max cases)
        return sorted((row[1], row[2], row[3], row[8], row[9], row[13], row[14]) for row in rows)

    rows = agreements(facility=where.id)
    assert sorted(row[1] for row in rows) == sorted([tess.id, lou.id])
    for ident, _tech, physician, starts, ends, modes, most in rows:
        assert (ident, physician, starts, ends, modes, most) == (
            current.id,
            doc.id,
            date(2025, 3, 1),
            None,
            ("remote",),
            2,
        )
        assert type(starts) is date
    # the bool bind: False finds the inactive agreement only (no technologists: a NULL joined)
    assert agreements(facility=where.id, active=False) == [
        (lapsed.id, None, doc.id, date(2025, 1, 1), date(2025, 12, 31), ("in_person", "remote"), 3)
    ]
    # one person's check brings every active agreement of the facility (kept for all checks
    # there), the rules pick among them
    others = f.agreement(where, f.person("physician", "Ada", "Lind"), technologists=[lou])
    db.session.commit()
    connection = db.session.connection()
    for role, person in (("technologist", tess), ("interpreting_physician", doc)):
        rows = _rows(connection, "agreement", role=role, facility=where.id, person=person.id)
        assert sorted((row[1], row[2]) for row in rows) == sorted(
            [(current.id, tess.id), (current.id, lou.id), (others.id, lou.id)]
        )


def test_people_active_flag_and_name_order(app_context):
    tess = f.person()
    ina = f.person(given="Ina", family="Active", active=False)
    ann = f.person(given="Ann", family="Zeller")
    bea = f.person(given="Bea", family="Adams")
    db.session.commit()
    connection = db.session.connection()
    (row,) = _rows(connection, "person", person=tess.id)
    assert (row[1], row[3], row[4], row[5], row[12]) == (
        tess.id,
        "technologist",
        "Tess",
        "Nguyen",
        True,
    )
    (row,) = _rows(connection, "person", person=ina.id)
    assert row[12] is False
    rows = _rows(connection, "person", candidates=loader.EVERYONE_OF_KIND, kind="technologist")
    # every active one, numbered in name order (the search answers in that order)
    assert [row[1] for row in sorted(rows, key=lambda row: row[14])] == [bea.id, tess.id, ann.id]
    assert sorted(row[14] for row in rows) == [1, 2, 3]


def test_stored_check_reads_back_exactly_as_answered(app_context, client, auth, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 27, 15, 0, 0, 123456, tzinfo=UTC))
    where, doc, tech = f.network()
    lapsed = f.qualified_technologist(where, "Lou", "Park", cnim_expires=date(2025, 12, 31))
    db.session.commit()
    asked = case(where, case_ref="OR-7 #42 “late add”", procedure="L4-L5 fusion")

    for who, qualified in ((tech, True), (lapsed, False)):
        posted = client.post(
            "/api/v1/qualification-checks",
            json={"person_id": who.id, "role": "technologist", "case": asked},
            headers=auth,
        )
        assert posted.status_code == 200, posted.json
        decision = posted.json
        assert decision["qualified"] is qualified
        assert bool(decision["reasons"]) is not qualified and decision["evidence"]
        response = client.get(f"/api/v1/qualification-checks/{decision['check_id']}", headers=auth)
        assert response.status_code == 200
        stored = response.json
        for key in ("qualified", "reasons", "warnings", "evidence", "checked_at"):
            assert stored[key] == decision[key], key
        checked_at = datetime.fromisoformat(stored["checked_at"])
        assert _is_utc(checked_at)
        assert checked_at == datetime(2026, 11, 27, 15, 0, 0, 123456, tzinfo=UTC)
        assert stored["case"]["facility_id"] == where.id
        assert stored["case"]["modalities"] == ["SSEP", "TCMEP", "EMG"]
        assert stored["case"]["case_ref"] == "OR-7 #42 “late add”"
        assert datetime.fromisoformat(stored["case"]["starts_at"]) == datetime(
            2026, 12, 1, 14, 0, tzinfo=UTC
        )

        # and the row itself, read through the ORM
        db.session.expire_all()
        row = db.session.get(QualificationCheck, decision["check_id"])
        assert row.qualified is qualified
        assert row.checked_at == checked_at and _is_utc(row.checked_at)
        assert row.case == stored["case"]
        assert row.evidence == stored["evidence"]
        assert [r["code"] for r in row.reasons] == [r["code"] for r in stored["reasons"]]
        assert row.person_id == who.id and row.purpose == "check"
        assert row.asked_by == stored["asked_by"] and row.asked_by.startswith("api-key:")
        assert row.request_id == posted.headers["X-Request-Id"]
    assert db.session.scalar(select(func.count()).select_from(QualificationCheck)) == 2


def test_invalid_sql_raises_sqlalchemy_errors_and_the_session_recovers(app_context):
    where = f.facility()
    db.session.commit()
    broken = PreparedQuery("SELECT nope FROM nowhere")
    connection = db.session.connection()
    driver_error = connection.dialect.loaded_dbapi.Error

    with pytest.raises(DBAPIError) as raised:
        broken.rows(connection)
    error = raised.value
    assert isinstance(error, ProgrammingError | OperationalError)  # sqlite: Operational
    assert not isinstance(error, driver_error)
    assert isinstance(error.orig, driver_error)
    assert "nowhere" in str(error.orig)
    assert error.statement == "SELECT nope FROM nowhere"
    assert error.connection_invalidated is False
    assert not connection.invalidated

    db.session.rollback()
    connection = db.session.connection()
    assert [row[1] for row in _rows(connection, "facility", facility=where.id)] == [where.id]
    f.person(given="After", family="Rollback")
    db.session.commit()
    assert db.session.execute(text("SELECT count(*) FROM people")).scalar_one() == 1

    # a bound statement is translated too, and typed binds do not mask the driver's error
    with pytest.raises(DBAPIError) as raised:
        PreparedQuery("SELECT id FROM nowhere WHERE id = :person").rows(
            db.session.connection(), person="x"
        )
    assert isinstance(raised.value.orig, driver_error)
    db.session.rollback()


def test_before_cursor_execute_listeners_see_each_prepared_statement(app_context):
    where = f.facility()
    db.session.commit()
    connection = db.session.connection()  # a connection older than the listener sees it too
    facility = PreparedQuery("SELECT id, name FROM facilities WHERE id = :facility")
    modalities = PreparedQuery("SELECT code FROM modalities")
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((conn, statement, parameters, executemany))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        rows = facility.rows(connection, facility=where.id)
        modalities.rows(connection)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    facility.rows(connection, facility=where.id)  # removed: no longer seen

    assert rows[0][0] == where.id
    assert len(seen) == 2
    (conn, statement, parameters, executemany), second = seen
    assert conn is connection and executemany is False
    assert statement == facility.clause.compile(dialect=connection.dialect).string
    assert statement.startswith("SELECT id, name FROM facilities WHERE id = ")
    values = parameters.values() if isinstance(parameters, dict) else parameters
    assert list(values) == [where.id]
    assert second[1] == "SELECT code FROM modalities"


def test_a_check_reads_in_one_statement_and_stores_in_one_insert(app_context, client, auth):
    where, doc, tech = f.network()
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        decision = ask(client, auth, tech, "technologist", case(where))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    dialect = db.engine.dialect
    statements = [statement for statement, _ in seen]
    loads = loader.ONE_PERSON.by_role["technologist"].clause.compile(dialect=dialect).string
    assert statements.count(loads) == 1
    inserts = [
        parameters
        for statement, parameters in seen
        if statement.startswith('INSERT INTO "qualification_checks"')
    ]
    assert len(inserts) == 1
    values = inserts[0].values() if isinstance(inserts[0], dict) else inserts[0]
    assert decision["check_id"] in list(values)


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.mark.postgres_only
def test_a_lost_connection_is_invalidated_and_the_session_recovers(app_context):
    where = f.facility()
    db.session.commit()
    connection = db.session.connection()
    assert _rows(connection, "facility", facility=where.id)
    pid = connection.connection.dbapi_connection.info.backend_pid
    invalidated = []

    def on_invalidate(dbapi_connection, record, exception):
        invalidated.append(exception)

    # what a server restart does to the connection under a running request
    outsider = make_engine(TEST_DATABASE_URL)
    try:
        with outsider.begin() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        deadline = time.monotonic() + 5
        # each look in its own transaction: within one, pg_stat_activity answers from a
        # snapshot taken at its first read, and a backend seen exiting would stay seen
        with outsider.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while conn.execute(alive, {"pid": pid}).scalar_one():
                assert time.monotonic() < deadline, "the backend outlived its termination"
                time.sleep(0.05)
    finally:
        outsider.dispose()

    event.listen(db.engine.pool, "invalidate", on_invalidate)
    try:
        with pytest.raises(OperationalError) as raised:
            _rows(connection, "facility", facility=where.id)
    finally:
        event.remove(db.engine.pool, "invalidate", on_invalidate)
    error = raised.value
    assert error.connection_invalidated is True
    assert isinstance(error.orig, connection.dialect.loaded_dbapi.OperationalError)
    assert connection.invalidated
    assert invalidated and invalidated[0] is error.orig

    db.session.rollback()
    connection = db.session.connection()
    assert connection.connection.dbapi_connection.info.backend_pid != pid
    assert [row[1] for row in _rows(connection, "facility", facility=where.id)] == [where.id]


def test_insert_into_needs_every_column_and_plain_names(app_context):
    from sqlalchemy import Column, MetaData, String, Table

    odd = Table("odd table", MetaData(), Column("id", String(36), primary_key=True))
    with pytest.raises(ValueError, match="plain names"):
        PreparedQuery.insert_into(odd)
    # a value for every column: the ORM's defaults do not apply to a plain insert
    unfinished = QualificationCheck(person_id="p", role="technologist")
    with pytest.raises(ValueError, match="has no value"):
        column_values(unfinished)
