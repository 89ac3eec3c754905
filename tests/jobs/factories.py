"""Test data for expiration monitoring, built straight through the ORM models."""

from datetime import date

from registry.agreements.models import SupervisionAgreement
from registry.credentials.models import Credential
from registry.database import db
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person

VERIFIED = {
    "verification_method": "primary_source",
    "verified_on": date(2024, 1, 5),
    "verified_by": "credentialing",
}


def add(obj):
    """Add, flush and commit one record (jobs read through their own sessions)."""
    db.session.add(obj)
    db.session.commit()
    return obj


def facility(name="Overland Park Spine Center", timezone="America/Chicago", state="KS", **extra):
    return add(Facility(name=name, state=state, timezone=timezone, **extra))


def person(kind="technologist", given="Tess", family="Nguyen", email="auto", **extra):
    if email == "auto":
        email = f"{given}.{family}@example.org".lower()
    return add(Person(kind=kind, given_name=given, family_name=family, email=email, **extra))


def credential(who, type_="CNIM", expires_on=date(2028, 12, 31), status="active", **extra):
    fields = {**VERIFIED, **extra}
    return add(
        Credential(person_id=who.id, type=type_, expires_on=expires_on, status=status, **fields)
    )


def appointment(who, where, expires_on=date(2028, 12, 31), status="active"):
    return add(
        Appointment(
            person_id=who.id,
            facility_id=where.id,
            starts_on=date(2024, 1, 1),
            expires_on=expires_on,
            status=status,
        )
    )


def agreement(where, physician, technologists=(), effective_to=date(2028, 12, 31), active=True):
    record = SupervisionAgreement(
        facility_id=where.id,
        physician_id=physician.id,
        modes=["in_person", "remote"],
        effective_from=date(2024, 1, 1),
        effective_to=effective_to,
        active=active,
    )
    record.technologists = list(technologists)
    return add(record)


def change(obj, **values):
    """Update a record as a coordinator would (committed)."""
    for key, value in values.items():
        setattr(obj, key, value)
    db.session.commit()
    return obj
