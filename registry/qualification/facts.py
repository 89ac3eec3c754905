"""The facts repository: what the rules engine reads, fetched with one typed ``select()`` per
kind of fact and returned as the engine's frozen dataclasses.

A load runs a fixed number of statements however many people it is about: the facility with
its agreements, the catalogue (modalities, credential types), the supervising physician when
the case names one, then the people with their credentials and each other kind of fact
about them (chosen by one condition on ``people``, never one statement per person).
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Text, and_, bindparam, cast, or_, select

from registry.agreements.models import SupervisionAgreement, agreement_technologists
from registry.assignments.models import Assignment
from registry.credentials.models import Credential, CredentialType, Modality
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.qualification import engine, records
from registry.scopes.models import Scope

# the tables' columns, so each statement runs as plain Core (the ORM would build no objects
# from these rows, only cost its per-statement work)
_agreements = SupervisionAgreement.__table__.c
_appointments = Appointment.__table__.c
_assignments = Assignment.__table__.c
_credentials = Credential.__table__.c
_credential_types = CredentialType.__table__.c
_facilities = Facility.__table__.c
_modalities = Modality.__table__.c
_people = Person.__table__.c
_scopes = Scope.__table__.c
_listed = agreement_technologists.c

# booked or cancelled: only a booked assignment takes a slot
BOOKED = "booked"
# an appointment with this status is what lets a person work at a facility
ACTIVE_APPOINTMENT = "active"


@dataclass(frozen=True)
class People:
    """Whom a load is about: one person (whatever their kind or status: the rules explain a
    mismatch), these people, or every active person of a kind (only those with an active
    appointment at the case's facility when ``appointed_only``)."""

    person_id: str | None = None
    ids: tuple[str, ...] | None = None
    kind: str | None = None
    appointed_only: bool = False

    @classmethod
    def one(cls, person_id: str) -> "People":
        return cls(person_id=person_id)

    @classmethod
    def these(cls, ids) -> "People":
        return cls(ids=tuple(ids))

    @classmethod
    def of_kind(cls, kind: str, *, appointed_only: bool = False) -> "People":
        return cls(kind=kind, appointed_only=appointed_only)

    @property
    def shape(self) -> str:
        """Which statements choose them (see ``_STATEMENTS``)."""
        if self.person_id is not None:
            return "one"
        if self.ids is not None:
            return "these"
        return "appointed" if self.appointed_only else "of_kind"

    def params(self) -> dict:
        """The values the statements of their shape bind."""
        return {"person": self.person_id, "ids": list(self.ids or ()), "kind": self.kind}


def _chosen(shape: str):
    """The condition on ``people`` that chooses the people of a shape."""
    if shape == "one":
        return _people.id == bindparam("person")
    if shape == "these":
        return _people.id.in_(bindparam("ids", expanding=True))
    chosen = and_(_people.kind == bindparam("kind"), _people.active.is_(True))
    if shape == "appointed":
        appointed = select(_appointments.person_id).where(
            _appointments.facility_id == bindparam("facility"),
            _appointments.status == ACTIVE_APPOINTMENT,
        )
        chosen = and_(chosen, _people.id.in_(appointed))
    return chosen


def _owned(shape: str, person_id):
    """The condition on a fact table's ``person_id`` column that picks the facts of the people
    of a shape (one person: an equality, so the table's person index leads the plan)."""
    if shape == "one":
        return person_id == bindparam("person")
    if shape == "these":
        return person_id.in_(bindparam("ids", expanding=True))
    return person_id.in_(select(_people.id).where(_chosen(shape)))


def _statements(shape: str) -> dict:
    """The statements that read the people of a shape and each kind of fact about them."""
    return {
        # the people with their credentials: a row per credential (one of NULLs for none)
        "people": select(
            _people.id.label("person_id"),
            _people.kind,
            _people.active,
            _people.given_name,
            _people.family_name,
            _credentials.id,
            _credentials.type,
            _credentials.status,
            _credentials.jurisdiction,
            _credentials.issued_on,
            _credentials.expires_on,
            _credentials.verification_method,
            _credentials.verified_on,
            _credentials.revoked_on,
        )
        .select_from(Person.__table__)
        .outerjoin(
            Credential.__table__,
            and_(
                _credentials.person_id == _people.id,
                # every credential on file: revoked ones also hold verifications back
                _credentials.status.not_in(sorted(engine.IGNORED_CREDENTIAL_STATUSES)),
            ),
        )
        .where(_chosen(shape))
        .order_by(_people.family_name, _people.given_name, _people.id),
        "appointments": select(
            _appointments.id,
            _appointments.person_id,
            _appointments.facility_id,
            _appointments.status,
            _appointments.starts_on,
            _appointments.expires_on,
        ).where(
            _owned(shape, _appointments.person_id),
            _appointments.facility_id == bindparam("facility"),
        ),
        "scopes": select(
            _scopes.id,
            _scopes.person_id,
            _scopes.activity,
            _scopes.modalities,
            _scopes.facility_id,
            _scopes.effective_from,
            _scopes.effective_to,
        ).where(
            _owned(shape, _scopes.person_id),
            or_(_scopes.facility_id.is_(None), _scopes.facility_id == bindparam("facility")),
        ),
        "bookings": select(
            _assignments.id,
            _assignments.person_id,
            _assignments.role,
            _assignments.facility_id,
            _assignments.starts_at,
            _assignments.ends_at,
            _assignments.remote,
            _assignments.payer,
            _assignments.case_ref,
        ).where(
            _owned(shape, _assignments.person_id),
            _assignments.status == BOOKED,
            _assignments.starts_at < bindparam("ends", type_=_assignments.starts_at.type),
            _assignments.ends_at > bindparam("starts", type_=_assignments.ends_at.type),
        ),
    }


# built once: SQLAlchemy caches each one's compiled form
_STATEMENTS = {shape: _statements(shape) for shape in ("one", "these", "of_kind", "appointed")}
_FACILITY_AND_AGREEMENTS = (
    select(
        _facilities.id,
        _facilities.name,
        _facilities.state,
        _facilities.timezone,
        # as text, decoded once below: the driver would decode them again on every row
        cast(_facilities.required_credentials, Text).label("required_credentials"),
        _agreements.id.label("agreement_id"),
        _agreements.physician_id,
        cast(_agreements.modes, Text).label("modes"),
        _agreements.max_concurrent_cases,
        _agreements.effective_from,
        _agreements.effective_to,
        _listed.technologist_id,
    )
    .select_from(Facility.__table__)
    .outerjoin(
        SupervisionAgreement.__table__,
        and_(_agreements.facility_id == _facilities.id, _agreements.active.is_(True)),
    )
    .outerjoin(agreement_technologists, _listed.agreement_id == _agreements.id)
    .where(_facilities.id == bindparam("facility"), _facilities.active.is_(True))
)
_MODALITY_CODES = select(_modalities.code)
_CREDENTIAL_TYPES = select(
    _credential_types.code,
    _credential_types.name,
    _credential_types.category,
    _credential_types.depends_on,
)
_KIND_OF_PERSON = select(_people.kind).where(_people.id == bindparam("person"))
_PEOPLE_IN_NAME_ORDER = {
    shape: select(_people.id)
    .where(_chosen(shape))
    .order_by(_people.family_name, _people.given_name, _people.id)
    for shape in ("of_kind", "appointed")
}


class Loaded(NamedTuple):
    """What a load fetched: the case's context and the people's facts, in name order."""

    facility: engine.FacilityFact | None
    modality_codes: frozenset[str]
    supervisor_kind: str | None
    credential_types: dict[str, engine.CredentialTypeFact]
    agreements: tuple[engine.AgreementFact, ...]
    people: dict[str, engine.PersonFacts]


def load(
    session,
    *,
    facility_id: str | None,
    supervisor_id: str | None,
    people: People | None,
    starts,
    ends,
    role: str,
    policy: engine.Policy,
) -> Loaded:
    """Fetch everything a check or search needs about ``people`` for a case at a facility.

    ``facility_id`` and ``supervisor_id`` must be possible ids (or None: nothing fetched);
    ``people`` None: nobody. Nobody's facts are fetched when there is no active facility.
    """
    connection = session.connection()
    facility, agreements = _facility_and_agreements(connection, facility_id)
    modality_codes = frozenset(connection.scalars(_MODALITY_CODES))
    types = credential_types(session)
    supervisor_kind = None
    if supervisor_id is not None:
        supervisor_kind = connection.scalar(_KIND_OF_PERSON, {"person": supervisor_id})
    found = {}
    if facility is not None and people is not None:
        found = _person_facts(
            connection,
            people,
            {
                **people.params(),
                "facility": facility.id,
                "codes": relevant_types(types, facility, role, policy),
                "starts": starts,
                "ends": ends,
            },
        )
    return Loaded(facility, modality_codes, supervisor_kind, types, agreements, found)


def credential_types(session) -> dict[str, engine.CredentialTypeFact]:
    """The credential type catalogue, by code."""
    return {
        row.code: engine.CredentialTypeFact(
            code=row.code, name=row.name, category=row.category, depends_on=row.depends_on
        )
        for row in session.connection().execute(_CREDENTIAL_TYPES)
    }


def people_in_name_order(session, people: People, *, facility_id: str) -> list[str]:
    """The ids of every active person of a kind (``People.of_kind``), in the order a search
    answers (family name, given name, id)."""
    statement = _PEOPLE_IN_NAME_ORDER[people.shape]
    return list(
        session.connection().scalars(statement, {**people.params(), "facility": facility_id})
    )


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


def _codes(stored: str | None) -> list:
    """A JSON list of codes read as text (a JSON null or none: no codes)."""
    return json.loads(stored) or [] if stored is not None else []


def _facility_and_agreements(connection, facility_id):
    """The active facility (or None) and its active agreements, in one statement: a row per
    agreement and listed technologist (an agreement listing nobody has one, a facility without
    agreements one row of NULLs)."""
    if facility_id is None:
        return None, ()
    rows = connection.execute(_FACILITY_AND_AGREEMENTS, {"facility": facility_id}).all()
    if not rows:
        return None, ()
    first = rows[0]
    facility = engine.FacilityFact(
        id=first.id,
        name=first.name,
        state=first.state,
        timezone=first.timezone,
        required_credentials=tuple(_codes(first.required_credentials)),
    )
    by_agreement, technologists = {}, defaultdict(set)
    for row in rows:
        if row.agreement_id is None:
            continue
        by_agreement.setdefault(row.agreement_id, row)
        if row.technologist_id is not None:
            technologists[row.agreement_id].add(row.technologist_id)
    agreements = tuple(
        engine.AgreementFact(
            id=ident,
            facility_id=facility.id,
            physician_id=row.physician_id,
            technologist_ids=frozenset(technologists[ident]),
            modes=frozenset(_codes(row.modes)),
            max_concurrent_cases=row.max_concurrent_cases,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            active=True,
        )
        for ident, row in by_agreement.items()
    )
    return facility, agreements


def _person_facts(connection, people: People, params: dict) -> dict[str, engine.PersonFacts]:
    """PersonFacts keyed by id, in name order: one statement for the people and their
    credentials, one per other kind of fact about them."""
    if people.shape == "appointed":
        # the candidates once, from the facility's appointments: each fact statement then reads
        # by id and grows with the candidates, not with every person of the kind
        people = People.these(connection.scalars(_PEOPLE_IN_NAME_ORDER["appointed"], params))
        params = {**params, **people.params()}
    statements = _STATEMENTS[people.shape]
    people_rows, credentials, revocations = {}, defaultdict(list), defaultdict(list)
    codes = params["codes"]
    for row in connection.execute(statements["people"], params):
        people_rows.setdefault(row.person_id, row)
        if row.id is None or row.type not in codes:
            continue  # no credential, or a type no rule of this role here looks at
        credentials[row.person_id].append(records.credential_fact(row))
        revocations[row.person_id].extend(records.revocation_facts((row,)))
    appointments = defaultdict(list)
    for row in connection.execute(statements["appointments"], params):
        appointments[row.person_id].append(records.appointment_fact(row))
    scopes = defaultdict(list)
    for row in connection.execute(statements["scopes"], params):
        scopes[row.person_id].append(
            engine.ScopeFact(
                id=row.id,
                activity=row.activity,
                modalities=frozenset(row.modalities or ()),
                facility_id=row.facility_id,
                effective_from=row.effective_from,
                effective_to=row.effective_to,
            )
        )
    bookings = defaultdict(list)
    for row in connection.execute(statements["bookings"], params):
        bookings[row.person_id].append(
            engine.BookingFact(
                id=row.id,
                role=row.role,
                facility_id=row.facility_id,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                remote=row.remote,
                payer=row.payer,
                case_ref=row.case_ref,
            )
        )
    return {
        person_id: engine.PersonFacts(
            id=person_id,
            kind=row.kind,
            active=row.active,
            name=f"{row.given_name} {row.family_name}",
            credentials=tuple(credentials[person_id]),
            appointments=tuple(appointments[person_id]),
            scopes=tuple(scopes[person_id]),
            bookings=tuple(bookings[person_id]),
            revocations=tuple(revocations[person_id]),
        )
        for person_id, row in people_rows.items()  # in name order
    }
