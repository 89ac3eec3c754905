"""Assignments: listing and cancelling bookings (booking itself is qualification.service.book)."""

from sqlalchemy import select

from registry import clock
from registry.assignments.models import Assignment
from registry.errors import Conflict, NotFound
from registry.ids import find
from registry.qualification.models import QualificationCheck
from registry.qualification.service import decision_of


def get(*, session, assignment_id: str) -> Assignment:
    """The assignment with this id, or NotFound."""
    found = find(session, Assignment, assignment_id)
    if found is None:
        raise NotFound(f"assignment {assignment_id!r} not found")
    return found


def cancel(*, session, assignment: Assignment, actor: str, reason: str | None = None) -> Assignment:
    """Cancel a booking, which frees its slot; cancelling twice is refused."""
    if assignment.status == "cancelled":
        raise Conflict("this assignment is already cancelled")
    assignment.status = "cancelled"
    assignment.cancelled_at = clock.now()
    assignment.cancelled_by = actor
    assignment.cancel_reason = reason
    session.flush()
    return assignment


def list_statement(
    *, person_id=None, facility_id=None, case_ref=None, status=None, from_=None, to=None
):
    """Assignments matching the filters, by start time."""
    stmt = select(Assignment)
    if person_id:
        stmt = stmt.where(Assignment.person_id == person_id)
    if facility_id:
        stmt = stmt.where(Assignment.facility_id == facility_id)
    if case_ref:
        stmt = stmt.where(Assignment.case_ref == case_ref)
    if status:
        stmt = stmt.where(Assignment.status == status)
    if from_:
        stmt = stmt.where(Assignment.ends_at > from_)
    if to:
        stmt = stmt.where(Assignment.starts_at < to)
    return stmt.order_by(Assignment.starts_at, Assignment.id)


def with_decisions(*, session, assignments: list[Assignment]) -> list[dict]:
    """Assignments as API dicts carrying the decision they were booked on (one query)."""
    check_ids = [a.check_id for a in assignments if a.check_id]
    checks = (
        {
            c.id: c
            for c in session.scalars(
                select(QualificationCheck).where(QualificationCheck.id.in_(check_ids))
            )
        }
        if check_ids
        else {}
    )
    return [as_dict(a, check=checks.get(a.check_id)) for a in assignments]


def as_dict(assignment: Assignment, *, check: QualificationCheck | None) -> dict:
    """One assignment as an API dict with the stored check it was booked on."""
    return {
        "id": assignment.id,
        "person_id": assignment.person_id,
        "role": assignment.role,
        "case": assignment.case,
        "status": assignment.status,
        "decision": decision_of(check) if check is not None else None,
        "booked_by": assignment.booked_by,
        "created_at": assignment.created_at,
        "cancelled_at": assignment.cancelled_at,
        "cancelled_by": assignment.cancelled_by,
        "cancel_reason": assignment.cancel_reason,
    }
