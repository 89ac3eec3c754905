"""CSV import (validated like the API, all or nothing, dry run) and export, by function, CLI
and through the admin UI's preview."""

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select

from registry.audit.context import acting_as
from registry.audit.models import AuditEvent
from registry.credentials.models import Credential, CredentialType
from registry.database import db
from registry.people.models import Person
from registry.transfer import csv_export
from registry.transfer.csv_import import columns, import_csv, template
from registry.transfer.spreadsheet import FORMULA_PREFIXES, unquote_formula
from tests import factories

PEOPLE_OK = (
    "kind,given_name,family_name,email,phone,npi,external_id,active\n"
    "technologist,Ana,Ruiz,ana@example.org,913-555-0100,1234567893,HR-1,true\n"
    "physician,Omar,Haddad,,,,HR-2,\n"
)
PEOPLE_ONE_BAD = PEOPLE_OK + "technologist,Bo,Lind,,,1234567890,HR-3,yes\n"


def people_count() -> int:
    return db.session.query(Person).count()


def test_templates_are_the_header_rows():
    assert template("people") == ",".join(columns("people")) + "\r\n"
    header = next(csv.reader(io.StringIO(template("credentials"))))
    assert header[:2] == ["person_external_id", "person_npi"]
    assert {"type", "expires_on", "verification_method", "verification_source"} <= set(header)
    with pytest.raises(ValueError):
        columns("facilities")


def test_a_dry_run_validates_every_row_and_writes_nothing(session):
    report = import_csv(session=session, kind="people", text=PEOPLE_OK, dry_run=True)
    assert report.ok and not report.committed and len(report.rows) == 2
    assert people_count() == 0
    assert session.query(AuditEvent).count() == 0


def test_an_import_writes_every_row_as_the_actor(session):
    with acting_as("user:c@example.org"):
        report = import_csv(session=session, kind="people", text=PEOPLE_OK, dry_run=False)
    assert report.committed and report.errors() == []
    ana = session.scalars(select(Person).where(Person.npi == "1234567893")).one()
    assert (ana.email, ana.active) == ("ana@example.org", True)
    omar = session.scalars(select(Person).where(Person.external_id == "HR-2")).one()
    assert omar.email is None and omar.active is True  # empty cells: null, or the default
    actors = set(
        session.scalars(select(AuditEvent.actor).where(AuditEvent.entity_type == "person"))
    )
    assert actors == {"user:c@example.org"}


def test_one_bad_row_refuses_the_whole_file_and_names_row_and_field(session):
    text = PEOPLE_ONE_BAD + "nurse,Cy,,,,,HR-4,\n"
    report = import_csv(session=session, kind="people", text=text, dry_run=False)
    assert not report.ok and not report.committed
    assert people_count() == 0
    errors = report.errors()
    assert [e["row"] for e in errors] == [4, 5]
    assert "Not a valid NPI" in errors[0]["npi"]
    assert set(errors[1]) == {"row", "kind", "family_name"}
    assert errors[1]["family_name"] == "Required."


def test_duplicates_inside_the_file_and_against_the_registry(session):
    factories.person(npi="1234567893")
    session.commit()
    text = PEOPLE_OK + "technologist,Al,Berg,,,,HR-2,\n"
    report = import_csv(session=session, kind="people", text=text, dry_run=True)
    errors = {e["row"]: e for e in report.errors()}
    assert "Already used by person" in errors[2]["npi"]
    # row 3's person is rolled back and never exists: row 4 repeats row 3, not a stored person
    assert errors[4] == {"row": 4, "external_id": "Repeats external_id HR-2 of row 3."}
    assert 3 not in errors
    assert people_count() == 1


def test_a_person_twice_in_the_file_is_a_repeat_of_the_earlier_row(session):
    text = (
        "kind,given_name,family_name,npi,external_id\n"
        "technologist,Ana,Ruiz,1234567893,D1\n"
        "technologist,Ana,Ruiz,1234567893,D1\n"
        "technologist,Bo,Lind,,D2\n"
    )
    report = import_csv(session=session, kind="people", text=text, dry_run=False)
    assert report.errors() == [
        {
            "row": 3,
            "external_id": "Repeats external_id D1 of row 2.",
            "npi": "Repeats npi 1234567893 of row 2.",
        }
    ]
    assert people_count() == 0


def test_a_file_of_the_other_kind_is_named_as_such(session):
    credentials_file = template("credentials") + "HR-1,,CNIM,,,,2024-01-01,,,,,,,\n"
    report = import_csv(session=session, kind="people", text=credentials_file, dry_run=True)
    (problem,) = report.file_errors
    assert problem.endswith("This looks like a file of credentials: import it as credentials.")
    people_file = template("people") + "technologist,Ana,Ruiz,,,,,\n"
    report = import_csv(session=session, kind="credentials", text=people_file, dry_run=True)
    assert any("import it as people" in p for p in report.file_errors)
    # a column of neither kind: no such hint
    odd = import_csv(
        session=session, kind="people", text="kind,given_name,shoe_size\nx,y,z\n", dry_run=True
    )
    assert not any("looks like" in p for p in odd.file_errors)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("kind,given_name,family_name,shoe_size\n", "Unknown column: shoe_size"),
        ("kind,kind,given_name,family_name\n", "Repeated column: kind"),
        ("kind,given_name,family_name\n", "no rows"),
    ],
)
def test_file_problems_are_row_one(session, text, message):
    report = import_csv(session=session, kind="people", text=text, dry_run=False)
    assert not report.ok
    assert report.errors()[0]["row"] == 1 and message in report.errors()[0]["error"]


def test_a_row_with_more_cells_than_columns_is_refused(session):
    text = "kind,given_name,family_name\ntechnologist,Ana,Ruiz,extra\n"
    report = import_csv(session=session, kind="people", text=text, dry_run=False)
    assert report.errors() == [{"row": 2, "error": "More cells than the header has columns."}]


def test_empty_columns_a_spreadsheet_adds_are_ignored(session):
    text = (
        "kind,given_name,,family_name, ,\n"
        "technologist,Ana,,Ruiz,,\n"
        "technologist,Bo,,Lind\n"
        "technologist,Cy,, Dahl , ,, \n"
    )
    report = import_csv(session=session, kind="people", text=text, dry_run=False)
    assert report.committed, report.errors()
    assert report.rows[0].values == {
        "kind": "technologist",
        "given_name": "Ana",
        "family_name": "Ruiz",
    }
    assert people_count() == 3


def test_a_value_in_a_column_without_a_name_is_refused(session):
    text = (
        "kind,given_name,family_name,,\n"
        "technologist,Ana,Ruiz,,x\n"
        "technologist,Bo,Lind,,,,y\n"
        "technologist,Cy,Dahl\n"
    )
    report = import_csv(session=session, kind="people", text=text, dry_run=False)
    assert report.errors() == [
        {"row": 2, "error": "Column E has a value but no name in the header."},
        {"row": 3, "error": "More cells than the header has columns."},
    ]
    assert people_count() == 0


@pytest.mark.parametrize(
    ("header", "between"), [("kind;given_name;family_name", "';'"), ("kind\tgiven_name", "tabs")]
)
def test_a_header_in_one_column_hints_at_the_delimiter(session, header, between):
    text = header + "\ntechnologist;Ana;Ruiz\n"
    report = import_csv(session=session, kind="people", text=text, dry_run=False)
    assert report.errors() == [
        {
            "row": 1,
            "error": f"The file seems to use {between} between columns; "
            "save it as comma-separated CSV.",
        }
    ]


def _credentials_file(*rows: str) -> str:
    return ",".join(columns("credentials")) + "\n" + "".join(row + "\n" for row in rows)


def test_credentials_name_their_holder_and_carry_verification(session):
    tech = factories.person(external_id="HR-1", npi="1234567893")
    doc = factories.person("physician", "Omar", "Haddad", npi="1245319599")
    session.commit()
    text = _credentials_file(
        "HR-1,,CNIM,CNIM-1,,,2024-01-01,2028-12-31,,primary_source,2024-02-01,Dana,https://abret.org",
        ",1245319599,MEDICAL_LICENSE,KS-1,,ks,2025-01-01,2027-01-31,,document,2025-01-05,,",
        "HR-1,1234567893,BLS,,,,,2027-03-01,,,,,",
    )
    report = import_csv(session=session, kind="credentials", text=text, dry_run=False)
    assert report.committed, report.errors()
    cnim = session.scalars(select(Credential).where(Credential.type == "CNIM")).one()
    assert cnim.person_id == tech.id and cnim.verified and cnim.verified_by == "Dana"
    license_ = session.scalars(select(Credential).where(Credential.type == "MEDICAL_LICENSE")).one()
    assert license_.person_id == doc.id and license_.jurisdiction == "KS"
    bls = session.scalars(select(Credential).where(Credential.type == "BLS")).one()
    assert bls.verified is False and bls.status == "active"


@pytest.mark.parametrize("holders", [3, 30])
def test_a_credential_import_reads_people_and_types_once_not_per_row(session, holders):
    from sqlalchemy import event

    for n in range(holders):
        factories.person(external_id=f"HR-{n}")
    session.commit()
    text = _credentials_file(
        *(
            f"HR-{n},,{t},,,,2024-01-01,2028-12-31,,,,,"
            for n in range(holders)
            for t in ("CNIM", "BLS")
        )
    )
    reads = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        flat = " ".join(statement.split()).lower()
        if flat.startswith("select") and ("from people" in flat or "from credential_types" in flat):
            reads.append(flat)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        report = import_csv(session=session, kind="credentials", text=text, dry_run=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert report.ok, report.errors()
    # the types, and the people named (with the credentials they hold): as many for 60 rows as 6
    assert len(reads) <= 3, reads


def test_credential_rows_report_every_problem(session):
    factories.person(external_id="HR-1", npi="1234567893")
    factories.person("physician", "Omar", "Haddad", external_id="HR-2")
    session.commit()
    text = _credentials_file(
        "HR-9,,CNIM,,,,,2028-12-31,,,,,",
        ",,CNIM,,,,,,,,,,",
        "HR-2,1234567893,ABCN,,,,,,,,,,",
        "HR-2,,MEDICAL_LICENSE,,,,,,,,,,",
        "HR-1,,CNIM,,,,2026-01-01,2025-01-01,,attestation,,,",
        "HR-1,,CNIM,,,,,2028-12-31,,,,,",
    )
    report = import_csv(session=session, kind="credentials", text=text, dry_run=False)
    errors = {e["row"]: e for e in report.errors()}
    assert errors[2] == {"row": 2, "person_external_id": "No person with external_id HR-9."}
    assert "person_external_id or person_npi" in errors[3]["person_external_id"]
    assert "someone else" in errors[4]["person_npi"]
    assert "Required for MEDICAL_LICENSE" in errors[5]["jurisdiction"]
    assert errors[6]["verified_on"] == "Required."
    assert 7 not in errors
    assert session.query(Credential).count() == 0


def test_export_uses_the_import_columns_and_reimports(session, app):
    factories.person(external_id="HR-1", npi="1234567893", phone="+1 913 555 0100")
    tech = factories.person("technologist", "Bo", "Lind", external_id="=HYPERLINK(1)")
    factories.credential(tech, "CNIM")
    session.commit()
    people = io.StringIO()
    assert csv_export.export_people(session=session, stream=people) == 2
    rows = list(csv.DictReader(io.StringIO(people.getvalue())))
    assert list(rows[0]) == ["id", *columns("people")]
    assert rows[0]["external_id"] == "'=HYPERLINK(1)"  # a spreadsheet shows it, never runs it
    assert rows[1]["phone"] == "'+1 913 555 0100"
    credentials = io.StringIO()
    assert csv_export.export_credentials(session=session, stream=credentials) == 1
    row = next(csv.DictReader(io.StringIO(credentials.getvalue())))
    assert (row["person_name"], row["type"], row["verification_method"]) == (
        "Bo Lind",
        "CNIM",
        "primary_source",
    )
    # into an empty registry: the exported files import as they are
    session.query(Credential).delete()
    session.query(Person).delete()
    session.commit()
    assert import_csv(session=session, kind="people", text=people.getvalue(), dry_run=False).ok
    again = session.scalars(select(Person).where(Person.family_name == "Lind")).one()
    assert again.external_id == "=HYPERLINK(1)"
    report = import_csv(
        session=session, kind="credentials", text=credentials.getvalue(), dry_run=False
    )
    assert report.committed, report.errors()


# --- expires_on: left out or empty, the type's term (as in the API) -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "person_external_id,type,issued_on\nHR-1,CNIM,2022-03-01\nHR-1,BLS,2022-03-01\n",
        "person_external_id,type,issued_on,expires_on\n"
        "HR-1,CNIM,2022-03-01,\nHR-1,BLS,2022-03-01, \n",
    ],
    ids=["no-expires_on-column", "empty-expires_on-cell"],
)
def test_a_credential_without_expires_on_gets_the_types_term_as_in_the_api(session, text):
    factories.person(external_id="HR-1")
    session.get(CredentialType, "BLS").validity_months = None
    session.commit()
    report = import_csv(session=session, kind="credentials", text=text, dry_run=False)
    assert report.committed, report.errors()
    expiry = dict(session.execute(select(Credential.type, Credential.expires_on)).all())
    # CNIM: 60 months from 1 March 2022, an ABRET term ending on 31 December; BLS: no term
    assert expiry == {"CNIM": date(2027, 12, 31), "BLS": None}


def test_never_is_a_credential_that_does_not_expire_and_exports_so(session):
    factories.person(external_id="HR-1")
    session.commit()
    text = _credentials_file("HR-1,,CNIM,,,,2022-03-01,Never,,,,,")
    assert import_csv(session=session, kind="credentials", text=text, dry_run=False).committed
    assert session.scalars(select(Credential.expires_on)).one() is None
    exported = io.StringIO()
    csv_export.export_credentials(session=session, stream=exported)
    assert next(csv.DictReader(io.StringIO(exported.getvalue())))["expires_on"] == "never"
    session.query(Credential).delete()
    session.commit()
    assert import_csv(
        session=session, kind="credentials", text=exported.getvalue(), dry_run=False
    ).committed
    assert session.scalars(select(Credential.expires_on)).one() is None


# --- the same credential twice ------------------------------------------------------------------


def test_a_credential_row_repeating_an_earlier_row_is_refused(session):
    factories.person(external_id="HR-1", npi="1234567893")
    session.commit()
    cnim = "CNIM,C-1,,,2022-03-01,,,,,,"
    text = _credentials_file(
        f"HR-1,,{cnim}",
        "HR-1,,BLS,,,,2025-01-01,2027-01-01,,,,,",
        f",1234567893,{cnim}",  # the same person, named by NPI
        "HR-1,,CNIM,C-2,,,2022-03-01,,,,,,",
    )
    report = import_csv(session=session, kind="credentials", text=text, dry_run=False)
    assert report.errors() == [
        {
            "row": 4,
            "error": "Repeats row 2 (the same person, type, number, jurisdiction and dates).",
        }
    ]
    assert session.query(Credential).count() == 0


def test_a_credential_row_already_on_file_is_refused(session):
    tech = factories.person(external_id="HR-1")
    held = factories.credential(tech, "CNIM", issued_on=date(2022, 3, 1), expires_on=None)
    revoked = factories.credential(tech, "BLS", issued_on=date(2025, 1, 1), status="revoked")
    session.commit()
    text = _credentials_file(
        "HR-1,,CNIM,,,,2022-03-01,never,,,,,",
        "HR-1,,BLS,,,,2025-01-01,2028-12-31,,,,,",  # held again after a revoked record: fine
        "HR-1,,CNIM,,,,2022-03-01,2027-12-31,,,,,",  # other dates: another record
    )
    report = import_csv(session=session, kind="credentials", text=text, dry_run=False)
    assert report.errors() == [
        {
            "row": 2,
            "error": f"Already on file as credential {held.id} "
            "(the same type, number, jurisdiction and dates).",
        }
    ]
    assert revoked.status == "revoked"
    assert session.query(Credential).count() == 2


def test_a_revoked_credential_row_carries_its_revocation_date(session, frozen_clock):
    tech = factories.person(external_id="HR-1")
    session.commit()
    text = _credentials_file(
        # history: revoked years ago, on the issuer's date
        "HR-1,,CNIM,C-1,,,2015-01-01,2019-12-31,revoked,primary_source,2015-02-01,Dana,,2018-06-30",
    )
    report = import_csv(session=session, kind="credentials", text=text, dry_run=False)
    assert report.committed, report.errors()
    (revoked,) = session.scalars(select(Credential))
    assert revoked.revoked_on == date(2018, 6, 30)
    exported = io.StringIO()
    csv_export.export_credentials(session=session, stream=exported)
    (row,) = csv.DictReader(io.StringIO(exported.getvalue()))
    assert row["revoked_on"] == "2018-06-30"
    # revoked, then marked entered in error: exported with its date, and imported again
    revoked.status = "entered_in_error"
    session.commit()
    exported = io.StringIO()
    csv_export.export_credentials(session=session, stream=exported)
    (row,) = csv.DictReader(io.StringIO(exported.getvalue()))
    assert (row["status"], row["revoked_on"]) == ("entered_in_error", "2018-06-30")
    again = ",".join(row[name] for name in columns("credentials"))
    reimported = import_csv(
        session=session, kind="credentials", text=_credentials_file(again), dry_run=True
    )
    assert reimported.ok, reimported.errors()
    revoked.status = "revoked"
    session.commit()
    # a revoked row without its date, or a date on a row that is not revoked: the row's error,
    # and nothing is written
    bad = _credentials_file(
        "HR-1,,BLS,B-1,,,2024-01-01,2026-12-31,revoked,,,,,",
        "HR-1,,CNIM,C-2,,,2024-01-01,2028-12-31,active,,,,,2026-11-01",
    )
    refused = import_csv(session=session, kind="credentials", text=bad, dry_run=False)
    assert refused.errors() == [
        {
            "row": 2,
            "revoked_on": "Give the day the issuer revoked it (a credential entered as revoked).",
        },
        {
            "row": 3,
            "revoked_on": "Only a revoked credential (or one revoked, then marked entered in "
            "error) has a revocation date.",
        },
    ]
    assert session.query(Credential).filter_by(person_id=tech.id).count() == 1


def test_reimporting_a_file_is_refused_with_one_lookup_for_the_whole_file(session, app):
    for index in range(1, 6):
        factories.person(given=f"P{index}", external_id=f"HR-{index}")
    session.commit()
    text = _credentials_file(
        *(f"HR-{i},,CNIM,C-{i},,,2022-03-01,,,,,," for i in range(1, 6)),
    )
    assert import_csv(session=session, kind="credentials", text=text, dry_run=False).committed
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        again = import_csv(session=session, kind="credentials", text=text, dry_run=False)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [e["row"] for e in again.errors()] == [2, 3, 4, 5, 6]
    assert all("Already on file as credential" in e["error"] for e in again.errors())
    assert len([s for s in statements if "FROM credentials" in s]) == 1
    assert session.query(Credential).count() == 5


@given(st.text())
def test_every_exported_text_reads_back_unchanged_and_never_as_a_formula(text):
    stream = io.StringIO()
    csv.writer(stream).writerow([csv_export.spreadsheet_cell(text)])
    [cell] = next(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert not cell.startswith(FORMULA_PREFIXES)
    assert unquote_formula(cell) == text


@pytest.mark.parametrize("text", ["\t=1", "\r+1", "'=quoted", "''@twice", "-5", "'plain"])
def test_guarded_prefixes_read_back_unchanged(text):
    assert unquote_formula(csv_export.spreadsheet_cell(text)) == text


def test_texts_starting_with_a_quote_survive_export_and_import(session):
    factories.person(given="'=Ann", family="-Lee", external_id="'@HR-9", phone="'+1 913")
    session.commit()
    people = io.StringIO()
    csv_export.export_people(session=session, stream=people)
    session.query(Person).delete()
    session.commit()
    assert import_csv(session=session, kind="people", text=people.getvalue(), dry_run=False).ok
    again = session.scalars(select(Person)).one()
    assert (again.given_name, again.family_name, again.external_id, again.phone) == (
        "'=Ann",
        "-Lee",
        "'@HR-9",
        "'+1 913",
    )


# --- the command line -------------------------------------------------------------------------


def test_cli_import_dry_run_then_for_real(runner, tmp_path, app):
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE_OK, encoding="utf-8")
    dry = runner.invoke(args=["import", "people", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "all 2 rows are valid; nothing was written" in dry.output
    with app.app_context():
        assert people_count() == 0
    real = runner.invoke(args=["import", "people", str(path)])
    assert real.exit_code == 0 and "imported 2 people" in real.output
    with app.app_context():
        assert people_count() == 2
        actor = db.session.scalars(select(AuditEvent.actor)).first()
        assert actor.startswith("cli")


def test_cli_import_of_a_bad_file_prints_row_errors_and_fails(runner, tmp_path, app):
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE_ONE_BAD, encoding="utf-8")
    result = runner.invoke(args=["import", "people", str(path)])
    assert result.exit_code == 1
    assert "row 4: npi: Not a valid NPI" in result.output
    assert "refused: 1 of 3 rows have errors; nothing was written" in result.output
    with app.app_context():
        assert people_count() == 0


def test_a_file_over_the_row_limit_is_refused_before_any_row_is_checked(
    runner, tmp_path, app, monkeypatch
):
    from registry.transfer import csv_import

    monkeypatch.setattr(csv_import, "MAX_ROWS", 3)
    checked = []
    monkeypatch.setattr(csv_import._PeopleImport, "add", lambda self, row: checked.append(row))
    path = tmp_path / "people.csv"
    header = "kind,given_name,family_name\n"
    path.write_text(header + "technologist,Ana,Lopez\n" * 4, encoding="utf-8")
    result = runner.invoke(args=["import", "people", str(path)])
    assert result.exit_code == 1
    assert (
        "row 1: error: The file has more than 3 rows, the most one import takes: split it into "
        "several files." in result.output
    )
    assert "refused: the file has problems; nothing was written" in result.output
    assert checked == []  # no row was validated or looked up
    with app.app_context():
        assert people_count() == 0


def test_cli_import_of_a_file_that_is_not_utf8_says_how_to_save_it(runner, tmp_path, app):
    path = tmp_path / "people.csv"
    path.write_bytes("kind,given_name,family_name\ntechnologist,José,Peña\n".encode("cp1252"))
    result = runner.invoke(args=["import", "people", str(path)])
    assert result.exit_code == 2
    assert "The file is not UTF-8 text: save it as “CSV UTF-8”." in result.output
    assert not isinstance(result.exception, UnicodeDecodeError)
    with app.app_context():
        assert people_count() == 0


def test_cli_export_files_open_in_excel_and_import_again(runner, app, tmp_path):
    with app.app_context():
        tech = factories.person(given="José", family="Peña", external_id="HR-1")
        factories.credential(tech, "CNIM")
        db.session.commit()
    people, credentials = tmp_path / "people.csv", tmp_path / "credentials.csv"
    assert runner.invoke(args=["export", "people", "--output", str(people)]).exit_code == 0
    assert (
        runner.invoke(args=["export", "credentials", "--output", str(credentials)]).exit_code == 0
    )
    for path in (people, credentials):
        assert path.read_bytes().startswith(b"\xef\xbb\xbfid,")  # UTF-8's byte order mark
    with app.app_context():
        db.session.query(Credential).delete()
        db.session.query(Person).delete()
        db.session.commit()
    assert runner.invoke(args=["import", "people", str(people)]).exit_code == 0
    result = runner.invoke(args=["import", "credentials", str(credentials)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(select(Person.given_name)).one() == "José"
        assert db.session.query(Credential).count() == 1


def test_cli_export_people_and_credentials(runner, app, tmp_path):
    with app.app_context():
        tech = factories.person(external_id="HR-1")
        factories.credential(tech, "CNIM")
        db.session.commit()
    people = runner.invoke(args=["export", "people"])
    assert people.exit_code == 0 and people.output.startswith("id,kind,given_name")
    target = tmp_path / "credentials.csv"
    credentials = runner.invoke(args=["export", "credentials", "--output", str(target)])
    assert credentials.exit_code == 0
    assert "HR-1" in target.read_text() and "CNIM" in target.read_text()
    expirations = runner.invoke(args=["export", "expirations"])
    assert expirations.exit_code == 0 and expirations.output.startswith("item_type,")
    template_ = runner.invoke(args=["import", "template", "credentials"])
    assert template_.output.startswith("person_external_id,person_npi,type")
