"""Facilities and appointments: validation, uniqueness, filters, ETags, nothing deleted."""

import json

import pytest

from registry.database import db
from registry.facilities.models import Appointment, Facility

API = "/api/v1"
SPINE = {
    "name": "Overland Park Spine Center",
    "state": "KS",
    "timezone": "America/Chicago",
    "required_credentials": ["BLS"],
    "external_id": "FAC-1",
}


def new_facility(client, auth, **change):
    response = client.post(f"{API}/facilities", json={**SPINE, **change}, headers=auth)
    assert response.status_code == 201, response.json
    return response


def new_person(client, auth, kind="technologist"):
    body = {"kind": kind, "given_name": "Ana", "family_name": "Ruiz"}
    return client.post(f"{API}/people", json=body, headers=auth).json["id"]


def count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def test_create_read_update_and_deactivate_a_facility(client, auth):
    created = new_facility(client, auth, state="ks", required_credentials=["BLS", "ACLS", "BLS"])
    facility = created.json
    assert list(facility) == [
        "id",
        "name",
        "state",
        "timezone",
        "required_credentials",
        "external_id",
        "active",
        "created_at",
        "updated_at",
    ]
    assert facility["state"] == "KS" and facility["active"] is True
    assert facility["required_credentials"] == ["BLS", "ACLS"]
    url = f"{API}/facilities/{facility['id']}"
    etag = created.headers["ETag"]
    assert client.get(url, headers=auth).headers["ETag"] == etag

    stale = client.patch(url, json={"active": False}, headers={**auth, "If-Match": '"old"'})
    assert stale.status_code == 412
    closed = client.patch(url, json={"active": False}, headers={**auth, "If-Match": etag})
    assert closed.status_code == 200 and closed.json["active"] is False
    assert closed.headers["ETag"] != etag
    assert client.delete(url, headers=auth).status_code == 405
    assert client.get(url, headers=auth).json["active"] is False


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"state": "Kansas"}, "state", "two-letter"),
        ({"state": "ZZ"}, "state", "two-letter"),
        ({"timezone": "Central"}, "timezone", "IANA"),
        ({"timezone": "America/Chicgo"}, "timezone", "IANA"),
        ({"name": ""}, "name", ""),
        ({"name": "x" * 201}, "name", ""),
        ({"external_id": "x" * 101}, "external_id", ""),
        ({"required_credentials": "BLS"}, "required_credentials", ""),
        ({"beds": 200}, "beds", ""),
    ],
)
def test_bad_facilities_are_422_and_write_nothing(client, auth, app, change, field, words):
    response = client.post(f"{API}/facilities", json={**SPINE, **change}, headers=auth)
    assert response.status_code == 422
    message = " ".join(response.json["errors"]["json"][field])
    assert words in message
    assert count(app, Facility) == 0


def test_required_credentials_must_be_catalogue_codes(client, auth, app):
    response = client.post(
        f"{API}/facilities",
        json={**SPINE, "required_credentials": ["BLS", "TB-TEST", "FLU"]},
        headers=auth,
    )
    assert response.status_code == 422
    message = response.json["errors"]["required_credentials"][0]
    assert "TB-TEST, FLU" in message
    assert count(app, Facility) == 0
    facility = new_facility(client, auth).json
    patch = client.patch(
        f"{API}/facilities/{facility['id']}", json={"required_credentials": ["NOPE"]}, headers=auth
    )
    assert patch.status_code == 422


def test_external_id_is_unique(client, auth):
    first = new_facility(client, auth).json
    again = client.post(f"{API}/facilities", json={**SPINE, "name": "Other"}, headers=auth)
    assert again.status_code == 409 and "external_id" in again.json["errors"]
    other = new_facility(client, auth, external_id="FAC-2").json
    clash = client.patch(
        f"{API}/facilities/{other['id']}", json={"external_id": "FAC-1"}, headers=auth
    )
    assert clash.status_code == 409
    same = client.patch(
        f"{API}/facilities/{first['id']}", json={"external_id": "FAC-1"}, headers=auth
    )
    assert same.status_code == 200


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_external_id_is_absent_and_blocks_no_one(client, auth, blank):
    first = new_facility(client, auth, name="First", external_id=blank).json
    second = new_facility(client, auth, name="Second", external_id=blank).json
    assert first["external_id"] is None and second["external_id"] is None
    named = new_facility(client, auth, name="Third", external_id="FAC-3").json
    cleared = client.patch(
        f"{API}/facilities/{named['id']}", json={"external_id": blank}, headers=auth
    )
    assert cleared.status_code == 200 and cleared.json["external_id"] is None
    assert new_facility(client, auth, name="Fourth", external_id="FAC-3").status_code == 201


def test_q_searches_for_like_wildcards_literally(client, auth):
    new_facility(client, auth, name="St_Luke", external_id="A%1")
    new_facility(client, auth, name="Mercy", external_id="B-2")

    def found(q):
        response = client.get(f"{API}/facilities", query_string={"q": q}, headers=auth)
        assert response.status_code == 200
        return [f["name"] for f in response.json]

    assert found("_") == ["St_Luke"]
    assert found("%") == ["St_Luke"]
    assert found("y") == ["Mercy"]


def test_facility_filters_and_pages(client, auth):
    new_facility(client, auth, name="Blue Valley Hospital", external_id="BV")
    new_facility(client, auth, name="Adams Surgery", external_id="AS", state="MO")
    closed = new_facility(client, auth, name="Cedar Clinic", external_id="CC").json
    client.patch(f"{API}/facilities/{closed['id']}", json={"active": False}, headers=auth)

    names = [f["name"] for f in client.get(f"{API}/facilities", headers=auth).json]
    assert names == ["Adams Surgery", "Blue Valley Hospital", "Cedar Clinic"]
    active = client.get(f"{API}/facilities?active=true", headers=auth).json
    assert [f["name"] for f in active] == ["Adams Surgery", "Blue Valley Hospital"]
    assert [f["name"] for f in client.get(f"{API}/facilities?state=mo", headers=auth).json] == [
        "Adams Surgery"
    ]
    assert [f["name"] for f in client.get(f"{API}/facilities?q=valley", headers=auth).json] == [
        "Blue Valley Hospital"
    ]
    by_ref = client.get(f"{API}/facilities?external_id=CC", headers=auth).json
    assert [f["id"] for f in by_ref] == [closed["id"]]
    page = client.get(f"{API}/facilities?page=2&page_size=2", headers=auth)
    assert [f["name"] for f in page.json] == ["Cedar Clinic"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3
    assert client.get(f"{API}/facilities?state=Kansas", headers=auth).status_code == 422


def test_unknown_facility_is_404(client, auth):
    assert client.get(f"{API}/facilities/nowhere", headers=auth).status_code == 404
    assert client.patch(f"{API}/facilities/nowhere", json={}, headers=auth).status_code == 404
    body = {"person_id": "x", "starts_on": "2026-01-01"}
    assert (
        client.post(f"{API}/facilities/nowhere/appointments", json=body, headers=auth).status_code
        == 404
    )
    assert client.get(f"{API}/facilities/nowhere/appointments", headers=auth).status_code == 404


# --- appointments ----------------------------------------------------------------------------


def test_appointments_lifecycle(client, auth):
    facility = new_facility(client, auth).json
    tech = new_person(client, auth)
    url = f"{API}/facilities/{facility['id']}/appointments"
    created = client.post(
        url,
        json={"person_id": tech, "starts_on": "2025-01-01", "expires_on": "2027-12-31"},
        headers=auth,
    )
    assert created.status_code == 201, created.json
    appointment = created.json
    assert appointment["facility_id"] == facility["id"] and appointment["status"] == "active"
    assert {"id", "person_id", "starts_on", "expires_on", "created_at"} <= set(appointment)
    one = f"{API}/appointments/{appointment['id']}"
    etag = client.get(one, headers=auth).headers["ETag"]
    assert etag == created.headers["ETag"]

    ended = client.patch(one, json={"status": "ended"}, headers={**auth, "If-Match": etag})
    assert ended.status_code == 200 and ended.json["status"] == "ended"
    late = client.patch(one, json={"status": "active"}, headers={**auth, "If-Match": etag})
    assert late.status_code == 412
    assert client.delete(one, headers=auth).status_code == 405

    renewed = client.post(url, json={"person_id": tech, "starts_on": "2028-01-01"}, headers=auth)
    assert renewed.status_code == 201 and renewed.json["expires_on"] is None
    listed = client.get(url, headers=auth).json
    assert [a["id"] for a in listed] == [appointment["id"], renewed.json["id"]]
    current = client.get(f"{url}?status=active", headers=auth).json
    assert [a["id"] for a in current] == [renewed.json["id"]]
    theirs = client.get(f"{API}/people/{tech}/appointments?status=ended", headers=auth).json
    assert [a["id"] for a in theirs] == [appointment["id"]]
    assert client.get(f"{API}/people/nobody/appointments", headers=auth).status_code == 404


def test_bad_appointments_are_refused_and_write_nothing(client, auth, app):
    facility = new_facility(client, auth).json
    tech = new_person(client, auth)
    url = f"{API}/facilities/{facility['id']}/appointments"
    unknown = client.post(
        url, json={"person_id": "nobody", "starts_on": "2025-01-01"}, headers=auth
    )
    assert unknown.status_code == 422 and "person_id" in unknown.json["errors"]
    backwards = client.post(
        url,
        json={"person_id": tech, "starts_on": "2026-01-01", "expires_on": "2025-12-31"},
        headers=auth,
    )
    assert backwards.status_code == 422 and "expires_on" in backwards.json["errors"]["json"]
    status = client.post(
        url, json={"person_id": tech, "starts_on": "2026-01-01", "status": "x"}, headers=auth
    )
    assert status.status_code == 422
    missing = client.post(url, json={"person_id": tech}, headers=auth)
    assert "starts_on" in missing.json["errors"]["json"]
    assert count(app, Appointment) == 0

    made = client.post(
        url,
        json={"person_id": tech, "starts_on": "2025-01-01", "expires_on": "2027-12-31"},
        headers=auth,
    ).json
    one = f"{API}/appointments/{made['id']}"
    # checked against the stored dates, not only the ones sent
    assert client.patch(one, json={"starts_on": "2028-01-01"}, headers=auth).status_code == 422
    assert client.patch(one, json={"expires_on": "2024-12-31"}, headers=auth).status_code == 422
    moved = client.patch(one, json={"person_id": tech}, headers=auth)
    assert moved.status_code == 422 and "person_id" in moved.json["errors"]["json"]
    assert client.get(one, headers=auth).json["expires_on"] == "2027-12-31"
    assert client.get(f"{API}/appointments/nothing", headers=auth).status_code == 404


def test_read_keys_cannot_write(client, auth, make_key):
    reader = make_key(("read",))
    assert client.post(f"{API}/facilities", json=SPINE, headers=reader).status_code == 403
    facility = new_facility(client, auth).json
    assert client.get(f"{API}/facilities/{facility['id']}", headers=reader).status_code == 200
    patch = client.patch(f"{API}/facilities/{facility['id']}", json={}, headers=reader)
    assert patch.status_code == 403
