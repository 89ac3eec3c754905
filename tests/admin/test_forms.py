"""The admin forms: they validate with the API's schemas and services, show each error next to
its field, keep what was typed, and every change lands in the audit trail as the user."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from registry.agreements.models import SupervisionAgreement
from registry.audit.models import AuditEvent
from registry.credentials.models import Credential
from registry.database import db
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.scopes.models import Scope
from tests import factories

TECH = {
    "kind": "technologist",
    "given_name": "Ana",
    "family_name": "Ruiz",
    "email": "ana@example.org",
    "phone": "913-555-0100",
    "npi": "1234567893",
    "external_id": "HR-1",
    "active": "on",
}


def field_error(html: str, name: str) -> str | None:
    """The error shown under the field ``name`` (None when there is none)."""
    found = re.search(rf'<p class="error" id="f-{name}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def input_value(html: str, name: str) -> str | None:
    found = re.search(rf'<input id="f-{name}" name="{name}"[^>]* value="([^"]*)"', html)
    return found.group(1) if found else None


def one(model, **filters):
    return db.session.scalars(select(model).filter_by(**filters)).one()


@pytest.fixture
def network(app):
    with app.app_context():
        where, doc, tech = factories.network()
        return where.id, doc.id, tech.id


def test_add_a_person(app, ui):
    response = ui.post_form("/people/new", TECH)
    assert response.status_code == 302
    with app.app_context():
        person = one(Person, npi="1234567893")
        assert (person.name, person.kind, person.active) == ("Ana Ruiz", "technologist", True)
        event = one(AuditEvent, entity_type="person", entity_id=person.id)
        assert event.actor == "user:coordinator@example.org" and event.action == "create"
    assert response.headers["Location"] == f"/people/{person.id}"
    page = ui.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added Ana Ruiz." in page and "HR-1" in page


def test_a_bad_npi_is_shown_next_to_its_field_and_the_inputs_are_kept(app, ui):
    response = ui.post_form("/people/new", {**TECH, "npi": "1234567890", "email": "not-mail"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Not a valid NPI" in field_error(html, "npi")
    assert field_error(html, "email") == "Not a valid email address."
    assert field_error(html, "given_name") is None
    assert input_value(html, "npi") == "1234567890"
    assert input_value(html, "given_name") == "Ana"
    assert input_value(html, "external_id") == "HR-1"
    assert 'aria-invalid="true" aria-describedby="f-npi-help f-npi-error"' in html
    with app.app_context():
        assert db.session.query(Person).count() == 0


def test_missing_names_say_required(ui):
    html = ui.post_form("/people/new", {"kind": "physician"}).get_data(as_text=True)
    assert field_error(html, "given_name") == "Required."
    assert field_error(html, "family_name") == "Required."
    assert '<option value="physician" selected>' in html


def test_a_taken_npi_comes_back_from_the_service_next_to_the_field(app, ui):
    assert ui.post_form("/people/new", TECH).status_code == 302
    again = ui.post_form("/people/new", {**TECH, "external_id": "HR-2"})
    assert again.status_code == 422
    assert "Already used by person" in field_error(again.get_data(as_text=True), "npi")


def test_edit_a_person_and_refuse_a_stale_form(app, ui):
    ui.post_form("/people/new", TECH)
    with app.app_context():
        person = one(Person, npi="1234567893")
        person_id, version = person.id, person.version
    edit = {**TECH, "phone": "816-555-0199", "version": str(version)}
    edit.pop("kind")
    assert ui.post_form(f"/people/{person_id}/edit", edit).status_code == 302
    stale = ui.post_form(f"/people/{person_id}/edit", {**edit, "phone": "000"})
    assert stale.status_code == 409
    assert "Someone else changed this record" in stale.get_data(as_text=True)
    with app.app_context():
        person = db.session.get(Person, person_id)
        assert person.phone == "816-555-0199"
        update = one(AuditEvent, entity_id=person_id, action="update")
        assert update.before["phone"] == "913-555-0100" and update.after["phone"] == "816-555-0199"


def test_deactivate_and_reactivate_a_person(app, ui, network):
    _, _, tech_id = network
    assert ui.post_form(f"/people/{tech_id}/active", {"active": "false"}).status_code == 302
    with app.app_context():
        assert db.session.get(Person, tech_id).active is False
    page = ui.get(f"/people/{tech_id}").get_data(as_text=True)
    assert "Reactivate" in page
    ui.post_form(f"/people/{tech_id}/active", {"active": "true"})
    with app.app_context():
        assert db.session.get(Person, tech_id).active is True


def test_add_a_verified_credential(app, ui, network):
    _, _, tech_id = network
    response = ui.post_form(
        f"/people/{tech_id}/credentials/new",
        {
            "type": "CLTM",
            "number": "CLTM-77",
            "issued_on": "2025-01-01",
            "expires_on": "2029-12-31",
            "verification_method": "primary_source",
            "verified_on": "2025-02-01",
            "verified_by": "Dana",
            "verification_source": "https://abret.org/verify",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CLTM")
        assert credential.verified and credential.verification_source == "https://abret.org/verify"
        assert credential.expires_on == date(2029, 12, 31)
    page = ui.get(f"/people/{tech_id}").get_data(as_text=True)
    assert "CLTM-77" in page


def test_a_revocation_and_what_it_holds_back_are_shown(app, ui, network, frozen_clock):
    _, _, tech_id = network
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CNIM")
        credential.number = "CNIM-9"
        # a copy of it, verified when it was (before the revocation)
        copy = factories.credential(db.session.get(Person, tech_id), "CNIM", number="CNIM-9")
        db.session.commit()
        credential_id, copy_id, version = credential.id, copy.id, str(credential.version)
    page = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "Revoked on" not in page and "Held back" not in page and ">Renew<" in page
    ui.post_form(f"/credentials/{credential_id}/status", {"status": "revoked", "version": version})
    with app.app_context():
        assert db.session.get(Credential, credential_id).revoked_on == date(2026, 11, 27)
    page = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "Revoked on" in page
    assert "only a verification made on or after 2026-11-27 vouches for a CNIM" in page
    # its way back is a reinstatement: no Renew or Edit leading nowhere
    assert ">Reinstate<" in page and ">Renew<" not in page and ">Edit<" not in page
    # the copy counts for nothing until verified again, and its pages say so
    for url in (f"/credentials/{copy_id}", f"/people/{tech_id}"):
        shown = ui.get(url).get_data(as_text=True)
        assert "Held back" in shown and "counts again once verified on or after" in shown, url
    # marked entered in error, the revocation holds nothing back any more
    with app.app_context():
        version = str(db.session.get(Credential, credential_id).version)
    ui.post_form(
        f"/credentials/{credential_id}/status", {"status": "entered_in_error", "version": version}
    )
    page = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "then marked entered in error: this revocation holds nothing back" in page
    assert "Held back" not in ui.get(f"/credentials/{copy_id}").get_data(as_text=True)


def test_a_revocation_may_carry_the_issuers_date(app, ui, network, frozen_clock):
    _, _, tech_id = network
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CNIM")
        credential_id, version = credential.id, str(credential.version)
    page = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert '<label for="revoked_on">Revoked by the issuer on' in page
    url = f"/credentials/{credential_id}/status"
    for bad, says in (
        ("2026-12-01", "cannot be dated after 2026-11-28"),
        ("1/11/26", "YYYY-MM-DD"),
    ):
        ui.post_form(url, {"status": "revoked", "version": version, "revoked_on": bad})
        page = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
        assert says in page, bad
        with app.app_context():
            assert db.session.get(Credential, credential_id).status == "active"
    ui.post_form(url, {"status": "revoked", "version": version, "revoked_on": "2026-11-02"})
    with app.app_context():
        revoked = db.session.get(Credential, credential_id)
        assert (revoked.status, revoked.revoked_on) == ("revoked", date(2026, 11, 2))


@pytest.mark.parametrize(
    ("type_", "expires", "stored"),
    [
        ("CLTM", "", date(2030, 12, 31)),  # empty: the type's usual term, as in the API
        ("CLTM", "never", None),
        ("CLTM", "NEVER", None),
        ("MALPRACTICE", "", date(2026, 3, 1)),  # twelve months from the issue date
    ],
)
def test_a_new_credential_left_without_expiry_takes_the_types_term(
    app, ui, network, type_, expires, stored
):
    _, _, tech_id = network
    response = ui.post_form(
        f"/people/{tech_id}/credentials/new",
        {"type": type_, "issued_on": "2025-03-01", "expires_on": expires},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert one(Credential, person_id=tech_id, type=type_).expires_on == stored


def test_credential_errors_from_schema_and_service_sit_next_to_their_fields(app, ui, network):
    _, doc_id, tech_id = network
    half_verified = ui.post_form(
        f"/people/{tech_id}/credentials/new",
        {"type": "CNIM", "issued_on": "2026-01-01", "expires_on": "2025-12-31", "verified_by": "X"},
    )
    html = half_verified.get_data(as_text=True)
    assert half_verified.status_code == 422
    assert field_error(html, "verification_method") == "Required."
    assert field_error(html, "verified_on") == "Required."
    backwards = ui.post_form(
        f"/people/{tech_id}/credentials/new",
        {"type": "CNIM", "issued_on": "2026-01-01", "expires_on": "2025-12-31"},
    )
    assert "Must not be before issued_on" in field_error(
        backwards.get_data(as_text=True), "expires_on"
    )
    license_ = ui.post_form(f"/people/{doc_id}/credentials/new", {"type": "MEDICAL_LICENSE"})
    assert "Required for MEDICAL_LICENSE" in field_error(
        license_.get_data(as_text=True), "jurisdiction"
    )
    wrong_kind = ui.post_form(f"/people/{tech_id}/credentials/new", {"type": "ABCN"})
    assert "not to a technologist" in field_error(wrong_kind.get_data(as_text=True), "type")
    with app.app_context():
        assert db.session.query(Credential).filter_by(type="MEDICAL_LICENSE").count() == 1


def test_renew_a_credential_keeps_the_history_in_the_audit_trail(app, ui, network, frozen_clock):
    _, _, tech_id = network
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CNIM")
        credential_id, version = credential.id, credential.version
    form = ui.get(f"/credentials/{credential_id}/renew").get_data(as_text=True)
    # the suggested next term: five years after 2028-12-31
    assert input_value(form, "expires_on") == "2033-12-31"
    response = ui.post_form(
        f"/credentials/{credential_id}/renew",
        {
            "expires_on": "2033-12-31",
            "issued_on": "2028-11-01",
            "number": "CNIM-2",
            "verification_method": "primary_source",
            "verified_on": "2026-11-27",
            "version": str(version),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        credential = db.session.get(Credential, credential_id)
        assert credential.expires_on == date(2033, 12, 31) and credential.number == "CNIM-2"
        assert credential.verified_on == date(2026, 11, 27)
        update = one(AuditEvent, entity_id=credential_id, action="update")
        assert update.before["expires_on"] == "2028-12-31"
        assert update.after["expires_on"] == "2033-12-31"
    history = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "2028-12-31" in history and "2033-12-31" in history


def test_renewal_of_a_credential_valid_to_the_calendars_end_suggests_nothing(app, ui, network):
    _, _, tech_id = network
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CNIM")
        credential.expires_on = date(9999, 12, 31)
        db.session.commit()
        credential_id = credential.id
    form = ui.get(f"/credentials/{credential_id}/renew")
    assert form.status_code == 200
    assert input_value(form.get_data(as_text=True), "expires_on") == ""


def test_a_renewal_needs_its_verification_and_the_current_term_stays_until_then(app, ui, network):
    # recorded unverified, the renewal would stop a still-valid credential from qualifying
    _, _, tech_id = network
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CNIM")
        credential_id, expires_on = credential.id, credential.expires_on
    response = ui.post_form(f"/credentials/{credential_id}/renew", {"expires_on": "2033-12-31"})
    assert response.status_code == 422
    assert "Verify the renewal to record it" in field_error(
        response.get_data(as_text=True), "verification_method"
    )
    # the verification on file, typed in again, is not the renewal's
    on_file = {
        "expires_on": "2033-12-31",
        "verification_method": "primary_source",
        "verified_on": "2024-01-05",
        "verified_by": "credentialing",
        "verification_source": "https://abret.org/verify",
    }
    again = ui.post_form(f"/credentials/{credential_id}/renew", on_file)
    assert again.status_code == 422
    assert "Verify the renewal" in field_error(again.get_data(as_text=True), "verification_method")
    with app.app_context():
        credential = db.session.get(Credential, credential_id)
        assert credential.verified is True and credential.expires_on == expires_on


def test_where_the_policy_accepts_unverified_credentials_a_renewal_needs_no_verification(
    app, ui, network, monkeypatch
):
    monkeypatch.setitem(app.config, "ACCEPT_UNVERIFIED", True)  # this test only
    _, _, tech_id = network
    with app.app_context():
        credential_id = one(Credential, person_id=tech_id, type="CNIM").id
    response = ui.post_form(f"/credentials/{credential_id}/renew", {"expires_on": "2033-12-31"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Credential, credential_id).expires_on == date(2033, 12, 31)


@pytest.mark.parametrize("status", ["suspended", "entered_in_error"])
def test_one_click_status_changes_and_reinstate(app, ui, network, status):
    _, _, tech_id = network
    with app.app_context():
        credential_id = one(Credential, person_id=tech_id, type="CNIM").id
    assert (
        ui.post_form(f"/credentials/{credential_id}/status", {"status": status}).status_code == 302
    )
    with app.app_context():
        assert db.session.get(Credential, credential_id).status == status
    ui.post_form(f"/credentials/{credential_id}/status", {"status": "active"})
    with app.app_context():
        assert db.session.get(Credential, credential_id).status == "active"
        assert db.session.query(Credential).count() == 5  # nothing was deleted


def test_a_status_button_on_a_page_opened_before_a_change_changes_nothing(app, ui, network):
    _, _, tech_id = network
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CNIM")
        credential_id, opened = credential.id, str(credential.version)
    page = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert f'name="version" value="{opened}"' in page
    # someone else suspends it meanwhile...
    ui.post_form(f"/credentials/{credential_id}/status", {"status": "suspended", "version": opened})
    # ...and the revoke button of the page opened before does nothing
    late = ui.post_form(
        f"/credentials/{credential_id}/status", {"status": "revoked", "version": opened}
    )
    assert late.status_code == 302
    assert "Someone else changed this credential" in ui.get(late.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(Credential, credential_id).status == "suspended"


def test_a_revoked_credential_is_reinstated_with_a_verification_of_it(
    app, ui, network, frozen_clock
):
    _, _, tech_id = network
    with app.app_context():
        credential_id = one(Credential, person_id=tech_id, type="CNIM").id
    # the reinstatement form is for revoked credentials only
    not_revoked = ui.get(f"/credentials/{credential_id}/reinstate")
    assert not_revoked.headers["Location"] == f"/credentials/{credential_id}"
    ui.post_form(f"/credentials/{credential_id}/status", {"status": "revoked"})
    page = ui.get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "Reinstate" in page and "Suspend" not in page  # its only way out
    side_door = ui.post_form(f"/credentials/{credential_id}/status", {"status": "suspended"})
    assert side_door.status_code == 302
    with app.app_context():
        assert db.session.get(Credential, credential_id).status == "revoked"
    # one click is not enough: the verification on file predates the revocation
    click = ui.post_form(f"/credentials/{credential_id}/status", {"status": "active"})
    assert click.headers["Location"] == f"/credentials/{credential_id}/reinstate"
    form = ui.get(f"/credentials/{credential_id}/reinstate")
    assert form.status_code == 200 and "predates the revocation" in form.get_data(as_text=True)
    with app.app_context():
        credential = db.session.get(Credential, credential_id)
        assert credential.status == "revoked"
        version = str(credential.version)
    on_file = {
        "verification_method": "primary_source",
        "verified_on": "2024-01-05",
        "verified_by": "credentialing",
        "verification_source": "https://abret.org/verify",
        "version": version,
    }
    page = ui.post_form(f"/credentials/{credential_id}/reinstate", {"version": version})
    assert page.status_code == 422
    shown = field_error(page.get_data(as_text=True), "verification_method")
    assert "the one on file predates the revocation" in shown
    # the verification on file, sent back: said next to its date, with the date it needs
    page = ui.post_form(f"/credentials/{credential_id}/reinstate", on_file)
    assert page.status_code == 422
    shown = field_error(page.get_data(as_text=True), "verified_on")
    assert "That is the verification on file (2024-01-05)" in shown
    assert "needs one made on or after 2026-11-27" in shown
    # revoked today (27 November): a verification from before then vouches for nothing after it
    early = ui.post_form(
        f"/credentials/{credential_id}/reinstate", {**on_file, "verified_on": "2026-11-20"}
    )
    assert early.status_code == 422
    shown = field_error(early.get_data(as_text=True), "verified_on")
    assert "made on or after 2026-11-27" in shown
    reinstated = ui.post_form(
        f"/credentials/{credential_id}/reinstate", {**on_file, "verified_on": "2026-11-27"}
    )
    assert reinstated.status_code == 302
    with app.app_context():
        credential = db.session.get(Credential, credential_id)
        assert (credential.status, credential.verified_on) == ("active", date(2026, 11, 27))


def test_edit_a_credential_records_its_verification(app, ui, network):
    _, _, tech_id = network
    with app.app_context():
        credential = factories.credential(db.session.get(Person, tech_id), "R-EP-T", verified=False)
        db.session.commit()
        credential_id, version = credential.id, credential.version
    form = ui.get(f"/credentials/{credential_id}/edit").get_data(as_text=True)
    assert input_value(form, "expires_on") == "2028-12-31"
    response = ui.post_form(
        f"/credentials/{credential_id}/edit",
        {
            "number": "REPT-1",
            "issued_on": "2023-01-01",
            "expires_on": "2028-12-31",
            "verification_method": "document",
            "verified_on": "2026-11-01",
            "version": str(version),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        credential = db.session.get(Credential, credential_id)
        assert credential.verification_method == "document" and credential.number == "REPT-1"


def test_editing_a_verified_credentials_expiry_later_asks_for_a_new_verification(app, ui, network):
    _, _, tech_id = network
    with app.app_context():
        credential = factories.credential(db.session.get(Person, tech_id), "R-EP-T")
        db.session.commit()
        credential_id, version = credential.id, credential.version
    form = ui.get(f"/credentials/{credential_id}/edit").get_data(as_text=True)
    assert input_value(form, "verified_on") == "2024-01-05"  # the form shows the one on file
    as_shown = {
        "number": "",
        "issued_on": "2023-01-01",
        "expires_on": "2031-12-31",  # three years later than on file
        "verification_method": "primary_source",
        "verified_on": "2024-01-05",
        "verified_by": "credentialing",
        "verification_source": "https://abret.org/verify",
        "version": str(version),
    }
    refused = ui.post_form(f"/credentials/{credential_id}/edit", as_shown)
    assert refused.status_code == 422
    assert "verification of its own" in field_error(refused.get_data(as_text=True), "expires_on")
    with app.app_context():
        assert db.session.get(Credential, credential_id).expires_on == date(2028, 12, 31)
    # with the verification of the new expiry it is recorded
    verified = {**as_shown, "verified_on": "2026-11-20"}
    assert ui.post_form(f"/credentials/{credential_id}/edit", verified).status_code == 302
    with app.app_context():
        stored = db.session.get(Credential, credential_id)
        assert (stored.expires_on, stored.verified_on) == (date(2031, 12, 31), date(2026, 11, 20))


def test_facility_forms(app, ui):
    bad = ui.post_form(
        "/facilities/new",
        {"name": "Lawrence General", "state": "XX", "timezone": "Mars/Olympus", "active": "on"},
    )
    html = bad.get_data(as_text=True)
    assert "Not a valid two-letter US state" in field_error(html, "state")
    assert "Not a valid IANA time zone" in field_error(html, "timezone")
    assert input_value(html, "name") == "Lawrence General"
    good = ui.post_form(
        "/facilities/new",
        {
            "name": "Lawrence General",
            "state": "ks",
            "timezone": "America/Chicago",
            "required_credentials": ["BLS", "ACLS"],
            "active": "on",
        },
    )
    assert good.status_code == 302
    with app.app_context():
        facility = one(Facility, name="Lawrence General")
        assert facility.state == "KS" and sorted(facility.required_credentials) == ["ACLS", "BLS"]
        facility_id, version = facility.id, facility.version
    edit = ui.post_form(
        f"/facilities/{facility_id}/edit",
        {
            "name": "Lawrence General Hospital",
            "state": "KS",
            "timezone": "America/Chicago",
            "version": str(version),
        },
    )
    assert edit.status_code == 302
    with app.app_context():
        facility = db.session.get(Facility, facility_id)
        # unticked boxes mean none required and inactive
        assert facility.required_credentials == [] and facility.active is False


def test_appointment_scope_and_agreement_forms(app, ui, network):
    where_id, doc_id, tech_id = network
    with app.app_context():
        newcomer = factories.person("technologist", "Lee", "Park")
        db.session.commit()
        newcomer_id = newcomer.id
    appointment = ui.post_form(
        f"/appointments/new?person_id={newcomer_id}",
        {
            "person_id": newcomer_id,
            "facility_id": where_id,
            "status": "active",
            "starts_on": "2026-01-01",
            "expires_on": "2025-12-31",
        },
    )
    assert "Must not be before starts_on" in field_error(
        appointment.get_data(as_text=True), "expires_on"
    )
    appointment = ui.post_form(
        f"/appointments/new?person_id={newcomer_id}",
        {
            "person_id": newcomer_id,
            "facility_id": where_id,
            "status": "active",
            "starts_on": "2026-01-01",
            "expires_on": "2027-12-31",
        },
    )
    assert appointment.status_code == 302
    with app.app_context():
        appointment_id = one(Appointment, person_id=newcomer_id).id
    ended = ui.post_form(
        f"/appointments/{appointment_id}/edit",
        {"status": "ended", "starts_on": "2026-01-01", "expires_on": "2026-06-30"},
    )
    assert ended.status_code == 302

    no_modalities = ui.post_form(
        f"/people/{newcomer_id}/scopes/new", {"activity": "perform", "effective_from": "2026-01-01"}
    )
    assert field_error(no_modalities.get_data(as_text=True), "modalities") == "Required."
    scope = ui.post_form(
        f"/people/{newcomer_id}/scopes/new",
        {
            "activity": "perform",
            "modalities": ["SSEP", "EMG"],
            "facility_id": "",
            "effective_from": "2026-01-01",
        },
    )
    assert scope.status_code == 302

    agreement = ui.post_form(
        "/agreements/new",
        {
            "facility_id": where_id,
            "physician_id": tech_id,
            "modes": ["remote"],
            "max_concurrent_cases": "3",
            "effective_from": "2026-01-01",
            "active": "on",
        },
    )
    assert "not a physician" in field_error(agreement.get_data(as_text=True), "physician_id")
    agreement = ui.post_form(
        "/agreements/new",
        {
            "facility_id": where_id,
            "physician_id": doc_id,
            "technologist_ids": [newcomer_id],
            "modes": ["remote"],
            "max_concurrent_cases": "2",
            "effective_from": "2026-01-01",
            "active": "on",
        },
    )
    assert agreement.status_code == 302
    with app.app_context():
        scope = one(Scope, person_id=newcomer_id)
        assert scope.modalities == ["SSEP", "EMG"] and scope.facility_id is None
        assert db.session.get(Appointment, appointment_id).status == "ended"
        made = one(SupervisionAgreement, max_concurrent_cases=2)
        assert made.technologist_ids == [newcomer_id] and made.modes == ["remote"]
        made_id, version = made.id, made.version
    edit = ui.post_form(
        f"/agreements/{made_id}/edit",
        {
            "modes": ["remote", "in_person"],
            "max_concurrent_cases": "3",
            "effective_from": "2026-01-01",
            "effective_to": "2027-06-30",
            "version": str(version),
        },
    )
    assert edit.status_code == 302
    with app.app_context():
        made = db.session.get(SupervisionAgreement, made_id)
        # no technologist ticked: every technologist appointed there; unticked active: ended
        assert made.technologist_ids == [] and made.active is False
    person_page = ui.get(f"/people/{newcomer_id}").get_data(as_text=True)
    assert "SSEP, EMG" in person_page and "Everywhere" in person_page
    facility_page = ui.get(f"/facilities/{where_id}").get_data(as_text=True)
    assert "Lee Park" in facility_page and "Omar Haddad" in facility_page


def _edit_forms(app, network):
    """Every form that edits a stored record: (url, a valid post, the record, a field it sets)."""
    where_id, doc_id, tech_id = network
    with app.app_context():
        credential = one(Credential, person_id=tech_id, type="CNIM")
        revoked = factories.credential(
            db.session.get(Person, tech_id), "BLS", status="revoked", revoked_on=date(2026, 1, 5)
        )
        db.session.commit()
        appointment = one(Appointment, person_id=tech_id)
        scope = db.session.scalars(select(Scope).filter_by(person_id=tech_id)).first()
        agreement = one(SupervisionAgreement, facility_id=where_id)
        return [
            (f"/people/{tech_id}/edit", {"given_name": "Tess", "family_name": "Stale"}),
            (f"/credentials/{credential.id}/edit", {"number": "STALE-1"}),
            (
                f"/credentials/{credential.id}/renew",
                {"expires_on": "2031-01-31", "number": "STALE-2"},
            ),
            (
                f"/credentials/{revoked.id}/reinstate",
                {"verification_method": "document", "verified_on": "2026-02-01"},
            ),
            (f"/facilities/{where_id}/edit", {"name": "Stale Center", "state": "KS"}),
            (f"/appointments/{appointment.id}/edit", {"status": "ended"}),
            (
                f"/scopes/{scope.id}/edit",
                {"activity": "perform", "modalities": ["EMG"], "effective_from": "2020-01-01"},
            ),
            (
                f"/agreements/{agreement.id}/edit",
                {"modes": ["in_person"], "max_concurrent_cases": "1"},
            ),
        ]


def test_every_edit_form_refuses_a_stale_post_and_changes_nothing(app, ui, network):
    for url, data in _edit_forms(app, network):
        with app.app_context():
            before = db.session.query(AuditEvent).count()
        stale = ui.post_form(url, {**data, "version": "0"})
        html = stale.get_data(as_text=True)
        assert stale.status_code == 409, url
        assert "Someone else changed this record" in html, url
        # what was typed is kept, to be sent again with the record's current version
        assert any(str(value) in html for value in data.values() if isinstance(value, str)), url
        assert re.search(r'name="version" value="[1-9]', html), url
        with app.app_context():
            assert db.session.query(AuditEvent).count() == before, url
