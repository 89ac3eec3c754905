"""People: create, update, find."""

from sqlalchemy import and_, func, or_, select

from registry.errors import Conflict, NotFound
from registry.ids import find
from registry.people.models import Person


def get(*, session, person_id: str) -> Person:
    """The person with this id, or NotFound."""
    person = find(session, Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id!r} not found")
    return person


def _check_unique(session, data: dict, current: Person | None = None) -> None:
    for field in ("npi", "external_id"):
        value = data.get(field)
        if not value or (current is not None and getattr(current, field) == value):
            continue
        other = session.scalar(select(Person.id).where(getattr(Person, field) == value))
        if other:
            raise Conflict(
                f"another person already has {field} {value!r}",
                errors={field: [f"Already used by person {other}."]},
            )


def create(*, session, data: dict) -> Person:
    """Add a person."""
    _check_unique(session, data)
    person = Person(**data)
    session.add(person)
    session.flush()
    return person


def update(*, session, person: Person, data: dict) -> Person:
    """Apply a partial update."""
    _check_unique(session, data, person)
    for key, value in data.items():
        setattr(person, key, value)
    session.flush()
    return person


def search_statement(
    *, kind=None, active=None, q=None, external_id=None, npi=None, ids=None, also_ids=None
):
    """The filtered, ordered select behind the people list.

    ``ids`` (a list or a select of ids) narrows to those people; ``also_ids`` are kept whatever
    ``active`` and ``ids`` say (a form's current choices stay listed).
    """
    stmt = select(Person)
    if kind:
        stmt = stmt.where(Person.kind == kind)
    narrowed = []
    if active is not None:
        narrowed.append(Person.active == active)
    if ids is not None:
        narrowed.append(Person.id.in_(ids))
    if narrowed:
        kept = and_(*narrowed)
        stmt = stmt.where(or_(kept, Person.id.in_(also_ids)) if also_ids else kept)
    if external_id:
        stmt = stmt.where(Person.external_id == external_id)
    if npi:
        stmt = stmt.where(Person.npi == npi)
    if q:
        # autoescape: a "%" or "_" the user typed is searched for, not a wildcard
        part = q.strip().lower()
        stmt = stmt.where(
            or_(
                func.lower(Person.given_name).contains(part, autoescape=True),
                func.lower(Person.family_name).contains(part, autoescape=True),
                func.lower(Person.given_name + " " + Person.family_name).contains(
                    part, autoescape=True
                ),
                Person.npi.contains(part, autoescape=True),
                func.lower(Person.external_id).contains(part, autoescape=True),
                func.lower(Person.email).contains(part, autoescape=True),
            )
        )
    return stmt.order_by(Person.family_name, Person.given_name, Person.id)


def names(*, session, ids) -> dict[str, str]:
    """Person id -> "Given Family" for the given ids (unknown ids are left out)."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = session.execute(
        select(Person.id, Person.given_name, Person.family_name).where(Person.id.in_(wanted))
    )
    return {row.id: f"{row.given_name} {row.family_name}" for row in rows}


def count_by_kind(*, session, active: bool = True) -> dict[str, int]:
    """How many active (or inactive) people there are of each kind."""
    rows = session.execute(
        select(Person.kind, func.count()).where(Person.active == active).group_by(Person.kind)
    )
    return dict(rows.all())
