"""Scopes of practice: which modalities a person may perform or interpret, and where."""

from marshmallow import ValidationError
from sqlalchemy import select

from registry.credentials import service as credentials
from registry.errors import InvalidData, NotFound
from registry.facilities.models import Facility
from registry.ids import find
from registry.people import service as people
from registry.scopes.models import Scope
from schemas.base import require_order


def get(*, session, scope_id: str) -> Scope:
    """The scope with this id, or NotFound."""
    found = find(session, Scope, scope_id)
    if found is None:
        raise NotFound(f"scope {scope_id!r} not found")
    return found


def create(*, session, person_id: str, data: dict) -> Scope:
    """Grant a person a scope of practice (the person must exist)."""
    person = people.get(session=session, person_id=person_id)
    _check_references(session, data)
    scope = Scope(person_id=person.id, **data)
    session.add(scope)
    session.flush()
    return scope


def update(*, session, scope: Scope, data: dict) -> Scope:
    """Apply a partial update (dates are checked against the stored values too)."""
    try:
        require_order(data, "effective_from", "effective_to", existing=scope)
    except ValidationError as exc:
        raise InvalidData(exc.messages) from exc
    _check_references(session, data)
    for key, value in data.items():
        setattr(scope, key, value)
    session.flush()
    return scope


def list_statement(*, person_id=None):
    """The select behind the scope lists: by activity, then the earliest start first."""
    stmt = select(Scope)
    if person_id:
        stmt = stmt.where(Scope.person_id == person_id)
    return stmt.order_by(Scope.activity, Scope.effective_from, Scope.id)


def _check_references(session, data: dict) -> None:
    errors = {}
    unknown = credentials.unknown_modalities(session=session, codes=data.get("modalities"))
    if unknown:
        errors["modalities"] = [
            f"Unknown modalit{'ies' if len(unknown) > 1 else 'y'}: {', '.join(unknown)}. "
            "GET /api/v1/modalities lists the codes."
        ]
    facility_id = data.get("facility_id")
    if facility_id and session.get(Facility, facility_id) is None:
        errors["facility_id"] = ["No facility has this id (leave it null for everywhere)."]
    if errors:
        raise InvalidData(errors)
