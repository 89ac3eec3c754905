"""CSV import of people and credentials: every row validated like an API request, all or nothing.

The whole file is written in one transaction. Each row is loaded by the API's schema and
created by the same service function the API calls, inside a savepoint so one bad row does not
hide the next row's errors. If any row is refused, or for a dry run, the transaction is rolled
back and nothing is written; the report lists every row's errors. Rows are numbered as a
spreadsheet shows them: the header is row 1, the first record row 2.

A file is UTF-8 (``decode``). Spreadsheets add columns with no name and empty cells past the
last column: those are ignored, a value in them is not.
"""

import csv
import io
from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from registry.credentials.models import Credential, CredentialType
from registry.errors import DomainError
from registry.people import service as people_service
from registry.people.models import Person
from registry.transfer.flat import FORM_ERRORS, FlatField, flatten_errors, to_schema_input
from registry.transfer.spreadsheet import unquote_formula

KINDS = ("people", "credentials")
MAX_ROWS = 10_000
ROW_ERROR = "error"
# columns an export writes for reading that an import does not take
EXPORT_ONLY_COLUMNS = frozenset({"id", "person_name"})
NOT_UTF8 = "The file is not UTF-8 text: save it as “CSV UTF-8”."
# what expires_on says of a credential that does not expire (an empty cell means "not given")
NEVER = "never"
# a credential in these states is not held, so holding it again is no repeat
NOT_HELD = ("revoked", "entered_in_error")

PEOPLE_COLUMNS = (
    FlatField("kind", "Kind"),
    FlatField("given_name", "Given name"),
    FlatField("family_name", "Family name"),
    FlatField("email", "Email"),
    FlatField("phone", "Phone"),
    FlatField("npi", "NPI"),
    FlatField("external_id", "External id"),
    FlatField("active", "Active"),
)
PERSON_KEYS = ("person_external_id", "person_npi")
CREDENTIAL_COLUMNS = (
    FlatField("type", "Type"),
    FlatField("number", "Number"),
    FlatField("issuer", "Issuer"),
    FlatField("jurisdiction", "Jurisdiction"),
    FlatField("issued_on", "Issued on"),
    FlatField("expires_on", "Expires on", null_word=NEVER),
    FlatField("status", "Status"),
    FlatField("verification_method", "Verification method", path=("verification", "method")),
    FlatField("verified_on", "Verified on", path=("verification", "verified_on")),
    FlatField("verified_by", "Verified by", path=("verification", "verified_by")),
    FlatField("verification_source", "Verification source", path=("verification", "source")),
    FlatField("revoked_on", "Revoked on"),
)


@dataclass
class ImportRow:
    """One record row: what it said, what was wrong with it, and the record it made."""

    number: int
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    record_id: str | None = None


@dataclass
class ImportReport:
    """The outcome of an import: every row, file-level problems, and whether it was written."""

    kind: str
    columns: list[str]
    dry_run: bool
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        """No file problem and no row refused."""
        return not self.file_errors and not any(row.errors for row in self.rows)

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    def errors(self) -> list[dict]:
        """Row-level errors ``{"row": n, field: message, ...}`` (file problems are row 1)."""
        found = [{"row": 1, ROW_ERROR: message} for message in self.file_errors]
        found.extend({"row": row.number, **row.errors} for row in self.bad_rows)
        return found


def columns(kind: str) -> list[str]:
    """The header of an import file of this kind, in template order."""
    if kind == "people":
        return [f.name for f in PEOPLE_COLUMNS]
    if kind == "credentials":
        return [*PERSON_KEYS, *(f.name for f in CREDENTIAL_COLUMNS)]
    raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")


def template(kind: str) -> str:
    """An empty import file: the header row only."""
    stream = io.StringIO()
    csv.writer(stream, lineterminator="\r\n").writerow(columns(kind))
    return stream.getvalue()


class NotUtf8(ValueError):
    """The uploaded bytes are not UTF-8 text (e.g. Excel's "CSV" in Windows-1252)."""


def decode(raw: bytes) -> str:
    """An uploaded file's text: UTF-8, with or without the byte order mark Excel writes.

    Raises ``NotUtf8`` (saying how to save the file) rather than guessing another encoding,
    which would import wrong letters into names without a word.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8(NOT_UTF8) from exc


def import_csv(*, session, kind: str, text: str, dry_run: bool) -> ImportReport:
    """Validate and import a CSV file of people or credentials, all or nothing.

    Commits when every row is valid and this is not a dry run; otherwise rolls the session
    back, so nothing is written. The audit trail records each created record with the current
    actor (the signed-in user or the CLI user).
    """
    known = columns(kind)
    report = ImportReport(kind=kind, columns=known, dry_run=dry_run)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    report.file_errors.extend(_header_problems(kind, header, known))
    if report.file_errors:
        return report
    for index, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(report.rows) >= MAX_ROWS:
            # refused before any row is checked: nothing in it would be imported anyway
            report.file_errors.append(
                f"The file has more than {MAX_ROWS:,} rows, the most one import takes: "
                "split it into several files."
            )
            report.rows.clear()
            return report
        row = ImportRow(number=index, values=_row_values(header, cells))
        stray = _stray_cell_problem(header, cells)
        if stray:
            row.errors[ROW_ERROR] = stray
        report.rows.append(row)
    importer = _PeopleImport(session) if kind == "people" else _CredentialImport(session)
    readable = [row for row in report.rows if not row.errors]
    importer.prepare(readable)
    for row in readable:
        importer.add(row)
    if not report.rows and not report.file_errors:
        report.file_errors.append("The file has a header but no rows.")
    if report.ok and not dry_run:
        session.commit()
        report.committed = True
    else:
        session.rollback()
    return report


def _header_problems(kind: str, header: list[str], known: list[str]) -> list[str]:
    """What is wrong with the header; a column with no name is not a problem (see rows)."""
    named = [name for name in header if name]
    if not named:
        return ["The file is empty: the first row must name the columns."]
    if len(named) == 1 and (";" in named[0] or "\t" in named[0]):
        between = "';'" if ";" in named[0] else "tabs"
        return [f"The file seems to use {between} between columns; save it as comma-separated CSV."]
    problems = []
    unknown = [name for name in named if name not in known and name not in EXPORT_ONLY_COLUMNS]
    if unknown:
        other = "people" if kind == "credentials" else "credentials"
        fits_other = not [
            name for name in named if name not in columns(other) and name not in EXPORT_ONLY_COLUMNS
        ]
        hint = f" This looks like a file of {other}: import it as {other}." if fits_other else ""
        problems.append(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"The columns are: {', '.join(known)}.{hint}"
        )
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        problems.append(
            f"Repeated column{'s' if len(repeated) > 1 else ''}: {', '.join(repeated)}."
        )
    if kind == "credentials" and not set(PERSON_KEYS) & set(named):
        problems.append(
            "A column person_external_id or person_npi must say whose credential it is."
        )
    return problems


def _stray_cell_problem(header: list[str], cells: list[str]) -> str | None:
    """What is wrong with a value in a column the header does not name (an empty cell there
    is a spreadsheet's leftover, and ignored)."""
    for index, cell in enumerate(cells):
        if not cell.strip():
            continue
        if index >= len(header):
            return "More cells than the header has columns."
        if not header[index]:
            return f"Column {_column_letters(index)} has a value but no name in the header."
    return None


def _column_letters(index: int) -> str:
    """A column as a spreadsheet names it: 0 is A, 25 is Z, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _row_values(header: list[str], cells: list[str]) -> dict[str, str]:
    values = {}
    for name, cell in zip(header, cells, strict=False):
        if not name or name in EXPORT_ONLY_COLUMNS:
            continue
        values[name] = unquote_formula(cell.strip())
    return values


def _field_errors(messages, flat_fields) -> dict[str, str]:
    errors = {}
    for name, texts in flatten_errors(messages, flat_fields).items():
        errors[ROW_ERROR if name == FORM_ERRORS else name] = " ".join(texts)
    return errors


class _RowImport:
    """Load one row with a schema and create it with a service, inside a savepoint."""

    flat_fields: tuple[FlatField, ...] = ()

    def __init__(self, session):
        self.session = session
        self.schema = self.make_schema()

    def make_schema(self):
        raise NotImplementedError

    def prepare(self, rows: list[ImportRow]) -> None:
        """Read, before the first row, what checking every row needs (a fixed number of
        queries for the whole file)."""

    def create(self, row: ImportRow, data: dict):
        raise NotImplementedError

    def add(self, row: ImportRow) -> None:
        payload = to_schema_input(self.schema, self.flat_fields, row.values)
        try:
            data = self.schema.load(payload)
        except ValidationError as exc:
            row.errors.update(_field_errors(exc.messages, self.flat_fields))
        savepoint = self.session.begin_nested()
        try:
            # a row whose own fields are bad is still looked up, to report its person too
            record = self.create(row, None if row.errors else data)
            self.session.flush()
        except DomainError as exc:
            savepoint.rollback()
            found = _field_errors(exc.errors, self.flat_fields) if exc.errors else {}
            row.errors.update(found or {ROW_ERROR: exc.message})
            return
        except IntegrityError:
            savepoint.rollback()
            row.errors[ROW_ERROR] = "Conflicts with an existing record (a unique value is taken)."
            return
        if row.errors:
            savepoint.rollback()
            return
        savepoint.commit()
        row.record_id = getattr(record, "id", None)


class _PeopleImport(_RowImport):
    flat_fields = PEOPLE_COLUMNS
    unique = ("external_id", "npi")

    def __init__(self, session):
        super().__init__(session)
        self.first_row: dict[tuple[str, str], int] = {}

    def make_schema(self):
        from schemas.people import PersonSchema

        return PersonSchema()

    def create(self, row, data):
        self._refuse_repeats(row)
        if data is None or row.errors:
            return None
        return people_service.create(session=self.session, data=data)

    def _refuse_repeats(self, row: ImportRow) -> None:
        """A unique value an earlier row of the file gave is that row's, said so: the service
        would name the person the earlier row made, who is rolled back and never exists."""
        for name in self.unique:
            value = row.values.get(name, "")
            if not value:
                continue
            first = self.first_row.setdefault((name, value), row.number)
            if first != row.number:
                row.errors[name] = f"Repeats {name} {value} of row {first}."


def _sameness(credential) -> tuple:
    """What makes two credential records the same one, held twice."""
    return (
        credential.person_id,
        credential.type,
        credential.number or None,
        credential.jurisdiction,
        credential.issued_on,
        credential.expires_on,
    )


class _CredentialImport(_RowImport):
    flat_fields = CREDENTIAL_COLUMNS

    def __init__(self, session):
        super().__init__(session)
        self.on_file: dict[tuple, str] = {}
        self.first_row: dict[tuple, int] = {}
        self.holders: dict[str, dict[str, Person]] = {"person_external_id": {}, "person_npi": {}}
        self.types: list[CredentialType] = []

    def make_schema(self):
        from schemas.credentials import CredentialSchema

        return CredentialSchema()

    def prepare(self, rows):
        """Everyone the file names, the credential types and the credentials those people hold,
        a query each, so that no row costs a query of its own: a row that repeats a credential
        on file is refused (alerts would go out twice), and the service finds the person and
        the type it checks in the session (the records are held here, because the session
        holds them only while something else does)."""
        self.types = list(self.session.scalars(select(CredentialType)))
        external_ids = {row.values.get("person_external_id") for row in rows} - {None, ""}
        npis = {row.values.get("person_npi") for row in rows} - {None, ""}
        if not external_ids and not npis:
            return
        named = self.session.scalars(
            select(Person).where(or_(Person.external_id.in_(external_ids), Person.npi.in_(npis)))
        )
        for person in named:
            if person.external_id:
                self.holders["person_external_id"][person.external_id] = person
            if person.npi:
                self.holders["person_npi"][person.npi] = person
        stmt = (
            select(
                Credential.id,
                Credential.person_id,
                Credential.type,
                Credential.number,
                Credential.jurisdiction,
                Credential.issued_on,
                Credential.expires_on,
            )
            .join(Person, Person.id == Credential.person_id)
            .where(or_(Person.external_id.in_(external_ids), Person.npi.in_(npis)))
            .where(Credential.status.not_in(NOT_HELD))
        )
        self.on_file = {_sameness(held): held.id for held in self.session.execute(stmt)}

    def create(self, row, data):
        from registry.credentials import service as credentials_service

        person_id = self._person_id(row)
        if person_id is None or data is None:
            return None
        record = credentials_service.create(session=self.session, person_id=person_id, data=data)
        # compared as stored: the service fills in the default expiry and the state's case
        same = _sameness(record)
        if same in self.on_file:
            row.errors[ROW_ERROR] = (
                f"Already on file as credential {self.on_file[same]} "
                "(the same type, number, jurisdiction and dates)."
            )
        elif same in self.first_row:
            row.errors[ROW_ERROR] = (
                f"Repeats row {self.first_row[same]} "
                "(the same person, type, number, jurisdiction and dates)."
            )
        else:
            self.first_row[same] = row.number
        return record

    def _person_id(self, row: ImportRow) -> str | None:
        external_id = row.values.get("person_external_id", "")
        npi = row.values.get("person_npi", "")
        if not external_id and not npi:
            row.errors["person_external_id"] = "Give person_external_id or person_npi."
            return None
        found = {}
        for name, value in (("person_external_id", external_id), ("person_npi", npi)):
            if value:
                holder = self.holders[name].get(value)
                found[name] = holder.id if holder is not None else None
                if holder is None:
                    row.errors[name] = f"No person with {name.removeprefix('person_')} {value}."
        if row.errors.keys() & set(PERSON_KEYS):
            return None
        if len(set(found.values())) > 1:
            row.errors["person_npi"] = "This NPI belongs to someone else than the external id."
            return None
        return next(iter(found.values()))
