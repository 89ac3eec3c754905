"""A synthetic IONM network at the scale ENGINEERING.md promises, inserted in bulk."""

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from registry.agreements.models import SupervisionAgreement, agreement_technologists
from registry.assignments.models import Assignment
from registry.credentials.models import Credential
from registry.database import make_engine, new_id
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.scopes.models import Scope

STATES = ["KS", "MO"]
MODALITIES = ["SSEP", "TCMEP", "EMG", "TRIGGERED_EMG", "EEG"]
VERIFIED = {
    "verification_method": "primary_source",
    "verified_on": date(2024, 1, 5),
    "verified_by": "bench",
    "verification_source": "https://example.org/verify",
}
SIZES = {
    "people": 10_000,
    "technologists": 5_000,
    "credentials": 60_000,
    "facilities": 200,
    "appointments": 20_000,
    "agreements": 1_000,
    "assignments": 50_000,
}


def build(url: str, seed: int = 7) -> dict:
    """Fill an empty, migrated database; returns ids the load driver needs."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    engine = make_engine(url)
    facilities = [
        {
            "id": new_id(),
            "name": f"Hospital {i}",
            "state": STATES[i % 2],
            "timezone": "America/Chicago",
            "required_credentials": ["BLS"],
            "active": True,
            **stamp,
        }
        for i in range(SIZES["facilities"])
    ]
    techs = [
        {
            "id": new_id(),
            "kind": "technologist",
            "given_name": f"Tech{i}",
            "family_name": f"Person{i:05d}",
            "active": True,
            **stamp,
        }
        for i in range(SIZES["technologists"])
    ]
    docs = [
        {
            "id": new_id(),
            "kind": "physician",
            "given_name": f"Doc{i}",
            "family_name": f"Person{i:05d}",
            "active": True,
            **stamp,
        }
        for i in range(SIZES["people"] - SIZES["technologists"])
    ]
    credentials = []
    for tech in techs:
        credentials.append(_cred(tech, "CNIM", rng, stamp))
        credentials.append(_cred(tech, "BLS", rng, stamp))
        credentials.append(_cred(tech, rng.choice(["R-EP-T", "R-EEG-T", "ACLS"]), rng, stamp))
    for doc in docs:
        credentials.append(_cred(doc, "ABCN", rng, stamp))
        credentials.append(_cred(doc, "BLS", rng, stamp))
        for state in STATES:
            credentials.append(_cred(doc, "MEDICAL_LICENSE", rng, stamp, jurisdiction=state))
    people = techs + docs
    while len(credentials) < SIZES["credentials"]:
        credentials.append(_cred(rng.choice(people), "MALPRACTICE", rng, stamp))
    # the first facility is the busy one the driver asks about
    appointments, seen = [], set()
    home = facilities[0]
    for tech in techs[:150]:
        seen.add((tech["id"], home["id"]))
        appointments.append(_appt(tech, home, stamp))
    for doc in docs[:20]:
        seen.add((doc["id"], home["id"]))
        appointments.append(_appt(doc, home, stamp))
    while len(appointments) < SIZES["appointments"]:
        who, where = rng.choice(people), rng.choice(facilities)
        if (who["id"], where["id"]) not in seen:
            seen.add((who["id"], where["id"]))
            appointments.append(_appt(who, where, stamp))
    scopes = [
        {
            "id": new_id(),
            "person_id": p["id"],
            "modalities": MODALITIES,
            "facility_id": None,
            "activity": "perform" if p["kind"] == "technologist" else "interpret",
            "effective_from": date(2024, 1, 1),
            "effective_to": None,
            **stamp,
        }
        for p in people
    ]
    agreements = []
    for i in range(SIZES["agreements"]):
        where = facilities[i % len(facilities)] if i >= 20 else home
        agreements.append(
            {
                "id": new_id(),
                "facility_id": where["id"],
                "physician_id": docs[i % len(docs)]["id"],
                "modes": ["in_person", "remote"],
                "max_concurrent_cases": 3,
                "effective_from": date(2024, 1, 1),
                "effective_to": date(2029, 12, 31),
                "active": True,
                **stamp,
            }
        )
    start = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)
    assignments = []
    for i in range(SIZES["assignments"]):
        who = people[i % len(people)]
        begins = start + timedelta(days=(i // len(people)) * 2, hours=rng.randrange(0, 8))
        assignments.append(
            {
                "id": new_id(),
                "person_id": who["id"],
                "role": "technologist"
                if who["kind"] == "technologist"
                else "interpreting_physician",
                "facility_id": rng.choice(facilities)["id"],
                "starts_at": begins,
                "ends_at": begins + timedelta(hours=4),
                "remote": who["kind"] == "physician",
                "payer": "commercial",
                "case": {},
                "status": "booked",
                **stamp,
            }
        )
    with engine.begin() as conn:
        for model, rows in (
            (Facility, facilities),
            (Person, people),
            (Credential, credentials),
            (Appointment, appointments),
            (Scope, scopes),
            (SupervisionAgreement, agreements),
            (Assignment, assignments),
        ):
            for chunk in range(0, len(rows), 5_000):
                conn.execute(insert(model), rows[chunk : chunk + 5_000])
        conn.execute(
            insert(agreement_technologists),
            [{"agreement_id": agreements[0]["id"], "technologist_id": t["id"]} for t in techs[:5]],
        )
        # fresh statistics, as after any bulk import (PostgreSQL's autovacuum would get there too)
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {
        "facility_id": home["id"],
        "technologist_ids": [t["id"] for t in techs[:150]],
        "physician_ids": [d["id"] for d in docs[:20]],
        "person_ids": [p["id"] for p in people[:500]],
        "counts": {
            "people": len(people),
            "credentials": len(credentials),
            "facilities": len(facilities),
            "appointments": len(appointments),
            "agreements": len(agreements),
            "assignments": len(assignments),
        },
    }


def _cred(person, type_, rng, stamp, jurisdiction=None):
    expires = date(2027 + rng.randrange(0, 4), 12, 31)
    return {
        "id": new_id(),
        "person_id": person["id"],
        "type": type_,
        "number": None,
        "issuer": None,
        "jurisdiction": jurisdiction,
        "issued_on": date(2022, 1, 1),
        "expires_on": expires,
        "status": "active",
        **VERIFIED,
        **stamp,
    }


def _appt(person, facility, stamp):
    return {
        "id": new_id(),
        "person_id": person["id"],
        "facility_id": facility["id"],
        "status": "active",
        "starts_on": date(2024, 1, 1),
        "expires_on": date(2028, 12, 31),
        **stamp,
    }
