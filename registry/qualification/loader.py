"""Fetch the facts the rules engine needs, for one person or every candidate, in six
statements however many people: modalities, credential types, the facility, its agreements, the
people, and all their credentials, appointments, scopes and overlapping bookings (one statement).
These run on every check, so they are ``PreparedQuery`` statements (see ``registry.database``),
typed by the model columns named beside them, sent together by ``load`` (one round trip on
PostgreSQL)."""

import json
from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Boolean, String, Text, TypeDecorator, bindparam, column

from registry.agreements.models import SupervisionAgreement, agreement_technologists
from registry.assignments.models import Assignment
from registry.credentials.models import Credential, CredentialType
from registry.database import PreparedQuery, UTCDateTime, run_together
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.qualification import engine
from registry.scopes.models import Scope

_F = Facility.__table__.c
_T = CredentialType.__table__.c
_A = SupervisionAgreement.__table__.c
_AT = agreement_technologists.c
_P = Person.__table__.c
_C = Credential.__table__.c
_AP = Appointment.__table__.c
_S = Scope.__table__.c
_B = Assignment.__table__.c

_ACTIVE = bindparam("active", type_=Boolean)


@lru_cache(maxsize=4096)
def _codes(stored: str) -> tuple[str, ...]:
    return tuple(json.loads(stored) or ())  # a JSON null reads as no codes, as before


class _CodeList(TypeDecorator):
    """A JSON list of codes read as text (``CAST(... AS TEXT)``) and parsed here into a tuple.

    The same few lists (modes, modalities, required credentials) come back on every check, so
    parsing each distinct text once is much cheaper than the driver's JSON decoding each time.
    """

    impl = Text
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else _codes(value)


FACILITY = PreparedQuery(
    "SELECT id, name, state, timezone, CAST(required_credentials AS TEXT), active"
    " FROM facilities WHERE id = :facility",
    columns=(_F.id, _F.name, _F.state, _F.timezone, column("codes", _CodeList()), _F.active),
)
CREDENTIAL_TYPES = PreparedQuery(
    "SELECT code, name, category, depends_on FROM credential_types",
    columns=(_T.code, _T.name, _T.category, _T.depends_on),
)
MODALITY_CODES = PreparedQuery("SELECT code FROM modalities")
AGREEMENTS = PreparedQuery(
    "SELECT a.id, a.physician_id, CAST(a.modes AS TEXT), a.max_concurrent_cases, a.effective_from,"
    " a.effective_to, t.technologist_id"
    " FROM supervision_agreements a"
    " LEFT JOIN agreement_technologists t ON t.agreement_id = a.id"
    " WHERE a.facility_id = :facility AND a.active = :active",
    columns=(
        _A.id,
        _A.physician_id,
        column("modes", _CodeList()),
        _A.max_concurrent_cases,
        _A.effective_from,
        _A.effective_to,
        _AT.technologist_id,
    ),
    binds=(_ACTIVE,),
)
PERSON_KIND = PreparedQuery("SELECT kind FROM people WHERE id = :person", columns=(_P.kind,))

# One row per credential, appointment (here), scope (here or anywhere) and overlapping booking,
# tagged by its first column; each kind of value has its own columns, NULL where a fact has none.
_FACT_COLUMNS = (
    column("fact", String()),
    column("id", String()),
    column("person_id", String()),
    column("text1", String()),
    column("text2", String()),
    column("text3", String()),
    column("text4", String()),
    column("date1", _C.verified_on.type),
    column("date2", _C.issued_on.type),
    column("date3", _C.expires_on.type),
    column("starts_at", _B.starts_at.type),
    column("ends_at", _B.ends_at.type),
    column("flag", _B.remote.type),
    column("list", _CodeList()),
)


class _PeopleQueries(NamedTuple):
    people: PreparedQuery
    facts: PreparedQuery


def _people_queries(people_where: str, binds=(), *, of_people: str = "") -> _PeopleQueries:
    """The people chosen by ``people_where`` (on people), and their facts in one statement;
    ``of_people`` picks the facts' rows (default: ``person_id`` among those people)."""
    of_people = of_people or f"person_id IN (SELECT id FROM people WHERE {people_where})"
    ignored = ", ".join(f"'{status}'" for status in sorted(engine.IGNORED_CREDENTIAL_STATUSES))
    return _PeopleQueries(
        people=PreparedQuery(
            "SELECT id, kind, active, given_name, family_name FROM people"
            f" WHERE {people_where} ORDER BY family_name, given_name, id",
            columns=(_P.id, _P.kind, _P.active, _P.given_name, _P.family_name),
            binds=binds,
        ),
        facts=PreparedQuery(
            # the first branch names its NULLs' types: PostgreSQL types a UNION left to right
            "SELECT 'credential', id, person_id, type, status, verification_method, jurisdiction,"
            " verified_on, issued_on, expires_on, CAST(NULL AS TIMESTAMP WITH TIME ZONE),"
            " CAST(NULL AS TIMESTAMP WITH TIME ZONE), CAST(NULL AS BOOLEAN), CAST(NULL AS TEXT)"
            f" FROM credentials WHERE {of_people} AND status NOT IN ({ignored})"
            " UNION ALL SELECT 'appointment', id, person_id, status, NULL, NULL, NULL, NULL,"
            " starts_on, expires_on, NULL, NULL, NULL, NULL"
            f" FROM appointments WHERE {of_people} AND facility_id = :facility"
            " UNION ALL SELECT 'scope', id, person_id, activity, facility_id, NULL, NULL, NULL,"
            " effective_from, effective_to, NULL, NULL, NULL, CAST(modalities AS TEXT)"
            f" FROM scopes WHERE {of_people}"
            " AND (facility_id IS NULL OR facility_id = :facility)"
            " UNION ALL SELECT 'booking', id, person_id, role, facility_id, payer, NULL, NULL,"
            " NULL, NULL, starts_at, ends_at, remote, NULL"
            f" FROM assignments WHERE {of_people} AND status = 'booked'"
            " AND starts_at < :ends AND ends_at > :starts",
            columns=_FACT_COLUMNS,
            binds=(
                *binds,
                bindparam("starts", type_=UTCDateTime),
                bindparam("ends", type_=UTCDateTime),
            ),
        ),
    )


# one person (whatever their kind or status: the rules explain a mismatch)
# (an equality, so every fact table's person_id index leads the plan)
ONE_PERSON = _people_queries("id = :person", of_people="person_id = :person")
# every active person of a kind
EVERYONE_OF_KIND = _people_queries("kind = :kind AND active = :active", binds=(_ACTIVE,))
# every active person of a kind with an active appointment at the facility (all who can qualify)
APPOINTED_OF_KIND = _people_queries(
    "kind = :kind AND active = :active AND id IN (SELECT person_id FROM appointments"
    " WHERE facility_id = :facility AND status = 'active')",
    binds=(_ACTIVE,),
)


class Loaded(NamedTuple):
    """What one batch fetched: the case's context and the candidates' facts."""

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
    people: _PeopleQueries | None,
    params: dict,
    starts,
    ends,
    role: str,
    policy,
) -> Loaded:
    """Fetch everything a check or search needs in one batch (one round trip on PostgreSQL).

    ``facility_id`` and ``supervisor_id`` must be possible ids (or None: not fetched);
    ``people`` (or None) chooses the candidates with ``params``.
    """
    calls = [(MODALITY_CODES, {}), (CREDENTIAL_TYPES, {})]
    if facility_id is not None:
        calls += [
            (FACILITY, {"facility": facility_id}),
            (AGREEMENTS, {"facility": facility_id, "active": True}),
        ]
        if people is not None:
            per_person = {**params, "facility": facility_id}
            calls += [
                (people.people, per_person),
                (people.facts, {**per_person, "starts": starts, "ends": ends}),
            ]
    if supervisor_id is not None:
        calls.append((PERSON_KIND, {"person": supervisor_id}))
    results = iter(run_together(connection, calls))
    modalities = frozenset(code for (code,) in next(results))
    types = _credential_type_facts(next(results))
    facility, agreements, candidates = None, (), {}
    if facility_id is not None:
        facility = _facility_fact(next(results))
        agreements = _agreement_facts(next(results), facility_id)
        if people is not None:
            people_rows, fact_rows = next(results), next(results)
            if facility is not None:
                codes = relevant_types(types, facility, role, policy)
                candidates = _person_facts(
                    people_rows, fact_rows, facility_id=facility_id, credential_codes=codes
                )
    supervisor_kind = None
    if supervisor_id is not None:
        kinds = next(results)
        supervisor_kind = kinds[0][0] if kinds else None
    return Loaded(facility, modalities, supervisor_kind, types, agreements, candidates)


def _facility_fact(rows) -> engine.FacilityFact | None:
    if not rows or not rows[0][5]:
        return None  # no such facility, or not active
    ident, name, state, timezone, required, _active = rows[0]
    return engine.FacilityFact(
        id=ident,
        name=name,
        state=state,
        timezone=timezone,
        required_credentials=tuple(required or ()),
    )


def _credential_type_facts(rows) -> dict[str, engine.CredentialTypeFact]:
    return {
        code: engine.CredentialTypeFact(
            code=code, name=name, category=category, depends_on=depends_on
        )
        for code, name, category, depends_on in rows
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
    agreements: dict[str, tuple] = {}
    listed = defaultdict(set)
    for *agreement, technologist_id in rows:
        agreements.setdefault(agreement[0], agreement)
        if technologist_id is not None:
            listed[agreement[0]].add(technologist_id)
    return tuple(
        engine.AgreementFact(
            id=ident,
            facility_id=facility_id,
            physician_id=physician_id,
            technologist_ids=frozenset(listed[ident]),
            modes=frozenset(modes or ()),
            max_concurrent_cases=max_concurrent_cases,
            effective_from=effective_from,
            effective_to=effective_to,
            active=True,
        )
        for (
            ident,
            physician_id,
            modes,
            max_concurrent_cases,
            effective_from,
            effective_to,
        ) in agreements.values()
    )


def _person_facts(
    people, fact_rows, *, facility_id, credential_codes
) -> dict[str, engine.PersonFacts]:
    """PersonFacts keyed by id, in the people rows' (name) order."""
    credentials, appointments = defaultdict(list), defaultdict(list)
    scopes, bookings = defaultdict(list), defaultdict(list)
    for (
        fact,
        ident,
        person_id,
        text1,
        text2,
        text3,
        text4,
        date1,
        date2,
        date3,
        starts_at,
        ends_at,
        flag,
        listed,
    ) in fact_rows:
        if fact == "credential":
            if text1 in credential_codes:
                credentials[person_id].append(
                    engine.CredentialFact(
                        id=ident,
                        type_code=text1,
                        status=text2,
                        verified=text3 is not None and date1 is not None,
                        issued_on=date2,
                        expires_on=date3,
                        jurisdiction=text4,
                    )
                )
        elif fact == "appointment":
            appointments[person_id].append(
                engine.AppointmentFact(
                    id=ident,
                    facility_id=facility_id,
                    status=text1,
                    starts_on=date2,
                    expires_on=date3,
                )
            )
        elif fact == "scope":
            scopes[person_id].append(
                engine.ScopeFact(
                    id=ident,
                    activity=text1,
                    modalities=frozenset(listed or ()),
                    facility_id=text2,
                    effective_from=date2,
                    effective_to=date3,
                )
            )
        else:
            bookings[person_id].append(
                engine.BookingFact(
                    id=ident,
                    role=text1,
                    facility_id=text2,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    remote=flag,
                    payer=text3,
                )
            )

    return {
        ident: engine.PersonFacts(
            id=ident,
            kind=kind,
            active=active,
            name=f"{given_name} {family_name}",
            credentials=tuple(credentials[ident]),
            appointments=tuple(appointments[ident]),
            scopes=tuple(scopes[ident]),
            bookings=tuple(bookings[ident]),
        )
        for ident, kind, active, given_name, family_name in people
    }
