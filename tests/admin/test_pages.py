"""Read pages and their actions: dashboard, people search, check a case, alerts, audit trail,
and the import preview / commit."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from registry import clock
from registry.alerts.models import Alert
from registry.database import db
from registry.people.models import Person
from tests import factories

PEOPLE_CSV = (
    "kind,given_name,family_name,email,phone,npi,external_id,active\n"
    "technologist,Ana,Ruiz,ana@example.org,,1234567893,HR-1,true\n"
    "technologist,Bo,Lind,,,,HR-2,\n"
)


@pytest.fixture
def network(app):
    with app.app_context():
        where, doc, tech = factories.network()
        return where.id, doc.id, tech.id


def test_dashboard_lists_what_lapses_coloured_by_urgency(app, ui, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    with app.app_context():
        where = factories.facility()
        soon = factories.person("technologist", "Sam", "Soon")
        factories.credential(soon, "BLS", expires_on=date(2026, 12, 10))
        factories.appointment(soon, where)
        later = factories.person("technologist", "Lee", "Later")
        factories.credential(later, "CNIM", expires_on=date(2027, 2, 1))
        gone = factories.person("technologist", "Gus", "Gone")
        factories.credential(gone, "CNIM", expires_on=date(2026, 11, 1))
        db.session.commit()
        soon_id = soon.id
    html = ui.get("/").get_data(as_text=True)
    rows = re.findall(
        r'<tr class="urgency-([\w-]+)">\s*<th scope="row"[^>]*>'
        r'<a href="/people/([^"]+)">([^<]+)</a>',
        html,
    )
    assert [(r[0], r[2]) for r in rows] == [
        ("lapsed", "Gus Gone"),
        ("due-30", "Sam Soon"),
        ("due-90", "Lee Later"),
    ]
    assert rows[1][1] == soon_id
    assert "13 days left" in html and "lapsed 26 days ago" in html
    cards = re.findall(
        r'<span class="count">(\d+)</span>\s*<span class="label">([^<]+)</span>', html
    )
    assert cards == [
        ("1", "Lapsed"),
        ("1", "Within 30 days"),
        ("1", "Within 60 days"),
        ("2", "Within 90 days"),
    ]
    only_soon = ui.get("/?show=30").get_data(as_text=True)
    assert "Sam Soon" in only_soon and "Lee Later" not in only_soon and "Gus Gone" not in only_soon
    technologists_there = ui.get(f"/?facility_id={where.id}").get_data(as_text=True)
    assert "Sam Soon" in technologists_there and "Lee Later" not in technologists_there


def test_people_search_and_filters(app, ui, network):
    where_id, _, _ = network
    with app.app_context():
        factories.person("technologist", "Ina", "Active", npi="1234567893", external_id="E-9")
        factories.person("physician", "Old", "Timer", active=False)
        db.session.commit()

    def names(query):
        html = ui.get(f"/people?{query}").get_data(as_text=True)
        return re.findall(r'<a href="/people/[^"]+">([^<]+)</a></td>', html)

    assert names("") == ["Active, Ina", "Haddad, Omar", "Nguyen, Tess"]
    assert names("q=123456") == ["Active, Ina"]
    assert names("q=e-9") == ["Active, Ina"]
    assert names("q=haddad") == ["Haddad, Omar"]
    assert names("kind=physician&active=any") == ["Haddad, Omar", "Timer, Old"]
    assert names("active=no") == ["Timer, Old"]
    assert names(f"facility_id={where_id}") == ["Haddad, Omar", "Nguyen, Tess"]


def test_people_come_in_pages_of_fifty(app, ui):
    with app.app_context():
        for number in range(51):
            factories.person("technologist", "Tech", f"N{number:02d}")
        db.session.commit()

    def page(number):
        html = ui.get(f"/people?page={number}").get_data(as_text=True)
        return re.findall(r'<a href="/people/[^"]+">([^<]+)</a></td>', html), html

    first, html = page(1)
    assert len(first) == 50 and "Page 1 of 2 (51 in all)" in html
    assert page(2)[0] == ["N50, Tech"]
    # far past the end: an empty page that still counts everyone, not an error
    beyond, html = page(100_000)
    assert beyond == [] and "51 people" in html and "Nobody matches." in html


def test_supervision_agreements_come_in_pages_of_fifty(app, ui):
    with app.app_context():
        where = factories.facility()
        for number in range(51):
            doc = factories.person("physician", "Doc", f"N{number:02d}")
            factories.agreement(where, doc)
        db.session.commit()

    def rows(number):
        html = ui.get(f"/agreements?page={number}").get_data(as_text=True)
        return re.findall(r'data-label="Physician"><a href="/people/[^"]+">([^<]+)</a>', html), html

    first, html = rows(1)
    assert len(first) == 50 and "Page 1 of 2 (51 in all)" in html
    second, _ = rows(2)
    assert len(second) == 1 and second[0] not in first


def test_a_persons_page_shows_the_whole_file(app, ui, network, frozen_clock):
    where_id, doc_id, tech_id = network
    html = ui.get(f"/people/{tech_id}").get_data(as_text=True)
    for text in (
        "CNIM",
        "BLS",
        "2028-12-31",
        "Verified",
        "Primary source",
        "Overland Park Spine Center",
        "SSEP, TCMEP",
        "Everywhere",
        "Every technologist appointed there",
        "Omar Haddad",
        "No upcoming assignments.",
        "No earlier assignments.",
        "No checks yet.",
    ):
        assert text in html, text
    doc = ui.get(f"/people/{doc_id}").get_data(as_text=True)
    assert "MEDICAL_LICENSE" in doc and "KS" in doc and "no expiry" in doc


def test_check_a_case_shows_who_is_qualified_and_every_reason(app, ui, network):
    where_id, _, tech_id = network
    with app.app_context():
        newcomer = factories.person("technologist", "Nia", "New")
        factories.credential(newcomer, "CNIM", verified=False)
        db.session.commit()
    query = {
        "role": "technologist",
        "facility_id": where_id,
        "starts_at": "2026-12-01T08:00",
        "ends_at": "2026-12-01T12:00",
        "modalities": ["SSEP", "EMG"],
        "payer": "commercial",
        "patient_state": "",
    }
    response = ui.get("/check", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Answer: 1 qualified, 1 not" in html
    qualified, unqualified = html.split("<h3>Not qualified</h3>")
    assert "Tess Nguyen" in qualified and "Nia New" in unqualified
    for code in (
        "CREDENTIAL_UNVERIFIED",
        "MISSING_CREDENTIAL",
        "NO_APPOINTMENT",
        "SCOPE_NOT_COVERED",
    ):
        assert code in unqualified, code
    # what was asked stays in the form
    assert 'value="2026-12-01T08:00"' in html
    assert re.search(r'value="SSEP" checked', html)


def test_check_a_case_errors_sit_next_to_their_fields(ui, network):
    where_id, _, _ = network
    response = ui.get(
        "/check",
        query_string={
            "role": "technologist",
            "facility_id": where_id,
            "starts_at": "2026-12-01T12:00",
            "ends_at": "2026-12-01T08:00",
            "patient_state": "ZZ",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="f-modalities-error">Required\.', html)
    assert re.search(r'id="f-patient_state-error">Not a valid two-letter US state', html)
    unknown = ui.get(
        "/check",
        query_string={
            "role": "technologist",
            "facility_id": "nope",
            "starts_at": "2026-12-01T08:00",
            "ends_at": "2026-12-01T09:00",
            "modalities": "EEG",
        },
    )
    # no facility, so no zone to read the local times in: the schema refuses them
    assert re.search(
        r'id="f-starts_at-error">Not a valid aware datetime', unknown.get_data(as_text=True)
    )


def test_check_a_case_at_the_calendars_ends_is_a_field_error(ui, network):
    where_id, _, _ = network
    for starts, ends in (
        ("0001-01-01T00:00", "0001-01-01T01:00"),
        ("9999-12-31T22:00", "9999-12-31T23:00"),
    ):
        response = ui.get(
            "/check",
            query_string={
                "role": "technologist",
                "facility_id": where_id,
                "starts_at": starts,
                "ends_at": ends,
                "modalities": "SSEP",
            },
        )
        assert response.status_code == 422
        assert re.search(
            r'id="f-starts_at-error">Must be a time between the years 1900 and 9998',
            response.get_data(as_text=True),
        )


def test_alerts_page_and_retry_of_a_failed_alert(app, ui, frozen_clock):
    with app.app_context():
        tech = factories.person()
        failed = Alert(
            item_type="credential",
            item_id="c1",
            person_id=tech.id,
            lapse_date=date(2026, 12, 31),
            threshold_days=30,
            event="credential.expiring",
            channel="email",
            recipient="tess@example.org",
            status="failed",
            attempts=8,
            last_error="SMTP 451 try later",
        )
        sent = Alert(
            item_type="credential",
            item_id="c1",
            person_id=tech.id,
            lapse_date=date(2026, 12, 31),
            threshold_days=60,
            event="credential.expiring",
            channel="email",
            recipient="tess@example.org",
            status="sent",
            attempts=1,
        )
        db.session.add_all([failed, sent])
        db.session.commit()
        failed_id = failed.id
    html = ui.get("/alerts?status=failed").get_data(as_text=True)
    assert "SMTP 451 try later" in html and f"/alerts/{failed_id}/retry" in html
    assert "Tess Nguyen" in html
    assert ui.get("/alerts?status=sent").get_data(as_text=True).count("/retry") == 0
    assert ui.post_form(f"/alerts/{failed_id}/retry", {}).status_code == 302
    with app.app_context():
        alert = db.session.get(Alert, failed_id)
        assert alert.status == "pending" and alert.attempts == 0
    # a second retry of what is no longer failed is refused plainly
    again = ui.post_form(f"/alerts/{failed_id}/retry", {})
    assert again.status_code == 409 and "only a failed alert" in again.get_data(as_text=True)


def test_audit_trail_filters_and_shows_before_and_after(app, ui):
    ui.post_form(
        "/people/new",
        {"kind": "technologist", "given_name": "Ana", "family_name": "Ruiz", "active": "on"},
    )
    with app.app_context():
        person = db.session.scalars(select(Person)).one()
        person_id, version = person.id, person.version
    ui.post_form(
        f"/people/{person_id}/edit",
        {"given_name": "Anna", "family_name": "Ruiz", "active": "on", "version": str(version)},
    )
    html = ui.get(f"/audit?entity_type=person&entity_id={person_id}").get_data(as_text=True)
    assert "2 events" in html
    assert "<del>Ana</del> → <ins>Anna</ins>" in html
    assert "user:coordinator@example.org" in html
    assert "0 events" in ui.get("/audit?actor=someone-else").get_data(as_text=True)
    assert "0 events" in ui.get("/audit?since=2999-01-01").get_data(as_text=True)


def test_import_preview_refuses_a_file_with_a_bad_row(app, ui):
    bad = PEOPLE_CSV + "technologist,Cy,Dahl,,,1234567890,HR-3,\n"
    response = ui.post_form(
        "/import",
        {"kind": "people", "action": "preview", "file": (io_bytes(bad), "roster.csv")},
        content_type="multipart/form-data",
        token_from="/import",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Refused: nothing was written." in html
    assert "1 of 3 rows have errors" in html
    assert re.search(r'<tr class="row-bad">\s*<th scope="row" data-label="Row">4</th>', html)
    assert "Not a valid NPI" in html
    # listed at the top too, row and column, so no error sits off-screen in a wide table
    summary = html.split('<ul class="import-errors">')[1].split("</ul>")[0]
    assert re.search(r"<li>Row 4, <code>npi</code>: Not a valid NPI", summary)
    assert 'name="action" value="import"' not in html
    with app.app_context():
        assert db.session.query(Person).count() == 0


def test_import_preview_then_commit(app, ui):
    preview = ui.post_form(
        "/import",
        {"kind": "people", "action": "preview", "file": (io_bytes(PEOPLE_CSV), "roster.csv")},
        content_type="multipart/form-data",
        token_from="/import",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "All 2 rows are valid." in html
    with app.app_context():
        assert db.session.query(Person).count() == 0
    csv_text = re.search(r'name="csv_text" value="([^"]*)"', html).group(1)
    import html as html_lib

    done = ui.post_form(
        "/import",
        {"kind": "people", "action": "import", "csv_text": html_lib.unescape(csv_text)},
        token_from="/import",
    )
    assert done.status_code == 302
    with app.app_context():
        assert db.session.query(Person).count() == 2
    assert "Imported 2 people." in ui.get(done.headers["Location"]).get_data(as_text=True)


def test_import_upload_problems(ui):
    no_file = ui.post_form("/import", {"kind": "people", "action": "preview"}, token_from="/import")
    assert no_file.status_code == 422 and "Choose a CSV file" in no_file.get_data(as_text=True)
    latin = ui.post_form(
        "/import",
        {
            "kind": "people",
            "action": "preview",
            "file": (io_bytes("kind\nJos\xe9\n", "latin-1"), "x.csv"),
        },
        content_type="multipart/form-data",
        token_from="/import",
    )
    assert "not UTF-8" in latin.get_data(as_text=True)


def test_templates_and_exports_download_as_csv(app, ui, network):
    template = ui.get("/import/template/credentials.csv")
    assert template.mimetype == "text/csv"
    # UTF-8's byte order mark first: Excel, opening the file by double-click, reads accents right
    bom = "\ufeff"
    assert template.get_data(as_text=True).startswith(bom + "person_external_id,person_npi,type")
    people = ui.get("/export/people.csv")
    assert "attachment" in people.headers["Content-Disposition"]
    assert people.get_data(as_text=True).startswith(bom + "id,kind")
    assert "Haddad" in people.get_data(as_text=True)
    credentials = ui.get("/export/credentials.csv").get_data(as_text=True)
    assert credentials.startswith(bom + "id,person_name") and "CNIM" in credentials
    assert ui.get("/export/expirations.csv").get_data(as_text=True).startswith(bom + "item_type,")


def test_exported_files_upload_again(app, ui):
    from registry.credentials.models import Credential

    with app.app_context():
        doc = factories.person("physician", "José", "Peña", external_id="HR-9")
        factories.credential(doc, "ABCN", expires_on=None)
        db.session.commit()
    people = ui.get("/export/people.csv").get_data(as_text=True)
    credentials = ui.get("/export/credentials.csv").get_data(as_text=True)
    with app.app_context():
        db.session.query(Credential).delete()
        db.session.query(Person).delete()
        db.session.commit()
    for kind, text in (("people", people), ("credentials", credentials)):
        preview = ui.post_form(
            "/import",
            {"kind": kind, "action": "preview", "file": (io_bytes(text), f"{kind}.csv")},
            content_type="multipart/form-data",
            token_from="/import",
        )
        assert "All 1 rows are valid." in preview.get_data(as_text=True), kind
        done = ui.post_form(
            "/import", {"kind": kind, "action": "import", "csv_text": text}, token_from="/import"
        )
        assert done.status_code == 302, kind
    with app.app_context():
        assert db.session.scalars(select(Person.given_name)).one() == "José"
        again = db.session.scalars(select(Credential)).one()
        assert (again.type, again.expires_on) == ("ABCN", None)  # exported as never


def test_the_transfer_page_says_what_an_empty_expiry_means(ui):
    html = ui.get("/transfer").get_data(as_text=True)
    assert "An empty <code>expires_on</code> (or no such column) gives the type" in html
    assert "write <code>never</code> for a credential that does not expire" in html


def io_bytes(text: str, encoding: str = "utf-8"):
    import io

    return io.BytesIO(text.encode(encoding))


def test_a_large_file_fits_in_the_confirmation_post(ui):
    # past Flask's 500 kB default for form fields; the bad header keeps the run short
    big = "kind,shoe_size\n" + "technologist,42\n" * 40_000
    assert len(big) > 600_000
    response = ui.post_form(
        "/import",
        {"kind": "people", "action": "import", "csv_text": big},
        token_from="/import",
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Unknown column: shoe_size" in response.get_data(as_text=True)


def test_a_persons_page_shows_every_upcoming_assignment_soonest_first(
    app, ui, network, frozen_clock
):
    # SPEC: the person's page shows every assignment; the soonest ones matter most
    from datetime import timedelta

    from registry.assignments.models import Assignment

    where_id, _, tech_id = network
    now = clock.now()
    with app.app_context():
        for day in range(-30, 31):
            if day == 0:
                continue
            starts = now + timedelta(days=day)
            factories.add(
                Assignment(
                    person_id=tech_id,
                    role="technologist",
                    facility_id=where_id,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=4),
                    case={},
                    case_ref=f"CASE{day:+03d}",
                    status="booked",
                )
            )
        db.session.commit()
    html = ui.get(f"/people/{tech_id}").get_data(as_text=True)
    shown = re.findall(r"CASE[+-]\d\d", html)
    upcoming = [f"CASE{day:+03d}" for day in range(1, 31)]
    earlier = [f"CASE{day:+03d}" for day in range(-1, -26, -1)]  # the latest 25, latest first
    assert shown == upcoming + earlier
    assert "Earlier (the latest 25)" in html
