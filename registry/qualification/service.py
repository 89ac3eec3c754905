"""Check, search and book: the qualification question asked of the stored registry."""

from flask import current_app
from sqlalchemy import select

from registry import clock
from registry.assignments.models import Assignment
from registry.audit.context import current_request_id
from registry.credentials import service as credentials
from registry.database import begin_write
from registry.errors import InvalidData, NotFound
from registry.facilities.models import Appointment, Facility
from registry.ids import find
from registry.people.models import Person
from registry.qualification import engine, loader
from registry.qualification.models import QualificationCheck
from schemas.qualification import CaseSchema

_case_schema = CaseSchema()


def policy_from_config(config=None) -> engine.Policy:
    """The rules' configurable parts, from the app configuration."""
    config = config if config is not None else current_app.config
    return engine.Policy(
        technologist_certifications=tuple(config["TECHNOLOGIST_CERTIFICATIONS"]),
        physician_board_certifications=tuple(config["PHYSICIAN_BOARD_CERTIFICATIONS"]),
        warning_days=config["EXPIRY_WARNING_DAYS"],
        accept_unverified=config["ACCEPT_UNVERIFIED"],
    )


def _case(session, data: dict) -> tuple[engine.Case, engine.FacilityFact]:
    """Validate what a schema cannot see (the facility, modalities, physician) and build a Case."""
    errors = {}
    facility = session.get(Facility, data["facility_id"])
    if facility is None or not facility.active:
        errors["facility_id"] = ["No active facility with this id."]
    unknown = credentials.unknown_modalities(session=session, codes=data["modalities"])
    if unknown:
        errors["modalities"] = [f"Unknown modalities: {', '.join(unknown)}."]
    supervisor = data.get("supervising_physician_id")
    if supervisor:
        physician = session.get(Person, supervisor)
        if physician is None or physician.kind != "physician":
            errors["supervising_physician_id"] = ["No physician with this id."]
    if errors:
        raise InvalidData({"case": errors})
    case = engine.Case(
        facility_id=facility.id,
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        modalities=tuple(dict.fromkeys(data["modalities"])),
        patient_state=data.get("patient_state"),
        remote=data.get("remote", False),
        supervising_physician_id=supervisor,
        payer=data.get("payer", "commercial"),
        procedure=data.get("procedure"),
        case_ref=data.get("case_ref"),
    )
    return case, loader.facility_fact(facility)


def _facts_for(session, *, people_filter, role, case, facility, policy):
    types = loader.credential_type_facts(session)
    agreements = loader.agreement_facts(session, facility.id)
    codes = loader.relevant_types(types, facility, role, policy)
    people = loader.load_people(
        session, people_filter=people_filter, case=case, credential_codes=codes
    )
    return {
        person_id: engine.Facts(
            person=person, facility=facility, credential_types=types, agreements=agreements
        )
        for person_id, person in people.items()
    }


def _record(session, *, person_id, role, case_data, decision, asked_by, purpose):
    check = QualificationCheck(
        person_id=person_id,
        role=role,
        case=_case_schema.dump(case_data),
        qualified=decision.qualified,
        reasons=[r.to_dict() for r in decision.reasons],
        warnings=[w.to_dict() for w in decision.warnings],
        evidence=[e.to_dict() for e in decision.evidence],
        checked_at=clock.now(),
        asked_by=asked_by,
        purpose=purpose,
        request_id=current_request_id(),
    )
    session.add(check)
    session.flush()
    return check


def decide(*, session, person_id: str, role: str, case_data: dict, policy) -> engine.Decision:
    """Evaluate one person for a case without storing anything."""
    case, facility = _case(session, case_data)
    facts = _facts_for(
        session,
        people_filter=[Person.id == person_id],
        role=role,
        case=case,
        facility=facility,
        policy=policy,
    )
    if person_id not in facts:
        raise InvalidData({"person_id": ["No person with this id."]})
    return engine.evaluate(facts[person_id], role, case, policy)


def check(
    *,
    session,
    person_id: str,
    role: str,
    case: dict,
    asked_by: str,
    policy=None,
    purpose: str = "check",
) -> QualificationCheck:
    """Answer "is this person qualified for this case?" and store the question and answer.

    The answer is decided on a read snapshot; storing it is a short write of its own.
    """
    policy = policy or policy_from_config()
    decision = decide(
        session=session, person_id=person_id, role=role, case_data=case, policy=policy
    )
    begin_write(session)
    return _record(
        session,
        person_id=person_id,
        role=role,
        case_data=case,
        decision=decision,
        asked_by=asked_by,
        purpose=purpose,
    )


def search(*, session, role: str, case: dict, include_unqualified: bool, policy=None) -> dict:
    """Answer "who is qualified for this case?" over every active person of the role's kind.

    Not stored (a search is about many people at once); booking someone stores that check.
    """
    policy = policy or policy_from_config()
    parsed, facility = _case(session, case)
    people_filter = [Person.kind == engine.PERSON_KIND_FOR_ROLE[role], Person.active.is_(True)]
    if not include_unqualified:
        # only the qualified are wanted, and nobody qualifies without an active appointment here
        people_filter.append(
            Person.id.in_(
                select(Appointment.person_id).where(
                    Appointment.facility_id == facility.id, Appointment.status == "active"
                )
            )
        )
    facts = _facts_for(
        session,
        people_filter=people_filter,
        role=role,
        case=parsed,
        facility=facility,
        policy=policy,
    )
    qualified, unqualified = [], []
    decisions = engine.evaluate_many(facts.values(), role, parsed, policy)
    for (person_id, person_facts), decision in zip(facts.items(), decisions, strict=True):
        name = person_facts.person.name
        if decision.qualified:
            qualified.append(
                {
                    "person_id": person_id,
                    "name": name,
                    "warnings": [w.to_dict() for w in decision.warnings],
                }
            )
        elif include_unqualified:
            unqualified.append(
                {
                    "person_id": person_id,
                    "name": name,
                    "reasons": [r.to_dict() for r in decision.reasons],
                }
            )
    return {"qualified": qualified, "unqualified": unqualified}


def get_check(*, session, check_id: str) -> QualificationCheck:
    """A stored check, unchanged since it was answered."""
    stored = find(session, QualificationCheck, check_id)
    if stored is None:
        raise NotFound(f"qualification check {check_id!r} not found")
    return stored


def decision_of(stored: QualificationCheck) -> dict:
    """The decision shape callers rely on, from a stored check."""
    return {
        "check_id": stored.id,
        "qualified": stored.qualified,
        "reasons": stored.reasons,
        "warnings": stored.warnings,
        "evidence": stored.evidence,
        "checked_at": stored.checked_at,
    }


def book(
    *, session, person_id: str, role: str, case: dict, asked_by: str, policy=None
) -> tuple[Assignment | None, QualificationCheck]:
    """Check and book in one transaction; the booking exists only if the person qualified.

    The person's row is locked first (PostgreSQL ``FOR UPDATE``; on SQLite a write request's
    transaction holds the database write lock from BEGIN IMMEDIATE), so two bookings for one
    person are decided one after the other and the second sees the first: racing requests never
    both take the last slot.
    """
    locked = session.execute(
        select(Person.id).where(Person.id == person_id).with_for_update()
    ).scalar_one_or_none()
    if locked is None:
        raise InvalidData({"person_id": ["No person with this id."]})
    decision = decide(
        session=session,
        person_id=person_id,
        role=role,
        case_data=case,
        policy=policy or policy_from_config(),
    )
    stored = _record(
        session,
        person_id=person_id,
        role=role,
        case_data=case,
        decision=decision,
        asked_by=asked_by,
        purpose="booking",
    )
    if not stored.qualified:
        return None, stored
    assignment = Assignment(
        person_id=person_id,
        role=role,
        facility_id=case["facility_id"],
        starts_at=case["starts_at"],
        ends_at=case["ends_at"],
        remote=case.get("remote", False),
        payer=case.get("payer", "commercial"),
        case_ref=case.get("case_ref"),
        case=_case_schema.dump(case),
        status="booked",
        check_id=stored.id,
        booked_by=asked_by,
    )
    session.add(assignment)
    session.flush()
    return assignment, stored
