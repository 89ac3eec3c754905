"""The admin UI in a real browser: Playwright driving Debian's Chromium against the app served
on 127.0.0.1. Saves the screenshots the README shows (docs/screenshots/, 1280 wide)."""

import os
import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from registry.audit.context import acting_as
from registry.credentials.models import Credential
from registry.database import db
from registry.demo import seed
from registry.facilities.models import Facility
from registry.people.models import Person
from tests.admin.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# a fixed "now" (10:00 in Kansas City) so the pages and screenshots say the same every run
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def base_url(app):
    """The app served by werkzeug on a free port of 127.0.0.1, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the whole module (each test is skipped, with the reason, without one)."""
    # skipped here, not at import, so the CI rule that turns skips into failures sees it
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url, frozen_clock):
    """A fresh browser tab (no cookies) at 1280 px wide, with the app clock fixed."""
    frozen_clock.set(NOW)
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def demo(app, make_user, frozen_clock):
    """The demo network (as `make run` loads it) and a coordinator and a viewer."""
    frozen_clock.set(NOW)
    with app.app_context(), acting_as("test"):
        seed(session=db.session)
        db.session.commit()
    return {"coordinator": make_user("coordinator"), "viewer": make_user("viewer")}


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_sign_in_with_the_keyboard_and_read_the_dashboard(page, demo):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    # the email field has focus; Tab to the password, Enter submits
    page.keyboard.type(demo["coordinator"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".card.lapsed .count")).not_to_have_text("0")
    lapsed_row = page.locator("tr.urgency-lapsed").first
    expect(lapsed_row).to_be_visible()
    # rows link to the person
    name = lapsed_row.locator("th a").inner_text()
    screenshot(page, "dashboard")
    lapsed_row.locator("th a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_add_a_technologist_and_a_cnim_credential(page, demo, app):
    sign_in(page, demo["coordinator"])
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Kind").select_option("technologist")
    page.get_by_label("Given name").fill("Rosa")
    page.get_by_label("Family name").fill("Delgado")
    page.get_by_label("Email").fill("rosa.delgado@example.org")
    page.get_by_label("NPI").fill("1234567893")
    page.get_by_label("External id").fill("KC-TECH-099")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rosa Delgado")
    expect(page.get_by_role("status")).to_contain_text("Added Rosa Delgado.")

    page.get_by_role("link", name="Add a credential").click()
    page.get_by_label("Credential type").select_option("CNIM")
    page.get_by_label("Number").fill("CNIM-30117")
    page.get_by_label("Issued on").fill("2021-12-01")
    expires = TODAY + timedelta(days=20)
    page.get_by_label("Expires on").fill(expires.isoformat())
    page.get_by_label("Verified by way of").select_option("primary_source")
    page.get_by_label("Verified on").fill("2026-11-20")
    page.get_by_label("Verified by", exact=True).fill("Dana Whitfield")
    page.get_by_role("button", name="Add credential").click()

    row = page.locator("tr", has=page.get_by_role("link", name="CNIM"))
    expect(row).to_contain_text("CNIM-30117")
    expect(row).to_contain_text("20 days left")
    expect(row).to_contain_text("Verified")
    with app.app_context():
        person = db.session.scalars(select(Person).where(Person.npi == "1234567893")).one()
        assert db.session.scalars(
            select(Credential.type).where(Credential.person_id == person.id)
        ).all() == ["CNIM"]

    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name=re.compile("Within 30 days")).click()
    soon = page.locator("tr", has=page.get_by_role("link", name="Rosa Delgado"))
    expect(soon).to_have_class("urgency-due-30")
    expect(soon).to_contain_text("CNIM")
    expect(soon).to_contain_text(expires.isoformat())


def test_a_bad_npi_is_shown_next_to_its_field_and_inputs_are_kept(page, demo, app):
    sign_in(page, demo["coordinator"])
    page.goto("/people/new")
    page.get_by_label("Kind").select_option("physician")
    page.get_by_label("Given name").fill("Ivan")
    page.get_by_label("Family name").fill("Petrov")
    page.get_by_label("NPI").fill("1234567890")
    page.get_by_role("button", name="Add person").click()
    npi = page.locator(".field", has=page.get_by_label("NPI"))
    expect(npi.locator(".error")).to_contain_text("Not a valid NPI")
    expect(page.get_by_label("NPI")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("NPI")).to_have_value("1234567890")
    expect(page.get_by_label("Given name")).to_have_value("Ivan")
    expect(page.get_by_label("Family name")).to_have_value("Petrov")
    expect(page.get_by_label("Kind")).to_have_value("physician")
    # the other fields carry no error
    expect(
        page.locator(".field", has=page.get_by_label("Given name")).locator(".error")
    ).to_have_count(0)
    with app.app_context():
        assert (
            db.session.scalars(select(Person).where(Person.family_name == "Petrov")).first() is None
        )


def test_renew_a_credential(page, demo, app):
    with app.app_context():
        hannah = db.session.scalars(select(Person).where(Person.external_id == "KC-TECH-005")).one()
        cnim = db.session.scalars(
            select(Credential).where(Credential.person_id == hannah.id, Credential.type == "CNIM")
        ).one()
        hannah_id, old_expiry = hannah.id, cnim.expires_on
    sign_in(page, demo["coordinator"])
    page.goto(f"/people/{hannah_id}")
    row = page.locator("tr", has=page.get_by_role("link", name="CNIM"))
    expect(row).to_contain_text("lapsed")
    page.get_by_role("link", name="Renew CNIM").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renew CNIM")
    new_expiry = date(old_expiry.year + 5, 12, 31)
    expect(page.get_by_label("New expiry")).to_have_value(new_expiry.isoformat())
    page.get_by_label("Verified by way of").select_option("primary_source")
    page.get_by_label("Verified on").fill(TODAY.isoformat())
    page.get_by_role("button", name="Renew").click()
    expect(page.get_by_role("status")).to_contain_text(f"until {new_expiry.isoformat()}")
    row = page.locator("tr", has=page.get_by_role("link", name="CNIM"))
    expect(row).to_contain_text(new_expiry.isoformat())
    expect(row).to_contain_text("Verified")
    screenshot(page, "person")
    # the history keeps the old term
    row.get_by_role("link", name="History of CNIM").click()
    expect(page.locator(".diff del", has_text=old_expiry.isoformat())).to_be_visible()


def test_check_a_case_and_read_the_reasons(page, demo, app):
    with app.app_context():
        facility_id = db.session.scalars(
            select(Facility.id).where(Facility.external_id == "KC-FAC-OPS")
        ).one()
    sign_in(page, demo["coordinator"])
    page.get_by_role("link", name="Check a case").click()
    page.get_by_label("Role").select_option("technologist")
    page.get_by_label(re.compile(r"^Facility")).select_option(facility_id)
    page.get_by_label("Starts").fill("2026-12-02T07:30")
    page.get_by_label("Ends").fill("2026-12-02T11:30")
    for code in ("SSEP", "TCMEP", "EMG"):
        page.locator(f'input[name="modalities"][value="{code}"]').check()
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name=re.compile(r"Answer: \d+ qualified"))).to_be_visible()
    qualified = page.locator(".people-result.qualified > li")
    unqualified = page.locator(".people-result.unqualified > li")
    expect(qualified.first).to_be_visible()
    # Hannah Lindqvist's CNIM lapsed last 31 December: the reason says so in plain words
    hannah = unqualified.filter(has_text="Hannah Lindqvist")
    expect(hannah.locator(".reasons li", has_text="CREDENTIAL_EXPIRED")).to_be_visible()
    expect(hannah.locator(".reasons")).to_contain_text("CNIM")
    expect(page.get_by_label("Starts")).to_have_value("2026-12-02T07:30")
    screenshot(page, "check-case")


def test_import_a_csv_with_one_bad_row_is_refused_in_the_preview(page, demo, app):
    sign_in(page, demo["coordinator"])
    page.get_by_role("link", name="Import & export").click()
    page.get_by_role("link", name="Import a file").click()
    page.get_by_label("People").check()
    csv_text = (
        "kind,given_name,family_name,email,phone,npi,external_id,active\n"
        "technologist,Lena,Fischer,lena@example.org,913-555-0191,1234567893,KC-TECH-101,true\n"
        "technologist,Omar,Reyes,,816-555-0192,1234567890,KC-TECH-102,true\n"
        "physician,Grace,Obi,grace@example.org,,,KC-PHYS-101,true\n"
        "nurse,Tom,,,,,KC-TECH-103,maybe\n"
    )
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "new-hires.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}]
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused: nothing was written.")
    expect(page.get_by_role("alert")).to_contain_text("2 of 4 rows have errors")
    bad = page.locator("tr.row-bad")
    expect(bad).to_have_count(2)
    expect(bad.first.locator("th")).to_have_text("3")
    expect(bad.first.locator("td.cell-bad")).to_contain_text("Not a valid NPI")
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    screenshot(page, "import-preview")
    with app.app_context():
        assert (
            db.session.scalars(select(Person).where(Person.family_name == "Fischer")).first()
            is None
        )


def test_a_viewer_cannot_reach_an_edit_form_nor_post_without_a_token(page, demo, app):
    sign_in(page, demo["viewer"])
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("link", name="Add a person")).to_have_count(0)
    response = page.goto("/people/new")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Forbidden")
    with app.app_context():
        credential_id = db.session.scalars(select(Credential.id)).first()
    assert page.goto(f"/credentials/{credential_id}/renew").status == 403
    # a form post without its CSRF token is refused before anything else is looked at
    refused = page.request.post("/people/new", form={"kind": "technologist"})
    assert refused.status == 400


def test_the_people_list_and_a_persons_page_tell_each_standing(page, demo, app):
    # Tyler Nguyen's one certification, his CNIM, is revoked; Hannah Lindqvist's CNIM lapsed
    with app.app_context(), acting_as("test"):
        tyler = db.session.scalars(select(Person).where(Person.external_id == "KC-TECH-008")).one()
        cnim = db.session.scalars(
            select(Credential).where(Credential.person_id == tyler.id, Credential.type == "CNIM")
        ).one()
        cnim.status, cnim.revoked_on = "revoked", TODAY - timedelta(days=30)
        db.session.commit()
        tyler_id = tyler.id
    sign_in(page, demo["coordinator"])
    page.get_by_role("link", name="People", exact=True).click()
    rows = page.locator("tbody tr")
    tyler_row = rows.filter(has=page.get_by_role("link", name="Nguyen, Tyler"))
    expect(tyler_row).to_contain_text("cannot work: CNIM revoked")
    hannah_row = rows.filter(has=page.get_by_role("link", name="Lindqvist, Hannah"))
    expect(hannah_row).to_contain_text("cannot work: CNIM lapsed")
    expect(rows.filter(has_text="can work at").first).to_be_visible()
    expect(page.get_by_text("Active", exact=True)).to_have_count(1)  # the filter's option only
    green = "rgb(227, 244, 234)"  # --ok-bg
    assert tyler_row.locator(".badge").evaluate("e => getComputedStyle(e).backgroundColor") != green
    screenshot(page, "people")

    page.get_by_role("link", name="Nguyen, Tyler").click()
    expect(page).to_have_url(re.compile(tyler_id))
    expect(page.locator(".facts")).to_contain_text("cannot work: CNIM revoked")
    row = page.locator("tr", has=page.get_by_role("link", name="CNIM"))
    expect(row).to_contain_text("Revoked")
    expect(row).not_to_contain_text("days left")
    expect(row.locator(".badge.tone-good")).to_have_count(0)
    expect(row.get_by_role("link", name="Reinstate CNIM")).to_be_visible()
    expect(row.get_by_role("link", name="Renew CNIM")).to_have_count(0)
    screenshot(page, "person-revoked")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.get_by_role("link", name="Lindqvist, Hannah").click()
    row = page.locator("tr", has=page.get_by_role("link", name="CNIM"))
    expect(row).to_contain_text("Lapsed")
    expect(row).to_contain_text(re.compile(r"lapsed \d+ days ago"))
    expect(row.locator(".badge.tone-good")).to_have_count(0)
    expect(row).not_to_contain_text("Verified")
