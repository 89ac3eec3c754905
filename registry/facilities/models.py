"""Facilities and the appointments (privileges) people hold there."""

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import Base, IdMixin, TimestampMixin, VersionedMixin

APPOINTMENT_STATUSES = ("active", "suspended", "ended")


class Facility(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "facilities"

    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    required_credentials: Mapped[list] = mapped_column(default=list)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Appointment(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "appointments"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
