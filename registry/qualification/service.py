"""Check, search and book: the qualification question asked of the stored registry."""

import contextlib
import gc
import threading
import time
from datetime import UTC

from flask import current_app
from sqlalchemy import select

from registry import clock
from registry.assignments.models import Assignment
from registry.audit import hook as audit_hook
from registry.audit.context import current_request_id
from registry.database import PreparedQuery, column_values, new_id, switch_to_writing
from registry.errors import InvalidData, NotFound
from registry.ids import find, is_valid_id
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


def _load(session, *, case_data: dict, candidates, params, role, policy):
    """The case (validated against the registry), its facility, and the candidates' facts.

    Raises InvalidData naming every problem with the case (facility, modalities, physician).
    """
    facility_id = case_data["facility_id"]
    supervisor = case_data.get("supervising_physician_id")
    loaded = loader.load(
        session.connection(),
        facility_id=facility_id if is_valid_id(facility_id) else None,
        supervisor_id=supervisor if supervisor and is_valid_id(supervisor) else None,
        candidates=candidates,
        params=params,
        starts=case_data["starts_at"],
        ends=case_data["ends_at"],
        role=role,
        policy=policy,
    )
    errors = {}
    facility = loaded.facility
    if facility is None:
        errors["facility_id"] = ["No active facility with this id."]
    unknown = [
        code for code in dict.fromkeys(case_data["modalities"]) if code not in loaded.modality_codes
    ]
    if unknown:
        errors["modalities"] = [
            f"Unknown modalities: {', '.join(repr(code) for code in unknown)}; the codes are "
            f"{', '.join(sorted(loaded.modality_codes))}."
        ]
    if supervisor and loaded.supervisor_kind != "physician":
        errors["supervising_physician_id"] = ["No physician with this id."]
    if errors:
        raise InvalidData({"case": errors})
    case = engine.Case(
        facility_id=facility.id,
        starts_at=case_data["starts_at"],
        ends_at=case_data["ends_at"],
        modalities=tuple(dict.fromkeys(case_data["modalities"])),
        patient_state=case_data.get("patient_state"),
        remote=case_data.get("remote", False),
        supervising_physician_id=supervisor,
        payer=case_data.get("payer", "commercial"),
        procedure=case_data.get("procedure"),
        case_ref=case_data.get("case_ref"),
    )
    facts = {
        person_id: engine.Facts(
            person=person,
            facility=facility,
            credential_types=loaded.credential_types,
            agreements=loaded.agreements,
        )
        for person_id, person in loaded.people.items()
    }
    return case, facts


_STORE_CHECK = PreparedQuery.insert_into(QualificationCheck.__table__)
# CHECK_COMMIT=asynchronous on PostgreSQL: the same insert, which also sets this transaction's
# synchronous_commit off (its COMMIT answers before the WAL reaches the disk), in the same round
# trip (a SET LOCAL of its own costs one more)
_STORE_CHECK_NOT_WAITING = PreparedQuery.insert_into(
    QualificationCheck.__table__,
    returning="set_config('synchronous_commit', 'off', true)",
)


def _record(
    session, *, person_id, role, case_data, decision, asked_by, purpose, wait_for_disk=True
):
    """Store the question and its answer (a plain insert: stored checks are never edited).

    Returns the check as a QualificationCheck that is not in the session (nothing to flush).
    ``wait_for_disk=False``: on PostgreSQL the transaction's commit does not wait for the
    disk (elsewhere nothing changes).
    """
    check = QualificationCheck(
        id=new_id(),
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
    connection = session.connection()
    store = _STORE_CHECK
    if not wait_for_disk and connection.dialect.name == "postgresql":
        store = _STORE_CHECK_NOT_WAITING
    store.rows(connection, **column_values(check))
    return check


def decide(*, session, person_id: str, role: str, case_data: dict, policy) -> engine.Decision:
    """Evaluate one person for a case without storing anything."""
    case, facts = _load(
        session,
        case_data=case_data,
        candidates=loader.ONE_PERSON if is_valid_id(person_id) else None,
        params={"person": person_id},
        role=role,
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

    The answer is decided on a read snapshot; storing it is a short write of its own, whose
    commit waits for the disk unless ``CHECK_COMMIT`` is ``asynchronous`` (PostgreSQL only;
    see docs/operations.md, "Durability").
    """
    policy = policy or policy_from_config()
    decision = decide(
        session=session, person_id=person_id, role=role, case_data=case, policy=policy
    )
    switch_to_writing(session)
    return _record(
        session,
        person_id=person_id,
        role=role,
        case_data=case,
        decision=decision,
        asked_by=asked_by,
        purpose=purpose,
        # anything but the one word for it keeps the commit durable
        wait_for_disk=current_app.config["CHECK_COMMIT"] != "asynchronous",
    )


def search(*, session, role: str, case: dict, include_unqualified: bool, policy=None) -> dict:
    """Answer "who is qualified for this case?" over every active person of the role's kind.

    Not stored (a search is about many people at once); booking someone stores that check.
    """
    policy = policy or policy_from_config()
    with _cycle_collector_paused():
        return _search(
            session, role=role, case=case, include_unqualified=include_unqualified, policy=policy
        )


class _CycleCollectorPause:
    """Pause Python's cycle collector while searches run. A search builds tens of thousands of
    facts and reasons at once; they hold no reference cycles (reference counting frees them),
    but every few hundred allocations the collector walks them all again: about half a search's
    time (docs/performance.md). The collector is process-wide, so overlapping searches (threads)
    share one pause: it ends when the last of them does, and only if it was on before; while
    searches keep overlapping, one that ends after ``longest`` seconds of pause collects once,
    so what other requests leave behind meanwhile is not kept for ever."""

    def __init__(self, longest: float = 1.0) -> None:
        self.longest = longest
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False
        self._since = 0.0

    @contextlib.contextmanager
    def __call__(self):
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                self._since = time.monotonic()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            collect = False
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    if self._was_enabled:
                        gc.enable()
                elif time.monotonic() - self._since >= self.longest:
                    self._since = time.monotonic()
                    collect = self._was_enabled
            if collect:
                gc.collect()


_cycle_collector_paused = _CycleCollectorPause()


def _search(session, *, role, case, include_unqualified, policy) -> dict:
    parsed, facts = _load(
        session,
        case_data=case,
        # only the qualified wanted: nobody qualifies without an active appointment here
        candidates=loader.EVERYONE_OF_KIND if include_unqualified else loader.APPOINTED_OF_KIND,
        params={"kind": engine.PERSON_KIND_FOR_ROLE[role]},
        role=role,
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


def held_back(*, session, credentials, policy=None) -> dict[str, tuple]:
    """Of one person's credentials (records), those whose verification a revocation holds
    back (the rules' ``CREDENTIAL_UNVERIFIED``), each with the revoked record and the first
    day a verification counts again: what the UI shows beside the verification."""
    from registry.credentials.models import CredentialType

    records = list(credentials)
    revoked = [c for c in records if c.status == "revoked" and c.revoked_on is not None]
    if not revoked:
        return {}
    policy = policy or policy_from_config()
    if policy.accept_unverified:
        return {}
    types = {
        t.code: engine.CredentialTypeFact(t.code, t.name, t.category, t.depends_on)
        for t in session.scalars(select(CredentialType))
    }
    holds = engine.revocation_holds(
        (
            engine.RevocationFact(c.id, c.type, c.jurisdiction, c.revoked_on, c.verified_on)
            for c in revoked
        ),
        types,
        policy.license_type,
    )
    by_id = {c.id: c for c in records}
    out = {}
    for c in records:
        if c.status != "active" or not c.verified:
            continue
        hold = engine.holding_back(
            holds, c.type, c.jurisdiction, c.verified_on, types, policy.license_type
        )
        if hold is not None:
            out[c.id] = (by_id.get(hold[0].id), hold[1])
    return out


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


_LOCK_PERSON = PreparedQuery("SELECT id FROM people WHERE id = :person FOR UPDATE")


def book(
    *, session, person_id: str, role: str, case: dict, asked_by: str, policy=None
) -> tuple[Assignment | None, QualificationCheck]:
    """Check and book in one transaction; the booking exists only if the person qualified.

    Bookings for one person are decided one after the other, and each sees the one before, so
    racing requests never both take the last slot: on PostgreSQL the person's row is locked
    (``FOR UPDATE``) before anything is read; on SQLite the transaction holds the database's
    write lock from its BEGIN IMMEDIATE.
    """
    switch_to_writing(session)
    connection = session.connection()
    if connection.dialect.name != "sqlite" and is_valid_id(person_id):
        _LOCK_PERSON.rows(connection, person=person_id)
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
    booked_at = clock.now()
    assignment = Assignment(
        id=new_id(),
        person_id=person_id,
        role=role,
        facility_id=case["facility_id"],
        # as stored (an instant in UTC), so the audit event shows what reads back
        starts_at=case["starts_at"].astimezone(UTC),
        ends_at=case["ends_at"].astimezone(UTC),
        remote=case.get("remote", False),
        payer=case.get("payer", "commercial"),
        case_ref=case.get("case_ref"),
        case=stored.case,
        status="booked",
        check_id=stored.id,
        booked_by=asked_by,
        created_at=booked_at,
        updated_at=booked_at,
        version=1,
        cancelled_at=None,
        cancelled_by=None,
        cancel_reason=None,
    )
    # a plain insert and its audit event: the ORM's unit of work costs more than the rules
    connection = session.connection()
    _STORE_ASSIGNMENT.rows(connection, **column_values(assignment))
    audit_hook.record_created(connection, assignment)
    return assignment, stored


_STORE_ASSIGNMENT = PreparedQuery.insert_into(Assignment.__table__)
