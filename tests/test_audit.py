"""The audit trail: one hook records every insert and update with its actor; it cannot change."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from registry.audit.context import acting_as
from registry.audit.hook import AuditTrailImmutable
from registry.audit.models import AuditEvent
from registry.credentials.models import Modality
from registry.database import db
from registry.people import service as people
from registry.people.models import Person


def test_updates_record_before_and_after_with_the_actor(app_context):
    with acting_as("user:coordinator@example.org", "req-1"):
        person = people.create(
            session=db.session,
            data={"kind": "technologist", "given_name": "Kim", "family_name": "Ode"},
        )
        db.session.commit()
    with acting_as("job:nightly", "req-2"):
        people.update(session=db.session, person=person, data={"family_name": "Odell"})
        db.session.commit()
    events = (
        db.session.query(AuditEvent)
        .filter_by(entity_id=person.id)
        .order_by(AuditEvent.occurred_at, AuditEvent.action)
        .all()
    )
    assert [(e.action, e.actor, e.request_id) for e in events] == [
        ("create", "user:coordinator@example.org", "req-1"),
        ("update", "job:nightly", "req-2"),
    ]
    assert events[0].before is None and events[0].after["family_name"] == "Ode"
    assert events[1].before["family_name"] == "Ode"
    assert events[1].after["family_name"] == "Odell"
    assert events[1].entity_type == "person"


def test_a_change_that_changes_nothing_is_not_recorded(app_context):
    person = people.create(
        session=db.session, data={"kind": "physician", "given_name": "A", "family_name": "B"}
    )
    db.session.commit()
    people.update(session=db.session, person=person, data={"family_name": "B"})
    db.session.commit()
    assert db.session.query(AuditEvent).filter_by(entity_id=person.id).count() == 1


def test_audit_events_cannot_be_changed_or_deleted(app_context):
    people.create(
        session=db.session, data={"kind": "physician", "given_name": "A", "family_name": "B"}
    )
    db.session.commit()
    event = db.session.query(AuditEvent).first()
    event.actor = "someone-else"
    with pytest.raises(AuditTrailImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.query(AuditEvent).first())
    with pytest.raises(AuditTrailImmutable):
        db.session.flush()
    db.session.rollback()
    assert db.session.query(AuditEvent).one().actor == "system"


def test_secrets_never_reach_the_trail(app_context):
    from registry.auth import keys

    keys.create(session=db.session, name="staffing", scopes=["read"])
    db.session.commit()
    event = db.session.query(AuditEvent).filter_by(entity_type="api_key").one()
    assert event.after["key_hash"] == "***"


def test_the_api_offers_no_way_to_write_audit_events(client, auth):
    assert client.post("/api/v1/audit-events", json={}, headers=auth).status_code == 405
    filtered = client.get("/api/v1/audit-events?since=2026-01-01", headers=auth)
    assert filtered.status_code == 422  # since needs an offset: times are never ambiguous
    # in UTC this would be before the first representable instant
    ancient = client.get("/api/v1/audit-events?since=0001-01-01T00:00:00%2B05:00", headers=auth)
    assert ancient.status_code == 422 and "since" in ancient.json["errors"]["query"]


def _trail_since(count: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at, AuditEvent.id))
    )[count:]


def test_a_failed_flush_leaves_no_events_for_a_later_one(app_context):
    # a CSV import runs each row in a savepoint: a row that fails must leave no trace
    ann = Person(kind="technologist", given_name="Ann", family_name="A", npi="1111111111")
    bea = Person(kind="technologist", given_name="Bea", family_name="B", npi="2222222222")
    db.session.add_all([ann, bea])
    db.session.commit()
    before = len(_trail_since(0))

    savepoint = db.session.begin_nested()
    bea.npi = "1111111111"  # taken: the update fails
    db.session.add(Person(kind="technologist", given_name="Dup", family_name="D", npi="1111111111"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    savepoint.rollback()

    ann.given_name = "Alice"
    db.session.commit()
    trail = _trail_since(before)
    assert [(event.action, event.entity_id) for event in trail] == [("update", ann.id)]
    assert (trail[0].before["given_name"], trail[0].after["given_name"]) == ("Ann", "Alice")


def test_a_change_from_nothing_is_recorded_with_nothing_before(app_context):
    ann = Person(kind="technologist", given_name="Ann", family_name="A")
    db.session.add(ann)
    db.session.commit()
    before = len(_trail_since(0))
    ann.npi = "1234567893"
    db.session.commit()
    (event,) = _trail_since(before)
    assert event.action == "update"
    assert (event.before["npi"], event.after["npi"]) == (None, "1234567893")
    # and back to nothing
    ann.npi = None
    db.session.commit()
    (event,) = _trail_since(before + 1)
    assert (event.before["npi"], event.after["npi"]) == ("1234567893", None)


def test_a_change_to_an_expired_object_records_what_the_database_held(app_context):
    ann = Person(kind="technologist", given_name="Ann", family_name="A")
    db.session.add(ann)
    db.session.commit()
    before = len(_trail_since(0))
    db.session.expire(ann)  # as a rollback leaves it: the old values are not in the session
    ann.given_name = "Alice"
    db.session.commit()
    (event,) = _trail_since(before)
    assert (event.before["given_name"], event.after["given_name"]) == ("Ann", "Alice")
    assert event.before["family_name"] == event.after["family_name"] == "A"


def test_a_renamed_key_reads_what_was_stored_under_the_old_one(app_context):
    alpha = Modality(code="ZZA", name="Alpha")
    db.session.add(alpha)
    db.session.commit()
    before = len(_trail_since(0))
    assert alpha.code == "ZZA"  # loaded again (the count expired it); only its name is not
    db.session.expire(alpha, ["name"])
    alpha.code, alpha.name = "ZZB", "Beta"
    db.session.commit()
    (event,) = _trail_since(before)
    assert event.before == {"code": "ZZA", "name": "Alpha"}
    assert event.after == {"code": "ZZB", "name": "Beta"}
