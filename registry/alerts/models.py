"""Alerts (the outbox of expiration notices), webhook subscriptions and daily digests."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.database import Base, IdMixin, TimestampMixin, UTCDateTime

# withdrawn: queued, then no longer applied (renewed, ended, unsubscribed); kept, never deleted
ALERT_STATUSES = ("pending", "sent", "failed", "withdrawn")
DIGEST_STATUSES = ("pending", "sent", "failed")
CHANNELS = ("email", "webhook")
# "*.expiring": before the item lapses (days_left >= 0); "*.expired": the day after it lapsed
WEBHOOK_EVENTS = (
    "credential.expiring",
    "credential.expired",
    "appointment.expiring",
    "appointment.expired",
    "agreement.expiring",
    "agreement.expired",
)


class Alert(IdMixin, TimestampMixin, Base):
    """One notice about one expiring item at one threshold to one recipient by one channel."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint(
            "item_type", "item_id", "lapse_date", "threshold_days", "channel", "recipient"
        ),
    )

    item_type: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[str] = mapped_column(String(36), index=True)
    person_id: Mapped[str | None] = mapped_column(String(36), index=True)
    facility_id: Mapped[str | None] = mapped_column(String(36))
    lapse_date: Mapped[date] = mapped_column(Date)
    threshold_days: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Webhook(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhooks"

    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Digest(IdMixin, TimestampMixin, Base):
    """The coordinators' daily digest: one per day per recipient."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("digest_date", "recipient"),)

    digest_date: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[dict] = mapped_column(default=dict)


class JobRun(Base):
    """When each scheduled job last completed, so a missed day is caught up."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_on: Mapped[date | None] = mapped_column(Date)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
