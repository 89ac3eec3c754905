"""People: technologists and physicians."""

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import Base, IdMixin, TimestampMixin, VersionedMixin

PERSON_KINDS = ("technologist", "physician")


class Person(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "people"

    kind: Mapped[str] = mapped_column(String(20), index=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    npi: Mapped[str | None] = mapped_column(String(10), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"
