"""Booking: check and reserve in one step, concurrency caps, cancellation, races."""

import threading
from datetime import UTC, datetime

from sqlalchemy import text

from registry.assignments.models import Assignment
from registry.database import db
from tests import factories as f
from tests.test_qualification_api import case


def book(client, auth, who, role, case_body):
    return client.post(
        "/api/v1/assignments",
        json={"person_id": who.id, "role": role, "case": case_body},
        headers=auth,
    )


def remote_network(max_cases=3):
    where = f.facility()
    doc = f.qualified_physician(where)
    f.agreement(where, doc, modes=("remote", "in_person"), max_cases=max_cases)
    db.session.commit()
    return where, doc


def test_booking_a_qualified_technologist_and_refusing_an_overlap(app_context, client, auth):
    where, doc, tech = f.network()
    first = book(client, auth, tech, "technologist", case(where))
    assert first.status_code == 201, first.json
    assert first.json["status"] == "booked" and first.json["decision"]["qualified"] is True
    overlapping = case(where, starts="2026-12-01T11:00:00-06:00", ends="2026-12-01T15:00:00-06:00")
    second = book(client, auth, tech, "technologist", overlapping)
    assert second.status_code == 409
    assert [r["code"] for r in second.json["decision"]["reasons"]] == ["SCHEDULE_CONFLICT"]
    assert first.json["id"] in second.json["decision"]["reasons"][0]["evidence"]
    adjacent = case(where, starts="2026-12-01T12:00:00-06:00", ends="2026-12-01T14:00:00-06:00")
    assert book(client, auth, tech, "technologist", adjacent).status_code == 201


def test_a_booking_and_a_refusal_are_committed_with_what_they_store(app_context, client, auth):
    where, doc, tech = f.network()
    booked = book(client, auth, tech, "technologist", case(where))
    refused = book(client, auth, tech, "technologist", case(where))  # the same window again
    assert (booked.status_code, refused.status_code) == (201, 409)
    check_id = refused.json["decision"]["check_id"]
    # the refusal's decision reads as the stored check does (ISO times, as in a 201)
    stored = client.get(f"/api/v1/qualification-checks/{check_id}", headers=auth).json
    assert refused.json["decision"] == {key: stored[key] for key in refused.json["decision"]}
    assert datetime.fromisoformat(refused.json["decision"]["checked_at"]).tzinfo is not None

    # read on another connection: only what was committed
    with db.engine.connect() as other:
        assignment = other.execute(
            text("SELECT status, check_id FROM assignments WHERE id = :id"),
            {"id": booked.json["id"]},
        ).one()
        checks = dict(
            other.execute(
                text("SELECT id, purpose FROM qualification_checks WHERE id IN (:a, :b)"),
                {"a": assignment.check_id, "b": check_id},
            ).all()
        )
        events = other.execute(
            text(
                "SELECT count(*) FROM audit_events"
                " WHERE entity_type = 'assignment' AND entity_id = :id AND action = 'create'"
            ),
            {"id": booked.json["id"]},
        ).scalar_one()
        booked_rows = other.execute(text("SELECT count(*) FROM assignments")).scalar_one()
    assert assignment.status == "booked"
    assert checks == {assignment.check_id: "booking", check_id: "booking"}
    assert events == 1
    assert booked_rows == 1  # the refusal booked nothing
    stored = client.get(f"/api/v1/qualification-checks/{check_id}", headers=auth)
    assert stored.status_code == 200 and stored.json["qualified"] is False


def test_a_fourth_concurrent_remote_case_is_refused(app_context, client, auth):
    where, doc = remote_network(max_cases=3)
    for _ in range(3):
        response = book(client, auth, doc, "interpreting_physician", case(where, remote=True))
        assert response.status_code == 201, response.json
    fourth = book(client, auth, doc, "interpreting_physician", case(where, remote=True))
    assert fourth.status_code == 409
    assert [r["code"] for r in fourth.json["decision"]["reasons"]] == ["CONCURRENCY_LIMIT"]


def test_a_re_sent_booking_does_not_take_a_second_slot_on_the_same_case(app_context, client, auth):
    # a staffing system's retry after a timeout sends the same booking again
    where, doc = remote_network(max_cases=3)
    body = case(where, remote=True, case_ref="CASE-42")
    first = book(client, auth, doc, "interpreting_physician", body)
    assert first.status_code == 201, first.json
    again = book(client, auth, doc, "interpreting_physician", body)
    assert again.status_code == 409
    (reason,) = again.json["decision"]["reasons"]
    assert reason["code"] == "CONCURRENCY_LIMIT" and reason["evidence"] == [first.json["id"]]
    assert "already booked on case CASE-42" in reason["message"]
    booked = client.get("/api/v1/assignments?case_ref=CASE-42&status=booked", headers=auth).json
    assert [a["id"] for a in booked] == [first.json["id"]]
    # another case at the same time still fits under the cap
    other = book(client, auth, doc, "interpreting_physician", {**body, "case_ref": "CASE-43"})
    assert other.status_code == 201


def test_a_blank_case_ref_is_no_case_ref(app_context, client, auth):
    # blank names no case: two such bookings are two cases, under the cap
    where, doc = remote_network(max_cases=3)
    for blank in ("", "  "):
        response = book(
            client, auth, doc, "interpreting_physician", case(where, remote=True, case_ref=blank)
        )
        assert response.status_code == 201, response.json
        assert response.json["case"]["case_ref"] is None


def test_medicare_and_in_person_allow_no_overlap(app_context, client, auth):
    where, doc = remote_network()
    assert (
        book(client, auth, doc, "interpreting_physician", case(where, remote=True)).status_code
        == 201
    )
    medicare = book(
        client, auth, doc, "interpreting_physician", case(where, remote=True, payer="medicare")
    )
    assert medicare.status_code == 409
    in_person = book(client, auth, doc, "interpreting_physician", case(where, remote=False))
    assert in_person.status_code == 409


def test_cancelling_frees_the_slot_and_is_kept(app_context, client, auth):
    where, doc = remote_network(max_cases=1)
    first = book(client, auth, doc, "interpreting_physician", case(where, remote=True)).json
    assert (
        book(client, auth, doc, "interpreting_physician", case(where, remote=True)).status_code
        == 409
    )
    cancelled = client.post(
        f"/api/v1/assignments/{first['id']}/cancel", json={"reason": "case moved"}, headers=auth
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["cancel_reason"] == "case moved"
    again = client.post(f"/api/v1/assignments/{first['id']}/cancel", headers=auth)
    assert again.status_code == 409
    assert (
        book(client, auth, doc, "interpreting_physician", case(where, remote=True)).status_code
        == 201
    )
    listed = client.get(f"/api/v1/assignments?person_id={doc.id}", headers=auth).json
    assert sorted(a["status"] for a in listed) == ["booked", "cancelled"]


def test_a_booking_has_an_etag_and_a_cancel_honours_if_match(app_context, client, auth):
    where, _, tech = f.network()
    booked = book(client, auth, tech, "technologist", case(where)).json
    url = f"/api/v1/assignments/{booked['id']}"
    read = client.get(url, headers=auth)
    etag = read.headers["ETag"]
    stale = client.post(f"{url}/cancel", headers={**auth, "If-Match": '"not-this-one"'})
    assert stale.status_code == 412
    assert client.get(url, headers=auth).json["status"] == "booked"
    cancelled = client.post(f"{url}/cancel", headers={**auth, "If-Match": etag})
    assert cancelled.status_code == 200 and cancelled.headers["ETag"] != etag
    # someone who read it before that cancel is told it changed, not that it is cancelled
    late = client.post(f"{url}/cancel", headers={**auth, "If-Match": etag})
    assert late.status_code == 412
    assert client.get(url, headers=auth).headers["ETag"] == cancelled.headers["ETag"]


def test_a_booking_is_stored_and_audited_like_any_other_write(app_context, client, auth):
    # the booking inserts its row and audit event without the ORM: they must read back as the
    # ORM would have written them, and a later cancel (an ORM update) must find version 1
    where, doc, tech = f.network()
    booked = book(client, auth, tech, "technologist", case(where, case_ref="OR-3")).json
    db.session.expire_all()
    row = db.session.get(Assignment, booked["id"])
    assert (row.person_id, row.role, row.facility_id, row.status) == (
        tech.id,
        "technologist",
        where.id,
        "booked",
    )
    assert row.starts_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert (row.remote, row.payer, row.case_ref, row.version) == (False, "commercial", "OR-3", 1)
    assert row.check_id == booked["decision"]["check_id"]
    assert row.booked_by.startswith("api-key:") and row.created_at == row.updated_at
    assert row.case == booked["case"]

    trail = client.get(
        "/api/v1/audit-events",
        query_string={"entity_type": "assignment", "entity_id": booked["id"]},
        headers=auth,
    ).json
    (created,) = trail
    assert created["action"] == "create" and created["before"] is None
    assert created["actor"] == row.booked_by
    assert created["after"]["status"] == "booked"
    assert created["after"]["check_id"] == row.check_id
    assert created["after"]["starts_at"] == row.starts_at.isoformat()

    cancelled = client.post(f"/api/v1/assignments/{booked['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.json
    db.session.expire_all()
    assert db.session.get(Assignment, booked["id"]).version == 2
    trail = client.get(
        "/api/v1/audit-events",
        query_string={"entity_type": "assignment", "entity_id": booked["id"]},
        headers=auth,
    ).json
    assert sorted(event["action"] for event in trail) == ["create", "update"]
    (update,) = [event for event in trail if event["action"] == "update"]
    assert (update["before"]["status"], update["after"]["status"]) == ("booked", "cancelled")


def test_list_filters_by_window_and_facility(app_context, client, auth):
    where, doc, tech = f.network()
    book(client, auth, tech, "technologist", case(where, case_ref="OR-7"))
    later = case(where, starts="2026-12-03T08:00:00-06:00", ends="2026-12-03T12:00:00-06:00")
    book(client, auth, tech, "technologist", later)
    window = client.get(
        "/api/v1/assignments",
        query_string={"from": "2026-12-02T00:00:00-06:00", "to": "2026-12-04T00:00:00-06:00"},
        headers=auth,
    ).json
    assert [a["case"]["starts_at"][:10] for a in window] == ["2026-12-03"]
    by_ref = client.get("/api/v1/assignments?case_ref=OR-7", headers=auth).json
    assert len(by_ref) == 1 and by_ref[0]["case"]["case_ref"] == "OR-7"
    assert client.get("/api/v1/assignments?from=yesterday", headers=auth).status_code == 422
    assert client.get(f"/api/v1/assignments?facility_id={where.id}", headers=auth).json
    assert client.get("/api/v1/assignments/unknown", headers=auth).status_code == 404


def test_racing_bookings_for_the_last_remote_slots_book_exactly_the_cap(app, client, make_key):
    """24 concurrent requests from 8 threads for a physician capped at 3 concurrent cases."""
    with app.app_context():
        where, doc = remote_network(max_cases=3)
        body = {
            "person_id": doc.id,
            "role": "interpreting_physician",
            "case": case(where, remote=True),
        }
    headers = make_key(["check"])
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker():
        local = app.test_client()
        start.wait()
        for _ in range(3):
            response = local.post("/api/v1/assignments", json=body, headers=headers)
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [201] * 3 + [409] * 21
    with app.app_context():
        assert db.session.query(Assignment).filter_by(status="booked").count() == 3


def test_concurrent_checks_and_bookings_all_get_an_answer(app, make_key):
    """Checks decide on a read snapshot and store late; bookings lock early: none may fail."""
    with app.app_context():
        where = f.facility()
        technologists = [f.qualified_technologist(where, f"T{i}", f"Tech{i}") for i in range(4)]
        doc = f.qualified_physician(where)
        f.agreement(where, doc)
        db.session.commit()
        people = [t.id for t in technologists]
        body = case(where)
    headers = make_key(["check"])
    statuses: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(n):
        local = app.test_client()
        start.wait()
        for i in range(5):
            who = people[(n + i) % len(people)]
            path = "/api/v1/assignments" if n % 2 else "/api/v1/qualification-checks"
            response = local.post(
                path,
                json={"person_id": who, "role": "technologist", "case": body},
                headers=headers,
            )
            with lock:
                statuses.append((path, response.status_code))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    checks = [s for p, s in statuses if p.endswith("checks")]
    bookings = [s for p, s in statuses if p.endswith("assignments")]
    assert checks == [200] * 20
    # four technologists, one overlapping window: exactly one booking each
    assert sorted(bookings) == [201] * 4 + [409] * 16
    with app.app_context():
        from registry.qualification.models import QualificationCheck

        assert db.session.query(QualificationCheck).count() == 40


def test_times_at_the_calendars_ends_are_422_and_book_nothing(app_context, client, auth):
    where, doc, tech = f.network()
    for starts, ends in (
        ("0001-01-01T00:00:00+05:00", "0001-01-01T01:00:00+05:00"),
        ("9999-12-31T23:00:00+00:00", "9999-12-31T23:30:00-06:00"),
    ):
        refused = book(client, auth, tech, "technologist", case(where, starts=starts, ends=ends))
        assert refused.status_code == 422, refused.json
        assert "starts_at" in refused.json["errors"]["json"]["case"]
    assert db.session.query(Assignment).count() == 0
    last = case(where, starts="9998-12-31T22:00:00-12:00", ends="9998-12-31T23:59:00-12:00")
    assert book(client, auth, tech, "technologist", last).status_code == 409  # answered
    for query in ("from=0001-01-01T00:00:00%2B05:00", "to=9999-12-31T23:00:00-05:00"):
        response = client.get(f"/api/v1/assignments?{query}", headers=auth)
        assert response.status_code == 422
        assert "between the years" in response.json["errors"]["query"][query[: query.index("=")]][0]


def test_a_write_losing_a_race_is_409_without_if_match_and_412_with_it(
    app_context, client, auth, monkeypatch
):
    # two cancels at once: the loser's version check fails (StaleDataError); without an ETag
    # of its own the caller gets "changed at the same moment" (409), not a failed If-Match
    from sqlalchemy.orm.exc import StaleDataError

    from registry.assignments import service

    where, doc = remote_network()
    booked = book(client, auth, doc, "interpreting_physician", case(where, remote=True)).json

    def lose_the_race(**_kwargs):
        raise StaleDataError("UPDATE statement on table 'assignments' expected to update 1 row")

    monkeypatch.setattr(service, "cancel", lose_the_race)
    url = f"/api/v1/assignments/{booked['id']}/cancel"
    plain = client.post(url, headers=auth)
    assert plain.status_code == 409 and "same moment" in plain.json["message"]
    with_etag = client.post(url, headers={**auth, "If-Match": '"1"'})
    assert with_etag.status_code == 412
