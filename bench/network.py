"""A synthetic IONM network at the scale ENGINEERING.md promises (times ``scale``), inserted in
bulk with SQLAlchemy Core executemany, a chunk at a time."""

import random
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from sqlalchemy import column, create_engine, event, insert, inspect, table

from registry.agreements.models import SupervisionAgreement, agreement_technologists
from registry.assignments.models import Assignment
from registry.credentials.models import Credential
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
# scale 1: the network ENGINEERING.md names
SIZES = {
    "people": 10_000,
    "credentials": 60_000,
    "facilities": 200,
    "appointments": 20_000,
    "agreements": 1_000,
    "assignments": 50_000,
}
# what a scale multiplies; facilities and agreements only shrink with it (a bigger registry is
# more people in the same hospitals, so each facility's rows grow with the scale)
GROWS = ("people", "credentials", "appointments", "assignments")
# the busy facility the driver asks about: its appointed technologists and physicians
HOME_TECHNOLOGISTS = 150
HOME_PHYSICIANS = 20
CHUNK = 5_000


def sizes(scale: float = 1) -> dict[str, int]:
    """How many rows of each kind the network has at ``scale``."""
    if scale <= 0:
        raise ValueError("the scale must be positive")
    out = {}
    for kind, base in SIZES.items():
        factor = scale if kind in GROWS else min(scale, 1)
        out[kind] = max(4, round(base * factor))
    return out


def _id() -> str:
    return str(uuid.uuid4())


def build(url: str, scale: float = 1, seed: int = 7, alone: bool = False) -> dict:
    """Fill an empty, migrated database; returns the ids the load driver needs and the counts.

    Only the columns the database has are written, so a database migrated by older code (the
    base of a side-by-side run) takes the same network. ``alone``: no other connection has
    the database open (SQLite is then loaded without its WAL).
    """
    size = sizes(scale)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    n_techs = size["people"] // 2
    facilities = [
        {
            "id": _id(),
            "name": f"Hospital {i}",
            "state": STATES[i % 2],
            "timezone": "America/Chicago",
            "required_credentials": ["BLS"],
            "active": True,
            **stamp,
        }
        for i in range(size["facilities"])
    ]
    # (id, kind) of everyone: technologists first
    people = [
        (_id(), "technologist" if i < n_techs else "physician") for i in range(size["people"])
    ]
    techs = [p for p in people if p[1] == "technologist"]
    docs = [p for p in people if p[1] == "physician"]
    home = facilities[0]
    home_people = techs[:HOME_TECHNOLOGISTS] + docs[:HOME_PHYSICIANS]
    home_appointed = set()

    def person_rows():
        for i, (pid, kind) in enumerate(people):
            n = i if kind == "technologist" else i - n_techs
            yield {
                "id": pid,
                "kind": kind,
                "given_name": f"{'Tech' if kind == 'technologist' else 'Doc'}{n}",
                "family_name": f"Person{n:05d}",
                "active": True,
                **stamp,
            }

    def credential_rows():
        count = 0
        for pid, kind in people:
            if kind == "technologist":
                types = [("CNIM", None), ("BLS", None)]
                types.append((rng.choice(["R-EP-T", "R-EEG-T", "ACLS"]), None))
            else:
                types = [("ABCN", None), ("BLS", None)]
                types += [("MEDICAL_LICENSE", state) for state in STATES]
            for type_, jurisdiction in types:
                count += 1
                yield _credential(pid, type_, rng, stamp, jurisdiction)
        while count < size["credentials"]:
            count += 1
            yield _credential(rng.choice(people)[0], "MALPRACTICE", rng, stamp)

    def appointment_rows():
        seen = set()
        for pid, _kind in home_people:
            seen.add((pid, home["id"]))
            home_appointed.add(pid)
            yield _appointment(pid, home["id"], stamp)
        while len(seen) < size["appointments"]:
            who, where = rng.choice(people)[0], rng.choice(facilities)["id"]
            if (who, where) not in seen:
                seen.add((who, where))
                if where == home["id"]:
                    home_appointed.add(who)
                yield _appointment(who, where, stamp)

    def scope_rows():
        for pid, kind in people:
            yield {
                "id": _id(),
                "person_id": pid,
                "modalities": MODALITIES,
                "facility_id": None,
                "activity": "perform" if kind == "technologist" else "interpret",
                "effective_from": date(2024, 1, 1),
                "effective_to": None,
                **stamp,
            }

    agreements = [
        {
            "id": _id(),
            "facility_id": (facilities[i % len(facilities)] if i >= HOME_PHYSICIANS else home)[
                "id"
            ],
            "physician_id": docs[i % len(docs)][0],
            "modes": ["in_person", "remote"],
            "max_concurrent_cases": 3,
            "effective_from": date(2024, 1, 1),
            "effective_to": date(2029, 12, 31),
            "active": True,
            **stamp,
        }
        for i in range(size["agreements"])
    ]

    def assignment_rows():
        # five bookings a person at scale 1 and 10 alike, two days apart, from 2027-01-04
        start = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)
        for i in range(size["assignments"]):
            pid, kind = people[i % len(people)]
            begins = start + timedelta(days=(i // len(people)) * 2, hours=rng.randrange(0, 8))
            yield {
                "id": _id(),
                "person_id": pid,
                "role": "technologist" if kind == "technologist" else "interpreting_physician",
                "facility_id": rng.choice(facilities)["id"],
                "starts_at": begins,
                "ends_at": begins + timedelta(hours=4),
                "remote": kind == "physician",
                "payer": "commercial",
                "case": {},
                "status": "booked",
                **stamp,
            }

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        # a throw-away bulk load: no waiting for the disk and, when nobody else has the file
        # open, no WAL copy of every page (the app puts WAL back on its first connection)
        @event.listens_for(engine, "connect")
        def _bulk(dbapi_conn, _record):
            if alone:
                dbapi_conn.execute("PRAGMA journal_mode=DELETE")
            dbapi_conn.execute("PRAGMA synchronous=OFF")

    counts = {}
    try:
        with engine.begin() as conn:
            present = {
                name: {c["name"] for c in inspect(conn).get_columns(name)}
                for name in inspect(conn).get_table_names()
            }

            def put(model_table, rows: Iterable[dict], kind: str | None = None) -> None:
                target = table(
                    model_table.name,
                    *(
                        column(c.name, c.type)
                        for c in model_table.columns
                        if c.name in present[model_table.name]
                    ),
                )
                keep = {c.name for c in target.columns}
                total = 0
                for chunk in _chunks(rows, CHUNK):
                    conn.execute(insert(target), [_only(row, keep) for row in chunk])
                    total += len(chunk)
                if kind:
                    counts[kind] = total

            put(Facility.__table__, facilities, "facilities")
            put(Person.__table__, person_rows(), "people")
            put(Credential.__table__, credential_rows(), "credentials")
            put(Appointment.__table__, appointment_rows(), "appointments")
            put(Scope.__table__, scope_rows())
            put(SupervisionAgreement.__table__, agreements, "agreements")
            put(Assignment.__table__, assignment_rows(), "assignments")
            put(
                agreement_technologists,
                [{"agreement_id": agreements[0]["id"], "technologist_id": t[0]} for t in techs[:5]],
            )
            # fresh statistics, as after any bulk import (PostgreSQL's autovacuum would get there)
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    tech_ids = {t[0] for t in techs}
    return {
        "scale": scale,
        "facility_id": home["id"],
        "technologist_ids": [t[0] for t in techs[:HOME_TECHNOLOGISTS]],
        "physician_ids": [d[0] for d in docs[:HOME_PHYSICIANS]],
        "person_ids": [p[0] for p in people[:500]],
        "counts": counts,
        # whom a qualified-only search of technologists at the home facility evaluates
        "search_candidates": len(home_appointed & tech_ids),
    }


def _chunks(rows: Iterable[dict], n: int) -> Iterator[list[dict]]:
    rows = iter(rows)
    while chunk := list(islice(rows, n)):
        yield chunk


def _only(row: dict, keep: set) -> dict:
    return row if keep.issuperset(row) else {k: v for k, v in row.items() if k in keep}


def _credential(person_id, type_, rng, stamp, jurisdiction=None):
    expires = date(2027 + rng.randrange(0, 4), 12, 31)
    return {
        "id": _id(),
        "person_id": person_id,
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


def _appointment(person_id, facility_id, stamp):
    return {
        "id": _id(),
        "person_id": person_id,
        "facility_id": facility_id,
        "status": "active",
        "starts_on": date(2024, 1, 1),
        "expires_on": date(2028, 12, 31),
        **stamp,
    }
