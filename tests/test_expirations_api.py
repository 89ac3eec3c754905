"""GET /api/v1/expirations and `registry export expirations`: soonest first, days_left from the
local date, filters, and 422 for bad parameters."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from tests.jobs import factories as f

URL = "/api/v1/expirations"


@pytest.fixture
def network(app, frozen_clock):
    """Late evening in Chicago (26 Nov), already 27 Nov in New York."""
    frozen_clock.set(datetime(2026, 11, 27, 5, 30, tzinfo=UTC))
    with app.app_context():
        spine = f.facility("Spine Center", timezone="America/Chicago")
        harbor = f.facility("Harbor Hospital", timezone="America/New_York", state="NY")
        tess = f.person("technologist", "Tess", "Nguyen")
        omar = f.person("physician", "Omar", "Haddad")
        gone = f.person("technologist", "Gone", "Away", active=False)
        ids = {
            "spine": spine.id,
            "harbor": harbor.id,
            "tess": tess.id,
            "omar": omar.id,
            "spine_appt": f.appointment(tess, spine, expires_on=date(2026, 12, 7)).id,
            "harbor_appt": f.appointment(tess, harbor, expires_on=date(2026, 12, 7)).id,
            "cnim": f.credential(tess, "CNIM", expires_on=date(2026, 12, 7)).id,
            "license": f.credential(
                omar, "MEDICAL_LICENSE", expires_on=date(2026, 11, 20), jurisdiction="KS"
            ).id,
            "agreement": f.agreement(harbor, omar, effective_to=date(2027, 2, 1)).id,
        }
        f.appointment(omar, spine)
        f.credential(omar, "BLS", expires_on=date(2027, 6, 1))  # beyond 90 days
        f.credential(tess, "BLS", expires_on=date(2026, 12, 1), status="revoked")
        f.credential(tess, "ACLS", expires_on=date(2026, 12, 1))  # renewed by the next one
        f.credential(tess, "ACLS", expires_on=date(2028, 12, 1))
        f.credential(gone, "CNIM", expires_on=date(2026, 12, 1))
    return ids


def listing(client, auth, query=""):
    response = client.get(f"{URL}?page_size=100{query}", headers=auth)
    assert response.status_code == 200, response.json
    return [(item["item_type"], item["item_id"], item["days_left"]) for item in response.json]


def test_soonest_first_with_days_left_from_the_local_date(client, auth, network):
    response = client.get(URL, headers=auth)
    assert response.status_code == 200
    assert [(i["item_type"], i["item_id"], i["days_left"]) for i in response.json] == [
        ("credential", network["license"], -6),
        ("appointment", network["harbor_appt"], 10),  # New York is already on 27 Nov
        ("credential", network["cnim"], 11),  # the organisation's zone, Chicago: 26 Nov
        ("appointment", network["spine_appt"], 11),
        ("agreement", network["agreement"], 66),
    ]
    first = response.json[0]
    assert first == {
        "item_type": "credential",
        "item_id": network["license"],
        "person_id": network["omar"],
        "facility_id": None,
        "type": "MEDICAL_LICENSE",
        "expires_on": "2026-11-20",
        "days_left": -6,
        "person_name": "Omar Haddad",
        "facility_name": None,
        "type_name": "State medical license",
        "jurisdiction": "KS",
    }
    agreement = response.json[-1]
    assert agreement["type"] == "supervision_agreement"
    assert agreement["facility_id"] == network["harbor"]
    assert agreement["person_id"] == network["omar"]


def test_filters(client, auth, network):
    n = network
    assert [i[1] for i in listing(client, auth, "&include_expired=false")] == [
        n["harbor_appt"],
        n["cnim"],
        n["spine_appt"],
        n["agreement"],
    ]
    assert [i[1] for i in listing(client, auth, "&within_days=10")] == [
        n["license"],
        n["harbor_appt"],
    ]
    assert [i[1] for i in listing(client, auth, "&within_days=0")] == [n["license"]]
    assert listing(client, auth, "&within_days=0&include_expired=false") == []
    assert [i[1] for i in listing(client, auth, "&kind=credential")] == [n["license"], n["cnim"]]
    assert [i[1] for i in listing(client, auth, "&kind=appointment")] == [
        n["harbor_appt"],
        n["spine_appt"],
    ]
    assert [i[1] for i in listing(client, auth, "&kind=agreement")] == [n["agreement"]]
    assert [i[1] for i in listing(client, auth, "&kind=physician")] == [
        n["license"],
        n["agreement"],
    ]
    assert [i[1] for i in listing(client, auth, "&kind=technologist")] == [
        n["harbor_appt"],
        n["cnim"],
        n["spine_appt"],
    ]
    # a credential belongs to no facility: it counts where its holder has an appointment
    assert [i[1] for i in listing(client, auth, f"&facility_id={n['harbor']}")] == [
        n["harbor_appt"],
        n["cnim"],
        n["agreement"],
    ]
    assert [i[1] for i in listing(client, auth, f"&facility_id={n['spine']}")] == [
        n["license"],
        n["cnim"],
        n["spine_appt"],
    ]
    assert listing(client, auth, "&facility_id=unknown") == []


def test_pagination(client, auth, network):
    page = client.get(f"{URL}?page=2&page_size=2", headers=auth)
    assert page.status_code == 200
    assert [i["item_id"] for i in page.json] == [network["cnim"], network["spine_appt"]]
    assert '"total": 5' in page.headers["X-Pagination"]


def test_the_spec_url_with_its_empty_filters_lists_everything(client, auth, network):
    # SPEC: GET /expirations?within_days=90&include_expired=true&kind=&facility_id=
    spec = client.get(f"{URL}?within_days=90&include_expired=true&kind=&facility_id=", headers=auth)
    assert spec.status_code == 200, spec.json
    assert [i["item_id"] for i in spec.json] == [i[1] for i in listing(client, auth)]
    assert len(spec.json) == 5
    blank_days = client.get(f"{URL}?within_days=&include_expired=", headers=auth)
    assert blank_days.status_code == 200 and blank_days.json == spec.json


def test_the_calendars_first_and_last_days_are_listed_without_error(app, client, auth, network):
    with app.app_context():
        tess = f.person("technologist", "Ada", "Early")
        ancient = f.credential(tess, "BLS", expires_on=date(1, 1, 1)).id
        f.credential(tess, "ACLS", expires_on=date(9999, 12, 31))
    response = client.get(f"{URL}?within_days=3660&page_size=100", headers=auth)
    assert response.status_code == 200
    assert response.json[0]["item_id"] == ancient
    assert response.json[0]["days_left"] == (date(1, 1, 1) - date(2026, 11, 26)).days
    assert "9999-12-31" not in response.text
    credentials = client.get(f"/api/v1/credentials?person_id={tess.id}", headers=auth)
    assert credentials.status_code == 200
    assert [c["days_left"] for c in credentials.json][-1] == (
        date(9999, 12, 31) - date(2026, 11, 26)
    ).days


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("within_days=-1", "within_days"),
        ("within_days=abc", "within_days"),
        ("within_days=100000", "within_days"),
        ("include_expired=maybe", "include_expired"),
        ("kind=nurse", "kind"),
        ("facility_id=" + "x" * 65, "facility_id"),
    ],
)
def test_bad_parameters_are_422(client, auth, query, field):
    response = client.get(f"{URL}?{query}", headers=auth)
    assert response.status_code == 422
    assert field in response.json["errors"]["query"]


def test_needs_a_key_with_read_scope(client, make_key, network):
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=make_key(["read"])).status_code == 200


def test_export_expirations_as_csv(runner, network, tmp_path):
    result = runner.invoke(args=["export", "expirations"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["item_type"], r["item_id"], r["days_left"]) for r in rows] == [
        ("credential", network["license"], "-6"),
        ("appointment", network["harbor_appt"], "10"),
        ("credential", network["cnim"], "11"),
        ("appointment", network["spine_appt"], "11"),
        ("agreement", network["agreement"], "66"),
    ]
    assert rows[0]["person_name"] == "Omar Haddad" and rows[0]["expires_on"] == "2026-11-20"
    assert rows[0]["jurisdiction"] == "KS" and rows[0]["facility_id"] == ""
    assert rows[1]["facility_name"] == "Harbor Hospital"

    target = tmp_path / "expirations.csv"
    result = runner.invoke(
        args=[
            "export",
            "expirations",
            "--no-include-expired",
            "--kind",
            "credential",
            "--within-days",
            "30",
            "--output",
            str(target),
        ]
    )
    assert result.exit_code == 0, result.output
    written = list(csv.DictReader(target.open(newline="")))
    assert [r["item_id"] for r in written] == [network["cnim"]]
    bad = runner.invoke(args=["export", "expirations", "--kind", "nurse"])
    assert bad.exit_code != 0


def test_csv_cells_that_spreadsheets_would_run_are_quoted(app, runner, frozen_clock):
    with app.app_context():
        tricky = f.person("technologist", "=HYPERLINK(1)", "Smith", email=None)
        f.credential(tricky, "CNIM", expires_on=date(2026, 12, 7))
    result = runner.invoke(args=["export", "expirations"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["person_name"] == "'=HYPERLINK(1) Smith"
    # one formula-quoting rule for every export, not a copy of it
    from registry.expirations import csv as expirations_csv
    from registry.transfer import csv_export

    assert expirations_csv.spreadsheet_cell is csv_export.spreadsheet_cell


def test_days_left_outside_an_app_follows_registry_timezone(frozen_clock, monkeypatch):
    """No zone is written into the code: without an app, the setting comes from the environment."""
    from registry.credentials.models import Credential
    from registry.expirations.service import days_left
    from schemas.credentials import CredentialSchema

    frozen_clock.set(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))  # Tokyo: already 28 Nov
    monkeypatch.setenv("REGISTRY_TIMEZONE", "Asia/Tokyo")
    lapsing = Credential(expires_on=date(2026, 12, 1))
    assert CredentialSchema(only=("days_left",)).dump(lapsing) == {"days_left": 3}
    assert days_left(date(2026, 12, 1)) == 3
    assert days_left(date(2026, 12, 1), timezone="America/Chicago") == 4
    assert days_left(None) is None


def test_days_left_is_one_rule_in_the_api_the_admin_pages_and_the_expiration_list(
    app, client, auth, frozen_clock, monkeypatch
):
    from registry.admin.display import days_left as shown_days_left

    monkeypatch.setitem(app.config, "REGISTRY_TIMEZONE", "Asia/Tokyo")
    frozen_clock.set(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))  # Tokyo 28 Nov, Chicago 27 Nov
    with app.app_context():
        tess = f.person("technologist", "Tess", "Nguyen")
        cnim = f.credential(tess, "CNIM", expires_on=date(2026, 12, 7))
        cnim_id, tess_id = cnim.id, tess.id
    one = client.get(f"/api/v1/credentials/{cnim_id}", headers=auth).json
    listed = client.get(f"/api/v1/people/{tess_id}/credentials", headers=auth).json
    expiring = client.get(URL, headers=auth).json
    with app.test_request_context():
        shown = shown_days_left(date(2026, 12, 7))
    assert one["days_left"] == listed[0]["days_left"] == expiring[0]["days_left"] == shown == 9


@pytest.fixture
def years_of_lapses(app, frozen_clock):
    """60 CNIMs that lapsed over the years and 3 that lapse soon, at one facility."""
    frozen_clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    with app.app_context():
        spine = f.facility("Spine Center")
        for n in range(63):
            tech = f.person("technologist", f"T{n:02d}", "Lapsed", email=None)
            f.appointment(tech, spine)
            expires = (
                date(2026, 12, 1 + n - 60)
                if n >= 60
                else date(2020 + n % 6, 1 + n % 12, 1 + n // 12)
            )
            f.credential(tech, "CNIM", expires_on=expires)
        return spine.id


def test_the_expiration_list_is_paged_in_the_database(app, client, auth, years_of_lapses):
    from sqlalchemy import event

    from registry.database import db

    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get(f"{URL}?page=2&page_size=25&kind=credential", headers=auth)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    assert len(page.json) == 25
    assert '"total": 63' in page.headers["X-Pagination"]
    everything = client.get(f"{URL}?page_size=100&kind=credential", headers=auth).json
    assert page.json == everything[25:50]
    assert [i["days_left"] for i in everything] == sorted(i["days_left"] for i in everything)
    # the engine's renewal pre-pass reads only items paired with a later record of their holder
    listing_queries = [
        s for s in statements if "expires_on" in s and "credentials" in s and "renewal" not in s
    ]
    assert listing_queries and all("LIMIT" in s.upper() or "count(" in s for s in listing_queries)


def test_the_dashboard_counts_and_pages_in_the_database(app, years_of_lapses):
    from registry.audit.context import acting_as
    from registry.auth import users
    from registry.database import db
    from tests.admin.conftest import PASSWORD, SignedInClient

    with app.app_context(), acting_as("test"):
        users.create(
            session=db.session, email="c@example.org", role="coordinator", password=PASSWORD
        )
        db.session.commit()
    ui = SignedInClient(app, "c@example.org")
    html = ui.get("/").get_data(as_text=True)
    cards = re.findall(r'<span class="count">(\d+)</span>\s*<span class="label">([^<]+)', html)
    assert cards == [
        ("60", "Lapsed"),
        ("3", "Within 30 days"),
        ("3", "Within 60 days"),
        ("3", "Within 90 days"),
    ]
    assert "63 items, soonest first" in html
    first = re.findall(r'<tr class="urgency-[\w-]+">', html)
    assert len(first) == 50 and "Page 1 of 2 (63 in all)" in html
    second = ui.get("/?page=2").get_data(as_text=True)
    assert len(re.findall(r'<tr class="urgency-[\w-]+">', second)) == 13
    assert second.count('class="urgency-due-30"') == 3  # the soonest come last
    lapsed = ui.get("/?show=lapsed&page=2").get_data(as_text=True)
    assert len(re.findall(r'<tr class="urgency-lapsed">', lapsed)) == 10
