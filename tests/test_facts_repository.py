"""The facts repository decodes every column by name into the engine's dataclasses: each stored
value reaches the field of its name, and every credential status is either read or ignored as
the engine says, so a new status or a renamed column fails here instead of being misread."""

from datetime import UTC, date, datetime

import pytest

from registry.assignments.models import Assignment
from registry.credentials.models import CREDENTIAL_STATUSES
from registry.database import db
from registry.qualification import engine, facts, service
from schemas.qualification import CaseSchema
from tests import factories as f
from tests.test_qualification_api import case

# how a technologist whose only CNIM has this status reads in a check
EXPECTED_BY_STATUS = {
    "active": [],  # qualified
    "suspended": ["CREDENTIAL_INACTIVE"],
    "revoked": ["CREDENTIAL_INACTIVE"],
    "entered_in_error": ["MISSING_CREDENTIAL"],
}


def _load(where, person, *, supervisor=None):
    parsed = CaseSchema().load(case(where))
    return facts.load(
        db.session,
        facility_id=where.id,
        supervisor_id=supervisor,
        people=facts.People.one(person.id),
        starts=parsed["starts_at"],
        ends=parsed["ends_at"],
        role="technologist",
        policy=service.policy_from_config(),
    )


def _technologist(where, *, cnim_status="active", revoked_on=None):
    tech = f.person("technologist", "Rae", "Reader")
    cnim = f.credential(tech, "CNIM", jurisdiction="KS", status=cnim_status, revoked_on=revoked_on)
    f.credential(tech, "BLS")
    f.appointment(tech, where)
    f.scope(tech, "perform", modalities=["SSEP", "TCMEP", "EMG"], where=where)
    return tech, cnim


def test_every_credential_status_is_known_to_this_test():
    # a new status must be decided here (and in the engine) before it can be stored
    assert set(CREDENTIAL_STATUSES) == set(EXPECTED_BY_STATUS)
    assert set(CREDENTIAL_STATUSES) >= engine.IGNORED_CREDENTIAL_STATUSES


@pytest.mark.parametrize("status", CREDENTIAL_STATUSES)
def test_a_credential_of_each_status_is_read_unless_the_engine_ignores_it(app_context, status):
    where, _doc, _tech = f.network()
    revoked_on = date(2026, 11, 2) if status == "revoked" else None
    tech, cnim = _technologist(where, cnim_status=status, revoked_on=revoked_on)
    db.session.commit()
    person = _load(where, tech).people[tech.id]
    read = {c.id: c for c in person.credentials}
    if status in engine.IGNORED_CREDENTIAL_STATUSES:
        assert cnim.id not in read
    else:
        assert (read[cnim.id].status, read[cnim.id].revoked_on) == (status, revoked_on)
    assert [r.id for r in person.revocations] == ([cnim.id] if revoked_on else [])
    decision = service.decide(
        session=db.session,
        person_id=tech.id,
        role="technologist",
        case_data=CaseSchema().load(case(where)),
        policy=service.policy_from_config(),
    )
    assert [r.code for r in decision.reasons] == EXPECTED_BY_STATUS[status]


def test_each_stored_value_reaches_the_field_of_its_name(app_context):
    where, doc, _tech = f.network()
    tech, cnim = _technologist(where)
    appointment = f.appointment(tech, where, starts_on=date(2025, 2, 3), status="suspended")
    everywhere = f.scope(tech, "perform", modalities=["EEG"], effective_to=date(2029, 1, 2))
    f.agreement(where, doc, technologists=[tech], modes=["remote"], max_cases=2)
    booked = f.add(
        Assignment(
            person_id=tech.id,
            role="technologist",
            facility_id=where.id,
            starts_at=datetime(2026, 12, 1, 15, tzinfo=UTC),
            ends_at=datetime(2026, 12, 1, 16, tzinfo=UTC),
            remote=True,
            payer="medicare",
            case_ref="OR-9",
            case={},
            status="booked",
        )
    )
    db.session.commit()
    loaded = _load(where, tech, supervisor=doc.id)
    assert loaded.supervisor_kind == "physician"
    assert loaded.facility == engine.FacilityFact(
        id=where.id,
        name="Overland Park Spine Center",
        state="KS",
        timezone="America/Chicago",
        required_credentials=("BLS",),
    )
    assert {"SSEP", "EEG"} <= loaded.modality_codes
    assert loaded.credential_types["CNIM"].category == "certification"
    listing = next(a for a in loaded.agreements if a.technologist_ids)
    assert (listing.physician_id, listing.technologist_ids, listing.modes) == (
        doc.id,
        frozenset({tech.id}),
        frozenset({"remote"}),
    )
    assert (listing.max_concurrent_cases, listing.effective_from, listing.effective_to) == (
        2,
        date(2025, 1, 1),
        date(2027, 12, 31),
    )
    person = loaded.people[tech.id]
    assert (person.name, person.kind, person.active) == ("Rae Reader", "technologist", True)
    read = {c.id: c for c in person.credentials}[cnim.id]
    assert read == engine.CredentialFact(
        id=cnim.id,
        type_code="CNIM",
        status="active",
        verified=True,
        issued_on=date(2023, 1, 1),
        expires_on=date(2028, 12, 31),
        jurisdiction="KS",
        verified_on=date(2024, 1, 5),
        revoked_on=None,
    )
    assert (
        engine.AppointmentFact(
            id=appointment.id,
            facility_id=where.id,
            status="suspended",
            starts_on=date(2025, 2, 3),
            expires_on=date(2027, 12, 31),
        )
        in person.appointments
    )
    assert (
        engine.ScopeFact(
            id=everywhere.id,
            activity="perform",
            modalities=frozenset({"EEG"}),
            facility_id=None,
            effective_from=date(2025, 1, 1),
            effective_to=date(2029, 1, 2),
        )
        in person.scopes
    )
    assert person.bookings == (
        engine.BookingFact(
            id=booked.id,
            role="technologist",
            facility_id=where.id,
            starts_at=datetime(2026, 12, 1, 15, tzinfo=UTC),
            ends_at=datetime(2026, 12, 1, 16, tzinfo=UTC),
            remote=True,
            payer="medicare",
            case_ref="OR-9",
        ),
    )
