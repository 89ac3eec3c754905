"""Expirations as CSV, for spreadsheets: one row per item, soonest first; text that a spreadsheet
would run as a formula is quoted by the same rule as every other export."""

import csv

from registry.transfer.csv_export import spreadsheet_cell

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


def write_csv(items, stream) -> int:
    """Write expiration items (from ``expiring_within``) as CSV with a header; returns the rows."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for item in items:
        writer.writerow([spreadsheet_cell(item.get(column)) for column in COLUMNS])
        count += 1
    return count
