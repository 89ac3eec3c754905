"""Scopes of practice and supervision agreements: references, rules, filters, ETags."""

import pytest

from registry.agreements.models import SupervisionAgreement
from registry.database import db
from registry.scopes.models import Scope
from tests import factories as f

API = "/api/v1"


# --- scopes ----------------------------------------------------------------------------------


def test_scope_lifecycle(app_context, client, auth):
    tech = f.person()
    where = f.facility()
    db.session.commit()
    url = f"{API}/people/{tech.id}/scopes"
    body = {
        "activity": "perform",
        "modalities": ["SSEP", "TCMEP"],
        "facility_id": where.id,
        "effective_from": "2025-01-01",
    }
    created = client.post(url, json=body, headers=auth)
    assert created.status_code == 201, created.json
    scope = created.json
    assert scope["person_id"] == tech.id and scope["effective_to"] is None
    everywhere = client.post(
        url, json={**body, "activity": "interpret", "facility_id": None}, headers=auth
    )
    assert everywhere.status_code == 201 and everywhere.json["facility_id"] is None

    one = f"{API}/scopes/{scope['id']}"
    etag = client.get(one, headers=auth).headers["ETag"]
    assert etag == created.headers["ETag"]
    widened = client.patch(
        one, json={"modalities": ["SSEP", "TCMEP", "EMG"]}, headers={**auth, "If-Match": etag}
    )
    assert widened.status_code == 200 and widened.json["modalities"] == ["SSEP", "TCMEP", "EMG"]
    stale = client.patch(
        one, json={"effective_to": "2026-12-31"}, headers={**auth, "If-Match": etag}
    )
    assert stale.status_code == 412
    ended = client.patch(one, json={"effective_to": "2026-12-31"}, headers=auth)
    assert ended.status_code == 200 and ended.json["effective_to"] == "2026-12-31"
    assert client.delete(one, headers=auth).status_code == 405

    listed = client.get(url, headers=auth)
    assert [s["activity"] for s in listed.json] == ["interpret", "perform"]
    assert "X-Pagination" in listed.headers


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"modalities": ["SSEP", "ESP", "MAGIC"]}, "modalities", "ESP, MAGIC"),
        ({"modalities": []}, "modalities", ""),
        ({"modalities": ["SSEP", "SSEP"]}, "modalities", "once"),
        ({"activity": "observe"}, "activity", ""),
        ({"facility_id": "no-such-facility"}, "facility_id", "facility"),
        ({"effective_to": "2024-12-31"}, "effective_to", "effective_from"),
        ({"effective_from": None}, "effective_from", ""),
    ],
)
def test_bad_scopes_are_422_and_write_nothing(app_context, client, auth, change, field, words):
    tech = f.person()
    db.session.commit()
    body = {"activity": "perform", "modalities": ["SSEP"], "effective_from": "2025-01-01"}
    response = client.post(f"{API}/people/{tech.id}/scopes", json={**body, **change}, headers=auth)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert words in " ".join(errors.get("json", errors)[field])
    assert db.session.query(Scope).count() == 0


def test_scope_patch_is_checked_against_the_stored_record(app_context, client, auth):
    tech = f.person()
    scope = f.scope(tech, "perform", effective_to=None)
    db.session.commit()
    one = f"{API}/scopes/{scope.id}"
    assert client.patch(one, json={"effective_to": "2024-06-30"}, headers=auth).status_code == 422
    unknown = client.patch(one, json={"modalities": ["EEG", "XRAY"]}, headers=auth)
    assert unknown.status_code == 422 and "XRAY" in unknown.json["errors"]["modalities"][0]
    assert client.get(f"{API}/people/nobody/scopes", headers=auth).status_code == 404
    assert client.post(f"{API}/people/nobody/scopes", json={}, headers=auth).status_code == 422
    body = {"activity": "perform", "modalities": ["SSEP"], "effective_from": "2025-01-01"}
    assert client.post(f"{API}/people/nobody/scopes", json=body, headers=auth).status_code == 404
    assert client.get(f"{API}/scopes/nothing", headers=auth).status_code == 404


# --- supervision agreements ------------------------------------------------------------------


def agreement_body(where, doc, techs=(), **change):
    return {
        "facility_id": where.id,
        "physician_id": doc.id,
        "technologist_ids": [t.id for t in techs],
        "modes": ["remote"],
        "effective_from": "2025-01-01",
        "effective_to": "2027-12-31",
        **change,
    }


def test_agreement_lifecycle(app_context, client, auth):
    where = f.facility()
    doc = f.person("physician", "Omar", "Haddad")
    tess = f.person("technologist", "Tess", "Nguyen")
    raj = f.person("technologist", "Raj", "Patel")
    db.session.commit()
    created = client.post(
        f"{API}/supervision-agreements", json=agreement_body(where, doc, [tess]), headers=auth
    )
    assert created.status_code == 201, created.json
    agreement = created.json
    assert agreement["technologist_ids"] == [tess.id]
    assert agreement["max_concurrent_cases"] == 3 and agreement["active"] is True
    assert {"document_ref", "modes", "effective_from", "effective_to"} <= set(agreement)

    one = f"{API}/supervision-agreements/{agreement['id']}"
    etag = client.get(one, headers=auth).headers["ETag"]
    assert etag == created.headers["ETag"]
    both = client.patch(
        one, json={"technologist_ids": [tess.id, raj.id]}, headers={**auth, "If-Match": etag}
    )
    assert both.status_code == 200
    assert both.json["technologist_ids"] == sorted([tess.id, raj.id])
    # only the list changed, yet the version moved on: the old ETag is stale now
    assert both.headers["ETag"] != etag
    stale = client.patch(one, json={"active": False}, headers={**auth, "If-Match": etag})
    assert stale.status_code == 412
    ended = client.patch(one, json={"active": False}, headers=auth)
    assert ended.status_code == 200 and ended.json["active"] is False
    assert client.delete(one, headers=auth).status_code == 405
    moved = client.patch(one, json={"physician_id": doc.id}, headers=auth)
    assert moved.status_code == 422

    history = client.get(
        f"{API}/audit-events?entity_type=supervision_agreement&entity_id={agreement['id']}",
        headers=auth,
    ).json
    assert any(
        e["action"] == "update" and len(e["after"]["technologist_ids"]) == 2 for e in history
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"modes": []}, "modes"),
        ({"modes": ["telepathy"]}, "modes"),
        ({"modes": ["remote", "remote"]}, "modes"),
        ({"max_concurrent_cases": 0}, "max_concurrent_cases"),
        ({"max_concurrent_cases": 21}, "max_concurrent_cases"),
        ({"effective_to": "2024-01-01"}, "effective_to"),
        ({"document_ref": "x" * 501}, "document_ref"),
        ({"facility_id": None}, "facility_id"),
    ],
)
def test_bad_agreements_are_422(app_context, client, auth, change, field):
    where = f.facility()
    doc = f.person("physician")
    db.session.commit()
    response = client.post(
        f"{API}/supervision-agreements", json=agreement_body(where, doc, **change), headers=auth
    )
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert db.session.query(SupervisionAgreement).count() == 0


def test_agreement_people_must_have_the_right_kind(app_context, client, auth):
    where = f.facility()
    doc = f.person("physician", "Omar", "Haddad")
    tess = f.person("technologist", "Tess", "Nguyen")
    db.session.commit()
    url = f"{API}/supervision-agreements"
    tech_as_doc = client.post(url, json=agreement_body(where, tess), headers=auth)
    assert tech_as_doc.status_code == 422
    assert "not a physician" in tech_as_doc.json["errors"]["physician_id"][0]
    offenders = client.post(
        url,
        json={**agreement_body(where, doc), "technologist_ids": [tess.id, doc.id, "ghost"]},
        headers=auth,
    )
    assert offenders.status_code == 422
    messages = " ".join(offenders.json["errors"]["technologist_ids"])
    assert "ghost" in messages and "Omar Haddad" in messages and "Tess" not in messages
    unknown_facility = client.post(
        url, json={**agreement_body(where, doc), "facility_id": "nowhere"}, headers=auth
    )
    assert "facility_id" in unknown_facility.json["errors"]
    assert db.session.query(SupervisionAgreement).count() == 0

    created = client.post(url, json=agreement_body(where, doc), headers=auth).json
    swap = client.patch(f"{url}/{created['id']}", json={"technologist_ids": [doc.id]}, headers=auth)
    assert swap.status_code == 422
    assert client.get(f"{url}/{created['id']}", headers=auth).json["technologist_ids"] == []
    assert client.get(f"{url}/nothing", headers=auth).status_code == 404


def test_agreement_filters(app_context, client, auth):
    spine = f.facility()
    heart = f.facility(name="Heart Institute", state="MO")
    doc = f.person("physician", "Omar", "Haddad")
    other_doc = f.person("physician", "Lena", "Fischer")
    listed = f.person("technologist", "Tess", "Nguyen")
    appointed = f.person("technologist", "Raj", "Patel")
    f.appointment(appointed, spine)
    f.appointment(appointed, heart, status="ended")
    named = f.agreement(spine, doc, technologists=[listed])
    everyone_at_spine = f.agreement(spine, other_doc)
    everyone_at_heart = f.agreement(heart, doc)
    ended = f.agreement(heart, other_doc, technologists=[appointed], active=False)
    db.session.commit()

    def ids(query: str) -> set[str]:
        response = client.get(f"{API}/supervision-agreements?{query}", headers=auth)
        assert response.status_code == 200, response.json
        return {a["id"] for a in response.json}

    assert ids(f"facility_id={heart.id}") == {everyone_at_heart.id, ended.id}
    assert ids(f"physician_id={doc.id}") == {named.id, everyone_at_heart.id}
    assert ids("active=false") == {ended.id}
    # listed by name anywhere; an empty list covers only where the appointment is active
    assert ids(f"technologist_id={listed.id}") == {named.id}
    assert ids(f"technologist_id={appointed.id}") == {everyone_at_spine.id, ended.id}
    assert ids(f"technologist_id={appointed.id}&active=true") == {everyone_at_spine.id}
    assert ids("technologist_id=ghost") == set()
