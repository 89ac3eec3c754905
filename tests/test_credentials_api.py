"""Credential types, modalities and credentials: shapes, rules, filters, ETags, no deletes."""

import json
from datetime import UTC, date, datetime

import pytest

from registry.credentials import service
from registry.credentials.models import Credential
from registry.database import db
from tests import factories as f

API = "/api/v1"
VERIFICATION = {
    "method": "primary_source",
    "verified_on": "2026-01-10",
    "verified_by": "J. Coordinator",
    "source": "https://abret.org/verify",
}
CNIM = {
    "type": "CNIM",
    "number": "CNIM-1001",
    "issuer": "ABRET",
    "issued_on": "2022-01-01",
    "expires_on": "2026-12-31",
    "verification": VERIFICATION,
}


def new_person(client, auth, kind="technologist", family="Ruiz"):
    body = {"kind": kind, "given_name": "Ana", "family_name": family}
    response = client.post(f"{API}/people", json=body, headers=auth)
    assert response.status_code == 201
    return response.json["id"]


def add_credential(client, auth, person_id, body):
    return client.post(f"{API}/people/{person_id}/credentials", json=body, headers=auth)


def credential_count(app) -> int:
    with app.app_context():
        return db.session.query(Credential).count()


# --- credential types ------------------------------------------------------------------------


def test_credential_types_are_listed_by_code_and_paged(client, auth):
    response = client.get(f"{API}/credential-types?page_size=50", headers=auth)
    assert response.status_code == 200
    codes = [item["code"] for item in response.json]
    assert codes == sorted(codes)
    assert {"CNIM", "ABPN-CN", "MEDICAL_LICENSE", "MALPRACTICE"} <= set(codes)
    assert json.loads(response.headers["X-Pagination"])["total"] == len(codes)
    second = client.get(f"{API}/credential-types?page=2&page_size=5", headers=auth)
    assert [item["code"] for item in second.json] == codes[5:10]

    one = client.get(f"{API}/credential-types/ABPN-CN", headers=auth)
    assert one.status_code == 200 and one.headers["ETag"]
    assert one.json["depends_on"] == "ABPN-N"
    assert one.json["kinds"] == ["physician"] and one.json["category"] == "board_certification"
    assert client.get(f"{API}/credential-types/NOPE", headers=auth).status_code == 404


def test_only_admin_keys_change_the_catalogue(client, make_key):
    body = {"code": "PALS", "name": "Pediatric ALS", "category": "training", "kinds": ["physician"]}
    writer = make_key(("read", "write"))
    assert client.post(f"{API}/credential-types", json=body, headers=writer).status_code == 403
    assert client.get(f"{API}/credential-types", headers=writer).status_code == 200
    patch = client.patch(f"{API}/credential-types/BLS", json={"grace_days": 5}, headers=writer)
    assert patch.status_code == 403


def test_create_and_update_a_credential_type_with_etag(client, auth):
    body = {
        "code": "PALS",
        "name": "Pediatric Advanced Life Support",
        "issuer": "American Heart Association",
        "category": "training",
        "kinds": ["technologist", "physician"],
        "validity_months": 24,
    }
    created = client.post(f"{API}/credential-types", json=body, headers=auth)
    assert created.status_code == 201, created.json
    assert created.json["requires_jurisdiction"] is False
    assert created.json["depends_on"] is None
    etag = created.headers["ETag"]

    stale = client.patch(
        f"{API}/credential-types/PALS",
        json={"grace_days": 30},
        headers={**auth, "If-Match": '"stale"'},
    )
    assert stale.status_code == 412
    ok = client.patch(
        f"{API}/credential-types/PALS", json={"grace_days": 30}, headers={**auth, "If-Match": etag}
    )
    assert ok.status_code == 200 and ok.json["grace_days"] == 30
    assert ok.headers["ETag"] != etag
    renamed = client.patch(f"{API}/credential-types/PALS", json={"code": "X"}, headers=auth)
    assert renamed.status_code == 422 and "code" in renamed.json["errors"]["json"]

    duplicate = client.post(f"{API}/credential-types", json=body, headers=auth)
    assert duplicate.status_code == 409 and "code" in duplicate.json["errors"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "cnim-lower"}, "code"),
        ({"code": "-LEADING"}, "code"),
        ({"code": "A" * 41}, "code"),
        ({"code": "HAS SPACE"}, "code"),
        ({"category": "hobby"}, "category"),
        ({"kinds": []}, "kinds"),
        ({"kinds": ["nurse"]}, "kinds"),
        ({"kinds": ["physician", "physician"]}, "kinds"),
        ({"name": ""}, "name"),
        ({"validity_months": 0}, "validity_months"),
        ({"depends_on": "NOT-A-TYPE"}, "depends_on"),
        ({"depends_on": "NEW"}, "depends_on"),
    ],
)
def test_bad_credential_types_are_422(client, auth, change, field):
    body = {"code": "NEW", "name": "New", "category": "training", "kinds": ["physician"]}
    response = client.post(f"{API}/credential-types", json={**body, **change}, headers=auth)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors.get("json", errors)
    assert client.get(f"{API}/credential-types/NEW", headers=auth).status_code == 404


def test_depends_on_may_not_make_a_cycle(client, auth):
    # ABPN-CN depends on ABPN-N: ABPN-N depending on ABPN-CN would close a loop
    cycle = client.patch(
        f"{API}/credential-types/ABPN-N", json={"depends_on": "ABPN-CN"}, headers=auth
    )
    assert cycle.status_code == 422
    assert "cycle" in cycle.json["errors"]["depends_on"][0]
    itself = client.patch(f"{API}/credential-types/BLS", json={"depends_on": "BLS"}, headers=auth)
    assert itself.status_code == 422
    fine = client.patch(f"{API}/credential-types/ACLS", json={"depends_on": "BLS"}, headers=auth)
    assert fine.status_code == 200 and fine.json["depends_on"] == "BLS"
    cleared = client.patch(f"{API}/credential-types/ACLS", json={"depends_on": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.json["depends_on"] is None


def test_modalities_catalogue(client, auth, make_key):
    response = client.get(f"{API}/modalities", headers=make_key(("read",)))
    assert response.status_code == 200
    codes = [item["code"] for item in response.json]
    assert {"SSEP", "TCMEP", "EMG", "TRIGGERED_EMG", "EEG", "TOF"} <= set(codes)
    assert all(item["name"] for item in response.json)
    assert "X-Pagination" in response.headers


# --- credentials -----------------------------------------------------------------------------


def test_a_credential_has_the_spec_shape_and_days_left_in_the_org_zone(client, auth, frozen_clock):
    # 03:00 UTC on 27 November is still 26 November in America/Chicago (REGISTRY_TIMEZONE)
    frozen_clock.set(frozen_clock.current.replace(day=27, hour=3))
    person_id = new_person(client, auth)
    created = add_credential(client, auth, person_id, CNIM)
    assert created.status_code == 201, created.json
    body = created.json
    assert list(body) == [
        "id",
        "person_id",
        "type",
        "number",
        "issuer",
        "jurisdiction",
        "issued_on",
        "expires_on",
        "status",
        "revoked_on",
        "verification",
        "verified",
        "days_left",
        "created_at",
        "updated_at",
    ]
    assert body["person_id"] == person_id and body["status"] == "active"
    assert body["verification"] == VERIFICATION and body["verified"] is True
    assert body["days_left"] == 35
    etag = created.headers["ETag"]

    fetched = client.get(f"{API}/credentials/{body['id']}", headers=auth)
    assert fetched.json == body and fetched.headers["ETag"] == etag

    never = add_credential(
        client, auth, person_id, {"type": "BLS", "expires_on": None, "verification": None}
    )
    assert never.status_code == 201
    assert never.json["days_left"] is None
    assert never.json["verification"] is None and never.json["verified"] is False


def test_license_needs_a_jurisdiction_and_a_state_code(client, auth, app):
    doc = new_person(client, auth, kind="physician")
    missing = add_credential(client, auth, doc, {"type": "MEDICAL_LICENSE", "number": "MD1"})
    assert missing.status_code == 422
    assert "state" in missing.json["errors"]["jurisdiction"][0]
    bad_state = add_credential(client, auth, doc, {"type": "MEDICAL_LICENSE", "jurisdiction": "XX"})
    assert bad_state.status_code == 422 and "jurisdiction" in bad_state.json["errors"]["json"]
    assert credential_count(app) == 0

    ok = add_credential(client, auth, doc, {"type": "MEDICAL_LICENSE", "jurisdiction": "ks"})
    assert ok.status_code == 201 and ok.json["jurisdiction"] == "KS"
    cleared = client.patch(
        f"{API}/credentials/{ok.json['id']}", json={"jurisdiction": None}, headers=auth
    )
    assert cleared.status_code == 422 and "jurisdiction" in cleared.json["errors"]
    # a jurisdiction where the type does not require one is accepted (e.g. a state-issued BLS)
    bls = add_credential(client, auth, doc, {"type": "BLS", "jurisdiction": "MO"})
    assert bls.status_code == 201 and bls.json["jurisdiction"] == "MO"


def test_the_type_must_exist_and_apply_to_the_persons_kind(client, auth, app):
    tech = new_person(client, auth)
    unknown = add_credential(client, auth, tech, {"type": "SECRET-THING"})
    assert unknown.status_code == 422
    assert "credential-types" in unknown.json["errors"]["type"][0]
    wrong_kind = add_credential(client, auth, tech, {"type": "ABCN"})
    assert wrong_kind.status_code == 422
    assert "physician" in wrong_kind.json["errors"]["type"][0]
    assert credential_count(app) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issued_on": "2027-01-01", "expires_on": "2026-12-31"}, "expires_on"),
        ({"status": "lapsed"}, "status"),
        ({"number": "x" * 101}, "number"),
        ({"verification": {"method": "phoned"}}, "verification"),
        ({"verification": {"method": "document"}}, "verification"),
        ({"expires_on": "31/12/2026"}, "expires_on"),
        ({"verified": True}, "verified"),
        ({"days_left": 3}, "days_left"),
    ],
)
def test_bad_credentials_are_422_and_write_nothing(client, auth, app, change, field):
    tech = new_person(client, auth)
    response = add_credential(client, auth, tech, {**CNIM, **change})
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert credential_count(app) == 0


def test_unknown_person_is_404(client, auth):
    assert add_credential(client, auth, "nobody", CNIM).status_code == 404
    assert client.get(f"{API}/people/nobody/credentials", headers=auth).status_code == 404
    assert client.get(f"{API}/credentials/nothing", headers=auth).status_code == 404


def test_patch_checks_dates_against_the_stored_record_and_honours_if_match(client, auth):
    tech = new_person(client, auth)
    created = add_credential(client, auth, tech, CNIM)
    url = f"{API}/credentials/{created.json['id']}"
    etag = created.headers["ETag"]

    before_issue = client.patch(url, json={"expires_on": "2021-12-31"}, headers=auth)
    assert before_issue.status_code == 422
    assert "expires_on" in before_issue.json["errors"]
    after_expiry = client.patch(url, json={"issued_on": "2027-01-01"}, headers=auth)
    assert after_expiry.status_code == 422
    assert client.get(url, headers=auth).json["issued_on"] == "2022-01-01"

    stale = client.patch(url, json={"status": "revoked"}, headers={**auth, "If-Match": '"x"'})
    assert stale.status_code == 412
    revoked = client.patch(url, json={"status": "revoked"}, headers={**auth, "If-Match": etag})
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    again = client.patch(url, json={"status": "active"}, headers={**auth, "If-Match": etag})
    assert again.status_code == 412

    retype = client.patch(url, json={"type": "DABNM"}, headers=auth)
    assert retype.status_code == 422 and "type" in retype.json["errors"]["json"]
    # (a revoked credential keeps its verification until reinstated: clear it on another one)
    other = add_credential(client, auth, tech, {**CNIM, "type": "DABNM", "issuer": "ABNM"})
    other_url = f"{API}/credentials/{other.json['id']}"
    unverified = client.patch(other_url, json={"verification": None}, headers=auth)
    assert unverified.json["verification"] is None and unverified.json["verified"] is False
    assert client.delete(url, headers=auth).status_code == 405


def test_a_verified_credential_widened_by_patch_needs_a_verification_of_it(client, auth):
    doc = new_person(client, auth, kind="physician")
    license_ = add_credential(
        client,
        auth,
        doc,
        {**CNIM, "type": "MEDICAL_LICENSE", "jurisdiction": "KS", "issuer": "KSBHA"},
    )
    url = f"{API}/credentials/{license_.json['id']}"
    widened = [
        ({"expires_on": "2030-12-31"}, "expires_on"),
        ({"expires_on": None}, "expires_on"),
        ({"issued_on": "2020-01-01"}, "issued_on"),
        ({"issued_on": None}, "issued_on"),
        ({"jurisdiction": "MO"}, "jurisdiction"),
    ]
    for body, field in widened:
        refused = client.patch(url, json=body, headers=auth)
        assert refused.status_code == 422, body
        assert list(refused.json["errors"]) == [field]
        assert "verification" in refused.json["errors"][field][0]
    # the verification on file, echoed back as read, vouches for nothing new
    echoed = client.get(url, headers=auth).json["verification"]
    refused = client.patch(url, json={"expires_on": None, "verification": echoed}, headers=auth)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["expires_on"]
    stored = client.get(url, headers=auth).json
    assert (stored["expires_on"], stored["issued_on"], stored["jurisdiction"]) == (
        "2026-12-31",
        "2022-01-01",
        "KS",
    )
    # narrowing, or any change the old verification still covers, needs none
    narrowed = client.patch(
        url,
        json={"expires_on": "2026-06-30", "number": "L-2", "issued_on": "2022-02-01"},
        headers=auth,
    )
    assert narrowed.status_code == 200 and narrowed.json["verified"] is True
    # with its own verification the wider facts are recorded, verified
    renewed = {**VERIFICATION, "verified_on": "2026-11-20"}
    ok = client.patch(url, json={"expires_on": "2028-12-31", "verification": renewed}, headers=auth)
    assert ok.status_code == 200
    assert ok.json["expires_on"] == "2028-12-31" and ok.json["verification"] == renewed
    # an unverified credential has no verification to borrow: nothing to refuse
    cleared = client.patch(url, json={"verification": None}, headers=auth)
    assert cleared.json["verified"] is False
    later = client.patch(url, json={"expires_on": "2029-12-31"}, headers=auth)
    assert later.status_code == 200 and later.json["verified"] is False


def test_a_revoked_credential_is_reinstated_only_with_a_new_verification(
    client, auth, frozen_clock
):
    tech = new_person(client, auth)
    created = add_credential(client, auth, tech, CNIM)
    url = f"{API}/credentials/{created.json['id']}"
    assert client.patch(url, json={"status": "revoked"}, headers=auth).status_code == 200
    refused = client.patch(url, json={"status": "active"}, headers=auth)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["status"]
    # no side door: another status first, the verification cleared or swapped, another state
    side_doors = [
        ({"status": "suspended"}, "status"),
        ({"verification": None}, "verification"),
        ({"verification": {**VERIFICATION, "verified_on": "2026-11-01"}}, "verification"),
        ({"jurisdiction": "KS"}, "jurisdiction"),
    ]
    for body, field in side_doors:
        door = client.patch(url, json=body, headers=auth)
        assert door.status_code == 422 and list(door.json["errors"]) == [field], body
    # it may be marked entered in error (a record that should not exist): that is no way out
    marked = client.patch(url, json={"status": "entered_in_error"}, headers=auth)
    assert marked.status_code == 200 and marked.json["revoked_on"] == "2026-11-27"
    for body, field in side_doors[:1] + [({"status": "active"}, "status")]:
        door = client.patch(url, json=body, headers=auth)
        assert door.status_code == 422 and list(door.json["errors"]) == [field], body
    assert client.patch(url, json={"status": "revoked"}, headers=auth).status_code == 200
    echoed = client.patch(
        url, json={"status": "active", "verification": VERIFICATION}, headers=auth
    )
    assert echoed.status_code == 422
    assert client.get(url, headers=auth).json["status"] == "revoked"
    # a new verification made before the revocation (27 November) does not vouch after it
    before = {**VERIFICATION, "verified_on": "2026-11-20", "verified_by": "Someone else"}
    early = client.patch(url, json={"status": "active", "verification": before}, headers=auth)
    assert early.status_code == 422
    assert early.json["errors"] == {
        "verification": {
            "verified_on": [
                "A reinstatement needs a verification made on or after 2026-11-27: the "
                "credential was revoked, and the verification it had does not vouch for it."
            ]
        }
    }
    again = {**VERIFICATION, "verified_on": "2026-11-27"}
    ok = client.patch(url, json={"status": "active", "verification": again}, headers=auth)
    assert ok.status_code == 200 and ok.json["status"] == "active" and ok.json["verified"]
    # a suspension is the registry's own hold: lifting it needs no new verification
    client.patch(url, json={"status": "suspended"}, headers=auth)
    assert client.patch(url, json={"status": "active"}, headers=auth).status_code == 200


def test_where_unverified_credentials_count_a_patch_may_widen_without_one(
    app, client, auth, monkeypatch
):
    monkeypatch.setitem(app.config, "ACCEPT_UNVERIFIED", True)
    tech = new_person(client, auth)
    created = add_credential(client, auth, tech, CNIM)
    url = f"{API}/credentials/{created.json['id']}"
    later = client.patch(url, json={"expires_on": "2030-12-31"}, headers=auth)
    assert later.status_code == 200 and later.json["expires_on"] == "2030-12-31"


def test_credential_lists_filter_and_page(client, auth):
    tech = new_person(client, auth, family="Adams")
    doc = new_person(client, auth, kind="physician", family="Baker")
    add_credential(client, auth, tech, CNIM)
    add_credential(client, auth, tech, {"type": "BLS", "expires_on": "2026-06-30"})
    add_credential(client, auth, doc, {"type": "BLS", "expires_on": "2027-06-30"})
    revoked = add_credential(
        client, auth, doc, {"type": "ABCN", "status": "revoked", "revoked_on": "2025-03-01"}
    )
    assert revoked.status_code == 201

    everything = client.get(f"{API}/credentials", headers=auth).json
    # soonest expiry first; never-expiring last
    assert [c["expires_on"] for c in everything] == ["2026-06-30", "2026-12-31", "2027-06-30", None]
    bls = client.get(f"{API}/credentials?type=BLS", headers=auth).json
    assert {c["person_id"] for c in bls} == {tech, doc}
    soon = client.get(f"{API}/credentials?expires_before=2027-01-01", headers=auth).json
    assert [c["type"] for c in soon] == ["BLS", "CNIM"]
    assert [
        c["id"] for c in client.get(f"{API}/credentials?status=revoked", headers=auth).json
    ] == [revoked.json["id"]]
    mine = client.get(f"{API}/credentials?person_id={doc}&type=BLS", headers=auth).json
    assert [c["expires_on"] for c in mine] == ["2027-06-30"]
    person_list = client.get(f"{API}/people/{tech}/credentials?page_size=1&page=2", headers=auth)
    assert [c["type"] for c in person_list.json] == ["CNIM"]
    assert json.loads(person_list.headers["X-Pagination"])["total"] == 2
    bad = client.get(f"{API}/credentials?status=lapsed", headers=auth)
    assert bad.status_code == 422
    assert client.get(f"{API}/credentials?page_size=100000", headers=auth).status_code == 422


def test_writes_need_the_write_scope(client, auth, make_key):
    tech = new_person(client, auth)
    reader = make_key(("read",))
    assert add_credential(client, reader, tech, CNIM).status_code == 403
    assert client.get(f"{API}/people/{tech}/credentials", headers=reader).status_code == 200


# --- the type's validity_months: the default expiry of new records ----------------------------


@pytest.mark.parametrize(
    ("type_", "issued_on", "expected"),
    [
        # ABRET: a 60-month term, to 31 December of its expiration year (SPEC)
        ("CNIM", "2026-03-15", "2031-12-31"),
        ("CNIM", "2026-01-01", "2031-12-31"),
        ("BLS", "2026-01-31", "2028-01-31"),
        # 12 months from 29 February: the last day of a shorter February
        ("MALPRACTICE", "2028-02-29", "2029-02-28"),
    ],
)
def test_a_new_credential_without_expires_on_takes_the_types_term(
    client, auth, type_, issued_on, expected
):
    person_id = new_person(client, auth)
    response = add_credential(client, auth, person_id, {"type": type_, "issued_on": issued_on})
    assert response.status_code == 201, response.json
    assert response.json["expires_on"] == expected


def test_null_no_issue_date_or_no_validity_leave_a_new_credential_open_ended(client, auth):
    person_id = new_person(client, auth)
    never = add_credential(
        client, auth, person_id, {"type": "CNIM", "issued_on": "2026-01-01", "expires_on": None}
    )
    assert never.status_code == 201 and never.json["expires_on"] is None
    undated = add_credential(client, auth, person_id, {"type": "CNIM"})
    assert undated.status_code == 201 and undated.json["expires_on"] is None
    pals = {
        "code": "PALS",
        "name": "Pediatric ALS",
        "category": "training",
        "kinds": ["technologist"],
    }
    assert client.post(f"{API}/credential-types", json=pals, headers=auth).status_code == 201
    no_term = add_credential(client, auth, person_id, {"type": "PALS", "issued_on": "2026-01-01"})
    assert no_term.status_code == 201 and no_term.json["expires_on"] is None
    doc = client.get("/api/v1/openapi.json").json["components"]["schemas"]["Credential"]
    assert "validity_months" in doc["properties"]["expires_on"]["description"]


def test_a_default_term_past_the_calendars_end_is_422_and_writes_nothing(client, auth, app):
    person_id = new_person(client, auth)
    late = add_credential(client, auth, person_id, {"type": "CNIM", "issued_on": "9996-01-01"})
    assert late.status_code == 422 and "expires_on" in late.json["errors"]
    assert credential_count(app) == 0
    given = {"type": "CNIM", "issued_on": "9996-01-01", "expires_on": "9999-12-31"}
    assert add_credential(client, auth, person_id, given).status_code == 201


def test_the_renewal_suggestion_is_the_same_rule(app_context):
    from registry.credentials.models import CredentialType

    cnim, bls = db.session.get(CredentialType, "CNIM"), db.session.get(CredentialType, "BLS")
    assert service.term_end(cnim, counted_from=date(2028, 12, 31)) == date(2033, 12, 31)
    # an ABRET expiry entered off 31 December: the next term still ends on 31 December
    assert service.term_end(cnim, counted_from=date(2028, 6, 30)) == date(2033, 12, 31)
    assert service.term_end(bls, counted_from=date(2026, 8, 31)) == date(2028, 8, 31)
    assert service.term_end(bls, counted_from=None) is None
    assert service.term_end(bls, counted_from=date(9999, 12, 31)) is None


# --- the service contract the UI and the import use ------------------------------------------


def test_renewal_updates_the_same_record_once_it_is_verified(app_context, client, auth):
    from registry.errors import InvalidData

    tech = f.person()
    cnim = f.credential(tech, "CNIM", expires_on=date(2026, 12, 31))
    db.session.commit()
    with pytest.raises(InvalidData) as refused:
        service.renew(session=db.session, credential=cnim, expires_on=date(2031, 12, 31))
    assert "verification" in refused.value.errors
    db.session.rollback()
    assert cnim.expires_on == date(2026, 12, 31) and cnim.verified is True
    service.renew(
        session=db.session,
        credential=cnim,
        expires_on=date(2031, 12, 31),
        number="CNIM-2",
        verification={"method": "document", "verified_on": date(2026, 11, 20)},
    )
    db.session.commit()
    assert cnim.verified is True and cnim.number == "CNIM-2"
    assert db.session.query(Credential).count() == 1

    history = client.get(
        f"{API}/audit-events?entity_type=credential&entity_id={cnim.id}", headers=auth
    ).json
    expiries = [event["after"]["expires_on"] for event in history]
    assert "2031-12-31" in expiries
    assert any((e["before"] or {}).get("expires_on") == "2026-12-31" for e in history)


def test_set_status_refuses_unknown_statuses(app_context):
    from registry.errors import InvalidData

    tech = f.person()
    cnim = f.credential(tech, "CNIM")
    with pytest.raises(InvalidData) as caught:
        service.set_status(session=db.session, credential=cnim, status="deleted")
    assert "status" in caught.value.errors
    service.set_status(session=db.session, credential=cnim, status="entered_in_error")
    assert cnim.status == "entered_in_error"


def test_a_revocation_is_dated_and_the_date_goes_with_the_status(client, auth, frozen_clock):
    tech = new_person(client, auth)
    created = add_credential(client, auth, tech, CNIM).json
    url = f"{API}/credentials/{created['id']}"
    assert created["revoked_on"] is None
    # only a revoked credential has a revocation date, and none after tomorrow (28 November)
    for body, message in [
        ({"revoked_on": "2026-11-01"}, "Only a revoked credential (or one revoked, then"),
        ({"status": "revoked", "revoked_on": "2026-11-29"}, "cannot be dated after 2026-11-28"),
    ]:
        refused = client.patch(url, json=body, headers=auth)
        assert refused.status_code == 422 and message in refused.json["errors"]["revoked_on"][0]
    assert client.get(url, headers=auth).json["status"] == "active"
    # revoked: the day it happens (27 November), unless the issuer's date is given
    revoked = client.patch(url, json={"status": "revoked"}, headers=auth).json
    assert (revoked["status"], revoked["revoked_on"]) == ("revoked", "2026-11-27")
    corrected = client.patch(url, json={"revoked_on": "2026-11-02"}, headers=auth).json
    assert corrected["revoked_on"] == "2026-11-02"
    # marked entered in error and back: the revocation keeps its date
    for status in ("entered_in_error", "revoked"):
        back = client.patch(url, json={"status": status}, headers=auth).json
        assert (back["status"], back["revoked_on"]) == (status, "2026-11-02")
    # a reinstatement needs a verification made since the revocation; then the date goes
    early = {**VERIFICATION, "verified_on": "2026-11-01"}
    refused = client.patch(url, json={"status": "active", "verification": early}, headers=auth)
    assert refused.status_code == 422 and "on or after 2026-11-02" in str(refused.json["errors"])
    since = {**VERIFICATION, "verified_on": "2026-11-02"}
    reinstated = client.patch(url, json={"status": "active", "verification": since}, headers=auth)
    assert reinstated.status_code == 200
    assert (reinstated.json["status"], reinstated.json["revoked_on"]) == ("active", None)
    # a revoked credential entered as such (a record of history) needs the issuer's date:
    # today's would hold back the person's verifications made before today
    old = {**CNIM, "number": "OLD", "status": "revoked"}
    undated = add_credential(client, auth, tech, old)
    assert undated.status_code == 422 and list(undated.json["errors"]) == ["revoked_on"]
    history = add_credential(client, auth, tech, {**old, "revoked_on": "2019-06-30"})
    assert history.status_code == 201 and history.json["revoked_on"] == "2019-06-30"


def test_a_verification_cannot_be_dated_after_tomorrow(app, client, auth, frozen_clock):
    tech = new_person(client, auth)
    # 27 November in the registry's zone: a coordinator a day ahead may say the 28th
    tomorrow = {**CNIM, "verification": {**VERIFICATION, "verified_on": "2026-11-28"}}
    created = add_credential(client, auth, tech, tomorrow)
    assert created.status_code == 201
    before = credential_count(app)
    later = {**VERIFICATION, "verified_on": "2026-11-29"}
    refused = add_credential(client, auth, tech, {**CNIM, "number": "C-2", "verification": later})
    assert refused.status_code == 422
    assert refused.json["errors"] == {
        "verification": {"verified_on": ["A verification cannot be dated after 2026-11-28."]}
    }
    url = f"{API}/credentials/{created.json['id']}"
    patched = client.patch(url, json={"verification": later}, headers=auth)
    assert patched.status_code == 422 and list(patched.json["errors"]) == ["verification"]
    assert credential_count(app) == before
    assert client.get(url, headers=auth).json["verification"]["verified_on"] == "2026-11-28"


def test_migration_0006_dates_the_revocations_already_on_file(empty_database_url, monkeypatch):
    import sqlalchemy as sa
    from alembic import command

    from registry.database import UTCDateTime, make_engine
    from registry.migrate import alembic_config, upgrade

    monkeypatch.setenv("REGISTRY_TIMEZONE", "America/Chicago")
    url = empty_database_url
    upgrade(url, "0005")
    stamp = sa.column("updated_at", UTCDateTime(timezone=True))
    people = sa.table(
        "people",
        *(sa.column(n) for n in ("id", "kind", "given_name", "family_name", "active", "version")),
        sa.column("created_at", UTCDateTime(timezone=True)),
        stamp,
    )
    credentials = sa.table(
        "credentials",
        *(sa.column(n) for n in ("id", "person_id", "type", "status", "version")),
        sa.column("created_at", UTCDateTime(timezone=True)),
        sa.column("updated_at", UTCDateTime(timezone=True)),
    )
    # 03:00 UTC on 5 March is still 4 March in Chicago
    when = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            people.insert().values(
                id="p1",
                kind="technologist",
                given_name="A",
                family_name="B",
                active=True,
                version=1,
                created_at=when,
                updated_at=when,
            )
        )
        for ident, status in (("c1", "revoked"), ("c2", "active")):
            connection.execute(
                credentials.insert().values(
                    id=ident,
                    person_id="p1",
                    type="CNIM",
                    status=status,
                    version=1,
                    created_at=when,
                    updated_at=when,
                )
            )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        dates = dict(connection.execute(sa.text("SELECT id, revoked_on FROM credentials")).all())
    engine.dispose()
    assert {k: str(v) if v else v for k, v in dates.items()} == {"c1": "2026-03-04", "c2": None}
    command.downgrade(alembic_config(url), "0005")
    engine = make_engine(url)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("credentials")}
    engine.dispose()
    assert "revoked_on" not in columns and "status" in columns
