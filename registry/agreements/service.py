"""Supervision agreements between a facility, a physician and technologists."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from marshmallow import ValidationError
from sqlalchemy import and_, or_, select

from registry import clock
from registry.agreements.models import SupervisionAgreement, agreement_technologists
from registry.errors import InvalidData, NotFound
from registry.facilities.models import Appointment, Facility
from registry.ids import find
from registry.people.models import Person
from registry.qualification import engine
from registry.qualification.records import appointment_fact
from schemas.base import require_order

CHUNK = 500


def get(*, session, agreement_id: str) -> SupervisionAgreement:
    """The agreement with this id, or NotFound."""
    found = find(session, SupervisionAgreement, agreement_id)
    if found is None:
        raise NotFound(f"supervision agreement {agreement_id!r} not found")
    return found


def create(*, session, data: dict) -> SupervisionAgreement:
    """Record an agreement: a physician supervising technologists at a facility."""
    values = dict(data)
    technologist_ids = values.pop("technologist_ids", None) or []
    errors = {}
    if session.get(Facility, values.get("facility_id")) is None:
        errors["facility_id"] = ["No facility has this id."]
    physician = session.get(Person, values.get("physician_id"))
    if physician is None:
        errors["physician_id"] = ["No person has this id."]
    elif physician.kind != "physician":
        errors["physician_id"] = [f"{physician.name} is a {physician.kind}, not a physician."]
    technologists = _technologists(session, technologist_ids, errors)
    if errors:
        raise InvalidData(errors)
    agreement = SupervisionAgreement(**values)
    agreement.technologists = technologists
    session.add(agreement)
    session.flush()
    return agreement


def update(*, session, agreement: SupervisionAgreement, data: dict) -> SupervisionAgreement:
    """Apply a partial update (end it with ``active: False``; nothing is deleted)."""
    values = dict(data)
    try:
        require_order(values, "effective_from", "effective_to", existing=agreement)
    except ValidationError as exc:
        raise InvalidData(exc.messages) from exc
    technologists = None
    if "technologist_ids" in values:
        errors = {}
        technologists = _technologists(session, values.pop("technologist_ids") or [], errors)
        if errors:
            raise InvalidData(errors)
    for key, value in values.items():
        setattr(agreement, key, value)
    if technologists is not None and [p.id for p in technologists] != agreement.technologist_ids:
        agreement.technologists = technologists
        # the association rows are not columns: touch the row so its version (ETag) moves on
        agreement.updated_at = clock.now()
    session.flush()
    return agreement


def list_statement(
    *, facility_id=None, physician_id=None, technologist_id=None, active=None, ids=None
):
    """The filtered select behind the agreement list, earliest start first (``ids``: only those).

    ``technologist_id`` finds the agreements that cover the technologist: those that list them,
    and those with an empty list at a facility where they hold an active appointment.
    """
    stmt = select(SupervisionAgreement)
    if ids is not None:
        stmt = stmt.where(SupervisionAgreement.id.in_(ids))
    if facility_id:
        stmt = stmt.where(SupervisionAgreement.facility_id == facility_id)
    if physician_id:
        stmt = stmt.where(SupervisionAgreement.physician_id == physician_id)
    if active is not None:
        stmt = stmt.where(SupervisionAgreement.active == active)
    if technologist_id:
        listed = select(agreement_technologists.c.agreement_id).where(
            agreement_technologists.c.technologist_id == technologist_id
        )
        appointed_at = select(Appointment.facility_id).where(
            Appointment.person_id == technologist_id, Appointment.status == "active"
        )
        stmt = stmt.where(
            or_(
                SupervisionAgreement.id.in_(listed),
                and_(
                    ~SupervisionAgreement.technologists.any(),
                    SupervisionAgreement.facility_id.in_(appointed_at),
                ),
            )
        )
    return stmt.order_by(SupervisionAgreement.effective_from, SupervisionAgreement.id)


def agreement_fact(record, technologist_ids: Iterable[str] | None = None) -> engine.AgreementFact:
    """An agreement (ORM object, or Core row with the table's column names and the listed
    ``technologist_ids`` given) as the rules engine reads it."""
    if technologist_ids is None:
        technologist_ids = getattr(record, "technologist_ids", ())
    return engine.AgreementFact(
        id=record.id,
        facility_id=record.facility_id,
        physician_id=record.physician_id,
        technologist_ids=frozenset(technologist_ids),
        modes=frozenset(record.modes or ()),
        max_concurrent_cases=record.max_concurrent_cases,
        effective_from=record.effective_from,
        effective_to=record.effective_to,
        active=record.active,
    )


@dataclass(frozen=True)
class Supervisor:
    """A physician whose agreement covers a technologist, at a facility where they work."""

    technologist_id: str
    physician_id: str
    physician_name: str
    physician_email: str | None
    facility_id: str
    facility_name: str
    agreement_id: str


def supervisors(*, session, technologist_ids: Iterable[str], on: date) -> list[Supervisor]:
    """Who supervises each technologist on ``on``: the physicians of agreements in force that
    day (``engine.agreement_standing``) that cover them (``engine.agreement_covers``) at an
    active facility where their own appointment is in force (``engine.appointment_standing``).

    Inactive physicians are left out. Three statements, and one more per 500 technologists.
    """
    wanted = set(technologist_ids)
    if not wanted:
        return []
    # SQL narrows by the day; the engine says which of these agreements count
    in_force_by_date = (
        SupervisionAgreement.effective_from <= on,
        or_(SupervisionAgreement.effective_to.is_(None), SupervisionAgreement.effective_to >= on),
        Facility.active.is_(True),
        Person.active.is_(True),
    )
    rows = session.execute(
        select(
            *SupervisionAgreement.__table__.c,
            Facility.name.label("facility_name"),
            Person.given_name,
            Person.family_name,
            Person.email,
        )
        .join(Facility, Facility.id == SupervisionAgreement.facility_id)
        .join(Person, Person.id == SupervisionAgreement.physician_id)
        .where(*in_force_by_date)
    ).all()
    listed: dict[str, set[str]] = defaultdict(set)
    for agreement_id, technologist_id in session.execute(
        select(agreement_technologists.c.agreement_id, agreement_technologists.c.technologist_id)
        .join(
            SupervisionAgreement,
            SupervisionAgreement.id == agreement_technologists.c.agreement_id,
        )
        .join(Facility, Facility.id == SupervisionAgreement.facility_id)
        .join(Person, Person.id == SupervisionAgreement.physician_id)
        .where(*in_force_by_date)
    ):
        listed[agreement_id].add(technologist_id)
    working_at: dict[str, set[str]] = defaultdict(set)
    ids = sorted(wanted)
    for start in range(0, len(ids), CHUNK):
        for record in session.execute(
            select(*Appointment.__table__.c).where(
                Appointment.person_id.in_(ids[start : start + CHUNK]),
                Appointment.starts_on <= on,
                or_(Appointment.expires_on.is_(None), Appointment.expires_on >= on),
            )
        ):
            if engine.appointment_standing(appointment_fact(record), on).counts:
                working_at[record.facility_id].add(record.person_id)
    found = []
    for row in rows:
        fact = agreement_fact(row, listed.get(row.id, ()))
        if not engine.agreement_standing(fact, on).counts:
            continue
        for technologist_id in sorted(working_at.get(row.facility_id, ())):
            if engine.agreement_covers(fact, technologist_id):
                found.append(
                    Supervisor(
                        technologist_id=technologist_id,
                        physician_id=row.physician_id,
                        physician_name=f"{row.given_name} {row.family_name}",
                        physician_email=row.email,
                        facility_id=row.facility_id,
                        facility_name=row.facility_name,
                        agreement_id=row.id,
                    )
                )
    return found


def _technologists(session, ids: list[str], errors: dict) -> list[Person]:
    """The people named by ``ids``, by id; offenders are reported under technologist_ids."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}
    unknown = [i for i in ids if i not in found]
    not_technologists = [found[i] for i in ids if i in found and found[i].kind != "technologist"]
    messages = []
    if unknown:
        messages.append(
            f"No person has the id{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."
        )
    if not_technologists:
        names = ", ".join(f"{p.name} ({p.id})" for p in not_technologists)
        messages.append(f"Not technologists: {names}.")
    if messages:
        errors["technologist_ids"] = messages
        return []
    # the relationship reads back ordered by id: keep the same order in memory
    return sorted((found[i] for i in ids), key=lambda person: person.id)
