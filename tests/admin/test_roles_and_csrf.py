"""Viewers read but never reach an edit form or post; every form post needs its CSRF token."""

import pytest

from registry.admin.signin import is_edit_endpoint
from registry.database import db
from registry.people.models import Person
from tests import factories
from tests.admin.conftest import csrf_token


def _admin_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]


def _url(rule) -> str:
    # any id will do: the role is checked before a record is looked up
    values = dict.fromkeys(rule.arguments, "00000000-0000-0000-0000-000000000000")
    if "kind" in values:
        values["kind"] = "people"
    return rule.build(values)[1]


def test_every_edit_route_refuses_a_viewer(app, viewer):
    edit_rules = [r for r in _admin_rules(app) if is_edit_endpoint(r.endpoint, r.methods)]
    # the walk must cover the forms of every area, or it proves little
    endpoints = {r.endpoint for r in edit_rules}
    for expected in (
        "admin.person_new",
        "admin.person_edit",
        "admin.person_set_active",
        "admin.credential_new",
        "admin.credential_edit",
        "admin.credential_renew",
        "admin.credential_status",
        "admin.facility_new",
        "admin.facility_edit",
        "admin.appointment_new",
        "admin.appointment_edit",
        "admin.scope_new",
        "admin.scope_edit",
        "admin.agreement_new",
        "admin.agreement_edit",
        "admin.alert_retry",
        "admin.digest_retry",
        "admin.import_file",
    ):
        assert expected in endpoints
    token = csrf_token(viewer.client, "/")
    for rule in edit_rules:
        url = _url(rule)
        if "GET" in rule.methods:
            assert viewer.get(url).status_code == 403, url
        assert viewer.post(url, data={"csrf_token": token}).status_code == 403, url


def test_a_viewer_reads_every_page_without_edit_links(app, viewer):
    with app.app_context():
        where, doc, tech = factories.network()
        tech_id, where_id = tech.id, where.id
    for url in (
        "/",
        "/people",
        f"/people/{tech_id}",
        "/facilities",
        f"/facilities/{where_id}",
        "/agreements",
        "/check",
        "/alerts",
        "/audit",
        "/transfer",
    ):
        page = viewer.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        assert "/edit" not in html and "/new" not in html, url
    assert viewer.get("/export/people.csv").status_code == 200


def test_a_form_post_without_its_csrf_token_is_refused_and_writes_nothing(app, ui):
    body = {"kind": "technologist", "given_name": "Ana", "family_name": "Ruiz", "active": "on"}
    refused = ui.post("/people/new", data=body)
    assert refused.status_code == 400
    forged = ui.post("/people/new", data={**body, "csrf_token": "forged"})
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.query(Person).count() == 0
    assert ui.post_form("/people/new", body).status_code == 302


def test_sign_in_itself_needs_the_token(client, make_user):
    email = make_user("viewer")
    from tests.admin.conftest import PASSWORD

    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 400


def test_the_json_api_needs_no_csrf_token(client, auth):
    response = client.post(
        "/api/v1/people",
        json={"kind": "physician", "given_name": "Omar", "family_name": "Haddad"},
        headers=auth,
    )
    assert response.status_code == 201


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_editors_reach_the_forms(app, make_user, role):
    from tests.admin.conftest import SignedInClient

    editor = SignedInClient(app, make_user(role))
    assert editor.get("/people/new").status_code == 200
    assert editor.get("/facilities/new").status_code == 200
    assert editor.get("/import").status_code == 200
