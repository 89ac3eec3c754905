"""Assignments: a person booked on a case window."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import Base, IdMixin, TimestampMixin, UTCDateTime, VersionedMixin

ASSIGNMENT_STATUSES = ("booked", "cancelled")


class Assignment(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_person_window", "person_id", "starts_at", "ends_at"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(30))
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    payer: Mapped[str] = mapped_column(String(20), default="commercial")
    case_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    case: Mapped[dict] = mapped_column(default=dict)
    # no index on status: nearly every row is "booked"; it lures the planner off the window index
    status: Mapped[str] = mapped_column(String(20), default="booked")
    check_id: Mapped[str | None] = mapped_column(ForeignKey("qualification_checks.id"))
    booked_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
