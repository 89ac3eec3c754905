"""Forms that validate through the API's marshmallow schemas and the domain services.

A form is a list of ``FlatField``s, the values the user typed (kept as typed, to show again)
and the errors per field. ``load`` runs the schema; ``fail`` takes a service's error;
``save_form`` is the whole life of a posted form. Nothing here knows a rule of its own: the
rules live in ``schemas/`` and the services.
"""

from collections.abc import Callable
from datetime import date, datetime

from flask import flash, redirect, request
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from registry.database import db
from registry.errors import DomainError
from registry.transfer.flat import FORM_ERRORS, flatten_errors, is_required, to_schema_input


class Form:
    """Values and errors of one HTML form bound to one schema."""

    def __init__(self, fields, *, schema, values=None, hidden=None):
        self.fields = list(fields)
        self.schema = schema
        self.values = values if values is not None else MultiDict()
        self.errors: dict[str, list[str]] = {}
        self.hidden = dict(hidden or {})

    @classmethod
    def from_record(cls, fields, *, schema, record, hidden=None) -> "Form":
        """A form showing a stored record's current values."""
        values = MultiDict()
        for flat in fields:
            value = _attribute(record, flat)
            if isinstance(value, list | tuple):
                for item in value:
                    values.add(flat.name, _text(item))
            elif flat.widget == "checkbox":
                if value:
                    values[flat.name] = "on"
            elif value is not None:
                values[flat.name] = _text(value)
        return cls(fields, schema=schema, values=values, hidden=hidden)

    @classmethod
    def from_request(cls, fields, *, schema, formdata, hidden=None) -> "Form":
        """A form holding what the user posted."""
        return cls(fields, schema=schema, values=formdata.copy(), hidden=hidden)

    def load(self, *, values=None, extra: dict | None = None) -> dict | None:
        """The schema's loaded data, or None with ``errors`` set next to each field.

        ``values`` replaces what the user typed for validation only (e.g. a local time read in
        a facility's time zone); the form keeps showing what was typed.
        """
        payload = to_schema_input(
            self.schema, self.fields, values if values is not None else self.values
        )
        payload.update(extra or {})
        try:
            return self.schema.load(payload)
        except ValidationError as exc:
            self.errors = flatten_errors(exc.messages, self.fields)
            return None

    def fail(self, exc: DomainError) -> None:
        """Show a service's refusal: field errors next to their fields, the rest on top."""
        self.errors = flatten_errors(exc.errors or {}, self.fields)
        if not self.errors:
            self.errors[FORM_ERRORS] = [exc.message]

    def stale(self, record) -> bool:
        """Whether the record changed since the form was opened (its version moved on)."""
        posted = self.values.get("version")
        if posted is None or posted == str(record.version):
            return False
        self.hidden["version"] = record.version
        self.errors[FORM_ERRORS] = [
            "Someone else changed this record while you were editing it. "
            "Your inputs are kept below; the record now holds their version."
        ]
        return True

    def value(self, name: str) -> str:
        return self.values.get(name, "") or ""

    def selected(self, name: str) -> list[str]:
        return self.values.getlist(name)

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    @property
    def general_errors(self) -> list[str]:
        return self.errors.get(FORM_ERRORS, [])

    def required(self, flat) -> bool:
        return is_required(self.schema, flat)


def save_form(
    fields,
    *,
    schema,
    page: Callable,
    save: Callable[[dict], object],
    done: Callable[[object], object],
    record=None,
    check: Callable[[Form], None] | None = None,
):
    """A posted form's life: read it, refuse it when ``record`` changed since it was opened
    (409), validate it through ``schema``, ``save`` the data and commit, then ``done(result)``.

    Otherwise nothing is kept and ``page(form, status)`` shows the form again with every error
    (422); ``check`` adds what the schema cannot see (e.g. a value from the address).
    """
    hidden = {"version": record.version} if record is not None else None
    form = Form.from_request(fields, schema=schema, formdata=request.form, hidden=hidden)
    if record is not None and form.stale(record):
        return page(form, 409)
    data = form.load()
    if check is not None:
        check(form)
    if data is not None and not form.errors:
        try:
            result = save(data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            form.fail(exc)
        else:
            return done(result)
    return page(form, 422)


def saved(message: str, url: str):
    """Say what was saved and go on to ``url``."""
    flash(message, "success")
    return redirect(url)


def _attribute(record, flat):
    if hasattr(record, flat.name):
        return getattr(record, flat.name)
    value = record
    for part in flat.key:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return None
    return value


def _text(value) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
