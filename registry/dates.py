"""Local dates and days left: the one rule for counting days, shared by services and schemas."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from registry import clock
from registry.config import registry_timezone


def organisation_timezone(timezone: str | None = None) -> str:
    """The zone given, else the organisation's: ``REGISTRY_TIMEZONE`` from the configuration."""
    return timezone or registry_timezone()


def local_date(today: date | datetime, timezone: str) -> date:
    """The calendar date in ``timezone`` at the instant ``today`` (a plain date is kept as is)."""
    if isinstance(today, datetime):
        if today.tzinfo is None:
            raise ValueError("a local date needs an aware datetime or a date")
        return today.astimezone(ZoneInfo(timezone)).date()
    return today


def days_left(
    expires_on: date | None,
    *,
    as_of: date | datetime | None = None,
    timezone: str | None = None,
) -> int | None:
    """Days from the local date to ``expires_on``, the last valid day: 0 on that day, -1 the day
    after it lapsed; None when it never expires.

    The one rule for every ``days_left`` the registry shows (API, admin pages, alerts, CSV).
    ``as_of`` is an instant (an aware datetime) or a local date, by default now
    (``registry.clock``); ``timezone`` is where the item is used, by default the organisation's.
    """
    if expires_on is None:
        return None
    zone = organisation_timezone(timezone)
    today = clock.today(zone) if as_of is None else local_date(as_of, zone)
    return (expires_on - today).days
