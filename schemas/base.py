"""The common base schema and the field types the registry's rules are written in."""

from collections.abc import Mapping
from zoneinfo import ZoneInfo, available_timezones

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "VI",
        "GU",
        "AS",
        "MP",
    ]
)
_TIMEZONES = frozenset(available_timezones())


class BaseSchema(Schema):
    """Bodies reject unknown fields; every schema derives from this one."""

    class Meta:
        unknown = RAISE
        ordered = True

    @pre_load
    def _refuse_unstorable_text(self, data, **_kwargs):
        # the database cannot store these characters: refuse them here as field errors, not at
        # a flush (a 500)
        if isinstance(data, Mapping):
            errors = {
                key: [problem]
                for key, value in data.items()
                if (problem := _unstorable_text(value))
            }
            if errors:
                raise ValidationError(errors)
        return data


NUL_MESSAGE = "Text may not contain NUL characters (\\u0000)."
SURROGATE_MESSAGE = (
    "Text must be valid Unicode: a lone surrogate (\\ud800-\\udfff) is not a character."
)


def _unstorable_text(value) -> str | None:
    """Why the text in a loaded JSON value (a string, or lists and objects of them, keys
    included) cannot be stored, or None: PostgreSQL text holds no NUL, and a lone UTF-16
    surrogate (JSON's "\\ud800") has no UTF-8 encoding.

    Walked with a stack, not by recursion, so a value nested hundreds deep cannot overflow it.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_MESSAGE
            if not item.isascii() and not _encodes_as_utf8(item):
                return SURROGATE_MESSAGE
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
    return None


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def npi_is_valid(value: str) -> bool:
    """NPI: 10 digits starting with 1 or 2, Luhn check digit over "80840" + first 9 digits."""
    if len(value) != 10 or not value.isdigit() or value[0] not in "12":
        return False
    digits = [int(d) for d in "80840" + value[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(value[9])


def npi_check_digit(first_nine: str) -> str:
    """The check digit that completes a 9-digit NPI prefix (for demo data and tests)."""
    for digit in "0123456789":
        if npi_is_valid(first_nine + digit):
            return digit
    raise ValueError("no check digit")  # pragma: no cover - every prefix has one


def _validate_npi(value: str) -> None:
    if not npi_is_valid(value):
        raise ValidationError(
            "Not a valid NPI: 10 digits starting with 1 or 2 with a correct check digit."
        )


def _validate_state(value: str) -> None:
    if value not in US_STATES:
        raise ValidationError("Not a valid two-letter US state code (e.g. TX).")


def _validate_timezone(value: str) -> None:
    if value not in _TIMEZONES:
        raise ValidationError("Not a valid IANA time zone name (e.g. America/Chicago).")
    ZoneInfo(value)


class Npi(fields.String):
    """An NPI, unique when present: a blank one is absent (null), like an omitted one."""

    def __init__(self, **kwargs):
        super().__init__(validate=_validate_npi, pre_load=_blank_as_none, **kwargs)


class UsState(fields.String):
    def __init__(self, **kwargs):
        super().__init__(validate=_validate_state, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return text.strip().upper()


class TimeZone(fields.String):
    def __init__(self, **kwargs):
        super().__init__(validate=_validate_timezone, **kwargs)


def text(
    max_length: int,
    *,
    required: bool = False,
    allow_none: bool = True,
    min_length: int | None = None,
    **kwargs,
):
    """A trimmed string field with a length limit (required text may not be blank)."""
    if min_length is None:
        min_length = 1 if required or not allow_none else 0
    return TrimmedString(
        required=required,
        allow_none=allow_none and not required,
        validate=validate.Length(min=min_length, max=max_length),
        **kwargs,
    )


class TrimmedString(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def identifier(max_length: int, **kwargs):
    """The caller's own id for a record, unique when present: trimmed, and a blank one is
    absent (null), so "" never takes the one unique slot from everyone else's blank."""
    return TrimmedString(
        allow_none=True,
        pre_load=_blank_as_none,
        validate=validate.Length(max=max_length),
        **kwargs,
    )


def _blank_as_none(value):
    return None if isinstance(value, str) and not value.strip() else value


# far enough from the calendar's ends (years 1 and 9999) that converting a time to UTC or to
# any facility's local time, and counting days from it, stays within what a datetime can hold
EARLIEST_YEAR, LATEST_YEAR = 1900, 9998


class Instant(fields.AwareDateTime):
    """An ISO 8601 date and time with an offset, in the years 1900 to 9998."""

    default_error_messages = {
        "out_of_range": f"Must be a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}."
    }

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise self.make_error("out_of_range")
        return moment


def require_order(data: dict, first: str, second: str, *, existing=None) -> None:
    """Raise a field error when ``first`` comes after ``second`` (dates or datetimes)."""
    start = data.get(first, getattr(existing, first, None) if existing else None)
    end = data.get(second, getattr(existing, second, None) if existing else None)
    if start is not None and end is not None and start > end:
        raise ValidationError({second: [f"Must not be before {first} ({start.isoformat()})."]})
