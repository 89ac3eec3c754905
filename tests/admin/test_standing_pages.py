"""The pages tell the truth about each record: its standing is the rules engine's, never a
green "Active" or "Verified" on a record that counts for nothing (issue 15)."""

import re
from datetime import date, timedelta

import pytest

from registry.credentials.models import Credential
from registry.database import db
from tests import factories
from tests.statements import counting_queries

TODAY = date(2026, 11, 27)  # the frozen clock's date in the organisation's zone


@pytest.fixture
def people(app, frozen_clock):
    """One technologist in each standing, all appointed at one KS facility."""
    with app.app_context():
        where = factories.facility()
        valid = factories.qualified_technologist(where, "Val", "Valid")
        lapsed = factories.qualified_technologist(
            where, "Lee", "Lapsed", cnim_expires=TODAY - timedelta(days=341)
        )
        revoked = factories.person("technologist", "Rae", "Revoked")
        factories.credential(
            revoked,
            "CNIM",
            expires_on=TODAY + timedelta(days=1120),
            status="revoked",
            revoked_on=date(2026, 6, 1),
        )
        factories.credential(revoked, "BLS")
        factories.appointment(revoked, where)
        suspended = factories.person("technologist", "Sam", "Suspended")
        factories.credential(suspended, "CNIM", status="suspended")
        factories.credential(suspended, "BLS")
        factories.appointment(suspended, where)
        # a CNIM verified before the revocation of another of the person's CNIMs
        held = factories.person("technologist", "Hal", "Held")
        factories.credential(
            held, "CNIM", number="OLD-1", status="revoked", revoked_on=date(2026, 6, 1)
        )
        factories.credential(held, "CNIM", number="NEW-2")
        factories.credential(held, "BLS")
        factories.appointment(held, where)
        db.session.commit()
        return {
            name: record.id
            for name, record in {
                "valid": valid,
                "lapsed": lapsed,
                "revoked": revoked,
                "suspended": suspended,
                "held": held,
                "where": where,
            }.items()
        }


def _credential_id(app, person_id, **filters):
    with app.app_context():
        return (
            db.session.query(Credential)
            .filter_by(person_id=person_id, type="CNIM", **filters)
            .one()
            .id
        )


def _row(html: str, credential_id: str) -> str:
    """The person page's table row of one credential."""
    found = re.search(
        rf'<tr[^>]*>\s*<th[^>]*><a href="/credentials/{credential_id}">.*?</tr>', html, re.S
    )
    assert found, credential_id
    return found.group(0)


def test_a_credential_lapsed_341_days_ago_reads_lapsed_not_active_and_verified(app, ui, people):
    cnim = _credential_id(app, people["lapsed"])
    row = _row(ui.get(f"/people/{people['lapsed']}").get_data(as_text=True), cnim)
    assert "Lapsed" in row and "lapsed 341 days ago" in row
    assert "tone-good" not in row and ">Verified<" not in row and ">Active<" not in row
    page = ui.get(f"/credentials/{cnim}").get_data(as_text=True)
    assert (
        'class="badge tone-bad" title="CNIM certification lapsed after 2025-12-21.">Lapsed' in page
    )
    assert "tone-good" not in page and ">Verified<" not in page


def test_a_revoked_credential_shows_no_green_days_left_nor_verified(app, ui, people):
    cnim = _credential_id(app, people["revoked"])
    html = ui.get(f"/people/{people['revoked']}").get_data(as_text=True)
    row = _row(html, cnim)
    assert ">Revoked<" in row and "tone-bad" in row
    assert "1120 days left" not in row and "tone-good" not in row and ">Verified<" not in row
    assert "Reinstate" in row and "Renew" not in row
    page = ui.get(f"/credentials/{cnim}").get_data(as_text=True)
    assert "1120 days left" not in page and ">Verified<" not in page
    assert "CNIM certification revoked on 2026-06-01." in page


def test_a_suspended_credential_offers_reinstate_and_edit_not_renew(app, ui, people):
    cnim = _credential_id(app, people["suspended"])
    row = _row(ui.get(f"/people/{people['suspended']}").get_data(as_text=True), cnim)
    assert ">Suspended<" in row and "tone-warn" in row
    assert "Reinstate" in row and "Edit" in row and "Renew" not in row
    page = ui.get(f"/credentials/{cnim}").get_data(as_text=True)
    toolbar = page.split('<dl class="facts">')[0]
    assert "Reinstate" in toolbar and "Edit" in toolbar and "Renew" not in toolbar
    # the Reinstate button lifts the suspension
    with app.app_context():
        version = db.session.get(Credential, cnim).version
    answer = ui.post_form(
        f"/credentials/{cnim}/status", {"status": "active", "version": str(version)}
    )
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.get(Credential, cnim).status == "active"
    row = _row(ui.get(f"/people/{people['suspended']}").get_data(as_text=True), cnim)
    assert ">Valid<" in row and "tone-good" in row and ">Verified<" in row


def test_a_held_back_credential_shows_held_back_on_both_pages(app, ui, people):
    newer = _credential_id(app, people["held"], number="NEW-2")
    row = _row(ui.get(f"/people/{people['held']}").get_data(as_text=True), newer)
    assert row.count("Held back") >= 2 and "tone-good" not in row
    assert "counts again once verified on or after 2026-06-01" in row
    page = ui.get(f"/credentials/{newer}").get_data(as_text=True)
    assert ">Held back<" in page and ">Verified<" not in page


def test_a_valid_credential_is_green_with_its_days_left(app, ui, people):
    cnim = _credential_id(app, people["valid"])
    row = _row(ui.get(f"/people/{people['valid']}").get_data(as_text=True), cnim)
    days = (date(2028, 12, 31) - TODAY).days
    assert ">Valid<" in row and f"{days} days left" in row and ">Verified<" in row
    assert "tone-good" in row and "tone-bad" not in row
    html = ui.get(f"/people/{people['valid']}").get_data(as_text=True)
    assert 'can work at 1 facility</span> <span class="subtle">Overland Park Spine Center<' in html


def test_the_people_list_says_where_each_person_can_work(ui, people):
    html = ui.get("/people").get_data(as_text=True)
    rows = {
        name: re.search(rf"{name}</a>.*?</tr>", html, re.S).group(0)
        for name in ("Valid, Val", "Lapsed, Lee", "Revoked, Rae", "Suspended, Sam", "Held, Hal")
    }
    assert "can work at 1 facility" in rows["Valid, Val"] and "tone-good" in rows["Valid, Val"]
    assert "cannot work: CNIM lapsed" in rows["Lapsed, Lee"]
    assert "cannot work: CNIM revoked" in rows["Revoked, Rae"]
    assert "cannot work: CNIM suspended" in rows["Suspended, Sam"]
    assert "cannot work: CNIM" in rows["Held, Hal"]
    for name in ("Lapsed, Lee", "Revoked, Rae", "Suspended, Sam", "Held, Hal"):
        assert "tone-good" not in rows[name] and ">Active<" not in rows[name], name


def test_the_people_list_asks_a_fixed_number_of_queries_however_many_people(app, ui, people):
    with app.app_context(), counting_queries() as few:
        assert ui.get("/people").status_code == 200
    with app.app_context():
        where = db.session.get(factories.Facility, people["where"])
        for n in range(20):
            tech = factories.qualified_technologist(where, f"Extra{n}", "Many")
            factories.credential(tech, "CNIM", status="revoked", revoked_on=date(2026, 6, 1))
        db.session.commit()
    with app.app_context(), counting_queries() as many:
        html = ui.get("/people").get_data(as_text=True)
    assert html.count("cannot work: CNIM") >= 20
    assert len(many) == len(few), (len(few), len(many))


def test_the_dashboard_shows_the_standing_of_what_lapses(app, ui, people):
    with app.app_context():
        hal = db.session.get(factories.Person, people["held"])
        newer = db.session.query(Credential).filter_by(person_id=hal.id, number="NEW-2").one()
        newer.expires_on = TODAY + timedelta(days=20)
        db.session.commit()
    html = ui.get("/?show=30").get_data(as_text=True)
    row = re.search(r"Hal Held</a>.*?</tr>", html, re.S).group(0)
    assert "20 days left" in row and ">Held back<" in row and "tone-good" not in row


def test_the_dashboard_asks_a_fixed_number_of_queries_however_many_items(app, ui, people):
    with app.app_context(), counting_queries() as few:
        assert ui.get("/").status_code == 200
    with app.app_context():
        where = db.session.get(factories.Facility, people["where"])
        for n in range(15):
            factories.qualified_technologist(
                where, f"Soon{n}", "Lapsing", cnim_expires=TODAY + timedelta(days=n)
            )
        db.session.commit()
    with app.app_context(), counting_queries() as many:
        html = ui.get("/").get_data(as_text=True)
    assert html.count("Soon") >= 15
    assert len(many) == len(few), (len(few), len(many))
