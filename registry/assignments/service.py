"""Assignments: booking a qualified person on a case, listing and cancelling bookings."""

from datetime import UTC

from sqlalchemy import select

from registry import clock
from registry.assignments.models import Assignment
from registry.database import new_id, switch_to_writing
from registry.errors import Conflict, NotFound
from registry.ids import find, is_valid_id
from registry.people.models import Person
from registry.qualification import service as qualification
from registry.qualification.models import QualificationCheck
from registry.qualification.service import decision_of


def book(
    *, session, person_id: str, role: str, case: dict, asked_by: str, policy=None
) -> tuple[Assignment | None, QualificationCheck]:
    """Check and book in one transaction; the booking exists only if the person qualified.

    Bookings for one person are decided one after the other, and each sees the one before, so
    racing requests never both take the last slot: on PostgreSQL the person's row is locked
    (``FOR UPDATE``) before anything is read; on SQLite the transaction holds the database's
    write lock from its BEGIN IMMEDIATE.
    """
    switch_to_writing(session)
    if session.get_bind().dialect.name != "sqlite" and is_valid_id(person_id):
        session.execute(select(Person.id).where(Person.id == person_id).with_for_update())
    stored = qualification.check_for_booking(
        session=session,
        person_id=person_id,
        role=role,
        case=case,
        asked_by=asked_by,
        policy=policy,
    )
    if not stored.qualified:
        return None, stored
    booked_at = clock.now()
    assignment = Assignment(
        id=new_id(),
        person_id=person_id,
        role=role,
        facility_id=case["facility_id"],
        # as stored (an instant in UTC), so the audit event shows what reads back
        starts_at=case["starts_at"].astimezone(UTC),
        ends_at=case["ends_at"].astimezone(UTC),
        remote=case.get("remote", False),
        payer=case.get("payer", "commercial"),
        case_ref=case.get("case_ref"),
        case=stored.case,
        status="booked",
        check_id=stored.id,
        booked_by=asked_by,
        created_at=booked_at,
        updated_at=booked_at,
    )
    session.add(assignment)
    session.flush()  # the audit hook writes its create event in this flush
    return assignment, stored


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


def latest_ended(*, session, person_id: str, before, limit: int) -> list[Assignment]:
    """A person's assignments that ended by ``before``, the most recent first."""
    statement = (
        select(Assignment)
        .where(Assignment.person_id == person_id, Assignment.ends_at <= before)
        .order_by(Assignment.starts_at.desc(), Assignment.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


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
