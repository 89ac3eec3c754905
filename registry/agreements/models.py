"""Supervision agreements between a facility, a physician and technologists."""

from datetime import date

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import Base, IdMixin, TimestampMixin, VersionedMixin

MODES = ("in_person", "remote")

agreement_technologists = Table(
    "agreement_technologists",
    Base.metadata,
    Column("agreement_id", ForeignKey("supervision_agreements.id"), primary_key=True),
    Column("technologist_id", ForeignKey("people.id"), primary_key=True, index=True),
)


class SupervisionAgreement(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "supervision_agreements"

    facility_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"), index=True)
    physician_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    modes: Mapped[list] = mapped_column(default=list)
    max_concurrent_cases: Mapped[int] = mapped_column(Integer, default=3)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, index=True)
    document_ref: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    technologists = relationship(
        "Person", secondary=agreement_technologists, lazy="selectin", order_by="Person.id"
    )

    @property
    def technologist_ids(self) -> list[str]:
        return [person.id for person in self.technologists]
