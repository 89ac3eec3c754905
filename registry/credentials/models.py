"""Credential catalogue, modalities and the credentials people hold."""

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database import Base, IdMixin, TimestampMixin, VersionedMixin

CATEGORIES = ("certification", "board_certification", "license", "training", "insurance")
CREDENTIAL_STATUSES = ("active", "suspended", "revoked", "entered_in_error")
VERIFICATION_METHODS = ("primary_source", "document", "attestation")


class CredentialType(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "credential_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    kinds: Mapped[list] = mapped_column(default=list)
    requires_jurisdiction: Mapped[bool] = mapped_column(Boolean, default=False)
    depends_on: Mapped[str | None] = mapped_column(ForeignKey("credential_types.code"))
    validity_months: Mapped[int | None] = mapped_column(Integer)
    grace_days: Mapped[int | None] = mapped_column(Integer)

    @property
    def id(self) -> str:
        return self.code


class Modality(Base):
    __tablename__ = "modalities"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Credential(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "credentials"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    type: Mapped[str] = mapped_column(ForeignKey("credential_types.code"), index=True)
    number: Mapped[str | None] = mapped_column(String(100))
    issuer: Mapped[str | None] = mapped_column(String(200))
    jurisdiction: Mapped[str | None] = mapped_column(String(2))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    verification_method: Mapped[str | None] = mapped_column(String(20))
    verified_on: Mapped[date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(String(200))
    verification_source: Mapped[str | None] = mapped_column(String(500))
    # when the issuer revoked it (status revoked): a verification made before this date vouches
    # for no credential of the same type and jurisdiction (the qualification rules)
    revoked_on: Mapped[date | None] = mapped_column(Date)

    person = relationship("Person", lazy="raise")
    credential_type = relationship("CredentialType", lazy="raise")

    @property
    def revoked_until_reinstated(self) -> bool:
        """Revoked, or revoked and then marked entered in error: either way its way back to
        active is a reinstatement with a new verification."""
        return self.status == "revoked" or (
            self.status == "entered_in_error" and self.revoked_on is not None
        )

    @property
    def verified(self) -> bool:
        return self.verification_method is not None and self.verified_on is not None

    @property
    def verification(self) -> dict | None:
        if self.verification_method is None:
            return None
        return {
            "method": self.verification_method,
            "verified_on": self.verified_on,
            "verified_by": self.verified_by,
            "source": self.verification_source,
        }
