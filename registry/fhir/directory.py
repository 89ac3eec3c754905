"""What /fhir/r4 serves: each resource type's rows, search parameters and FHIR rendering.

One table, ``RESOURCE_TYPES``, answers the reads, the searches and the CapabilityStatement,
so the statement lists exactly what is served. Whether a record counts today is the rules
engine's answer (``records.credential_standings``, ``engine.appointment_standing``).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, false, func, or_, select

from registry import clock
from registry.credentials.models import Credential, CredentialType
from registry.facilities.models import Appointment, Facility
from registry.fhir import mapping
from registry.people.models import Person
from registry.qualification import engine, records


class SearchError(ValueError):
    """A search the directory cannot answer as asked (a bad value, an unknown modifier)."""


@dataclass(frozen=True)
class Context:
    """What rendering and matching need beyond the rows: the identifier systems, today's date
    (the organisation's, for credentials; an appointment reads its facility's) and the rules'
    policy."""

    systems: mapping.IdentifierSystems
    today: date
    policy: engine.Policy


@dataclass(frozen=True)
class SearchParameter:
    """One search parameter: its FHIR type, what it matches, and its where-clause."""

    name: str
    type: str
    documentation: str
    clause: Callable[[str, str | None, Context], ColumnElement]
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceType:
    """A resource type the directory serves: its rows in a stable order, its search
    parameters, and how a page of rows becomes resources."""

    name: str
    documentation: str
    statement: Callable[[], object]
    id_column: object
    parameters: tuple[SearchParameter, ...]
    render: Callable[[object, list, Context], list]

    def parameter(self, name: str) -> SearchParameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def _split_escaped(text: str, separator: str) -> list[str]:
    """``text`` cut at each ``separator`` that no backslash escapes (FHIR escapes a value's
    own commas and bars); the parts keep their escapes."""
    parts, current, chars = [], [], iter(text)
    for ch in chars:
        if ch == "\\":
            current += [ch, next(chars, "")]
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    """A value with FHIR's backslash escapes resolved."""
    out, chars = [], iter(text)
    for ch in chars:
        out.append(next(chars, "") if ch == "\\" else ch)
    return "".join(out)


def _values(value: str) -> list[str]:
    """A parameter's comma-separated alternatives (FHIR's OR), blanks dropped, escapes kept."""
    return [part.strip() for part in _split_escaped(value, ",") if part.strip()]


def _id_clause(column) -> Callable:
    def clause(value, _modifier, _context):
        return column.in_([_unescape(v) for v in _values(value)])

    return clause


def _reference_clause(column, target_type: str) -> Callable:
    """``Practitioner/ID``, a bare ``ID`` or an absolute URL ending in ``Practitioner/ID``; a
    reference to another type matches nothing."""

    def clause(value, _modifier, _context):
        ids = []
        for part in map(_unescape, _values(value)):
            if "/" in part:
                head, _, last = part.rstrip("/").rpartition("/")
                if head.rpartition("/")[2] != target_type:
                    continue
                part = last
            ids.append(part)
        return column.in_(ids) if ids else false()

    return clause


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _string_clause(*columns) -> Callable:
    """FHIR string search: any of ``columns`` starts with the value, ignoring case;
    ``:contains`` anywhere in it; ``:exact`` equal to it, case and all."""

    def clause(value, modifier, _context):
        alternatives = []
        for text in map(_unescape, _values(value)):
            for column in columns:
                if modifier == "exact":
                    alternatives.append(column == text)
                else:
                    pattern = _escape_like(text.lower()) + "%"
                    if modifier == "contains":
                        pattern = "%" + pattern
                    alternatives.append(func.lower(column).like(pattern, escape="\\"))
        return or_(*alternatives) if alternatives else false()

    return clause


def _split_token(token: str) -> tuple[str | None, str]:
    """``system|value`` as (system, value); a token without an unescaped bar has no system
    (None)."""
    system, *rest = _split_escaped(token, "|")
    if not rest:
        return None, _unescape(system)
    return _unescape(system), _unescape("|".join(rest))


def _person_identifier(value, _modifier, context: Context):
    """NPI or the caller's own id: ``system|value``, ``system|`` (any value of that system) or
    a bare value (either system); a system the registry does not know matches nothing."""
    by_system = {
        mapping.NPI_SYSTEM: Person.npi,
        context.systems.person_external_id: Person.external_id,
    }
    alternatives = []
    for token in _values(value):
        system, code = _split_token(token)
        if system is None:
            alternatives += [Person.npi == code, Person.external_id == code]
        elif system in by_system:
            column = by_system[system]
            alternatives.append(column == code if code else column.is_not(None))
    return or_(*alternatives) if alternatives else false()


def _facility_identifier(value, _modifier, context: Context):
    """The facility's external id, by system (the facility-external-id one) or bare."""
    alternatives = []
    for token in _values(value):
        system, code = _split_token(token)
        if system is None or system == context.systems.facility_external_id:
            column = Facility.external_id
            alternatives.append(column == code if code else column.is_not(None))
    return or_(*alternatives) if alternatives else false()


def _credentials_on_file(session, person_ids) -> dict[str, list]:
    """Each person's credentials that are not entered in error, in one query."""
    held = defaultdict(list)
    if not person_ids:
        return held
    stmt = (
        select(Credential)
        .where(
            Credential.person_id.in_(sorted(person_ids)),
            Credential.status.not_in(engine.IGNORED_CREDENTIAL_STATUSES),
        )
        .order_by(Credential.type, Credential.jurisdiction, Credential.issued_on, Credential.id)
    )
    for credential in session.scalars(stmt):
        held[credential.person_id].append(credential)
    return held


def _standings_today(session, held: dict, context: Context) -> dict[str, engine.Standing]:
    """The engine's standing today of every credential in ``held``, by id (each person's
    revocations weigh on their own other records)."""
    types = records.credential_types(session)
    standings = {}
    for credentials in held.values():
        standings |= records.credential_standings(
            session=session,
            credentials=credentials,
            on=context.today,
            policy=context.policy,
            types=types,
        )
    return standings


def _render_practitioners(session, people: list, context: Context) -> list:
    held = _credentials_on_file(session, {p.id for p in people})
    standings = _standings_today(session, held, context)
    catalogue = {t.code: t for t in session.scalars(select(CredentialType))}
    return [
        mapping.practitioner(person, held[person.id], catalogue, standings, context.systems)
        for person in people
    ]


def _render_roles(session, appointments: list, context: Context) -> list:
    person_ids = {a.person_id for a in appointments}
    facility_ids = {a.facility_id for a in appointments}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    facilities = {
        f.id: f for f in session.scalars(select(Facility).where(Facility.id.in_(facility_ids)))
    }
    return [
        mapping.practitioner_role(
            a,
            people[a.person_id],
            facilities[a.facility_id],
            # privileges end with the facility's own local date
            engine.appointment_standing(
                records.appointment_fact(a), clock.today(facilities[a.facility_id].timezone)
            ),
        )
        for a in appointments
    ]


def _render_organizations(_session, facilities: list, context: Context) -> list:
    return [mapping.organization(f, context.systems) for f in facilities]


def _render_verifications(session, credentials: list, context: Context) -> list:
    held = _credentials_on_file(session, {c.person_id for c in credentials})
    standings = _standings_today(session, held, context)
    return [mapping.verification_result(c, standings[c.id]) for c in credentials]


def _verified_credentials():
    # one VerificationResult per verified credential on file (how and when are both known)
    return (
        select(Credential)
        .where(
            Credential.verification_method.is_not(None),
            Credential.verified_on.is_not(None),
            Credential.status.not_in(engine.IGNORED_CREDENTIAL_STATUSES),
        )
        .order_by(Credential.person_id, Credential.type, Credential.id)
    )


ID_DOC = "The resource's id (comma-separated: any of them)"

RESOURCE_TYPES: dict[str, ResourceType] = {
    rt.name: rt
    for rt in (
        ResourceType(
            name="Practitioner",
            documentation="Technologists and physicians, one qualification per credential on "
            "file with Plan-Net's status (active only while the registry's rules count it).",
            statement=lambda: select(Person).order_by(
                Person.family_name, Person.given_name, Person.id
            ),
            id_column=Person.id,
            parameters=(
                SearchParameter("_id", "token", ID_DOC, _id_clause(Person.id)),
                SearchParameter(
                    "identifier",
                    "token",
                    f"system|value: NPI ({mapping.NPI_SYSTEM}) or the caller's own id; an "
                    "unknown system finds nothing",
                    _person_identifier,
                ),
                SearchParameter(
                    "name",
                    "string",
                    "Given, family or full name starts with it, ignoring case",
                    _string_clause(
                        Person.given_name,
                        Person.family_name,
                        Person.given_name + " " + Person.family_name,
                    ),
                    modifiers=("exact", "contains"),
                ),
            ),
            render=_render_practitioners,
        ),
        ResourceType(
            name="PractitionerRole",
            documentation="One per appointment (privileges at a facility); active while the "
            "appointment is in force today.",
            statement=lambda: select(Appointment).order_by(
                Appointment.person_id, Appointment.starts_on, Appointment.id
            ),
            id_column=Appointment.id,
            parameters=(
                SearchParameter("_id", "token", ID_DOC, _id_clause(Appointment.id)),
                SearchParameter(
                    "practitioner",
                    "reference",
                    "Practitioner/ID (or the bare id)",
                    _reference_clause(Appointment.person_id, "Practitioner"),
                ),
                SearchParameter(
                    "organization",
                    "reference",
                    "Organization/ID (or the bare id)",
                    _reference_clause(Appointment.facility_id, "Organization"),
                ),
            ),
            render=_render_roles,
        ),
        ResourceType(
            name="Organization",
            documentation="One per facility.",
            statement=lambda: select(Facility).order_by(Facility.name, Facility.id),
            id_column=Facility.id,
            parameters=(
                SearchParameter("_id", "token", ID_DOC, _id_clause(Facility.id)),
                SearchParameter(
                    "identifier",
                    "token",
                    "system|value: the facility's own id; an unknown system finds nothing",
                    _facility_identifier,
                ),
                SearchParameter(
                    "name",
                    "string",
                    "The name starts with it, ignoring case",
                    _string_clause(Facility.name),
                    modifiers=("exact", "contains"),
                ),
            ),
            render=_render_organizations,
        ),
        ResourceType(
            name="VerificationResult",
            documentation="One per verified credential: validated (primary source, document) "
            "or attested.",
            statement=_verified_credentials,
            id_column=Credential.id,
            parameters=(
                SearchParameter("_id", "token", ID_DOC, _id_clause(Credential.id)),
                SearchParameter(
                    "target",
                    "reference",
                    "Practitioner/ID (or the bare id) whose credentials were verified",
                    _reference_clause(Credential.person_id, "Practitioner"),
                ),
            ),
            render=_render_verifications,
        ),
    )
}
