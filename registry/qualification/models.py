"""Stored qualification checks: the question, the answer, the evidence and who asked."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import Base, IdMixin, UTCDateTime


class QualificationCheck(IdMixin, Base):
    __tablename__ = "qualification_checks"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    case: Mapped[dict] = mapped_column(default=dict)
    qualified: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list] = mapped_column(default=list)
    warnings: Mapped[list] = mapped_column(default=list)
    evidence: Mapped[list] = mapped_column(default=list)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    asked_by: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(20), default="check")
    request_id: Mapped[str | None] = mapped_column(String(64))


class RulesContextStamp(Base):
    """One row whose stamp the database replaces (triggers of migration 0002) whenever
    modalities, credential types, supervision agreements or their technologists change.

    What those tables hold is the same for every check at a facility, so each process keeps
    it between checks; the check's own statement reads the stamp in the same snapshot and
    brings those rows again only when the stamp differs from the one kept (see
    ``registry.qualification.loader``). Written by the triggers only.
    """

    __tablename__ = "rules_context_stamp"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamp: Mapped[str] = mapped_column(String(36))
