"""Fetch the facts the rules engine needs, for one person or every candidate, in a fixed number
of queries (facility, types, agreements, people, credentials, appointments, scopes, bookings)."""

from collections import defaultdict

from sqlalchemy import select, true

from registry.agreements.models import SupervisionAgreement, agreement_technologists
from registry.assignments.models import Assignment
from registry.credentials.models import Credential, CredentialType
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.qualification import engine
from registry.scopes.models import Scope


def facility_fact(facility: Facility) -> engine.FacilityFact:
    """The engine's view of a facility."""
    return engine.FacilityFact(
        id=facility.id,
        name=facility.name,
        state=facility.state,
        timezone=facility.timezone,
        required_credentials=tuple(facility.required_credentials or ()),
    )


def credential_type_facts(session) -> dict[str, engine.CredentialTypeFact]:
    """The whole catalogue (small) keyed by code."""
    return {
        t.code: engine.CredentialTypeFact(
            code=t.code, name=t.name, category=t.category, depends_on=t.depends_on
        )
        for t in session.scalars(select(CredentialType))
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


def agreement_facts(session, facility_id: str) -> tuple[engine.AgreementFact, ...]:
    """Active agreements at the facility, with their technologist lists (two queries)."""
    A = SupervisionAgreement
    here = (A.facility_id == facility_id) & A.active.is_(True)
    listed = defaultdict(set)
    for agreement_id, technologist_id in session.execute(
        select(agreement_technologists.c.agreement_id, agreement_technologists.c.technologist_id)
        .join(A, A.id == agreement_technologists.c.agreement_id)
        .where(here)
    ):
        listed[agreement_id].add(technologist_id)
    return tuple(
        engine.AgreementFact(
            id=a.id,
            facility_id=a.facility_id,
            physician_id=a.physician_id,
            technologist_ids=frozenset(listed[a.id]),
            modes=frozenset(a.modes or ()),
            max_concurrent_cases=a.max_concurrent_cases,
            effective_from=a.effective_from,
            effective_to=a.effective_to,
            active=a.active,
        )
        for a in session.execute(
            select(
                A.id,
                A.facility_id,
                A.physician_id,
                A.modes,
                A.max_concurrent_cases,
                A.effective_from,
                A.effective_to,
                A.active,
            ).where(here)
        )
    )


def load_people(
    session, *, people_filter, case: engine.Case, credential_codes: set[str]
) -> dict[str, engine.PersonFacts]:
    """PersonFacts for every person matched by ``people_filter`` (a list of WHERE clauses)."""
    people = list(
        session.execute(
            select(Person.id, Person.kind, Person.active, Person.given_name, Person.family_name)
            .where(*people_filter)
            .order_by(Person.family_name, Person.given_name, Person.id)
        )
    )
    if not people:
        return {}
    if len(people) == 1:
        # one person: an equality lets every table's person_id index lead the plan
        only = people[0].id

        def of_people(column):
            return column == only

        type_filter = true()  # a person's few credentials are filtered below, not by index
    else:
        ids_subquery = select(Person.id).where(*people_filter).scalar_subquery()

        def of_people(column):
            return column.in_(ids_subquery)

        type_filter = Credential.type.in_(sorted(credential_codes))

    credentials = defaultdict(list)
    for c in session.execute(
        select(
            Credential.id,
            Credential.person_id,
            Credential.type,
            Credential.status,
            Credential.verification_method,
            Credential.verified_on,
            Credential.issued_on,
            Credential.expires_on,
            Credential.jurisdiction,
        ).where(
            of_people(Credential.person_id),
            type_filter,
            Credential.status.not_in(sorted(engine.IGNORED_CREDENTIAL_STATUSES)),
        )
    ):
        if c.type not in credential_codes:
            continue
        credentials[c.person_id].append(
            engine.CredentialFact(
                id=c.id,
                type_code=c.type,
                status=c.status,
                verified=c.verification_method is not None and c.verified_on is not None,
                issued_on=c.issued_on,
                expires_on=c.expires_on,
                jurisdiction=c.jurisdiction,
            )
        )

    appointments = defaultdict(list)
    for a in session.execute(
        select(
            Appointment.id,
            Appointment.person_id,
            Appointment.facility_id,
            Appointment.status,
            Appointment.starts_on,
            Appointment.expires_on,
        ).where(of_people(Appointment.person_id), Appointment.facility_id == case.facility_id)
    ):
        appointments[a.person_id].append(
            engine.AppointmentFact(
                id=a.id,
                facility_id=a.facility_id,
                status=a.status,
                starts_on=a.starts_on,
                expires_on=a.expires_on,
            )
        )

    scopes = defaultdict(list)
    for s in session.execute(
        select(
            Scope.id,
            Scope.person_id,
            Scope.activity,
            Scope.modalities,
            Scope.facility_id,
            Scope.effective_from,
            Scope.effective_to,
        ).where(
            of_people(Scope.person_id),
            (Scope.facility_id.is_(None)) | (Scope.facility_id == case.facility_id),
        )
    ):
        scopes[s.person_id].append(
            engine.ScopeFact(
                id=s.id,
                activity=s.activity,
                modalities=frozenset(s.modalities or ()),
                facility_id=s.facility_id,
                effective_from=s.effective_from,
                effective_to=s.effective_to,
            )
        )

    bookings = defaultdict(list)
    for b in session.execute(
        select(
            Assignment.id,
            Assignment.person_id,
            Assignment.role,
            Assignment.facility_id,
            Assignment.starts_at,
            Assignment.ends_at,
            Assignment.remote,
            Assignment.payer,
        ).where(
            of_people(Assignment.person_id),
            Assignment.status == "booked",
            Assignment.starts_at < case.ends_at,
            Assignment.ends_at > case.starts_at,
        )
    ):
        bookings[b.person_id].append(
            engine.BookingFact(
                id=b.id,
                role=b.role,
                facility_id=b.facility_id,
                starts_at=b.starts_at,
                ends_at=b.ends_at,
                remote=b.remote,
                payer=b.payer,
            )
        )

    return {
        p.id: engine.PersonFacts(
            id=p.id,
            kind=p.kind,
            active=p.active,
            name=f"{p.given_name} {p.family_name}",
            credentials=tuple(credentials[p.id]),
            appointments=tuple(appointments[p.id]),
            scopes=tuple(scopes[p.id]),
            bookings=tuple(bookings[p.id]),
        )
        for p in people
    }
