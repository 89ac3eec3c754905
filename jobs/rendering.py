"""Email text from the Jinja2 templates in jobs/templates (plain text and HTML)."""

from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


def long_date(value: date) -> str:
    """``Thursday 31 December 2026``."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def short_date(value: date) -> str:
    """``31 Dec 2026``."""
    return f"{value.day} {value:%b %Y}"


def days_text(days_left: int) -> str:
    """How far away a lapse date is, in words."""
    if days_left > 1:
        return f"in {days_left} days"
    if days_left == 1:
        return "tomorrow"
    if days_left == 0:
        return "today"
    if days_left == -1:
        return "yesterday"
    return f"{-days_left} days ago"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(long_date=long_date, short_date=short_date, days_text=days_text)
    return env


def render(name: str, **context) -> str:
    """Render one template (``alert.txt``, ``alert.html``, ``digest.txt``, ``digest.html``)."""
    return environment().get_template(name).render(**context)


def item_label(item: dict) -> str:
    """What lapses, in a few words: ``CNIM``, ``State medical license (TX)``,
    ``appointment at St. Luke's``, ``supervision agreement at St. Luke's``."""
    if item["item_type"] == "appointment":
        return f"appointment at {item['facility_name']}"
    if item["item_type"] == "agreement":
        return f"supervision agreement at {item['facility_name']}"
    code = item["type"]
    label = code if len(code) <= 8 and "_" not in code else item["type_name"]
    jurisdiction = item.get("jurisdiction")
    return f"{label} ({jurisdiction})" if jurisdiction else label


def alert_subject(notice: dict) -> str:
    """The subject line of one alert email, written for its reader."""
    whose = "Your" if notice["audience"] == "person" else f"{notice['person_name']}:"
    what = f"{whose} {notice['label']}"
    when = short_date(notice["expires_on"])
    if notice["days_left"] < 0:
        text = f"{what} lapsed on {when}"
        grace_until = notice.get("grace_until")
        if grace_until and grace_until >= notice["as_of"]:
            text += f"; late renewal possible until {short_date(grace_until)}"
        return text
    return f"{what} expires {days_text(notice['days_left'])} ({when})"
