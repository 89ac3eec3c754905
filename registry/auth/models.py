"""API keys for systems and users for the admin UI."""

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import Base, IdMixin, TimestampMixin, UTCDateTime

SCOPES = ("read", "check", "write", "admin")
USER_ROLES = ("admin", "coordinator", "viewer")


class ApiKey(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scopes: Mapped[list] = mapped_column(default=list)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # failed sign-ins in a row from browsers the user has not signed in with before, and the
    # lock-out they lead to (anyone who knows the email can cause it)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the same for the user's known browsers (registry/admin/signin.py): a stranger's failures
    # do not lock the user out of the browsers they work in
    known_browser_failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    known_browser_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # moved on by a new password or a deactivation: UI sessions opened before it end
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
