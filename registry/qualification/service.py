"""Check and search: the qualification question asked of the stored registry (booking, in
registry.assignments, asks it here first)."""

import contextlib
import gc
import threading
import time

from flask import current_app
from sqlalchemy import insert, select, text

from registry import clock
from registry.audit.context import current_request_id
from registry.database import new_id, switch_to_writing
from registry.errors import InvalidData, NotFound
from registry.ids import find, is_valid_id
from registry.qualification import engine, facts
from registry.qualification.models import QualificationCheck
from schemas.qualification import SEARCH_PAGE_SIZE, CaseSchema

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


def _load(session, *, case_data: dict, people, role, policy):
    """The case (validated against the registry), its facility, and the people's facts.

    Raises InvalidData naming every problem with the case (facility, modalities, physician).
    """
    facility_id = case_data["facility_id"]
    supervisor = case_data.get("supervising_physician_id")
    loaded = facts.load(
        session,
        facility_id=facility_id if is_valid_id(facility_id) else None,
        supervisor_id=supervisor if supervisor and is_valid_id(supervisor) else None,
        people=people,
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
    by_person = {
        person_id: engine.Facts(
            person=person,
            facility=facility,
            credential_types=loaded.credential_types,
            agreements=loaded.agreements,
        )
        for person_id, person in loaded.people.items()
    }
    return case, by_person


_INSERT_CHECK = insert(QualificationCheck.__table__)


def _record(session, *, person_id, role, case_data, decision, asked_by, purpose):
    """Store the question and its answer: a plain insert through the session (a stored check
    is never edited, and not audited: it says itself who asked)."""
    check = {
        "id": new_id(),
        "person_id": person_id,
        "role": role,
        "case": _case_schema.dump(case_data),
        "qualified": decision.qualified,
        "reasons": [r.to_dict() for r in decision.reasons],
        "warnings": [w.to_dict() for w in decision.warnings],
        "evidence": [e.to_dict() for e in decision.evidence],
        "checked_at": clock.now(),
        "asked_by": asked_by,
        "purpose": purpose,
        "request_id": current_request_id(),
    }
    session.connection().execute(_INSERT_CHECK, check)
    return QualificationCheck(**check)


def recent_checks(*, session, person_id: str, limit: int) -> list[QualificationCheck]:
    """A person's latest stored checks, the newest first."""
    statement = (
        select(QualificationCheck)
        .where(QualificationCheck.person_id == person_id)
        .order_by(QualificationCheck.checked_at.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def decide(*, session, person_id: str, role: str, case_data: dict, policy) -> engine.Decision:
    """Evaluate one person for a case without storing anything."""
    case, by_person = _load(
        session,
        case_data=case_data,
        people=facts.People.one(person_id) if is_valid_id(person_id) else None,
        role=role,
        policy=policy,
    )
    if person_id not in by_person:
        raise InvalidData({"person_id": ["No person with this id."]})
    return engine.evaluate(by_person[person_id], role, case, policy)


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
    # anything but the one word for it keeps the commit durable
    if (
        current_app.config["CHECK_COMMIT"] == "asynchronous"
        and session.get_bind().dialect.name == "postgresql"
    ):
        # this transaction's COMMIT answers before the WAL reaches the disk
        session.execute(text("SET LOCAL synchronous_commit = off"))
    return _record(
        session,
        person_id=person_id,
        role=role,
        case_data=case,
        decision=decision,
        asked_by=asked_by,
        purpose=purpose,
    )


def check_for_booking(
    *, session, person_id: str, role: str, case: dict, asked_by: str, policy=None
) -> QualificationCheck:
    """Decide and store a booking's check inside the caller's write transaction (which has
    locked the person first: see ``registry.assignments.service.book``)."""
    decision = decide(
        session=session,
        person_id=person_id,
        role=role,
        case_data=case,
        policy=policy or policy_from_config(),
    )
    return _record(
        session,
        person_id=person_id,
        role=role,
        case_data=case,
        decision=decision,
        asked_by=asked_by,
        purpose="booking",
    )


def search(
    *,
    session,
    role: str,
    case: dict,
    include_unqualified: bool,
    page: int | None = None,
    page_size: int = SEARCH_PAGE_SIZE,
    policy=None,
) -> dict:
    """Answer "who is qualified for this case?" over every active person of the role's kind.

    ``qualified`` is always whole. With ``include_unqualified`` the others come too, with why
    not: all of them, or with ``page`` only that page of them (in name order) and
    ``unqualified_total``. Not stored (a search is about many people at once); booking
    someone stores that check.
    """
    policy = policy or policy_from_config()
    kind = engine.PERSON_KIND_FOR_ROLE[role]
    if include_unqualified and page is None:
        with _cycle_collector_paused():
            parsed, by_person = _load(
                session,
                case_data=case,
                people=facts.People.of_kind(kind),
                role=role,
                policy=policy,
            )
            qualified, unqualified = _answers(by_person, role, parsed, policy)
        return {"qualified": qualified, "unqualified": unqualified}
    # nobody qualifies without an active appointment here: only they are evaluated in full
    parsed, by_person = _load(
        session,
        case_data=case,
        people=facts.People.of_kind(kind, appointed_only=True),
        role=role,
        policy=policy,
    )
    qualified, unqualified_appointed = _answers(by_person, role, parsed, policy)
    if not include_unqualified:
        return {"qualified": qualified, "unqualified": []}
    # the unqualified are everyone else of the kind, in name order: the page's are evaluated
    qualified_ids = {hit["person_id"] for hit in qualified}
    everyone = facts.people_in_name_order(
        session, facts.People.of_kind(kind), facility_id=parsed.facility_id
    )
    others = [person_id for person_id in everyone if person_id not in qualified_ids]
    first = (page - 1) * page_size
    on_page = others[first : first + page_size]
    known = {miss["person_id"]: miss for miss in unqualified_appointed}
    missing = [person_id for person_id in on_page if person_id not in known]
    if missing:
        _, page_facts = _load(
            session,
            case_data=case,
            people=facts.People.these(missing),
            role=role,
            policy=policy,
        )
        known.update(
            (miss["person_id"], miss) for miss in _answers(page_facts, role, parsed, policy)[1]
        )
    return {
        "qualified": qualified,
        "unqualified": [known[person_id] for person_id in on_page if person_id in known],
        "unqualified_total": len(others),
    }


class _CycleCollectorPause:
    """Pause Python's cycle collector while a whole search runs. It builds tens of thousands
    of facts and reasons at once; they hold no reference cycles (reference counting frees
    them), but every few hundred allocations the collector walks them all again: the pause
    saves 22% of a whole 5,000-technologist search's CPU (measured side by side on the bench
    network). The collector is process-wide, so overlapping searches (threads) share one
    pause: it ends when the last of them does, and only if it was on before; while searches
    keep overlapping, one that ends after ``longest`` seconds of pause collects once, so what
    other requests leave behind meanwhile is not kept for ever."""

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


def _answers(by_person: dict, role, case, policy) -> tuple[list, list]:
    """The search's qualified and unqualified entries for these people, in their order."""
    qualified, unqualified = [], []
    decisions = engine.evaluate_many(by_person.values(), role, case, policy)
    for (person_id, person_facts), decision in zip(by_person.items(), decisions, strict=True):
        name = person_facts.person.name
        if decision.qualified:
            qualified.append(
                {
                    "person_id": person_id,
                    "name": name,
                    "warnings": [w.to_dict() for w in decision.warnings],
                }
            )
        else:
            unqualified.append(
                {
                    "person_id": person_id,
                    "name": name,
                    "reasons": [r.to_dict() for r in decision.reasons],
                }
            )
    return qualified, unqualified


def held_back(*, session, credentials, policy=None) -> dict[str, tuple]:
    """Of one person's credentials (records), those whose verification a revocation holds
    back (the rules' ``CREDENTIAL_UNVERIFIED``), each with the revoked record and the first
    day a verification counts again: what the UI shows beside the verification."""
    records = list(credentials)
    revoked = [c for c in records if c.status == "revoked" and c.revoked_on is not None]
    if not revoked:
        return {}
    policy = policy or policy_from_config()
    if policy.accept_unverified:
        return {}
    types = facts.credential_types(session)
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
