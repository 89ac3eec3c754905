"""Expirations as CSV, for spreadsheets: one row per item, soonest first."""

import csv

COLUMNS = (
    "item_type",
    "item_id",
    "person_id",
    "person_name",
    "facility_id",
    "facility_name",
    "type",
    "type_name",
    "jurisdiction",
    "expires_on",
    "days_left",
)
# Spreadsheets run cells starting with these as formulas; names typed by people are quoted.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_PREFIXES) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def write_csv(items, stream) -> int:
    """Write expiration items (from ``expiring_within``) as CSV with a header; returns the rows."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for item in items:
        writer.writerow([_cell(item.get(column)) for column in COLUMNS])
        count += 1
    return count
