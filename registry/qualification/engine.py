"""The qualification rules engine: pure functions from facts to a decision.

Nothing here touches the database, the clock, Flask or any I/O. The facts repository
(facts.py) builds ``Facts`` for one person, the caller supplies the ``Case``, the ``Policy`` and
the role, and ``evaluate`` answers with a ``Decision``: every failed requirement as a
``Reason``, warnings for what lapses soon after the case, and the evidence that satisfied each
requirement. A record's standing on a date (``credential_standing`` and its kin) is the same
reading, for the pages, the expirations and the jobs.

The answer never depends on the order of the facts in their tuples: every choice among
candidates uses a total sort key that ends with the fact's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "APPOINTMENT_EXPIRED",
    "CONCURRENCY_LIMIT",
    "CREDENTIAL_EXPIRED",
    "CREDENTIAL_INACTIVE",
    "CREDENTIAL_NOT_YET_VALID",
    "CREDENTIAL_UNVERIFIED",
    "EXPIRES_SOON",
    "LICENSE_JURISDICTION",
    "MISSING_CREDENTIAL",
    "NO_APPOINTMENT",
    "NO_SUPERVISION_AGREEMENT",
    "PERSON_INACTIVE",
    "REASON_CODES",
    "REQUIREMENTS",
    "ROLE_MISMATCH",
    "ROLES",
    "SCHEDULE_CONFLICT",
    "SCOPE_NOT_COVERED",
    "AgreementFact",
    "AppointmentFact",
    "BookingFact",
    "Case",
    "CredentialFact",
    "CredentialTypeFact",
    "Decision",
    "Evidence",
    "FacilityFact",
    "Facts",
    "PersonFacts",
    "Policy",
    "Reason",
    "RevocationFact",
    "ScopeFact",
    "case_dates",
    "evaluate",
    "evaluate_many",
    "first_day_verifications_count",
    "holding_back",
    "revocation_holds",
    "revocation_key",
    "IGNORED_CREDENTIAL_STATUSES",
    "PERSON_KIND_FOR_ROLE",
]

# Reason codes (stable: callers, stored checks and the audit trail rely on them).
PERSON_INACTIVE = "PERSON_INACTIVE"
ROLE_MISMATCH = "ROLE_MISMATCH"
MISSING_CREDENTIAL = "MISSING_CREDENTIAL"
CREDENTIAL_EXPIRED = "CREDENTIAL_EXPIRED"
CREDENTIAL_NOT_YET_VALID = "CREDENTIAL_NOT_YET_VALID"
CREDENTIAL_INACTIVE = "CREDENTIAL_INACTIVE"
CREDENTIAL_UNVERIFIED = "CREDENTIAL_UNVERIFIED"
LICENSE_JURISDICTION = "LICENSE_JURISDICTION"
NO_APPOINTMENT = "NO_APPOINTMENT"
APPOINTMENT_EXPIRED = "APPOINTMENT_EXPIRED"
SCOPE_NOT_COVERED = "SCOPE_NOT_COVERED"
NO_SUPERVISION_AGREEMENT = "NO_SUPERVISION_AGREEMENT"
SCHEDULE_CONFLICT = "SCHEDULE_CONFLICT"
CONCURRENCY_LIMIT = "CONCURRENCY_LIMIT"
EXPIRES_SOON = "EXPIRES_SOON"

REASON_CODES = (
    PERSON_INACTIVE,
    ROLE_MISMATCH,
    MISSING_CREDENTIAL,
    CREDENTIAL_EXPIRED,
    CREDENTIAL_NOT_YET_VALID,
    CREDENTIAL_INACTIVE,
    CREDENTIAL_UNVERIFIED,
    LICENSE_JURISDICTION,
    NO_APPOINTMENT,
    APPOINTMENT_EXPIRED,
    SCOPE_NOT_COVERED,
    NO_SUPERVISION_AGREEMENT,
    SCHEDULE_CONFLICT,
    CONCURRENCY_LIMIT,
)

ROLES = ("technologist", "interpreting_physician")

REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "technologist": (
        "person",
        "certification",
        "facility_credentials",
        "appointment",
        "scope",
        "supervision",
        "schedule",
    ),
    "interpreting_physician": (
        "person",
        "board_certification",
        "license",
        "facility_credentials",
        "appointment",
        "scope",
        "supervision",
        "concurrency",
    ),
}

# A remote physician's cap when no agreement qualifies (supervision has failed already then).
DEFAULT_MAX_CONCURRENT_CASES = 3

# Credentials in these states were never meant to exist: treat as absent. A suspended or revoked
# credential is on file (SPEC: CREDENTIAL_INACTIVE names it).
IGNORED_CREDENTIAL_STATUSES = frozenset({"entered_in_error"})

PERSON_KIND_FOR_ROLE = {"technologist": "technologist", "interpreting_physician": "physician"}
_ACTIVITY = {"technologist": "perform", "interpreting_physician": "interpret"}


# --- revocations: the one rule, for the evaluation and for the pages that show it -----------


def revocation_key(
    code: str, jurisdiction: str | None, credential_types: Mapping, license_type: str
) -> tuple[str, str]:
    """What a revocation applies to: the type, and for licenses the jurisdiction too (any
    other credential is one, whatever state a record names)."""
    ctype = credential_types.get(code)
    is_license = (ctype is not None and ctype.category == "license") or code == license_type
    return code, (jurisdiction or "").upper() if is_license else ""


def first_day_verifications_count(revocation: RevocationFact) -> date:
    """After a revocation, the first day a verification of the same credential counts: not
    before the revocation, and after the revoked credential's own verification."""
    earliest = revocation.revoked_on
    if revocation.verified_on is not None and revocation.verified_on >= earliest:
        earliest = revocation.verified_on + timedelta(days=1)
    return earliest


def revocation_holds(
    revocations: Iterable[RevocationFact], credential_types: Mapping, license_type: str
) -> dict[tuple[str, str], tuple[RevocationFact, date]]:
    """For each credential (``revocation_key``), the revocation that holds its verifications
    back the longest and the first day a verification counts again."""
    holds: dict[tuple[str, str], tuple[RevocationFact, date]] = {}
    for r in revocations:
        earliest = first_day_verifications_count(r)
        key = revocation_key(r.type_code, r.jurisdiction, credential_types, license_type)
        if key not in holds or earliest > holds[key][1]:
            holds[key] = (r, earliest)
    return holds


def holding_back(
    holds: Mapping[tuple[str, str], tuple[RevocationFact, date]],
    code: str,
    jurisdiction: str | None,
    verified_on: date | None,
    credential_types: Mapping,
    license_type: str,
) -> tuple[RevocationFact, date] | None:
    """The hold (of ``revocation_holds``) that keeps a verification made on ``verified_on``
    (None: on an unknown day) of this credential from counting, or None."""
    hold = holds.get(revocation_key(code, jurisdiction, credential_types, license_type))
    if hold is None or (verified_on is not None and verified_on >= hold[1]):
        return None
    return hold


# --- facts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialTypeFact:
    """One entry of the credential type catalogue."""

    code: str
    name: str
    category: str
    depends_on: str | None = None


@dataclass(frozen=True)
class CredentialFact:
    """One credential a person holds (status: active|suspended|revoked|entered_in_error);
    ``verified_on``: the date of its verification, when it has one."""

    id: str
    type_code: str
    status: str
    verified: bool
    issued_on: date | None
    expires_on: date | None
    jurisdiction: str | None = None
    verified_on: date | None = None
    revoked_on: date | None = None


@dataclass(frozen=True)
class RevocationFact:
    """A credential of the person's that its issuer revoked, when, and when the verification
    it had was made: neither that verification nor any made before the revocation vouches for
    a credential of the same type (and, for licenses, the same jurisdiction)."""

    id: str
    type_code: str
    jurisdiction: str | None
    revoked_on: date
    verified_on: date | None = None


@dataclass(frozen=True)
class AppointmentFact:
    """Privileges at one facility (status: active|suspended|ended)."""

    id: str
    facility_id: str
    status: str
    starts_on: date
    expires_on: date | None


@dataclass(frozen=True)
class ScopeFact:
    """A scope of practice (activity: perform|interpret); facility_id None means everywhere."""

    id: str
    activity: str
    modalities: frozenset[str]
    facility_id: str | None
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True)
class AgreementFact:
    """A supervision agreement; empty technologist_ids covers every appointed technologist."""

    id: str
    facility_id: str
    physician_id: str
    technologist_ids: frozenset[str]
    modes: frozenset[str]
    max_concurrent_cases: int
    effective_from: date
    effective_to: date | None
    active: bool


@dataclass(frozen=True)
class BookingFact:
    """One booked (not cancelled) assignment of the person (payer: commercial|medicare)."""

    id: str
    role: str
    facility_id: str
    starts_at: datetime
    ends_at: datetime
    remote: bool
    payer: str
    case_ref: str | None = None  # the caller's case id, when it gave one


@dataclass(frozen=True)
class FacilityFact:
    """The facility where the case takes place."""

    id: str
    name: str
    state: str
    timezone: str
    required_credentials: tuple[str, ...]


@dataclass(frozen=True)
class PersonFacts:
    """One person and everything about them the rules look at."""

    id: str
    kind: str
    active: bool
    name: str
    credentials: tuple[CredentialFact, ...]
    appointments: tuple[AppointmentFact, ...]
    scopes: tuple[ScopeFact, ...]
    bookings: tuple[BookingFact, ...]
    revocations: tuple[RevocationFact, ...] = ()


@dataclass(frozen=True)
class Facts:
    """Everything ``evaluate`` needs about one person at one facility."""

    person: PersonFacts
    facility: FacilityFact
    credential_types: Mapping[str, CredentialTypeFact]
    agreements: tuple[AgreementFact, ...]


@dataclass(frozen=True)
class Case:
    """The case the person would work on; starts_at and ends_at are aware datetimes."""

    facility_id: str
    starts_at: datetime
    ends_at: datetime
    modalities: tuple[str, ...]
    patient_state: str | None = None
    remote: bool = False
    supervising_physician_id: str | None = None
    payer: str = "commercial"
    procedure: str | None = None
    case_ref: str | None = None


@dataclass(frozen=True)
class Policy:
    """The configurable parts of the rules."""

    technologist_certifications: tuple[str, ...] = ("CNIM", "DABNM")
    physician_board_certifications: tuple[str, ...] = ("ABCN", "ABPN-CN")
    license_type: str = "MEDICAL_LICENSE"
    warning_days: int = 30
    accept_unverified: bool = False


# --- the answer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a requirement failed (or, as a warning, what lapses soon)."""

    code: str
    message: str
    requirement: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON-ready form: ``{"code", "message", "requirement", "evidence"}``."""
        return {
            "code": self.code,
            "message": self.message,
            "requirement": self.requirement,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Evidence:
    """One fact that satisfied a requirement; kind is credential, appointment, scope, ..."""

    requirement: str
    kind: str
    id: str
    details: Mapping[str, str | int | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready form: ``{"requirement", "kind", "id", **details}``."""
        return {"requirement": self.requirement, "kind": self.kind, "id": self.id, **self.details}


@dataclass(frozen=True)
class Decision:
    """The engine's answer; qualified exactly when there are no reasons."""

    qualified: bool
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict:
        """Plain JSON-ready form: ``{"qualified", "reasons", "warnings", "evidence"}``."""
        return {
            "qualified": self.qualified,
            "reasons": [r.to_dict() for r in self.reasons],
            "warnings": [w.to_dict() for w in self.warnings],
            "evidence": [e.to_dict() for e in self.evidence],
        }


# --- a record's standing on a date: the one reading of whether it counts ---------------------

# Standing states, most serious first: a record short in several ways stands by the first.
ENTERED_IN_ERROR = "entered_in_error"
REVOKED = "revoked"
SUSPENDED = "suspended"
ENDED = "ended"
UNVERIFIED = "unverified"
HELD_BACK = "held_back"
LAPSED = "lapsed"
NOT_YET_VALID = "not_yet_valid"
VALID = "valid"
STANDING_STATES = (
    ENTERED_IN_ERROR,
    REVOKED,
    SUSPENDED,
    ENDED,
    UNVERIFIED,
    HELD_BACK,
    LAPSED,
    NOT_YET_VALID,
    VALID,
)
STANDING_LABELS = {
    ENTERED_IN_ERROR: "Entered in error",
    REVOKED: "Revoked",
    SUSPENDED: "Suspended",
    ENDED: "Ended",
    UNVERIFIED: "Unverified",
    HELD_BACK: "Held back",
    LAPSED: "Lapsed",
    NOT_YET_VALID: "Not yet valid",
    VALID: "Valid",
}


@dataclass(frozen=True)
class Standing:
    """Whether a record counts from ``first`` to ``last`` and, when it does not, why.

    ``issues`` lists every way it falls short, most serious first (empty: it counts);
    ``changes_on`` is the next day its standing changes by the calendar alone (None: never).
    """

    state: str
    issues: tuple[str, ...]
    message: str
    changes_on: date | None = None
    held_by: RevocationFact | None = None

    @property
    def counts(self) -> bool:
        """True only for a record that satisfies a requirement on every day asked about."""
        return self.state == VALID

    @property
    def label(self) -> str:
        """The state in a coordinator's word ("Valid", "Revoked", "Held back", ...)."""
        return STANDING_LABELS[self.state]


def credential_label(code: str, jurisdiction: str | None, credential_types: Mapping) -> str:
    """How a credential is named in messages: "CNIM certification", "Medical license in KS"."""
    ctype = credential_types.get(code)
    if ctype is None:
        label = f"{code} credential"
    elif ctype.category == "license":
        label = ctype.name
    else:
        label = f"{code} {ctype.category.replace('_', ' ')}"
    return f"{label} in {jurisdiction}" if jurisdiction else label


def same_credential(
    a: tuple[str, str | None],
    b: tuple[str, str | None],
    credential_types: Mapping,
    license_type: str,
) -> bool:
    """Whether two records, each given as (type code, jurisdiction), are of one credential: the
    same type and, for licenses, the same jurisdiction (the identity ``revocation_key`` reads)."""
    return revocation_key(*a, credential_types, license_type) == revocation_key(
        *b, credential_types, license_type
    )


def credential_issues(
    cred: CredentialFact,
    first: date,
    last: date,
    *,
    policy: Policy,
    hold: tuple[RevocationFact, date] | None = None,
) -> tuple[str, ...]:
    """Every way ``cred`` falls short of valid on each day from ``first`` to ``last``, most
    serious first; ``hold`` is what ``holding_back`` found for it (None: nothing holds it)."""
    issues = []
    if cred.status == "entered_in_error":
        issues.append(ENTERED_IN_ERROR)
    elif cred.status == "revoked":
        issues.append(REVOKED)
    elif cred.status != "active":
        issues.append(SUSPENDED)
    if not policy.accept_unverified:
        if not cred.verified:
            issues.append(UNVERIFIED)
        elif hold is not None:
            issues.append(HELD_BACK)
    if cred.issued_on is not None and cred.issued_on > first:
        issues.append(NOT_YET_VALID)
    if cred.expires_on is not None and cred.expires_on < last:
        issues.append(LAPSED)
    return tuple(issues)


def credential_standing(
    cred: CredentialFact,
    first: date,
    last: date | None = None,
    *,
    policy: Policy,
    credential_types: Mapping = MappingProxyType({}),
    revocations: Iterable[RevocationFact] = (),
) -> Standing:
    """A credential's standing from ``first`` to ``last`` (default: the one day ``first``),
    with the revocations of the person's that may hold its verification back."""
    last = first if last is None else last
    hold = None
    if cred.verified and not policy.accept_unverified:
        holds = revocation_holds(revocations, credential_types, policy.license_type)
        hold = holding_back(
            holds,
            cred.type_code,
            cred.jurisdiction,
            cred.verified_on,
            credential_types,
            policy.license_type,
        )
    issues = credential_issues(cred, first, last, policy=policy, hold=hold)
    label = credential_label(cred.type_code, cred.jurisdiction, credential_types)
    state = issues[0] if issues else VALID
    changes_on = None
    if state == VALID and cred.expires_on is not None:
        changes_on = cred.expires_on + timedelta(days=1)
    elif state == NOT_YET_VALID:
        changes_on = cred.issued_on
    messages = {
        ENTERED_IN_ERROR: f"{label} was entered in error.",
        REVOKED: f"{label} revoked on {cred.revoked_on}."
        if cred.revoked_on
        else f"{label} revoked.",
        SUSPENDED: f"{label} is suspended.",
        UNVERIFIED: f"{label} has not been verified.",
        HELD_BACK: (
            f"{label} was verified on {cred.verified_on or 'an unknown date'}, before the "
            f"revocation of {hold[0].revoked_on}; only a verification made on or after "
            f"{hold[1]} counts."
            if hold
            else ""
        ),
        LAPSED: f"{label} lapsed after {cred.expires_on}.",
        NOT_YET_VALID: f"{label} is valid from {cred.issued_on}.",
        VALID: f"{label} is valid"
        + (f" through {cred.expires_on}." if cred.expires_on else " (does not expire)."),
    }
    return Standing(
        state,
        issues,
        messages[state],
        changes_on=changes_on,
        held_by=hold[0] if hold and state == HELD_BACK else None,
    )


def appointment_standing(appointment: AppointmentFact, first: date, last: date | None = None):
    """An appointment's own standing from ``first`` to ``last`` (status and dates; privileges
    that a lapsed license suspends are the evaluation's to say)."""
    last = first if last is None else last
    issues = []
    if appointment.status == "suspended":
        issues.append(SUSPENDED)
    elif appointment.status != "active":
        issues.append(ENDED)
    if appointment.expires_on is not None and appointment.expires_on < last:
        issues.append(LAPSED)
    if appointment.starts_on > first:
        issues.append(NOT_YET_VALID)
    return _dated_standing(
        tuple(issues), "Appointment", appointment.starts_on, appointment.expires_on
    )


def agreement_standing(agreement: AgreementFact, first: date, last: date | None = None):
    """A supervision agreement's standing from ``first`` to ``last`` (active flag and dates)."""
    last = first if last is None else last
    issues = []
    if not agreement.active:
        issues.append(ENDED)
    if agreement.effective_to is not None and agreement.effective_to < last:
        issues.append(LAPSED)
    if agreement.effective_from > first:
        issues.append(NOT_YET_VALID)
    return _dated_standing(
        tuple(issues), "Supervision agreement", agreement.effective_from, agreement.effective_to
    )


def agreement_covers(agreement: AgreementFact, technologist_id: str) -> bool:
    """Whether an agreement covers a technologist: it lists them, or it lists nobody (SPEC,
    requirement 6: "listed, or the list is empty"); its standing is ``agreement_standing``'s."""
    return not agreement.technologist_ids or technologist_id in agreement.technologist_ids


def _dated_standing(issues, what: str, starts_on: date, ends_on: date | None) -> Standing:
    state = issues[0] if issues else VALID
    changes_on = None
    if state == VALID and ends_on is not None:
        changes_on = ends_on + timedelta(days=1)
    elif state == NOT_YET_VALID:
        changes_on = starts_on
    messages = {
        SUSPENDED: f"{what} is suspended.",
        ENDED: f"{what} has ended.",
        LAPSED: f"{what} lapsed after {ends_on}.",
        NOT_YET_VALID: f"{what} starts on {starts_on}.",
        VALID: f"{what} is in force" + (f" through {ends_on}." if ends_on else "."),
    }
    return Standing(state, issues, messages[state], changes_on=changes_on)


# the requirements that say whether a person can work at a facility at all, case aside
_WORK_REQUIREMENTS = frozenset(
    {
        "person",
        "certification",
        "board_certification",
        "license",
        "facility_credentials",
        "appointment",
    }
)


@dataclass(frozen=True)
class WorkStanding:
    """Where a person can work on a day (by their own records, case aside), and if nowhere,
    what keeps them from it: ``blockers`` are the reasons, ``summary`` a coordinator's line."""

    facility_ids: tuple[str, ...]
    blockers: tuple[Reason, ...]
    summary: str

    @property
    def can_work(self) -> bool:
        """Whether the person can work at one facility or more on that day."""
        return bool(self.facility_ids)


def work_standing(
    person: PersonFacts,
    facilities: Mapping[str, FacilityFact],
    *,
    credential_types: Mapping[str, CredentialTypeFact],
    policy: Policy,
    on: date,
) -> WorkStanding:
    """Where ``person`` can work on ``on``: the facilities (of ``facilities``, those of their
    appointments) at which the person, certification, license, facility-credential and
    appointment requirements all hold for a case that day; scope, supervision and bookings
    depend on the case and are not asked."""
    role = "technologist" if person.kind == "technologist" else "interpreting_physician"
    able, blockers = [], []
    facility_ids = sorted({a.facility_id for a in person.appointments} & set(facilities))
    for facility_id in facility_ids:
        facility = facilities[facility_id]
        reasons = _work_reasons(person, facility, credential_types, policy, role, on)
        if reasons:
            blockers.append(reasons)
        else:
            able.append(facility_id)
    if able:
        count = len(able)
        return WorkStanding(
            tuple(able), (), f"can work at {count} {'facility' if count == 1 else 'facilities'}"
        )
    if not blockers:  # no appointment anywhere: say first what the person's own records lack
        nowhere = FacilityFact("", "any facility", "", "UTC", ())
        own = [
            r
            for r in _work_reasons(person, nowhere, credential_types, policy, role, on)
            if r.requirement not in ("appointment", "license")
        ]
        blockers.append(own or [Reason(NO_APPOINTMENT, "No appointment on file.", "appointment")])
    # the blockers shared by every facility first: they are the person's own
    first = blockers[0]
    shared = [r for r in first if all(r in other for other in blockers[1:])] or first
    return WorkStanding(
        (), tuple(shared), "cannot work: " + _short(shared[0], person, credential_types)
    )


def _work_reasons(person, facility, credential_types, policy, role, on) -> list[Reason]:
    noon = datetime.combine(on, time(12), tzinfo=_zone(facility.timezone))
    case = Case(facility.id, noon, noon + timedelta(minutes=1), ())
    facts = Facts(person, facility, credential_types, ())
    evaluation = _Evaluation(facts, role, case, policy, on, on)
    return list(evaluation.run(_WORK_REQUIREMENTS).reasons)


def _short(reason: Reason, person: PersonFacts, credential_types: Mapping) -> str:
    """A reason in a few words: "CNIM revoked", "no appointment", "inactive"."""
    cred = next((c for c in person.credentials if c.id in reason.evidence[:1]), None)
    if cred is not None and reason.code.startswith("CREDENTIAL_"):
        word = {
            CREDENTIAL_INACTIVE: cred.status,
            CREDENTIAL_UNVERIFIED: "held back" if cred.verified else "unverified",
            CREDENTIAL_EXPIRED: "lapsed",
            CREDENTIAL_NOT_YET_VALID: "not yet valid",
        }[reason.code]
        ctype = credential_types.get(cred.type_code)
        if ctype is not None and ctype.category == "license":
            return f"{credential_label(cred.type_code, cred.jurisdiction, credential_types)} {word}"
        return f"{cred.type_code} {word}"
    return {
        PERSON_INACTIVE: "inactive",
        ROLE_MISMATCH: "role mismatch",
        NO_APPOINTMENT: "no appointment",
        APPOINTMENT_EXPIRED: "no appointment in force",
        LICENSE_JURISDICTION: "no license where they work",
    }.get(reason.code, reason.message.rstrip(".").replace("No ", "no ", 1))


# --- public functions ------------------------------------------------------------------------


def case_dates(case: Case, timezone: str) -> tuple[date, date]:
    """Return the first and last local date of the case window in ``timezone``.

    A case ending exactly at local midnight does not touch the next day; a case crossing
    midnight covers both dates. Raises ValueError on naive datetimes or an unknown zone.
    """
    zone = _zone(timezone)
    if case.starts_at.tzinfo is None or case.ends_at.tzinfo is None:
        raise ValueError("case starts_at and ends_at must be timezone-aware")
    local_start = case.starts_at.astimezone(zone)
    local_end = case.ends_at.astimezone(zone)
    first = local_start.date()
    last = local_end.date()
    if case.ends_at > case.starts_at and local_end.time() == time(0, 0):
        last -= timedelta(days=1)
    return first, max(first, last)


def evaluate(facts: Facts, role: str, case: Case, policy: Policy) -> Decision:
    """Decide whether the person in ``facts`` is qualified for ``role`` on ``case``.

    Every requirement of the role is checked (not just up to the first failure). Raises
    ValueError for an unknown role or an inconsistent case.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if case.facility_id != facts.facility.id:
        raise ValueError("case.facility_id does not match the facility in the facts")
    first, last = case_dates(case, facts.facility.timezone)
    if case.ends_at <= case.starts_at:
        raise ValueError("case ends_at must be after starts_at")
    return _Evaluation(facts, role, case, policy, first, last).run()


def evaluate_many(facts: Iterable[Facts], role: str, case: Case, policy: Policy) -> list[Decision]:
    """``evaluate`` for many people and one case (a search), sharing the person-independent work.

    Gives exactly the decisions ``evaluate`` gives one by one.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if case.ends_at <= case.starts_at:
        raise ValueError("case ends_at must be after starts_at")
    shared: dict = {}
    decisions = []
    for one in facts:
        if case.facility_id != one.facility.id:
            raise ValueError("case.facility_id does not match the facility in the facts")
        key = ("dates", one.facility.timezone)
        if key not in shared:
            shared[key] = case_dates(case, one.facility.timezone)
        first, last = shared[key]
        decisions.append(_Evaluation(one, role, case, policy, first, last, shared).run())
    return decisions


# --- internals -------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _end_ordinal(end: date | None) -> int:
    """Sortable end date where None (open-ended) is the latest of all."""
    return (end or date.max).toordinal()


def _start_ordinal(start: date | None) -> int:
    """Sortable start date where None (no start) is the earliest of all."""
    return (start or date.min).toordinal()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _overlaps(booking: BookingFact, case: Case) -> bool:
    # Half-open windows: a booking ending exactly when the case starts is no overlap.
    return booking.starts_at < case.ends_at and booking.ends_at > case.starts_at


def _booking_key(booking: BookingFact) -> tuple:
    return (booking.starts_at, booking.ends_at, booking.id)


@dataclass
class _TypeCheck:
    """The result of checking one credential type (and what it depends on) for the window."""

    code: str
    valid: bool
    # When valid: the chosen credential and, after it, those of its dependencies.
    chain: tuple[CredentialFact, ...] = ()
    # When not valid: (code, message, evidence ids) per failure; the requirement is added later.
    failures: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    # The person holds a credential of this very type (revoked / in error ones do not count).
    has_candidate: bool = False


class _LicenseGap(NamedTuple):
    """The first day no license in the facility's state is in force, the expiry before it,
    and the ids of the licenses there."""

    uncovered: date
    lapsed_on: date
    ids: tuple[str, ...]
    ending: tuple[str, ...]  # the licenses in force whose expiry is the lapse
    later: bool  # a license there that has not expired by then is on file (not in force)


class _AgreementsForCase:
    """The facility's agreements ranked for one case, best first (fewest problems, then the
    latest end), with what is wrong with each; and, memoised, which of them cover a
    technologist or name a physician. Person-independent: a search builds it once."""

    def __init__(self, agreements, key, ranked: list[AgreementFact], issues: dict) -> None:
        self.agreements = agreements
        self.key = key
        self.ranked = ranked
        self.issues = issues
        # agreements listing technologists: only these make one technologist differ from another
        self._listing = [a for a in ranked if a.technologist_ids]
        self._covering: dict[tuple, tuple[list, list]] = {}
        self._by_physician: dict[str, list[AgreementFact]] | None = None

    def _with_satisfying(self, candidates: list[AgreementFact]) -> tuple[list, list]:
        return candidates, [a for a in candidates if not self.issues[a.id]]

    def covering_technologist(self, person_id: str, physician: str | None) -> tuple[list, list]:
        """(the agreements covering the technologist, with that physician if given; those of
        them with no problem), best first. An agreement covers the technologists it lists, or
        every technologist when it lists none (``agreement_covers``; that they need an active
        appointment here is requirement 4's to say)."""
        # technologists listed in the same agreements are covered alike: one answer for them
        listed_in = tuple(a.id for a in self._listing if agreement_covers(a, person_id))
        key = (listed_in, physician)
        found = self._covering.get(key)
        if found is None:
            found = self._covering[key] = self._with_satisfying(
                [
                    a
                    for a in self.ranked
                    if agreement_covers(a, person_id)
                    and (physician is None or a.physician_id == physician)
                ]
            )
        return found

    def naming_physician(self, person_id: str) -> tuple[list, list]:
        """(the agreements naming the physician; those of them with no problem), best first."""
        if self._by_physician is None:
            self._by_physician = {}
            for a in self.ranked:
                self._by_physician.setdefault(a.physician_id, []).append(a)
        return self._with_satisfying(self._by_physician.get(person_id, []))


class _Evaluation:
    """One run of the rules; collects reasons, warnings and evidence in requirement order."""

    def __init__(
        self,
        facts: Facts,
        role: str,
        case: Case,
        policy: Policy,
        first: date,
        last: date,
        shared: dict | None = None,
    ) -> None:
        self.facts = facts
        # memo of person-independent results (agreement problems) shared across one search
        self.shared = shared if shared is not None else {}
        self.person = facts.person
        self.facility = facts.facility
        self.role = role
        self.case = case
        self.policy = policy
        self.first = first
        self.last = last
        self.tz = facts.facility.timezone
        self.reasons: list[Reason] = []
        self.warnings: list[Reason] = []
        self.evidence: list[Evidence] = []
        self._type_cache: dict[str, _TypeCheck] = {}
        self._held: dict[str, list[CredentialFact]] | None = None  # by type, see _candidates
        self._revoked: dict[tuple, RevocationFact] | None = None  # see _revoked_since
        self._overlap: list[BookingFact] | None = None  # see _overlapping
        # the agreement supervision was satisfied under (its cap applies to concurrency)
        self.supervising: AgreementFact | None = None

    def run(self, only: frozenset[str] | None = None) -> Decision:
        for requirement, check in _CHECKS[self.role]:
            if only is None or requirement in only:
                check(self, requirement)
        return Decision(
            qualified=not self.reasons,
            reasons=tuple(self.reasons),
            warnings=tuple(self.warnings),
            evidence=tuple(self.evidence),
        )

    # -- recording ----------------------------------------------------------------------------

    def _fail(self, requirement: str, code: str, message: str, ids: Iterable[str] = ()) -> None:
        self.reasons.append(Reason(code, message, requirement, tuple(ids)))

    def _support(
        self,
        requirement: str,
        kind: str,
        fact_id: str,
        details: dict[str, str | int | None],
        end: date | None = None,
        label: str = "",
    ) -> None:
        """Record satisfying evidence, and a warning when it lapses soon after the case."""
        self.evidence.append(Evidence(requirement, kind, fact_id, details))
        if end is not None:
            self._warn_if_soon(requirement, end, label, (fact_id,))

    def _warn_if_soon(self, requirement: str, end: date, label: str, ids: tuple[str, ...]) -> None:
        """An EXPIRES_SOON warning when ``end`` (the last day of validity) falls within the
        warning window after the case."""
        days_after = (end - self.last).days
        if 0 <= days_after <= self.policy.warning_days:
            when = (
                "on the last day of the case"
                if days_after == 0
                else f"{_plural(days_after, 'day')} after the case ends on {self.last}"
            )
            self.warnings.append(
                Reason(EXPIRES_SOON, f"{label} expires {end}, {when}.", requirement, ids)
            )

    # -- labels -------------------------------------------------------------------------------

    def _type_label(self, code: str) -> str:
        return credential_label(code, None, self.facts.credential_types)

    def _credential_label(self, cred: CredentialFact) -> str:
        return credential_label(cred.type_code, cred.jurisdiction, self.facts.credential_types)

    def _window(self) -> str:
        if self.first == self.last:
            return f"on {self.first} ({self.tz})"
        return f"from {self.first} to {self.last} ({self.tz})"

    # -- credentials --------------------------------------------------------------------------

    def _issues(self, cred: CredentialFact) -> tuple[str, ...]:
        """``credential_issues`` for the case window, with the person's revocation holds."""
        hold = None
        if cred.verified and not self.policy.accept_unverified:
            hold = self._held_back(cred)
        return credential_issues(cred, self.first, self.last, policy=self.policy, hold=hold)

    def _credential_failures(self, cred: CredentialFact) -> list[tuple[str, str, tuple]]:
        """Every way one credential falls short of valid for the window, as (code, message,
        the ids of other records the reason involves)."""
        label = self._credential_label(cred)
        issues = self._issues(cred)
        if issues and issues[0] == ENTERED_IN_ERROR:
            return [(CREDENTIAL_INACTIVE, f"{label} was entered in error.", ())]
        if issues and issues[0] in (REVOKED, SUSPENDED):
            # taken back by its issuer: that is the reason, whatever its dates say
            if cred.status == "revoked":
                when = f" on {cred.revoked_on}" if cred.revoked_on else ""
                return [(CREDENTIAL_INACTIVE, f"{label} revoked{when}.", ())]
            return [(CREDENTIAL_INACTIVE, f"{label} is {cred.status}.", ())]
        out: list[tuple[str, str, tuple]] = []
        if UNVERIFIED in issues:
            out.append((CREDENTIAL_UNVERIFIED, f"{label} has not been verified.", ()))
        if HELD_BACK in issues:
            revoked, earliest = self._held_back(cred)
            out.append(
                (
                    CREDENTIAL_UNVERIFIED,
                    f"{label} was verified on {cred.verified_on or 'an unknown date'}; the "
                    f"person's {self._type_label(revoked.type_code)} (credential {revoked.id}) "
                    f"was revoked on {revoked.revoked_on}, so only a verification made on or "
                    f"after {earliest} counts.",
                    (revoked.id,),
                )
            )
        if NOT_YET_VALID in issues:
            out.append(
                (
                    CREDENTIAL_NOT_YET_VALID,
                    f"{label} is issued on {cred.issued_on}, after the case starts on "
                    f"{self.first} ({self.tz}).",
                    (),
                )
            )
        if LAPSED in issues:
            out.append(
                (
                    CREDENTIAL_EXPIRED,
                    f"{label} expires {cred.expires_on}, before the case ends on "
                    f"{self.last} ({self.tz}).",
                    (),
                )
            )
        return out

    def _is_valid(self, cred: CredentialFact) -> bool:
        """Exactly ``not self._credential_failures(cred)``: the standing's own reading."""
        return not self._issues(cred)

    def _is_verified(self, cred: CredentialFact) -> bool:
        """Verified (or the policy counts unverified credentials), and not by a verification
        made before the person's credential of the same type (for licenses: and jurisdiction)
        was revoked, nor by one no later than the revoked credential's own: the issuer took
        that credential back, so what vouched before does not vouch for a record of it entered
        again, a copy, or another record verified with it."""
        if self.policy.accept_unverified:
            return True
        if not cred.verified:
            return False
        return self._held_back(cred) is None

    def _held_back(self, cred: CredentialFact) -> tuple[RevocationFact, date] | None:
        """The revocation that keeps this credential's verification from counting, and the
        first day a verification counts again; None when none does."""
        if self._revoked is None:
            self._revoked = revocation_holds(
                self.person.revocations, self.facts.credential_types, self.policy.license_type
            )
        if not self._revoked:
            return None
        return holding_back(
            self._revoked,
            cred.type_code,
            cred.jurisdiction,
            cred.verified_on,
            self.facts.credential_types,
            self.policy.license_type,
        )

    def _closeness_key(self, cred: CredentialFact) -> tuple:
        """Sort key: the candidate closest to valid comes first."""
        return (
            cred.status != "active",
            not self._is_verified(cred),
            -_end_ordinal(cred.expires_on),
            cred.issued_on is not None and cred.issued_on > self.first,
            _start_ordinal(cred.issued_on),
            cred.id,
        )

    def _candidates(self, code: str) -> list[CredentialFact]:
        """The person's credentials of this type that count (not revoked, not in error); the
        list is shared between calls: read it, do not change it."""
        if self._held is None:
            self._held = {}
            for c in self.person.credentials:
                if c.status not in IGNORED_CREDENTIAL_STATUSES:
                    self._held.setdefault(c.type_code, []).append(c)
        return self._held.get(code, [])

    def _check_type(
        self,
        code: str,
        candidates: list[CredentialFact] | None = None,
        visiting: frozenset[str] = frozenset(),
    ) -> _TypeCheck:
        """Check one credential type, including what it depends on (recursively)."""
        cacheable = candidates is None and not visiting
        if cacheable and code in self._type_cache:
            return self._type_cache[code]
        if candidates is None:
            candidates = self._candidates(code)
        ctype = self.facts.credential_types.get(code)
        dependency: _TypeCheck | None = None
        # A cycle in the catalogue is a data error; stop following it rather than loop forever.
        if ctype is not None and ctype.depends_on and ctype.depends_on not in visiting | {code}:
            dependency = self._check_type(ctype.depends_on, visiting=visiting | {code})
        valid = sorted(
            (c for c in candidates if self._is_valid(c)),
            key=lambda c: (-_end_ordinal(c.expires_on), _start_ordinal(c.issued_on), c.id),
        )
        failures: list[tuple[str, str, tuple[str, ...]]] = []
        if not candidates:
            failures.append((MISSING_CREDENTIAL, f"No {self._type_label(code)} on file.", ()))
        elif not valid:
            closest = min(candidates, key=self._closeness_key)
            failures.extend(
                (fcode, message, (closest.id, *others))
                for fcode, message, others in self._credential_failures(closest)
            )
            named = {i for _, _, ids in failures for i in ids}
            taken_back = [
                c for c in candidates if c.status in ("suspended", "revoked") and c.id not in named
            ]
            if closest.status == "active" and taken_back:
                # an auditor must see the suspended or revoked one too, not only the lapsed one
                other = max(taken_back, key=lambda c: (c.revoked_on or date.min, c.id))
                failures.extend(
                    (fcode, message, (other.id, *others))
                    for fcode, message, others in self._credential_failures(other)
                )
        if dependency is not None and not dependency.valid:
            needed_by = f" {code} is only valid while {dependency.code} is."
            failures.extend(
                (fcode, message + needed_by, ids) for fcode, message, ids in dependency.failures
            )
        if failures:
            result = _TypeCheck(
                code, False, failures=tuple(failures), has_candidate=bool(candidates)
            )
        else:
            chain = (valid[0], *(dependency.chain if dependency else ()))
            result = _TypeCheck(code, True, chain=chain, has_candidate=True)
        if cacheable:
            self._type_cache[code] = result
        return result

    def _support_chain(self, requirement: str, chain: Iterable[CredentialFact]) -> None:
        for cred in chain:
            self._support(
                requirement,
                "credential",
                cred.id,
                {
                    "type": cred.type_code,
                    "issued_on": _iso(cred.issued_on),
                    "expires_on": _iso(cred.expires_on),
                    "jurisdiction": cred.jurisdiction,
                },
                end=cred.expires_on,
                label=self._credential_label(cred),
            )

    def _fail_type(self, requirement: str, check: _TypeCheck) -> None:
        for code, message, ids in check.failures:
            self._fail(requirement, code, message, ids)

    def _check_accepted_set(self, requirement: str, accepted: tuple[str, ...], what: str) -> None:
        """Satisfied when any accepted type is fully valid; else reasons for those held."""
        accepted = _unique(accepted)
        checks = [self._check_type(code) for code in accepted]
        valid = [(i, c) for i, c in enumerate(checks) if c.valid]
        if valid:
            # Prefer the option that stays valid longest (fewest warnings), then policy order.
            _, best = min(
                valid, key=lambda ic: (-min(_end_ordinal(c.expires_on) for c in ic[1].chain), ic[0])
            )
            self._support_chain(requirement, best.chain)
            return
        held = [c for c in checks if c.has_candidate]
        if not held:
            self._fail(
                requirement,
                MISSING_CREDENTIAL,
                f"No {what} on file (accepted: {', '.join(accepted) or 'none configured'}).",
            )
            return
        for check in held:
            self._fail_type(requirement, check)

    # -- requirements -------------------------------------------------------------------------

    def _check_person(self, requirement: str) -> None:
        failed = False
        if not self.person.active:
            failed = True
            self._fail(
                requirement,
                PERSON_INACTIVE,
                f"{self.person.name} is not active in the registry.",
                (self.person.id,),
            )
        expected = PERSON_KIND_FOR_ROLE[self.role]
        if self.person.kind != expected:
            failed = True
            self._fail(
                requirement,
                ROLE_MISMATCH,
                f"{self.person.name} is a {self.person.kind}; the "
                f"{self.role.replace('_', ' ')} role needs a {expected}.",
                (self.person.id,),
            )
        if not failed:
            self._support(requirement, "person", self.person.id, {"name": self.person.name})

    def _check_certification(self, requirement: str) -> None:
        self._check_accepted_set(
            requirement, self.policy.technologist_certifications, "technologist certification"
        )

    def _check_board_certification(self, requirement: str) -> None:
        self._check_accepted_set(
            requirement, self.policy.physician_board_certifications, "board certification"
        )

    def _patient_state(self) -> str:
        return (self.case.patient_state or self.facility.state).upper()

    def _check_license(self, requirement: str) -> None:
        code = self.policy.license_type
        state = self._patient_state()
        held = self._candidates(code)
        here = [c for c in held if (c.jurisdiction or "").upper() == state]
        if here:
            check = self._check_type(code, candidates=here)
            if check.valid:
                self._support_chain(requirement, check.chain)
            else:
                self._fail_type(requirement, check)
            return
        if held:
            states = sorted({(c.jurisdiction or "no state").upper() for c in held})
            ids = [c.id for c in sorted(held, key=lambda c: ((c.jurisdiction or ""), c.id))]
            self._fail(
                requirement,
                LICENSE_JURISDICTION,
                f"The patient is in {state}, but {self.person.name} holds a "
                f"{self._type_label(code).lower()} only in {', '.join(states)}.",
                ids,
            )
            return
        self._fail(
            requirement,
            MISSING_CREDENTIAL,
            f"No {self._type_label(code).lower()} on file (the patient is in {state}).",
        )

    def _check_facility_credentials(self, requirement: str) -> None:
        for code in _unique(self.facility.required_credentials):
            check = self._check_type(code)
            if check.valid:
                self._support_chain(requirement, check.chain)
                continue
            if not check.has_candidate:
                self._fail(
                    requirement,
                    MISSING_CREDENTIAL,
                    f"{self.facility.name} requires {self._type_label(code)}; none on file.",
                    (),
                )
                # The dependency reasons of a missing type would only repeat the point.
                continue
            self._fail_type(requirement, check)

    def _check_appointment(self, requirement: str) -> None:
        name = self.facility.name
        here = [a for a in self.person.appointments if a.facility_id == self.facility.id]
        covering = sorted(
            (
                a
                for a in here
                if a.status == "active"
                and a.starts_on <= self.first
                and (a.expires_on is None or a.expires_on >= self.last)
            ),
            key=lambda a: (-_end_ordinal(a.expires_on), a.starts_on, a.id),
        )
        gap = self._license_gap() if self.role == "interpreting_physician" else None
        lapse = gap if gap is not None and gap.uncovered <= self.last else None
        if not here:
            self._fail(requirement, NO_APPOINTMENT, f"No appointment at {name} on file.")
        elif not covering:
            active = [a for a in here if a.status == "active"]
            if active:
                closest = min(
                    active, key=lambda a: (-_end_ordinal(a.expires_on), a.starts_on, a.id)
                )
                if closest.expires_on is not None and closest.expires_on < self.last:
                    message = (
                        f"Appointment at {name} expires {closest.expires_on}, before the case "
                        f"ends on {self.last} ({self.tz})."
                    )
                else:
                    message = (
                        f"Appointment at {name} starts on {closest.starts_on}, after the case "
                        f"starts on {self.first} ({self.tz})."
                    )
                self._fail(requirement, APPOINTMENT_EXPIRED, message, (closest.id,))
            else:
                closest = min(here, key=lambda a: (-_end_ordinal(a.expires_on), a.status, a.id))
                self._fail(
                    requirement,
                    NO_APPOINTMENT,
                    f"Appointment at {name} is {closest.status}.",
                    (closest.id,),
                )
        license_label = self._type_label(self.policy.license_type).lower()
        state = self.facility.state.upper()
        if lapse is not None:
            self._fail(
                requirement,
                APPOINTMENT_EXPIRED,
                f"Privileges at {name} are suspended since "
                f"{lapse.lapsed_on + timedelta(days=1)}: the {license_label} in {state} lapsed "
                f"on {lapse.lapsed_on}"
                # a later license on file that does not cover the case (not yet issued, say)
                + (f"; none on file is in force on {lapse.uncovered}." if lapse.later else "."),
                lapse.ids,
            )
        if covering and lapse is None:
            appointment = covering[0]
            self._support(
                requirement,
                "appointment",
                appointment.id,
                {
                    "facility_id": appointment.facility_id,
                    "status": appointment.status,
                    "starts_on": _iso(appointment.starts_on),
                    "expires_on": _iso(appointment.expires_on),
                },
                end=appointment.expires_on,
                label=f"Appointment at {name}",
            )
            # privileges lapse with the facility state's license; for a patient in that state
            # the license requirement already warns about it
            if gap is not None and self._patient_state() != state:
                self._warn_if_soon(
                    requirement,
                    gap.lapsed_on,
                    f"The {license_label} in {state}, on which privileges at {name} depend,",
                    gap.ending,
                )

    def _license_gap(self) -> _LicenseGap | None:
        """Privileges at a facility hang on a license in the facility's state: an expired
        license suspends them from the day after, until a license there is in force again (in
        force: active, verified unless the policy accepts unverified ones, issued and not yet
        expired). The first day from the case's first local date on which none is in force
        after one expired, or None: covered for good, or never licensed there (nothing lapsed;
        the license requirement speaks for the patient's state)."""
        state = self.facility.state.upper()
        licenses = [
            c
            for c in self._candidates(self.policy.license_type)
            if (c.jurisdiction or "").upper() == state
        ]
        if not licenses:
            return None
        in_force = sorted(
            (c.issued_on or date.min, c.expires_on or date.max)
            for c in licenses
            if c.status == "active" and self._is_verified(c)
        )
        day = self.first
        for starts, ends in in_force:
            if starts > day:
                break
            if ends >= day:
                if ends == date.max:
                    return None
                day = ends + timedelta(days=1)
        # the lapse is the end of the last license in force before that day (one never in
        # force lifted nothing); with none ever in force, the last expiry on file
        ended = [ends for _, ends in in_force if ends < day]
        expired = [
            c.expires_on for c in licenses if c.expires_on is not None and c.expires_on < day
        ]
        if not ended and not expired:
            return None
        lapsed_on = max(ended or expired)
        return _LicenseGap(
            day,
            lapsed_on,
            tuple(sorted(c.id for c in licenses)),
            ending=tuple(
                sorted(
                    c.id
                    for c in licenses
                    if c.expires_on == lapsed_on and c.status == "active" and self._is_verified(c)
                )
            ),
            later=any(c.expires_on is None or c.expires_on >= day for c in licenses),
        )

    def _check_scope(self, requirement: str) -> None:
        activity = _ACTIVITY[self.role]
        wanted = _unique(self.case.modalities)

        def applies(s: ScopeFact) -> bool:
            return (
                s.activity == activity
                and (s.facility_id is None or s.facility_id == self.facility.id)
                and s.effective_from <= self.first
                and (s.effective_to is None or s.effective_to >= self.last)
            )

        matching = sorted(
            (s for s in self.person.scopes if applies(s)),
            key=lambda s: (s.effective_from, _end_ordinal(s.effective_to), s.id),
        )
        covered = frozenset().union(*(s.modalities for s in matching))
        missing = [m for m in wanted if m not in covered]
        if not matching or missing:
            near = sorted(
                s.id
                for s in self.person.scopes
                if s.activity == activity
                and not applies(s)
                and (not missing or s.modalities & set(missing))
            )
            what = ", ".join(missing) if missing else "any modality"
            message = (
                f"No scope of practice to {activity} {what} at {self.facility.name} "
                f"{self._window()}."
            )
            if near:
                message += (
                    " A scope on file covers it but applies to another facility or "
                    "is not in effect for the whole case."
                )
            ids = sorted({*(s.id for s in matching), *near})
            self._fail(requirement, SCOPE_NOT_COVERED, message, ids)
            return
        # a requested modality's coverage lasts as long as the longest scope covering it: a
        # scope ending soon is warned about for the modalities whose coverage it ends
        lasts: dict[str, int] = {}
        for s in matching:
            for m in s.modalities:
                lasts[m] = max(lasts.get(m, 0), _end_ordinal(s.effective_to))
        for s in matching:
            used = [m for m in wanted if m in s.modalities]
            if wanted and not used:
                continue
            end = _end_ordinal(s.effective_to)
            ending = [m for m in used if lasts[m] == end]
            self._support(
                requirement,
                "scope",
                s.id,
                {
                    "activity": s.activity,
                    "modalities": ",".join(sorted(s.modalities)),
                    "facility_id": s.facility_id,
                    "effective_from": _iso(s.effective_from),
                    "effective_to": _iso(s.effective_to),
                },
                end=s.effective_to if ending else None,
                label=f"Scope of practice to {activity} {', '.join(ending)}"
                + (f" at {self.facility.name}" if s.facility_id else ""),
            )

    def _agreements_for_case(self, mode: str | None) -> _AgreementsForCase:
        """The facility's agreements ranked for this case (see ``_AgreementsForCase``).

        Nothing here depends on the person, so a search computes it once (``shared``).
        """
        cached = self.shared.get("agreements")
        if (
            cached is not None
            and cached.agreements is self.facts.agreements
            and cached.key == (mode, self.first, self.last)
        ):
            return cached

        def problems(a: AgreementFact) -> list[str]:
            out = []
            if not a.active:
                out.append("is not active")
            if a.effective_from > self.first:
                out.append(f"starts on {a.effective_from}, after the case starts on {self.first}")
            if a.effective_to is not None and a.effective_to < self.last:
                out.append(f"ends on {a.effective_to}, before the case ends on {self.last}")
            if mode is not None and mode not in a.modes:
                out.append(f"does not allow {mode.replace('_', ' ')} interpretation")
            return out

        here = [a for a in self.facts.agreements if a.facility_id == self.facility.id]
        issues = {a.id: problems(a) for a in here}
        ranked = sorted(
            here,
            key=lambda a: (
                len(issues[a.id]),
                -_end_ordinal(a.effective_to),
                a.effective_from,
                a.id,
            ),
        )
        # the facts tuple is kept in the memo, so an identity check cannot be fooled by id reuse
        result = _AgreementsForCase(
            self.facts.agreements, (mode, self.first, self.last), ranked, issues
        )
        self.shared["agreements"] = result
        return result

    def _check_supervision(self, requirement: str) -> None:
        mode = (
            None if self.role == "technologist" else ("remote" if self.case.remote else "in_person")
        )
        here = self._agreements_for_case(mode)
        if self.role == "technologist":
            physician = self.case.supervising_physician_id
            candidates, satisfying = here.covering_technologist(self.person.id, physician)
            nobody = f"No supervision agreement at {self.facility.name} covers {self.person.name}"
            if physician is not None:
                nobody += f" with physician {physician}"
        else:
            candidates, satisfying = here.naming_physician(self.person.id)
            nobody = f"No supervision agreement at {self.facility.name} names {self.person.name}"
        if not satisfying:
            if not candidates:
                self._fail(requirement, NO_SUPERVISION_AGREEMENT, f"{nobody}.")
                return
            closest = candidates[0]
            dated = closest.effective_from > self.first or (
                closest.effective_to is not None and closest.effective_to < self.last
            )
            self._fail(
                requirement,
                NO_SUPERVISION_AGREEMENT,
                f"Supervision agreement at {self.facility.name} with physician "
                f"{closest.physician_id} {' and '.join(here.issues[closest.id])}"
                + (f" ({self.tz})." if dated else "."),
                (closest.id,),
            )
            return
        best = self._supervising_agreement(satisfying)
        self.supervising = best
        self._support(
            requirement,
            "agreement",
            best.id,
            {
                "facility_id": best.facility_id,
                "physician_id": best.physician_id,
                "modes": ",".join(sorted(best.modes)),
                "max_concurrent_cases": best.max_concurrent_cases,
                "effective_from": _iso(best.effective_from),
                "effective_to": _iso(best.effective_to),
            },
            end=best.effective_to,
            label=f"Supervision agreement at {self.facility.name} with physician "
            f"{best.physician_id}",
        )

    def _supervising_agreement(self, satisfying: list[AgreementFact]) -> AgreementFact:
        """The agreement the case would be done under, and the evidence: the best ranked; but
        where the cap decides (see ``_capped``) and the physician is already on overlapping
        cases, the best ranked whose cap allows one more (else the most generous, whose cap
        the concurrency reason then cites)."""
        overlapping = self._overlapping() if self.role == "interpreting_physician" else []
        if not overlapping or not self._capped(overlapping):
            return satisfying[0]
        for agreement in satisfying:
            if agreement.max_concurrent_cases > len(overlapping):
                return agreement
        return max(satisfying, key=lambda a: a.max_concurrent_cases)  # the first of the largest

    def _capped(self, overlapping: list[BookingFact]) -> bool:
        """Whether overlapping cases are allowed up to an agreement's cap: a remote commercial
        case beside only remote commercial ones (otherwise no overlap is allowed at all)."""
        return (
            self.case.remote
            and self.case.payer != "medicare"
            and all(
                b.remote and b.payer != "medicare" and not self._is_this_case(b)
                for b in overlapping
            )
        )

    def _cap(self) -> int:
        """Concurrent cases allowed: the cap of the agreement the case is supervised under."""
        if self.supervising is None:
            return DEFAULT_MAX_CONCURRENT_CASES
        return self.supervising.max_concurrent_cases

    def _is_this_case(self, booking: BookingFact) -> bool:
        """Whether an overlapping booking is this very case: the same case_ref at the same
        facility (a case without a case_ref cannot be recognised)."""
        return (
            bool(self.case.case_ref)
            and booking.case_ref == self.case.case_ref
            and booking.facility_id == self.case.facility_id
        )

    def _overlapping(self) -> list[BookingFact]:
        """The person's bookings overlapping the case, in time order (worked out once)."""
        if self._overlap is None:
            self._overlap = sorted(
                (b for b in self.person.bookings if _overlaps(b, self.case)), key=_booking_key
            )
        return self._overlap

    def _check_schedule(self, requirement: str) -> None:
        overlapping = self._overlapping()
        if not overlapping:
            return
        same_case = [b for b in overlapping if self._is_this_case(b)]
        if same_case:
            # a re-sent booking (a retry after a timeout, say): say so, not just "a conflict"
            others = len(overlapping) - len(same_case)
            message = f"{self.person.name} is already booked on case {self.case.case_ref}" + (
                f", and on {_plural(others, 'other case')} overlapping it." if others else "."
            )
        else:
            message = (
                f"{self.person.name} is already booked on "
                f"{_plural(len(overlapping), 'case')} overlapping this one."
            )
        self._fail(requirement, SCHEDULE_CONFLICT, message, [b.id for b in overlapping])

    def _check_concurrency(self, requirement: str) -> None:
        overlapping = self._overlapping()
        if not overlapping:
            return
        ids = [b.id for b in overlapping]
        booked = _plural(len(overlapping), "overlapping case")
        same_case = [b.id for b in overlapping if self._is_this_case(b)]
        if same_case:
            # a re-sent booking must not take a second slot on the same case
            message = f"{self.person.name} is already booked on case {self.case.case_ref}."
            ids = same_case
        elif self.case.payer == "medicare":
            message = f"Medicare cases allow no overlap; {self.person.name} has {booked}."
        elif not self.case.remote:
            message = (
                f"An in-person physician monitors one case at a time; "
                f"{self.person.name} has {booked}."
            )
        elif any(not b.remote or b.payer == "medicare" for b in overlapping):
            message = (
                f"{self.person.name} has an overlapping in-person or Medicare case, "
                f"which allows no other case at the same time."
            )
        elif len(overlapping) >= (cap := self._cap()):
            message = (
                f"{self.person.name} has {booked}; the supervision agreement allows at most "
                f"{cap} at once."
            )
        else:
            return
        self._fail(requirement, CONCURRENCY_LIMIT, message, ids)


# each role's requirements in order, with the method that checks each
_CHECKS = {
    role: tuple((name, getattr(_Evaluation, f"_check_{name}")) for name in requirements)
    for role, requirements in REQUIREMENTS.items()
}
