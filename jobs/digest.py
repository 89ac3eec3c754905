"""The coordinators' daily digest: everything lapsing within 30 days and everything lapsed,
grouped by facility and person; one per coordinator per day (unique digest_date + recipient).

This job only writes the digests into their outbox; the delivery job sends them, like alerts.
"""

from collections import defaultdict
from datetime import date

from sqlalchemy import or_, select

from jobs.locks import hold_job_lock
from jobs.outbox import insert_if_absent
from jobs.rendering import item_label, long_date, render
from registry import clock
from registry.alerts.models import Digest
from registry.database import new_id
from registry.expirations.service import expiring_within, local_date
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.qualification import engine
from registry.qualification.records import appointment_fact

DIGEST_DAYS = 30
NO_FACILITY = "No active facility appointment"


def send_digests(*, sessions, config) -> dict:
    """Queue today's digest for each coordinator that has none yet (the deliver job sends it)."""
    now = clock.now()
    today = local_date(now, config["REGISTRY_TIMEZONE"])
    recipients = sorted(
        {email.strip().lower() for email in config["COORDINATOR_EMAILS"] if email.strip()}
    )
    created: list[str] = []
    if recipients:
        with sessions.begin() as session:
            if hold_job_lock(session, "digest"):
                have = set(
                    session.scalars(select(Digest.recipient).where(Digest.digest_date == today))
                )
                missing = [email for email in recipients if email not in have]
                if missing:
                    payload = digest_payload(session, now=now, config=config)
                    rows = [
                        {
                            "id": new_id(),
                            "digest_date": today,
                            "recipient": email,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "payload": payload,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for email in missing
                    ]
                    created = insert_if_absent(session, Digest.__table__, rows)
    return {"digests written": len(created)}


def digest_payload(session, *, now, config) -> dict:
    """Subject, text and HTML of the digest as of ``now``."""
    zone = config["REGISTRY_TIMEZONE"]
    today = local_date(now, zone)
    items = expiring_within(
        session=session, within_days=DIGEST_DAYS, include_expired=True, today=now, timezone=zone
    )
    groups = _group(session, items, today)
    lapsed = sum(1 for item in items if item["days_left"] < 0)
    lapsing = len(items) - lapsed
    if items:
        subject = (
            f"Credential registry digest for {long_date(today)}: "
            f"{lapsed} lapsed, {lapsing} lapsing within {DIGEST_DAYS} days"
        )
    else:
        subject = f"Credential registry digest for {long_date(today)}: nothing lapsing"
    context = {
        "subject": subject,
        "today": today,
        "days": DIGEST_DAYS,
        "lapsed": lapsed,
        "lapsing": lapsing,
        "groups": groups,
    }
    return {
        "subject": subject,
        "text": render("digest.txt", **context),
        "html": render("digest.html", **context),
    }


def _digest_label(item: dict) -> str:
    # listed under its facility already, so an appointment or agreement needs no "at …"
    if item["item_type"] == "appointment":
        return "facility appointment (privileges)"
    if item["item_type"] == "agreement":
        return "supervision agreement (as supervising physician)"
    return item_label(item)


def _group(session, items: list[dict], today: date) -> list[dict]:
    """[{facility, people: [{name, kind, items}]}], facilities and people in name order.

    A credential belongs to a person, not a facility: it is listed under every active facility
    where the person's appointment is in force ``today`` (``engine.appointment_standing``).
    """
    person_ids = sorted({item["person_id"] for item in items})
    people, places = {}, defaultdict(set)
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        for row in session.execute(
            select(Person.id, Person.given_name, Person.family_name, Person.kind).where(
                Person.id.in_(chunk)
            )
        ):
            people[row.id] = row
        # SQL narrows by the day; whether an appointment is in force is the engine's answer
        for row in session.execute(
            select(*Appointment.__table__.c, Facility.name.label("facility_name"))
            .join(Facility, Facility.id == Appointment.facility_id)
            .where(
                Appointment.person_id.in_(chunk),
                Appointment.starts_on <= today,
                or_(Appointment.expires_on.is_(None), Appointment.expires_on >= today),
                Facility.active.is_(True),
            )
        ):
            if engine.appointment_standing(appointment_fact(row), today).counts:
                places[row.person_id].add(row.facility_name)
    tree: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        entry = {**item, "label": _digest_label(item)}
        if item["item_type"] == "credential":
            facilities = sorted(places.get(item["person_id"]) or [NO_FACILITY])
        else:
            facilities = [item["facility_name"]]
        for facility in facilities:
            tree[facility][item["person_id"]].append(entry)

    def facility_order(name):
        return (name == NO_FACILITY, name.lower())

    groups = []
    for facility in sorted(tree, key=facility_order):
        members = []
        for person_id, entries in tree[facility].items():
            person = people[person_id]
            members.append(
                {
                    "name": f"{person.given_name} {person.family_name}",
                    "sort": (person.family_name.lower(), person.given_name.lower(), person_id),
                    "kind": person.kind,
                    "items": entries,
                }
            )
        members.sort(key=lambda m: m["sort"])
        groups.append({"facility": facility, "people": members})
    return groups
