"""Stored records as the engine's facts, and their standing as the engine reads it.

Pages, expirations and jobs ask here whether a record counts; the answer is always the pure
engine's (``engine.credential_standing``, ``engine.work_standing``), never a copy of its rules.
The fact builders take ORM objects or Core rows with the tables' column names alike.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from registry.credentials.models import Credential, CredentialType
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.qualification import engine


def credential_fact(record) -> engine.CredentialFact:
    """A credential record as the engine reads it (verified: how and when are both on file)."""
    return engine.CredentialFact(
        id=record.id,
        type_code=record.type,
        status=record.status,
        verified=record.verification_method is not None and record.verified_on is not None,
        issued_on=record.issued_on,
        expires_on=record.expires_on,
        jurisdiction=record.jurisdiction,
        verified_on=record.verified_on,
        revoked_on=record.revoked_on,
    )


def revocation_facts(records: Iterable) -> tuple[engine.RevocationFact, ...]:
    """The revocations among credential records (those revoked on a known day)."""
    return tuple(
        engine.RevocationFact(r.id, r.type, r.jurisdiction, r.revoked_on, r.verified_on)
        for r in records
        if r.status == "revoked" and r.revoked_on is not None
    )


def appointment_fact(record) -> engine.AppointmentFact:
    """An appointment record as the engine reads it."""
    return engine.AppointmentFact(
        id=record.id,
        facility_id=record.facility_id,
        status=record.status,
        starts_on=record.starts_on,
        expires_on=record.expires_on,
    )


def facility_fact(record) -> engine.FacilityFact:
    """A facility record as the engine reads it."""
    return engine.FacilityFact(
        id=record.id,
        name=record.name,
        state=record.state,
        timezone=record.timezone,
        required_credentials=tuple(record.required_credentials or ()),
    )


def credential_types(session) -> dict[str, engine.CredentialTypeFact]:
    """The credential type catalogue as the engine reads it."""
    return {
        t.code: engine.CredentialTypeFact(t.code, t.name, t.category, t.depends_on)
        for t in session.scalars(select(CredentialType))
    }


def credential_standings(
    *, session, credentials: Iterable, on: date, policy: engine.Policy, types=None
) -> dict[str, engine.Standing]:
    """The standing on ``on`` of each of one person's credential records, by id; the person's
    revocations among them may hold the others' verifications back."""
    records = list(credentials)
    types = credential_types(session) if types is None else types
    revocations = revocation_facts(records)
    return {
        r.id: engine.credential_standing(
            credential_fact(r),
            on,
            policy=policy,
            credential_types=types,
            revocations=revocations,
        )
        for r in records
    }


def work_standings(
    *, session, person_ids: Iterable[str], on: date, policy: engine.Policy
) -> dict[str, engine.WorkStanding]:
    """Where each person can work on ``on`` (``engine.work_standing``), in four queries
    however many people."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return {}
    people = session.scalars(select(Person).where(Person.id.in_(ids))).all()
    credentials, appointments = defaultdict(list), defaultdict(list)
    for record in session.scalars(
        select(Credential).where(
            Credential.person_id.in_(ids),
            Credential.status.not_in(engine.IGNORED_CREDENTIAL_STATUSES),
        )
    ):
        credentials[record.person_id].append(record)
    for record in session.scalars(select(Appointment).where(Appointment.person_id.in_(ids))):
        appointments[record.person_id].append(record)
    facility_ids = {a.facility_id for records in appointments.values() for a in records}
    facilities = {
        f.id: facility_fact(f)
        for f in session.scalars(
            select(Facility).where(Facility.id.in_(facility_ids), Facility.active.is_(True))
        )
    }
    types = credential_types(session)
    return {
        person.id: engine.work_standing(
            engine.PersonFacts(
                id=person.id,
                kind=person.kind,
                active=person.active,
                name=f"{person.given_name} {person.family_name}",
                credentials=tuple(credential_fact(c) for c in credentials[person.id]),
                appointments=tuple(appointment_fact(a) for a in appointments[person.id]),
                scopes=(),
                bookings=(),
                revocations=revocation_facts(credentials[person.id]),
            ),
            facilities,
            credential_types=types,
            policy=policy,
            on=on,
        )
        for person in people
    }
