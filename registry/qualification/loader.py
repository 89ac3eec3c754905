"""Fetch the facts the rules engine needs, for one person or every candidate, in one statement
however many people: a ``UNION ALL`` of the modality codes, the credential types, the facility,
its agreements, the supervising physician, the people, and all their credentials (and when any
was revoked), appointments, scopes and overlapping bookings, each row tagged by what it is.

One statement, not one per kind of fact: a check runs it on every request, and each statement
costs the driver and the server a fixed amount however few rows it brings (see
docs/performance.md). It is a ``PreparedQuery`` (see ``registry.database``) typed by the model
columns named beside it.

The modalities, credential types and the facility's agreements (the *context*) are the same for
every check at a facility, so each process keeps them (``_KEPT``) with the rules context stamp
they were read with. The statement brings them only when the stamp in the database differs from
the one kept: it reads the stamp in the same snapshot as everything else, and the database
replaces the stamp on every change to those tables (triggers of migration 0002), so what is
kept is never older than what the statement would have read."""

import json
import weakref
from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Boolean, Integer, String, Text, TypeDecorator, bindparam, column

from registry.assignments.models import Assignment
from registry.credentials.models import Credential
from registry.database import PreparedQuery, UTCDateTime
from registry.qualification import engine

_C = Credential.__table__.c
_B = Assignment.__table__.c


@lru_cache(maxsize=4096)
def _codes(stored: str) -> tuple[str, ...]:
    return tuple(json.loads(stored) or ())  # a JSON null reads as no codes


class _CodeList(TypeDecorator):
    """A JSON list of codes read as text (``CAST(... AS TEXT)``) and parsed here into a tuple.

    The same few lists (modes, modalities, required credentials) come back on every check, so
    parsing each distinct text once is much cheaper than the driver's JSON decoding each time.
    """

    impl = Text
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else _codes(value)


# Every row: its tag, then these slots; each kind of fact puts its values in some of them and
# NULL in the rest. The types are what the rows come back as (dates as dates on SQLite too).
_SLOTS = {
    "id": String(),
    "person_id": String(),
    "text1": String(),
    "text2": String(),
    "text3": String(),
    "text4": String(),
    "date1": _C.verified_on.type,
    "date2": _C.issued_on.type,
    "date3": _C.expires_on.type,
    "starts_at": _B.starts_at.type,
    "ends_at": _B.ends_at.type,
    "flag": _B.remote.type,
    "list": _CodeList(),
    "number": Integer(),
}
# PostgreSQL types a UNION from its first branch: that one names the type of each NULL
_TYPED_NULL = {
    "date1": "CAST(NULL AS DATE)",
    "date2": "CAST(NULL AS DATE)",
    "date3": "CAST(NULL AS DATE)",
    "starts_at": "CAST(NULL AS TIMESTAMP WITH TIME ZONE)",
    "ends_at": "CAST(NULL AS TIMESTAMP WITH TIME ZONE)",
    "flag": "CAST(NULL AS BOOLEAN)",
    "number": "CAST(NULL AS INTEGER)",
}
_COLUMNS = (column("fact", String()), *(column(name, kind) for name, kind in _SLOTS.items()))
# where each slot is in a row (the tag is first)
_FACT = 0
(
    _ID,
    _PERSON_ID,
    _TEXT1,
    _TEXT2,
    _TEXT3,
    _TEXT4,
    _DATE1,
    _DATE2,
    _DATE3,
    _STARTS_AT,
    _ENDS_AT,
    _FLAG,
    _LIST,
    _NUMBER,
) = range(1, len(_SLOTS) + 1)
_IGNORED = ", ".join(f"'{status}'" for status in sorted(engine.IGNORED_CREDENTIAL_STATUSES))


def _select(fact: str, source: str, *, first: bool = False, **slots: str) -> str:
    """``SELECT '<fact>', <slots in order, NULL where not given> FROM <source>``."""
    unknown = set(slots) - set(_SLOTS)
    if unknown:
        raise ValueError(f"unknown slots {sorted(unknown)}")
    values = [
        slots.get(name) or (_TYPED_NULL.get(name, "CAST(NULL AS TEXT)") if first else "NULL")
        for name in _SLOTS
    ]
    return f"SELECT '{fact}', {', '.join(values)} FROM {source}"


# the context's rows come only when the process keeps none read with the current stamp
_UNLESS_KEPT = "NOT EXISTS (SELECT 1 FROM rules_context_stamp WHERE stamp = :kept_stamp)"


def _statement(people_where: str, *, of_people: str = ""):
    """The one statement: the stamp, the context (unless kept), the facility, the supervising
    physician, the people chosen by ``people_where`` (on people) and their facts (rows picked
    by ``of_people``, default: ``person_id`` among those people)."""
    of_people = of_people or f"person_id IN (SELECT id FROM people WHERE {people_where})"
    branches = [
        _select("modality", "modalities", first=True, id="code") + f" WHERE {_UNLESS_KEPT}",
        _select(
            "type",
            "credential_types",
            id="code",
            text1="name",
            text2="category",
            text3="depends_on",
        )
        + f" WHERE {_UNLESS_KEPT}",
        _select("stamp", "rules_context_stamp", id="stamp"),
        _select(
            "facility",
            "facilities",
            id="id",
            text1="name",
            text2="state",
            text3="timezone",
            flag="active",
            list="CAST(required_credentials AS TEXT)",
        )
        + " WHERE id = :facility",
        _select(
            "agreement",
            "supervision_agreements a LEFT JOIN agreement_technologists t ON t.agreement_id = a.id",
            id="a.id",
            person_id="t.technologist_id",
            text1="a.physician_id",
            date2="a.effective_from",
            date3="a.effective_to",
            list="CAST(a.modes AS TEXT)",
            number="a.max_concurrent_cases",
        )
        + f" WHERE a.facility_id = :facility AND a.active = :active AND {_UNLESS_KEPT}",
        _select("supervisor", "people", id="id", text1="kind") + " WHERE id = :supervisor",
        _select(
            "person",
            "people",
            id="id",
            text1="kind",
            text2="given_name",
            text3="family_name",
            flag="active",
            # the search answers in name order; one statement cannot ORDER BY only its people
            number="CAST(ROW_NUMBER() OVER (ORDER BY family_name, given_name, id) AS INTEGER)",
        )
        + f" WHERE {people_where}",
        _select(
            "credential",
            "credentials",
            id="id",
            person_id="person_id",
            text1="type",
            text2="status",
            text3="verification_method",
            text4="jurisdiction",
            date1="verified_on",
            date2="issued_on",
            date3="expires_on",
        )
        + f" WHERE {of_people} AND status NOT IN ({_IGNORED})",
        _select(
            "revocation",
            "credentials",
            id="id",
            person_id="person_id",
            text1="type",
            text4="jurisdiction",
            date1="revoked_on",
            date2="verified_on",
        )
        + f" WHERE {of_people} AND status = 'revoked' AND revoked_on IS NOT NULL",
        _select(
            "appointment",
            "appointments",
            id="id",
            person_id="person_id",
            text1="status",
            date2="starts_on",
            date3="expires_on",
        )
        + f" WHERE {of_people} AND facility_id = :facility",
        _select(
            "scope",
            "scopes",
            id="id",
            person_id="person_id",
            text1="activity",
            text2="facility_id",
            date2="effective_from",
            date3="effective_to",
            list="CAST(modalities AS TEXT)",
        )
        + f" WHERE {of_people} AND (facility_id IS NULL OR facility_id = :facility)",
        _select(
            "booking",
            "assignments",
            id="id",
            person_id="person_id",
            text1="role",
            text2="facility_id",
            text3="payer",
            text4="case_ref",
            starts_at="starts_at",
            ends_at="ends_at",
            flag="remote",
        )
        + f" WHERE {of_people} AND status = 'booked' AND starts_at < :ends AND ends_at > :starts",
    ]
    return PreparedQuery(
        " UNION ALL ".join(branches),
        columns=_COLUMNS,
        binds=(
            bindparam("active", type_=Boolean),
            bindparam("starts", type_=UTCDateTime),
            bindparam("ends", type_=UTCDateTime),
        ),
    )


class Candidates(NamedTuple):
    """Whom a load is about: the statement for each role (see ``load``)."""

    by_role: dict[str, PreparedQuery]


# one person (whatever their kind or status: the rules explain a mismatch), by an equality on
# person_id, so every fact table's person index leads the plan
_one_person = _statement("id = :person", of_people="person_id = :person")
ONE_PERSON = Candidates(dict.fromkeys(engine.ROLES, _one_person))
# every active person of a kind
_everyone = _statement("kind = :kind AND active = :active")
EVERYONE_OF_KIND = Candidates(dict.fromkeys(engine.ROLES, _everyone))
# every active person of a kind with an active appointment at the facility (all who can qualify)
_appointed = _statement(
    "kind = :kind AND active = :active AND id IN (SELECT person_id FROM appointments"
    " WHERE facility_id = :facility AND status = 'active')"
)
APPOINTED_OF_KIND = Candidates(dict.fromkeys(engine.ROLES, _appointed))


class _Context(NamedTuple):
    """What every check at one facility reads alike, and the stamp it was read with."""

    stamp: str
    modality_codes: frozenset[str]
    credential_types: dict[str, engine.CredentialTypeFact]
    agreements: tuple[engine.AgreementFact, ...]


# per database (its engine), per facility id; a bound on facilities kept, past which all go
_KEPT: "weakref.WeakKeyDictionary[object, dict[str, _Context]]" = weakref.WeakKeyDictionary()
_MOST_FACILITIES_KEPT = 4096


class Loaded(NamedTuple):
    """What one statement fetched: the case's context and the candidates' facts."""

    facility: engine.FacilityFact | None
    modality_codes: frozenset[str]
    supervisor_kind: str | None
    credential_types: dict[str, engine.CredentialTypeFact]
    agreements: tuple[engine.AgreementFact, ...]
    people: dict[str, engine.PersonFacts]


def load(
    connection,
    *,
    facility_id: str | None,
    supervisor_id: str | None,
    candidates: Candidates | None,
    params: dict,
    starts,
    ends,
    role: str,
    policy,
) -> Loaded:
    """Fetch everything a check or search needs in one statement.

    ``facility_id`` and ``supervisor_id`` must be possible ids (or None: nothing fetched);
    ``candidates`` (or None: nobody) chooses the people with ``params``.
    """
    if facility_id is None or candidates is None:
        # nobody to evaluate: the statement about one person, asked about no one
        candidates, params = ONE_PERSON, {"person": None}
    kept_here = _KEPT.get(connection.engine)
    if kept_here is None:
        kept_here = _KEPT.setdefault(connection.engine, {})
    kept = kept_here.get(facility_id) if facility_id is not None else None
    rows = candidates.by_role[role].rows(
        connection,
        **{
            **params,
            "facility": facility_id,
            "active": True,
            "supervisor": supervisor_id,
            "starts": starts,
            "ends": ends,
            "kept_stamp": kept.stamp if kept is not None else None,
        },
    )
    by_fact = defaultdict(list)
    for row in rows:
        by_fact[row[_FACT]].append(row)
    stamp = by_fact["stamp"][0][_ID] if by_fact["stamp"] else None
    if kept is None or kept.stamp != stamp:  # the statement brought the context
        kept = _Context(
            stamp,
            frozenset(row[_ID] for row in by_fact["modality"]),
            _credential_type_facts(by_fact["type"]),
            _agreement_facts(by_fact["agreement"], facility_id),
        )
        if stamp is not None and facility_id is not None:
            if len(kept_here) >= _MOST_FACILITIES_KEPT:
                kept_here.clear()
            kept_here[facility_id] = kept
    modalities, types = kept.modality_codes, kept.credential_types
    facility = _facility_fact(by_fact["facility"])
    agreements = kept.agreements if facility else ()
    people = {}
    if facility is not None:
        people = _person_facts(
            by_fact,
            facility_id=facility_id,
            credential_codes=relevant_types(types, facility, role, policy),
        )
    supervisor = by_fact["supervisor"]
    supervisor_kind = supervisor[0][_TEXT1] if supervisor else None
    return Loaded(facility, modalities, supervisor_kind, types, agreements, people)


def _facility_fact(rows) -> engine.FacilityFact | None:
    if not rows or not rows[0][_FLAG]:
        return None  # no such facility, or not active
    (row,) = rows
    return engine.FacilityFact(
        id=row[_ID],
        name=row[_TEXT1],
        state=row[_TEXT2],
        timezone=row[_TEXT3],
        required_credentials=tuple(row[_LIST] or ()),
    )


def _credential_type_facts(rows) -> dict[str, engine.CredentialTypeFact]:
    return {
        row[_ID]: engine.CredentialTypeFact(
            code=row[_ID], name=row[_TEXT1], category=row[_TEXT2], depends_on=row[_TEXT3]
        )
        for row in rows
    }


def relevant_types(types, facility: engine.FacilityFact, role: str, policy) -> set[str]:
    """Every credential type the rules may look at for this role here, dependencies included."""
    codes = set(facility.required_credentials)
    if role == "technologist":
        codes |= set(policy.technologist_certifications)
    else:
        codes |= set(policy.physician_board_certifications) | {policy.license_type}
    pending = list(codes)
    while pending:
        dependency = types.get(pending.pop())
        if dependency and dependency.depends_on and dependency.depends_on not in codes:
            codes.add(dependency.depends_on)
            pending.append(dependency.depends_on)
    return codes


def _agreement_facts(rows, facility_id: str) -> tuple[engine.AgreementFact, ...]:
    """One fact per agreement; its rows (one per listed technologist) carry the same values."""
    firsts: dict[str, list] = {}
    listed = defaultdict(set)
    for row in rows:
        firsts.setdefault(row[_ID], row)
        if row[_PERSON_ID] is not None:
            listed[row[_ID]].add(row[_PERSON_ID])
    return tuple(
        engine.AgreementFact(
            id=ident,
            facility_id=facility_id,
            physician_id=row[_TEXT1],
            technologist_ids=frozenset(listed[ident]),
            modes=frozenset(row[_LIST] or ()),
            max_concurrent_cases=row[_NUMBER],
            effective_from=row[_DATE2],
            effective_to=row[_DATE3],
            active=True,
        )
        for ident, row in firsts.items()
    )


def _person_facts(by_fact, *, facility_id, credential_codes) -> dict[str, engine.PersonFacts]:
    """PersonFacts keyed by id, in name order."""
    credentials, appointments = defaultdict(list), defaultdict(list)
    scopes, bookings = defaultdict(list), defaultdict(list)
    revoked_on = {row[_ID]: row[_DATE1] for row in by_fact["revocation"]}
    for row in by_fact["credential"]:
        if row[_TEXT1] in credential_codes:
            credentials[row[_PERSON_ID]].append(
                engine.CredentialFact(
                    id=row[_ID],
                    type_code=row[_TEXT1],
                    status=row[_TEXT2],
                    # verified: how and when are both on file
                    verified=row[_TEXT3] is not None and row[_DATE1] is not None,
                    issued_on=row[_DATE2],
                    expires_on=row[_DATE3],
                    jurisdiction=row[_TEXT4],
                    verified_on=row[_DATE1],
                    revoked_on=revoked_on.get(row[_ID]),
                )
            )
    revocations = defaultdict(list)
    for row in by_fact["revocation"]:
        if row[_TEXT1] in credential_codes:
            revocations[row[_PERSON_ID]].append(
                engine.RevocationFact(
                    id=row[_ID],
                    type_code=row[_TEXT1],
                    jurisdiction=row[_TEXT4],
                    revoked_on=row[_DATE1],
                    verified_on=row[_DATE2],
                )
            )
    for row in by_fact["appointment"]:
        appointments[row[_PERSON_ID]].append(
            engine.AppointmentFact(
                id=row[_ID],
                facility_id=facility_id,
                status=row[_TEXT1],
                starts_on=row[_DATE2],
                expires_on=row[_DATE3],
            )
        )
    for row in by_fact["scope"]:
        scopes[row[_PERSON_ID]].append(
            engine.ScopeFact(
                id=row[_ID],
                activity=row[_TEXT1],
                modalities=frozenset(row[_LIST] or ()),
                facility_id=row[_TEXT2],
                effective_from=row[_DATE2],
                effective_to=row[_DATE3],
            )
        )
    for row in by_fact["booking"]:
        bookings[row[_PERSON_ID]].append(
            engine.BookingFact(
                id=row[_ID],
                role=row[_TEXT1],
                facility_id=row[_TEXT2],
                starts_at=row[_STARTS_AT],
                ends_at=row[_ENDS_AT],
                remote=row[_FLAG],
                payer=row[_TEXT3],
                case_ref=row[_TEXT4],
            )
        )
    people = sorted(by_fact["person"], key=lambda row: row[_NUMBER])  # numbered in name order
    return {
        row[_ID]: engine.PersonFacts(
            id=row[_ID],
            kind=row[_TEXT1],
            active=row[_FLAG],
            name=f"{row[_TEXT2]} {row[_TEXT3]}",
            credentials=tuple(credentials[row[_ID]]),
            appointments=tuple(appointments[row[_ID]]),
            scopes=tuple(scopes[row[_ID]]),
            bookings=tuple(bookings[row[_ID]]),
            revocations=tuple(revocations.get(row[_ID], ())),
        )
        for row in people
    }
