"""What lapses soon: credentials, facility appointments and supervision agreements.

One select, ``expirations_statement``, answers the question for the API and the admin UI's
dashboard (both page it in the database) and, through ``expiring_within``, for ``registry export
expirations``, the expiration scan and the coordinators' digest. Whether a renewal takes over
an item is the rules engine's verdict, asked before the select is built (``without_renewed``).
``days_left`` is the one rule for how many days an item has left.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from registry.agreements.models import SupervisionAgreement
from registry.agreements.service import agreement_fact
from registry.config import accepts_unverified
from registry.credentials.models import Credential, CredentialType
from registry.dates import days_left, local_date, organisation_timezone
from registry.expiration_kinds import ITEM_TYPES, KINDS  # noqa: F401 - the export CLI imports KINDS here
from registry.facilities.models import Appointment, Facility
from registry.people.models import PERSON_KINDS, Person
from registry.qualification import engine, records

ITEM_ORDER = {name: index for index, name in enumerate(ITEM_TYPES)}
APPOINTMENT_TYPE = "appointment"
AGREEMENT_TYPE = "supervision_agreement"


def expiring_within(
    *,
    session,
    within_days: int,
    include_expired: bool = True,
    lapsed_within: int | None = None,
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
    active facilities, and not already replaced by a renewal that counts (``without_renewed``).
    ``include_expired`` adds what has already lapsed; ``lapsed_within`` limits that to what
    lapsed at most so many days ago. ``kind`` is an item type (``credential``, ``appointment``,
    ``agreement``) or a person kind (``technologist``, ``physician``). ``facility_id`` keeps
    that facility's appointments and agreements and the credentials of people with an active
    appointment there.
    """
    statement = expirations_statement(
        session=session,
        within_days=within_days,
        include_expired=include_expired,
        lapsed_within=lapsed_within,
        kind=kind,
        facility_id=facility_id,
        today=today,
        timezone=timezone,
    )
    zone = organisation_timezone(timezone)
    return [expiration_item(row, today=today, timezone=zone) for row in session.execute(statement)]


def expirations_statement(
    *,
    session,
    within_days: int,
    include_expired: bool = True,
    lapsed_within: int | None = None,
    kind: str | None = None,
    facility_id: str | None = None,
    today: date | datetime,
    timezone: str | None = None,
):
    """The select behind ``expiring_within`` (same arguments), soonest first, for callers that
    page or count in the database; ``expiration_item`` turns each row into an item.

    ``days_left`` is filtered and ordered on in SQL, counted from each item's local date: the
    facilities' time zones are read first (one small query) to know each zone's date. Which
    items are renewed is the rules engine's answer, asked before the select is built.
    """
    organisation_zone = organisation_timezone(timezone)
    fewest = None if lapsed_within is None else -lapsed_within
    if not include_expired:
        fewest = 0
    window = _Window(
        organisation_today=local_date(today, organisation_zone),
        most_days_left=within_days,
        fewest_days_left=fewest,
    )
    if isinstance(today, datetime):
        zones = session.scalars(select(Facility.timezone).distinct())
        window.facility_today = {zone: local_date(today, zone) for zone in zones}
    person_kind = kind if kind in PERSON_KINDS else None
    builders = {
        "credential": _credentials_statement,
        "appointment": _appointments_statement,
        "agreement": _agreements_statement,
    }
    parts = [
        without_renewed(session, item_type, build(window, person_kind, facility_id))
        for item_type, build in builders.items()
        if kind not in ITEM_TYPES or kind == item_type
    ]
    items = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("expirations")
    return select(items).order_by(
        items.c.days_left, items.c.expires_on, items.c.item_rank, items.c.item_id
    )


def count_lapsed_and_within(*, session, statement, windows: tuple[int, ...]) -> dict:
    """How many items of an ``expirations_statement`` have lapsed (key ``"lapsed"``) and how many
    lapse within each of ``windows`` days from today (key: the number of days), in one query."""
    items = statement.order_by(None).subquery()

    def how_many(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    columns = [how_many(items.c.days_left < 0)]
    columns += [how_many(items.c.days_left.between(0, days)) for days in windows]
    row = session.execute(select(*columns)).one()
    return {"lapsed": row[0], **{days: row[i + 1] for i, days in enumerate(windows)}}


def expiration_item(row, *, today: date | datetime, timezone: str) -> dict:
    """One row of ``expirations_statement`` as an expiration item (see ``expiring_within``);
    ``timezone`` is the organisation's, used for credentials."""
    return {
        "item_type": row.item_type,
        "item_id": row.item_id,
        "person_id": row.person_id,
        "facility_id": row.facility_id,
        "type": row.type,
        "expires_on": row.expires_on,
        "days_left": days_left(row.expires_on, as_of=today, timezone=row.timezone or timezone),
        "person_name": row.person_name,
        "facility_name": row.facility_name,
        "type_name": row.type_name,
        "jurisdiction": row.jurisdiction,
    }


def current_lapse_date(*, session, item_type: str, item_id: str) -> date | None:
    """The date an item lapses if it should still be alerted about (see ``expiring_within``).

    None when the item is gone, revoked, ended, renewed (``without_renewed``), or belongs to an
    inactive person or facility: a queued notice about it no longer applies.
    """
    build = {
        "credential": (_credentials_statement, Credential),
        "appointment": (_appointments_statement, Appointment),
        "agreement": (_agreements_statement, SupervisionAgreement),
    }.get(item_type)
    if build is None:
        return None
    statement, model = build
    one = statement(_Window(), None, None).where(model.id == item_id)
    row = session.execute(without_renewed(session, item_type, one)).first()
    return row.expires_on if row else None


# --- renewals: left out only when the rules engine counts the renewal ----------------------


@dataclass(frozen=True)
class _Renewable:
    """How an item type is renewed: by a record of its table whose ``holder`` columns equal
    the listed item's (its column, the item's); ``read``: the columns its fact is built from."""

    model: type
    last_day: str
    holder: tuple[tuple[str, str], ...]
    read: tuple[str, ...]


_RENEWABLE = {
    "credential": _Renewable(
        Credential,
        "expires_on",
        (("person_id", "person_id"), ("type", "type")),
        (
            "id",
            "person_id",
            "type",
            "status",
            "verification_method",
            "verified_on",
            "issued_on",
            "expires_on",
            "jurisdiction",
            "revoked_on",
        ),
    ),
    "appointment": _Renewable(
        Appointment,
        "expires_on",
        (("person_id", "person_id"), ("facility_id", "facility_id")),
        ("id", "person_id", "facility_id", "status", "starts_on", "expires_on"),
    ),
    "agreement": _Renewable(
        SupervisionAgreement,
        "effective_to",
        (("physician_id", "person_id"), ("facility_id", "facility_id")),
        (
            "id",
            "facility_id",
            "physician_id",
            "modes",
            "max_concurrent_cases",
            "effective_from",
            "effective_to",
            "active",
        ),
    ),
}


def without_renewed(session, item_type: str, statement):
    """``statement`` (a part of ``expirations_statement``) without the items that a renewal
    takes over: a record of the same credential (type, and a license's jurisdiction),
    appointment (person, facility) or agreement (physician, facility) that the engine counts
    on the day after the item's last valid day.

    SQL only narrows by dates; the verdict is the engine's (``renewed_ids``), in one to three
    queries however many items.
    """
    renewed = renewed_ids(session=session, item_type=item_type, items=statement)
    if not renewed:
        return statement
    model = _RENEWABLE[item_type].model
    # inlined, so that thousands of ids meet no limit on bound parameters
    ids = bindparam(f"renewed_{item_type}", sorted(renewed), expanding=True, literal_execute=True)
    return statement.where(model.id.not_in(ids))


def renewed_ids(*, session, item_type: str, items) -> set[str]:
    """The ids among ``items`` (rows of an ``expirations_statement`` part) that a renewal the
    engine counts takes over (see ``without_renewed``)."""
    spec = _RENEWABLE[item_type]
    listed = items.subquery()
    renewal = spec.model.__table__.alias("renewal")
    later = renewal.c[spec.last_day]
    # each row: an item, and a later record of its holder with the columns its fact needs
    pairs = session.execute(
        select(
            listed.c.item_id.label("lapsing_id"),
            listed.c.expires_on.label("lapsing_last_day"),
            listed.c.jurisdiction.label("lapsing_jurisdiction"),
            *(renewal.c[column] for column in spec.read),
        ).join_from(
            listed,
            renewal,
            and_(
                *(renewal.c[mine] == listed.c[theirs] for mine, theirs in spec.holder),
                renewal.c.id != listed.c.item_id,
                or_(later.is_(None), later > listed.c.expires_on),
            ),
        )
    ).all()
    if not pairs:
        return set()
    counts = _JUDGES[item_type](session)
    renewed: set[str] = set()
    for row in pairs:
        if row.lapsing_id in renewed:
            continue
        day = _day_after(row.lapsing_last_day)
        if day is not None and counts(row, day):
            renewed.add(row.lapsing_id)
    return renewed


def _day_after(last_day: date) -> date | None:
    # the calendar's last day has no day after: nothing can take over from it
    return None if last_day == date.max else last_day + timedelta(days=1)


def _credential_judge(session):
    """Whether a credential renewal is the same credential and counts on a day, with its
    holder's revocations and the configured policy."""
    policy = engine.Policy(accept_unverified=accepts_unverified())
    types = records.credential_types(session)
    # revocations are few: all of them, rather than the holders' through the window again
    revoked = session.execute(
        select(*(Credential.__table__.c[column] for column in _RENEWABLE["credential"].read)).where(
            Credential.status == "revoked"
        )
    ).all()
    by_person: dict[str, list] = {}
    for row in revoked:
        by_person.setdefault(row.person_id, []).append(row)
    revocations = {person: records.revocation_facts(rows) for person, rows in by_person.items()}

    def counts(row, day: date) -> bool:
        renewal = records.credential_fact(row)
        return (
            engine.same_credential(
                (row.type, row.lapsing_jurisdiction),
                (renewal.type_code, renewal.jurisdiction),
                types,
                policy.license_type,
            )
            and engine.credential_standing(
                renewal,
                day,
                policy=policy,
                credential_types=types,
                revocations=revocations.get(row.person_id, ()),
            ).counts
        )

    return counts


def _appointment_judge(session):
    """Whether an appointment renewal is in force on a day."""
    return lambda row, day: engine.appointment_standing(records.appointment_fact(row), day).counts


def _agreement_judge(session):
    """Whether an agreement renewal is in force on a day."""
    return lambda row, day: engine.agreement_standing(agreement_fact(row, ()), day).counts


_JUDGES = {
    "credential": _credential_judge,
    "appointment": _appointment_judge,
    "agreement": _agreement_judge,
}


class DaysBetween(FunctionElement):
    """Whole days from the first date to the second, in SQL (``days_left`` to order and filter
    on); the values shown come from ``days_left``, which counts the same way."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(DaysBetween)
def _days_between(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    # PostgreSQL: a date minus a date is a number of days
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


@compiles(DaysBetween, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    # SQLite keeps dates as ISO text
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@dataclass
class _Window:
    """The days_left wanted, counted from the organisation's date (credentials) or the date in
    each facility's zone; no ``organisation_today``: every item, with no days_left column."""

    organisation_today: date | None = None
    facility_today: dict[str, date] = field(default_factory=dict)
    most_days_left: int | None = None
    fewest_days_left: int | None = None

    def _today(self, zone_column):
        organisation = literal(self.organisation_today, Date)
        if zone_column is None or not self.facility_today:
            return organisation
        dates = {zone: literal(day, Date) for zone, day in self.facility_today.items()}
        return case(dates, value=zone_column, else_=organisation)

    def apply(self, stmt, expires_column, zone_column=None):
        stmt = stmt.where(expires_column.is_not(None))
        if self.organisation_today is None:
            return stmt
        left = DaysBetween(self._today(zone_column), expires_column)
        dates = [self.organisation_today, *self.facility_today.values()]
        # the plain date bounds let an index on the lapse date narrow the rows first
        if self.most_days_left is not None:
            latest = max(dates) + timedelta(days=self.most_days_left)
            stmt = stmt.where(expires_column <= latest, left <= self.most_days_left)
        if self.fewest_days_left is not None:
            earliest = min(dates) + timedelta(days=self.fewest_days_left)
            stmt = stmt.where(expires_column >= earliest, left >= self.fewest_days_left)
        return stmt.add_columns(left.label("days_left"))


def _person_name():
    return (Person.given_name + " " + Person.family_name).label("person_name")


def _constant(value: str | int | None, label: str):
    # the same columns, in the same order, in each part of the union
    if value is None:
        return cast(null(), String).label(label)
    if isinstance(value, int):
        return literal_column(str(value), Integer).label(label)
    return literal_column("'" + value.replace("'", "''") + "'", String).label(label)


def _item_columns(item_type: str, *, item_id, person_id, expires_on, facility=None, kind=None):
    """item_type, item_rank, item_id, person_id, facility_id, type, type_name, jurisdiction,
    expires_on, person_name, facility_name, timezone (days_left is added by the window)."""
    if item_type == "credential":
        what = [
            _constant(None, "facility_id"),
            Credential.type.label("type"),
            CredentialType.name.label("type_name"),
            Credential.jurisdiction.label("jurisdiction"),
        ]
        where = [_constant(None, "facility_name"), _constant(None, "timezone")]
    else:
        what = [
            facility.label("facility_id"),
            _constant(kind[0], "type"),
            _constant(kind[1], "type_name"),
            _constant(None, "jurisdiction"),
        ]
        where = [Facility.name.label("facility_name"), Facility.timezone.label("timezone")]
    return [
        _constant(item_type, "item_type"),
        _constant(ITEM_ORDER[item_type], "item_rank"),
        item_id.label("item_id"),
        person_id.label("person_id"),
        *what,
        expires_on.label("expires_on"),
        _person_name(),
        *where,
    ]


def _credentials_statement(window: _Window, person_kind: str | None, facility_id: str | None):
    columns = _item_columns(
        "credential",
        item_id=Credential.id,
        person_id=Credential.person_id,
        expires_on=Credential.expires_on,
    )
    stmt = (
        select(*columns)
        .join(Person, Person.id == Credential.person_id)
        .join(CredentialType, CredentialType.code == Credential.type)
        .where(Credential.status == "active", Person.active.is_(True))
    )
    stmt = window.apply(stmt, Credential.expires_on)
    if person_kind:
        stmt = stmt.where(Person.kind == person_kind)
    if facility_id:
        works_there = select(Appointment.person_id).where(
            Appointment.facility_id == facility_id, Appointment.status == "active"
        )
        stmt = stmt.where(Credential.person_id.in_(works_there))
    return stmt


def _appointments_statement(window: _Window, person_kind: str | None, facility_id: str | None):
    columns = _item_columns(
        "appointment",
        item_id=Appointment.id,
        person_id=Appointment.person_id,
        expires_on=Appointment.expires_on,
        facility=Appointment.facility_id,
        kind=(APPOINTMENT_TYPE, "Facility appointment"),
    )
    stmt = (
        select(*columns)
        .join(Person, Person.id == Appointment.person_id)
        .join(Facility, Facility.id == Appointment.facility_id)
        .where(
            Appointment.status == "active",
            Person.active.is_(True),
            Facility.active.is_(True),
        )
    )
    stmt = window.apply(stmt, Appointment.expires_on, Facility.timezone)
    if person_kind:
        stmt = stmt.where(Person.kind == person_kind)
    if facility_id:
        stmt = stmt.where(Appointment.facility_id == facility_id)
    return stmt


def _agreements_statement(window: _Window, person_kind: str | None, facility_id: str | None):
    columns = _item_columns(
        "agreement",
        item_id=SupervisionAgreement.id,
        person_id=SupervisionAgreement.physician_id,
        expires_on=SupervisionAgreement.effective_to,
        facility=SupervisionAgreement.facility_id,
        kind=(AGREEMENT_TYPE, "Supervision agreement"),
    )
    stmt = (
        select(*columns)
        .join(Person, Person.id == SupervisionAgreement.physician_id)
        .join(Facility, Facility.id == SupervisionAgreement.facility_id)
        .where(
            SupervisionAgreement.active.is_(True),
            Person.active.is_(True),
            Facility.active.is_(True),
        )
    )
    stmt = window.apply(stmt, SupervisionAgreement.effective_to, Facility.timezone)
    if person_kind:
        stmt = stmt.where(Person.kind == person_kind)
    if facility_id:
        stmt = stmt.where(SupervisionAgreement.facility_id == facility_id)
    return stmt
