"""Stored qualification checks: the question, the answer, the evidence and who asked."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
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
