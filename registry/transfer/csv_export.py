"""CSV export of people, credentials and expirations, in the columns the import reads.

An exported people or credentials file can be edited and imported elsewhere: its columns are
the import's, plus ``id`` (and ``person_name``) for reading, which the import skips. A
credential that does not expire says ``never``: an empty expires_on imports as the type's term.

Files (downloads and ``--output``) are UTF-8 with a byte order mark: without it Excel, opening
a CSV file by double-click, reads it in the computer's legacy code page and garbles accents.
"""

import csv
from datetime import date, datetime

from sqlalchemy import select

from registry.credentials.models import Credential
from registry.people.models import Person
from registry.transfer.csv_import import NEVER, columns
from registry.transfer.spreadsheet import quote_formula


def spreadsheet_cell(value) -> str:
    """A value as CSV text that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return quote_formula(value) if isinstance(value, str) else str(value)


# Python's UTF-8 codec that writes a byte order mark first (and reads one, as the import does)
FILE_ENCODING = "utf-8-sig"


def open_file(path):
    """A CSV file to write, in the encoding a spreadsheet reads right."""
    return open(path, "w", newline="", encoding=FILE_ENCODING)


def _writer(stream):
    return csv.writer(stream, lineterminator="\r\n")


def export_people(*, session, stream) -> int:
    """Every person, by family name; returns the number of rows written."""
    header = ["id", *columns("people")]
    writer = _writer(stream)
    writer.writerow(header)
    count = 0
    stmt = select(Person).order_by(Person.family_name, Person.given_name, Person.id)
    for person in session.scalars(stmt):
        writer.writerow([spreadsheet_cell(getattr(person, name)) for name in header])
        count += 1
    return count


def export_credentials(*, session, stream) -> int:
    """Every credential with its holder's external id and NPI; returns the rows written."""
    header = ["id", "person_name", *columns("credentials")]
    writer = _writer(stream)
    writer.writerow(header)
    count = 0
    stmt = (
        select(Credential, Person)
        .join(Person, Person.id == Credential.person_id)
        .order_by(Person.family_name, Person.given_name, Credential.type, Credential.id)
    )
    for credential, person in session.execute(stmt):
        values = {
            "person_name": person.name,
            "person_external_id": person.external_id,
            "person_npi": person.npi,
            "expires_on": credential.expires_on or NEVER,
        }
        row = [values[name] if name in values else getattr(credential, name) for name in header]
        writer.writerow([spreadsheet_cell(value) for value in row])
        count += 1
    return count
