"""What lapses soon: credentials, facility appointments and supervision agreements.

One function, ``expiring_within``, answers the question for the API, the admin UI's dashboard,
``registry export expirations``, the expiration scan and the coordinators' digest.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from registry import clock
from registry.agreements.models import SupervisionAgreement
from registry.config import from_environment
from registry.credentials.models import Credential, CredentialType
from registry.facilities.models import Appointment, Facility
from registry.people.models import PERSON_KINDS, Person

ITEM_TYPES = ("credential", "appointment", "agreement")
# ``kind`` narrows the list by what lapses or by whose it is: both value sets are disjoint.
KINDS = ITEM_TYPES + PERSON_KINDS
ITEM_ORDER = {name: index for index, name in enumerate(ITEM_TYPES)}
APPOINTMENT_TYPE = "appointment"
AGREEMENT_TYPE = "supervision_agreement"


def organisation_timezone(timezone: str | None = None) -> str:
    """The zone given, else the organisation's: ``REGISTRY_TIMEZONE`` from the configuration."""
    if timezone:
        return timezone
    if has_app_context():
        return current_app.config["REGISTRY_TIMEZONE"]
    # outside an app (a script, a shell): the same setting, read the same way the app reads it
    return from_environment()["REGISTRY_TIMEZONE"]


def local_date(today: date | datetime, timezone: str) -> date:
    """The calendar date in ``timezone`` at the instant ``today`` (a plain date is kept as is)."""
    if isinstance(today, datetime):
        if today.tzinfo is None:
            raise ValueError("a local date needs an aware datetime or a date")
        return today.astimezone(ZoneInfo(timezone)).date()
    return today


def days_left(
    expires_on: date | None,
    *,
    as_of: date | datetime | None = None,
    timezone: str | None = None,
) -> int | None:
    """Days from the local date to ``expires_on``, the last valid day: 0 on that day, -1 the day
    after it lapsed; None when it never expires.

    The one rule for every ``days_left`` the registry shows (API, admin pages, alerts, CSV).
    ``as_of`` is an instant (an aware datetime) or a local date, by default now
    (``registry.clock``); ``timezone`` is where the item is used, by default the organisation's.
    """
    if expires_on is None:
        return None
    zone = organisation_timezone(timezone)
    today = clock.today(zone) if as_of is None else local_date(as_of, zone)
    return (expires_on - today).days


def expiring_within(
    *,
    session,
    within_days: int,
    include_expired: bool = True,
    kind: str | None = None,
    facility_id: str | None = None,
    today: date | datetime,
    timezone: str | None = None,
) -> list[dict]:
    """Credentials, appointments and agreements that lapse within ``within_days``, soonest first.

    Each item is ``{item_type, item_id, person_id, facility_id, type, expires_on, days_left}``
    plus ``person_name``, ``facility_name``, ``type_name`` and ``jurisdiction`` for display.
    ``expires_on`` is the last valid day (inclusive), so ``days_left`` is 0 on that day and -1
    the day after it lapsed.

    Time rule: ``days_left`` counts from the local date where the item is used. Pass ``today``
    as an aware datetime (the instant, normally ``clock.now()``) and appointments and agreements
    count from their facility's local date, credentials (a person's, tied to no facility) from
    the organisation's local date in ``timezone`` (default ``REGISTRY_TIMEZONE``). A plain
    ``date`` is taken as the local date everywhere.

    Only items that still matter are listed: credentials with status ``active`` (not suspended,
    revoked or entered in error), ``active`` appointments and agreements, of active people at
    active facilities, and not already replaced by a renewal (a newer active record of the same
    person and type, jurisdiction, facility or agreement that lapses later or never).
    ``include_expired`` adds what has already lapsed. ``kind`` is an item type (``credential``,
    ``appointment``, ``agreement``) or a person kind (``technologist``, ``physician``).
    ``facility_id`` keeps that facility's appointments and agreements and the credentials of
    people with an active appointment there.
    """
    organisation_zone = organisation_timezone(timezone)
    # Local dates differ from the UTC date by at most one day: bound the query, then be exact.
    if isinstance(today, datetime):
        utc_date = local_date(today, "UTC")
        earliest, latest = utc_date - timedelta(days=1), utc_date + timedelta(days=1)
    else:
        earliest = latest = today
    bounds = _Bounds(
        latest_expiry=latest + timedelta(days=within_days),
        earliest_expiry=None if include_expired else earliest,
    )
    item_types = [kind] if kind in ITEM_TYPES else list(ITEM_TYPES)
    person_kind = kind if kind in PERSON_KINDS else None
    items: list[dict] = []
    if "credential" in item_types:
        stmt = _credentials_statement(bounds, person_kind, facility_id)
        for row in session.execute(stmt):
            items.append(_item("credential", row, today, organisation_zone))
    if "appointment" in item_types:
        for row in session.execute(_appointments_statement(bounds, person_kind, facility_id)):
            items.append(_item("appointment", row, today, row.timezone))
    if "agreement" in item_types:
        for row in session.execute(_agreements_statement(bounds, person_kind, facility_id)):
            items.append(_item("agreement", row, today, row.timezone))
    items = [
        item
        for item in items
        if item["days_left"] <= within_days and (include_expired or item["days_left"] >= 0)
    ]
    items.sort(
        key=lambda i: (i["days_left"], i["expires_on"], ITEM_ORDER[i["item_type"]], i["item_id"])
    )
    return items


def current_lapse_date(*, session, item_type: str, item_id: str) -> date | None:
    """The date an item lapses if it should still be alerted about (see ``expiring_within``).

    None when the item is gone, revoked, ended, renewed by a newer record, or belongs to an
    inactive person or facility: a queued notice about it no longer applies.
    """
    bounds = _Bounds(latest_expiry=None, earliest_expiry=None)
    build = {
        "credential": (_credentials_statement, Credential),
        "appointment": (_appointments_statement, Appointment),
        "agreement": (_agreements_statement, SupervisionAgreement),
    }.get(item_type)
    if build is None:
        return None
    statement, model = build
    row = session.execute(statement(bounds, None, None).where(model.id == item_id)).first()
    return row.expires_on if row else None


class _Bounds:
    def __init__(self, *, latest_expiry: date | None, earliest_expiry: date | None):
        self.latest_expiry = latest_expiry
        self.earliest_expiry = earliest_expiry

    def apply(self, stmt, column):
        stmt = stmt.where(column.is_not(None))
        if self.latest_expiry is not None:
            stmt = stmt.where(column <= self.latest_expiry)
        if self.earliest_expiry is not None:
            stmt = stmt.where(column >= self.earliest_expiry)
        return stmt


def _person_name():
    return (Person.given_name + " " + Person.family_name).label("person_name")


def _credentials_statement(bounds: _Bounds, person_kind: str | None, facility_id: str | None):
    newer = aliased(Credential)
    renewed = exists().where(
        newer.person_id == Credential.person_id,
        newer.type == Credential.type,
        newer.id != Credential.id,
        newer.status == "active",
        func.coalesce(newer.jurisdiction, "") == func.coalesce(Credential.jurisdiction, ""),
        or_(newer.expires_on.is_(None), newer.expires_on > Credential.expires_on),
    )
    stmt = (
        select(
            Credential.id,
            Credential.person_id,
            Credential.type,
            Credential.expires_on,
            Credential.jurisdiction,
            CredentialType.name.label("type_name"),
            _person_name(),
        )
        .join(Person, Person.id == Credential.person_id)
        .join(CredentialType, CredentialType.code == Credential.type)
        .where(Credential.status == "active", Person.active.is_(True), ~renewed)
    )
    stmt = bounds.apply(stmt, Credential.expires_on)
    if person_kind:
        stmt = stmt.where(Person.kind == person_kind)
    if facility_id:
        works_there = select(Appointment.person_id).where(
            Appointment.facility_id == facility_id, Appointment.status == "active"
        )
        stmt = stmt.where(Credential.person_id.in_(works_there))
    return stmt


def _appointments_statement(bounds: _Bounds, person_kind: str | None, facility_id: str | None):
    newer = aliased(Appointment)
    renewed = exists().where(
        newer.person_id == Appointment.person_id,
        newer.facility_id == Appointment.facility_id,
        newer.id != Appointment.id,
        newer.status == "active",
        or_(newer.expires_on.is_(None), newer.expires_on > Appointment.expires_on),
    )
    stmt = (
        select(
            Appointment.id,
            Appointment.person_id,
            Appointment.facility_id,
            Appointment.expires_on,
            Facility.name.label("facility_name"),
            Facility.timezone,
            _person_name(),
        )
        .join(Person, Person.id == Appointment.person_id)
        .join(Facility, Facility.id == Appointment.facility_id)
        .where(
            Appointment.status == "active",
            Person.active.is_(True),
            Facility.active.is_(True),
            ~renewed,
        )
    )
    stmt = bounds.apply(stmt, Appointment.expires_on)
    if person_kind:
        stmt = stmt.where(Person.kind == person_kind)
    if facility_id:
        stmt = stmt.where(Appointment.facility_id == facility_id)
    return stmt


def _agreements_statement(bounds: _Bounds, person_kind: str | None, facility_id: str | None):
    newer = aliased(SupervisionAgreement)
    renewed = exists().where(
        newer.physician_id == SupervisionAgreement.physician_id,
        newer.facility_id == SupervisionAgreement.facility_id,
        newer.id != SupervisionAgreement.id,
        newer.active.is_(True),
        or_(newer.effective_to.is_(None), newer.effective_to > SupervisionAgreement.effective_to),
    )
    stmt = (
        select(
            SupervisionAgreement.id,
            SupervisionAgreement.physician_id.label("person_id"),
            SupervisionAgreement.facility_id,
            SupervisionAgreement.effective_to.label("expires_on"),
            Facility.name.label("facility_name"),
            Facility.timezone,
            _person_name(),
        )
        .join(Person, Person.id == SupervisionAgreement.physician_id)
        .join(Facility, Facility.id == SupervisionAgreement.facility_id)
        .where(
            SupervisionAgreement.active.is_(True),
            Person.active.is_(True),
            Facility.active.is_(True),
            ~renewed,
        )
    )
    stmt = bounds.apply(stmt, SupervisionAgreement.effective_to)
    if person_kind:
        stmt = stmt.where(Person.kind == person_kind)
    if facility_id:
        stmt = stmt.where(SupervisionAgreement.facility_id == facility_id)
    return stmt


def _item(item_type: str, row, today: date | datetime, timezone: str) -> dict:
    mapping = row._mapping
    jurisdiction = None
    if item_type == "credential":
        facility_id = facility_name = None
        type_code, type_name, jurisdiction = row.type, row.type_name, row.jurisdiction
    else:
        facility_id, facility_name = row.facility_id, row.facility_name
        type_code = APPOINTMENT_TYPE if item_type == "appointment" else AGREEMENT_TYPE
        type_name = (
            "Facility appointment" if item_type == "appointment" else "Supervision agreement"
        )
    return {
        "item_type": item_type,
        "item_id": row.id,
        "person_id": mapping["person_id"],
        "facility_id": facility_id,
        "type": type_code,
        "expires_on": row.expires_on,
        "days_left": days_left(row.expires_on, as_of=today, timezone=timezone),
        "person_name": row.person_name,
        "facility_name": facility_name,
        "type_name": type_name,
        "jurisdiction": jurisdiction,
    }
