"""Scopes of practice: which modalities a person may perform or interpret, and where."""

from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import Base, IdMixin, TimestampMixin, VersionedMixin

ACTIVITIES = ("perform", "interpret")


class Scope(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "scopes"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    activity: Mapped[str] = mapped_column(String(20))
    modalities: Mapped[list] = mapped_column(default=list)
    facility_id: Mapped[str | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
