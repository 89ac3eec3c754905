"""The one clock of the application, so tests can move time without sleeping."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _source().astimezone(UTC)


def today(timezone: str) -> date:
    """Return today's date in the given IANA time zone."""
    return now().astimezone(ZoneInfo(timezone)).date()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the system clock."""
    global _source
    _source = source or (lambda: datetime.now(UTC))
