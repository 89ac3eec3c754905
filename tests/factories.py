"""Test data built straight through the models: a small IONM network to ask questions of."""

from datetime import date

from registry.agreements.models import SupervisionAgreement
from registry.credentials.models import Credential
from registry.database import db
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.scopes.models import Scope

VERIFIED = {
    "verification_method": "primary_source",
    "verified_on": date(2024, 1, 5),
    "verified_by": "credentialing",
    "verification_source": "https://abret.org/verify",
}
ALL_MODALITIES = ["SSEP", "TCMEP", "EMG", "TRIGGERED_EMG", "EEG"]


def add(obj):
    """Add and flush one record."""
    db.session.add(obj)
    db.session.flush()
    return obj


def facility(
    name="Overland Park Spine Center",
    state="KS",
    timezone="America/Chicago",
    required=("BLS",),
    **extra,
):
    return add(
        Facility(
            name=name, state=state, timezone=timezone, required_credentials=list(required), **extra
        )
    )


def person(kind="technologist", given="Tess", family="Nguyen", **extra):
    return add(Person(kind=kind, given_name=given, family_name=family, **extra))


def credential(
    who, type_, expires_on=date(2028, 12, 31), issued_on=date(2023, 1, 1), verified=True, **extra
):
    fields = dict(VERIFIED) if verified else {}
    fields.update(extra)
    return add(
        Credential(
            person_id=who.id, type=type_, issued_on=issued_on, expires_on=expires_on, **fields
        )
    )


def appointment(
    who, where, starts_on=date(2025, 1, 1), expires_on=date(2027, 12, 31), status="active"
):
    return add(
        Appointment(
            person_id=who.id,
            facility_id=where.id,
            starts_on=starts_on,
            expires_on=expires_on,
            status=status,
        )
    )


def scope(
    who,
    activity,
    modalities=ALL_MODALITIES,
    where=None,
    effective_from=date(2025, 1, 1),
    effective_to=None,
):
    return add(
        Scope(
            person_id=who.id,
            activity=activity,
            modalities=list(modalities),
            facility_id=where.id if where else None,
            effective_from=effective_from,
            effective_to=effective_to,
        )
    )


def agreement(
    where,
    physician,
    technologists=(),
    modes=("in_person", "remote"),
    max_cases=3,
    effective_from=date(2025, 1, 1),
    effective_to=date(2027, 12, 31),
    active=True,
):
    record = SupervisionAgreement(
        facility_id=where.id,
        physician_id=physician.id,
        modes=list(modes),
        max_concurrent_cases=max_cases,
        effective_from=effective_from,
        effective_to=effective_to,
        active=active,
    )
    record.technologists = list(technologists)
    return add(record)


def qualified_technologist(
    where, given="Tess", family="Nguyen", cnim_expires=date(2028, 12, 31), **extra
):
    tech = person("technologist", given, family, **extra)
    credential(tech, "CNIM", expires_on=cnim_expires)
    credential(tech, "BLS")
    appointment(tech, where)
    scope(tech, "perform")
    return tech


def qualified_physician(where, given="Omar", family="Haddad", license_states=("KS",), **extra):
    doc = person("physician", given, family, **extra)
    credential(doc, "ABCN", expires_on=None)
    for state in license_states:
        credential(doc, "MEDICAL_LICENSE", jurisdiction=state)
    credential(doc, "BLS")
    appointment(doc, where)
    scope(doc, "interpret")
    return doc


def network():
    """A KS spine center with one qualified physician under agreement and one technologist."""
    where = facility()
    doc = qualified_physician(where)
    tech = qualified_technologist(where)
    agreement(where, doc)
    db.session.commit()
    return where, doc, tech
