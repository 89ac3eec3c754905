"""How dates, days left, statuses and urgency are shown on the admin pages."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from registry import clock
from registry.admin.blueprint import bp
from registry.dates import days_left as expiration_days_left

URGENCY_LIMITS = ((0, "lapsed"), (31, "due-30"), (61, "due-60"), (91, "due-90"))
STATUS_WORDS = {
    "active": "Active",
    "suspended": "Suspended",
    "revoked": "Revoked",
    "entered_in_error": "Entered in error",
    "ended": "Ended",
    "booked": "Booked",
    "cancelled": "Cancelled",
    "pending": "Pending",
    "sent": "Sent",
    "failed": "Failed",
}
METHOD_WORDS = {
    "primary_source": "Primary source",
    "document": "Document",
    "attestation": "Attestation",
}


@bp.app_template_global("today")
def organisation_today() -> date:
    """Today in the organisation's time zone (REGISTRY_TIMEZONE)."""
    return clock.today(current_app.config["REGISTRY_TIMEZONE"])


@bp.app_template_global()
def days_left(expires_on: date | None, today: date | None = None) -> int | None:
    """Days until the last valid day (0 on that day, negative once lapsed); None: no expiry."""
    return expiration_days_left(expires_on, as_of=today)


@bp.app_template_global()
def urgency(days: int | None) -> str:
    """A CSS class for how soon something lapses."""
    if days is None:
        return "ok"
    for limit, name in URGENCY_LIMITS:
        if days < limit:
            return name
    return "ok"


@bp.app_template_filter("days_words")
def days_words(days: int | None) -> str:
    """'12 days left', 'last day today', 'lapsed 3 days ago', 'no expiry'."""
    if days is None:
        return "no expiry"
    if days == 0:
        return "last day today"
    if days < 0:
        return f"lapsed {-days} day{'s' if days != -1 else ''} ago"
    return f"{days} day{'s' if days != 1 else ''} left"


@bp.app_template_filter("status_words")
def status_words(status: str | None) -> str:
    return STATUS_WORDS.get(status or "", (status or "").replace("_", " ").capitalize())


@bp.app_template_filter("method_words")
def method_words(method: str | None) -> str:
    return METHOD_WORDS.get(method or "", method or "")


@bp.app_template_filter("local_time")
def local_time(value: datetime | None, timezone: str | None = None) -> str:
    """A timestamp in the organisation's (or the given) time zone, to the minute."""
    if value is None:
        return ""
    zone = ZoneInfo(timezone or current_app.config["REGISTRY_TIMEZONE"])
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@bp.app_template_filter("audit_value")
def audit_value(value) -> str:
    """A stored before/after value as a person reads it."""
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) if value else "(none)"
    return str(value)


@bp.app_template_filter("day")
def day(value: date | None) -> str:
    return value.isoformat() if value else "—"
