"""Facilities and the appointments (privileges) people hold there."""

from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from registry.credentials import service as credentials
from registry.errors import Conflict, InvalidData, NotFound
from registry.facilities.models import Appointment, Facility
from registry.ids import find
from registry.people import service as people
from schemas.base import require_order


def get(*, session, facility_id: str) -> Facility:
    """The facility with this id, or NotFound."""
    found = find(session, Facility, facility_id)
    if found is None:
        raise NotFound(f"facility {facility_id!r} not found")
    return found


def create(*, session, data: dict) -> Facility:
    """Add a facility (its required credentials must be catalogue codes)."""
    values = dict(data)
    _check_unique(session, values)
    _normalise_required_credentials(session, values)
    facility = Facility(**values)
    session.add(facility)
    session.flush()
    return facility


def update(*, session, facility: Facility, data: dict) -> Facility:
    """Apply a partial update (deactivate with ``active: False``; nothing is deleted)."""
    values = dict(data)
    _check_unique(session, values, facility)
    _normalise_required_credentials(session, values)
    for key, value in values.items():
        setattr(facility, key, value)
    session.flush()
    return facility


def list_statement(*, active=None, state=None, q=None, external_id=None):
    """The filtered select behind the facility list, by name."""
    stmt = select(Facility)
    if active is not None:
        stmt = stmt.where(Facility.active == active)
    if state:
        stmt = stmt.where(Facility.state == state)
    if external_id:
        stmt = stmt.where(Facility.external_id == external_id)
    if q and q.strip():
        # autoescape: a "%" or "_" the user typed is searched for, not a wildcard
        part = q.strip().lower()
        stmt = stmt.where(
            or_(
                func.lower(Facility.name).contains(part, autoescape=True),
                func.lower(Facility.external_id).contains(part, autoescape=True),
            )
        )
    return stmt.order_by(Facility.name, Facility.id)


def by_name(*, session, active: bool | None = None) -> list[Facility]:
    """Facilities by name (only the active or inactive ones when ``active`` says so)."""
    return list(session.scalars(list_statement(active=active)))


def names(*, session, ids) -> dict[str, str]:
    """Facility id -> name for the given ids (unknown ids are left out)."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = session.execute(select(Facility.id, Facility.name).where(Facility.id.in_(wanted)))
    return dict(rows.all())


def find_facility(*, session, facility_id: str | None) -> Facility | None:
    """The facility with this id, or None (a malformed or unknown id included)."""
    return find(session, Facility, facility_id)


def appointed_people_statement(*, facility_id: str):
    """The ids of the people with an appointment at the facility, in any status."""
    return select(Appointment.person_id).where(Appointment.facility_id == facility_id)


def get_appointment(*, session, appointment_id: str) -> Appointment:
    """The appointment with this id, or NotFound."""
    found = find(session, Appointment, appointment_id)
    if found is None:
        raise NotFound(f"appointment {appointment_id!r} not found")
    return found


def create_appointment(*, session, facility_id: str, data: dict) -> Appointment:
    """Record a person's appointment (privileges) at a facility; ``data`` names the person."""
    facility = get(session=session, facility_id=facility_id)
    values = dict(data)
    person_id = values.pop("person_id", None)
    try:
        person = people.get(session=session, person_id=person_id)
    except NotFound as exc:
        raise InvalidData({"person_id": ["No person has this id."]}) from exc
    appointment = Appointment(person_id=person.id, facility_id=facility.id, **values)
    session.add(appointment)
    session.flush()
    return appointment


def update_appointment(*, session, appointment: Appointment, data: dict) -> Appointment:
    """Renew, suspend or end an appointment (dates are checked against the stored values)."""
    try:
        require_order(data, "starts_on", "expires_on", existing=appointment)
    except ValidationError as exc:
        raise InvalidData(exc.messages) from exc
    for key, value in data.items():
        setattr(appointment, key, value)
    session.flush()
    return appointment


def appointments_statement(*, facility_id=None, person_id=None, status=None, ids=None):
    """The filtered select behind the appointment lists: latest expiry last, open-ended last."""
    stmt = select(Appointment)
    if ids is not None:
        stmt = stmt.where(Appointment.id.in_(ids))
    if facility_id:
        stmt = stmt.where(Appointment.facility_id == facility_id)
    if person_id:
        stmt = stmt.where(Appointment.person_id == person_id)
    if status:
        stmt = stmt.where(Appointment.status == status)
    return stmt.order_by(Appointment.expires_on.is_(None), Appointment.expires_on, Appointment.id)


def _check_unique(session, values: dict, current: Facility | None = None) -> None:
    external_id = values.get("external_id")
    if not external_id or (current is not None and current.external_id == external_id):
        return
    other = session.scalar(select(Facility.id).where(Facility.external_id == external_id))
    if other:
        raise Conflict(
            f"another facility already has external_id {external_id!r}",
            errors={"external_id": [f"Already used by facility {other}."]},
        )


def _normalise_required_credentials(session, values: dict) -> None:
    if values.get("required_credentials") is None:
        return
    codes = list(dict.fromkeys(values["required_credentials"]))
    unknown = credentials.unknown_types(session=session, codes=codes)
    if unknown:
        raise InvalidData(
            {
                "required_credentials": [
                    f"Unknown credential type{'s' if len(unknown) > 1 else ''}: "
                    f"{', '.join(unknown)}. GET /api/v1/credential-types lists the codes."
                ]
            }
        )
    values["required_credentials"] = codes
