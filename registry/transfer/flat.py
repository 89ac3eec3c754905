"""Flat text records (a form post, a CSV row) turned into schema input, and errors back.

A web form and a CSV row both arrive as named strings. They are converted here into what the
API's marshmallow schemas load, so the UI and the import validate with the very rules the API
uses; the schema's and the services' field errors are then mapped back onto the flat names.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from marshmallow import fields as ma_fields
from marshmallow.utils import missing

FORM_ERRORS = "_form"
# marshmallow's wording for an absent value, said the way a person filling in a form expects
_PLAIN_WORDS = {
    "Missing data for required field.": "Required.",
    "Field may not be null.": "Required.",
}


@dataclass(frozen=True)
class FlatField:
    """One named input: a form control or a CSV column, and where it goes in the schema input.

    ``widget`` says how a form shows it (text, email, tel, date, datetime, number, checkbox,
    select, choices, textarea); ``path`` is the key (or nested keys) in the schema's input,
    by default the name itself. ``null_word``, when set, is the text that means null (e.g.
    ``never`` for an expiry), and an empty or absent input is then left out of the schema's
    input, so the service's default applies as when an API request omits the key.
    """

    name: str
    label: str
    widget: str = "text"
    path: tuple[str, ...] = ()
    help: str | None = None
    choices: tuple = ()
    attrs: dict = field(default_factory=dict)
    null_word: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        return self.path or (self.name,)


def schema_field(schema, path: tuple[str, ...]):
    """The marshmallow field at ``path`` (through Nested fields), or None."""
    current = schema.fields.get(path[0])
    for part in path[1:]:
        if not isinstance(current, ma_fields.Nested):
            return None
        current = current.schema.fields.get(part)
    return current


def is_required(schema, flat: FlatField) -> bool:
    """Whether the schema requires this input (shown as 'required' next to the label).

    An input inside an optional group (e.g. a verification) is not required on its own.
    """
    return all(
        found is not None and found.required
        for found in (schema_field(schema, flat.key[: depth + 1]) for depth in range(len(flat.key)))
    )


def _blank(field_) -> tuple[bool, object]:
    """What an empty input means for this field: (send it?, value)."""
    if field_ is None:
        return False, None
    if not field_.allow_none and (field_.load_default is not missing or field_.required):
        return False, None
    # null clears a nullable field; for one that may not be null the schema says it is required
    return True, None


def _values_of(values, name: str) -> list[str]:
    if hasattr(values, "getlist"):
        return [v for v in values.getlist(name) if v is not None]
    raw = values.get(name)
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return list(raw)
    return str(raw).replace(";", ",").split(",")


def to_schema_input(schema, flat_fields, values: Mapping, *, partial: bool = False) -> dict:
    """Build the schema's input from flat string ``values`` (a form's MultiDict or a CSV row).

    Empty inputs become None where the schema allows null and are left out where it has a
    default or requires the field, or where the input has a ``null_word`` (then the word is
    None); an unchecked checkbox is False; a list comes from repeated inputs (forms) or a
    comma/semicolon-separated cell (CSV). With ``partial`` an input that is not present at
    all is left out (an edit of some fields only).
    """
    payload: dict = {}
    for flat in flat_fields:
        field_ = schema_field(schema, flat.key)
        if field_ is not None and field_.dump_only:
            continue  # set by the address or the server (e.g. a facility id in the URL)
        if isinstance(field_, ma_fields.List):
            items = [item.strip() for item in _values_of(values, flat.name)]
            present = flat.name in values
            if partial and not present:
                continue
            items = [item for item in items if item]
            if items or not field_.required:
                # nothing chosen for a required list reads "Required." like any empty input
                _put(payload, flat.key, items)
            continue
        if flat.widget == "checkbox":
            _put(payload, flat.key, str(values.get(flat.name, "")).lower() in {"on", "true", "1"})
            continue
        if partial and flat.name not in values:
            continue
        raw = values.get(flat.name)
        text = "" if raw is None else str(raw).strip()
        if flat.null_word is not None:
            if text.lower() == flat.null_word:
                _put(payload, flat.key, None)
            elif text:
                _put(payload, flat.key, text)
            continue  # empty: not given, so the service's default applies
        if text:
            _put(payload, flat.key, text)
            continue
        send, value = _blank(field_)
        if send:
            _put(payload, flat.key, value)
    return _collapse_nested(schema, payload)


def _put(payload: dict, key: tuple[str, ...], value) -> None:
    target = payload
    for part in key[:-1]:
        target = target.setdefault(part, {})
    target[key[-1]] = value


def _collapse_nested(schema, payload: dict) -> dict:
    """A nested group whose inputs were all left empty is sent as None (or left out)."""
    for name, value in list(payload.items()):
        field_ = schema.fields.get(name)
        nested = isinstance(field_, ma_fields.Nested) and isinstance(value, dict)
        if nested and all(item is None for item in value.values()):
            send, blank = _blank(field_)
            if send:
                payload[name] = blank
            else:
                del payload[name]
    return payload


def flatten_errors(messages, flat_fields) -> dict[str, list[str]]:
    """Map schema/service errors (possibly nested) onto flat input names.

    Errors about something that has no input of its own are gathered under ``_form``.
    """
    by_key = {flat.key: flat.name for flat in flat_fields}
    result: dict[str, list[str]] = {}

    def add(name: str, text: str) -> None:
        result.setdefault(name, []).append(_PLAIN_WORDS.get(text, text))

    def walk(node, path: tuple):
        if isinstance(node, Mapping):
            for key, child in node.items():
                if isinstance(key, int):
                    # an error about one item of a list belongs to the list's input
                    for text in _texts(child):
                        target = by_key.get(path)
                        add(target or FORM_ERRORS, f"Item {key + 1}: {text}")
                    continue
                if key == "_schema":
                    for text in _texts(child):
                        add(by_key.get(path, FORM_ERRORS), text)
                    continue
                walk(child, (*path, key))
            return
        target = by_key.get(path)
        for text in _texts(node):
            if target is None:
                label = ".".join(str(p) for p in path) or "record"
                add(FORM_ERRORS, f"{label}: {text}")
            else:
                add(target, text)

    walk(messages or {}, ())
    return result


def _texts(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list | tuple):
        out = []
        for item in node:
            out.extend(_texts(item))
        return out
    if isinstance(node, Mapping):
        out = []
        for key, item in node.items():
            out.extend(f"{key}: {text}" for text in _texts(item))
        return out
    return [str(node)]
