"""People: create, read, filter, update with ETags, validation and uniqueness."""

import pytest

TECH = {"kind": "technologist", "given_name": "Ana", "family_name": "Ruiz", "npi": "1234567893"}


def test_create_read_and_update_with_etag(client, auth):
    created = client.post("/api/v1/people", json=TECH, headers=auth)
    assert created.status_code == 201
    person = created.json
    assert person["name"] == "Ana Ruiz" and person["active"] is True
    etag = created.headers["ETag"]

    fetched = client.get(f"/api/v1/people/{person['id']}", headers=auth)
    assert fetched.json["npi"] == "1234567893"
    assert fetched.headers["ETag"] == etag

    stale = client.patch(
        f"/api/v1/people/{person['id']}",
        json={"phone": "555-0100"},
        headers={**auth, "If-Match": '"not-the-etag"'},
    )
    assert stale.status_code == 412
    ok = client.patch(
        f"/api/v1/people/{person['id']}",
        json={"phone": "555-0100"},
        headers={**auth, "If-Match": etag},
    )
    assert ok.status_code == 200 and ok.json["phone"] == "555-0100"
    assert ok.headers["ETag"] != etag
    again = client.patch(
        f"/api/v1/people/{person['id']}", json={"active": False}, headers={**auth, "If-Match": etag}
    )
    assert again.status_code == 412


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**TECH, "npi": "1234567890"}, "npi"),
        ({**TECH, "kind": "nurse"}, "kind"),
        ({**TECH, "given_name": ""}, "given_name"),
        ({**TECH, "given_name": "x" * 101}, "given_name"),
        ({**TECH, "email": "not-an-email"}, "email"),
        ({**TECH, "favourite_colour": "blue"}, "favourite_colour"),
        ({k: v for k, v in TECH.items() if k != "family_name"}, "family_name"),
    ],
)
def test_bad_input_is_422_with_the_field_and_writes_nothing(client, auth, body, field):
    response = client.post("/api/v1/people", json=body, headers=auth)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert client.get("/api/v1/people", headers=auth).json == []


def test_duplicate_npi_and_external_id_are_409(client, auth):
    first = client.post("/api/v1/people", json={**TECH, "external_id": "HR-1"}, headers=auth)
    assert first.status_code == 201
    dup_npi = client.post("/api/v1/people", json=TECH, headers=auth)
    assert dup_npi.status_code == 409 and "npi" in dup_npi.json["errors"]
    dup_ext = client.post(
        "/api/v1/people", json={**TECH, "npi": None, "external_id": "HR-1"}, headers=auth
    )
    assert dup_ext.status_code == 409 and "external_id" in dup_ext.json["errors"]
    other = client.post("/api/v1/people", json={**TECH, "npi": None}, headers=auth).json
    clash = client.patch(f"/api/v1/people/{other['id']}", json={"npi": "1234567893"}, headers=auth)
    assert clash.status_code == 409


def test_filters_and_pagination(client, auth):
    for i, (kind, family) in enumerate(
        [("technologist", "Adams"), ("technologist", "Baker"), ("physician", "Cole")]
    ):
        body = {"kind": kind, "given_name": f"P{i}", "family_name": family}
        assert client.post("/api/v1/people", json=body, headers=auth).status_code == 201
    techs = client.get("/api/v1/people?kind=technologist", headers=auth).json
    assert [p["family_name"] for p in techs] == ["Adams", "Baker"]
    assert [p["family_name"] for p in client.get("/api/v1/people?q=bak", headers=auth).json] == [
        "Baker"
    ]
    page = client.get("/api/v1/people?page=2&page_size=2", headers=auth)
    assert [p["family_name"] for p in page.json] == ["Cole"]
    assert '"total": 3' in page.headers["X-Pagination"]
    too_big = client.get("/api/v1/people?page_size=100000", headers=auth)
    assert too_big.status_code == 422


def test_unknown_person_is_404(client, auth):
    response = client.get("/api/v1/people/does-not-exist", headers=auth)
    assert response.status_code == 404
    assert "not found" in response.json["message"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_external_id_or_npi_is_absent_and_blocks_no_one(client, auth, blank):
    # SPEC: external_id and npi are "unique when present"; a blank one is not present
    for given in ("E1", "E2"):
        body = {"kind": "technologist", "given_name": given, "family_name": "Zed"}
        created = client.post(
            "/api/v1/people", json={**body, "external_id": blank, "npi": blank}, headers=auth
        )
        assert created.status_code == 201, created.json
        assert created.json["external_id"] is None and created.json["npi"] is None
    kept = client.post("/api/v1/people", json={**TECH, "external_id": "HR-7"}, headers=auth).json
    cleared = client.patch(
        f"/api/v1/people/{kept['id']}", json={"external_id": blank, "npi": blank}, headers=auth
    )
    assert cleared.status_code == 200, cleared.json
    assert cleared.json["external_id"] is None and cleared.json["npi"] is None
    assert client.get("/api/v1/people?external_id=HR-7", headers=auth).json == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [('"given_name": "A\\ud800"', "given_name"), ('"phone": "555\\udfff"', "phone")],
)
def test_a_lone_surrogate_is_422_and_writes_nothing(client, auth, raw, field):
    # JSON can spell a UTF-16 surrogate alone; it has no UTF-8 form, so it cannot be stored
    body = '{"kind": "technologist", "family_name": "B", "email": null, ' + raw + "}"
    response = client.post(
        "/api/v1/people", data=body, content_type="application/json", headers=auth
    )
    assert response.status_code == 422
    assert "lone surrogate" in " ".join(response.json["errors"]["json"][field])
    assert client.get("/api/v1/people", headers=auth).json == []
    person = client.post("/api/v1/people", json=TECH, headers=auth).json
    patch = client.patch(
        f"/api/v1/people/{person['id']}",
        data='{"family_name": "R\\udc00iz"}',
        content_type="application/json",
        headers=auth,
    )
    assert patch.status_code == 422 and "family_name" in patch.json["errors"]["json"]
    assert client.get(f"/api/v1/people/{person['id']}", headers=auth).json["family_name"] == "Ruiz"


def test_q_searches_for_like_wildcards_literally(client, auth):
    for given, family in (("Ann_Marie", "Lee"), ("Bo", "Park"), ("Cy", "100%Sure")):
        body = {"kind": "technologist", "given_name": given, "family_name": family}
        assert client.post("/api/v1/people", json=body, headers=auth).status_code == 201

    def found(q):
        response = client.get("/api/v1/people", query_string={"q": q}, headers=auth)
        assert response.status_code == 200
        return [p["given_name"] for p in response.json]

    assert found("_") == ["Ann_Marie"]
    assert found("%") == ["Cy"]
    assert found("n_m") == ["Ann_Marie"]
    assert found("\\") == []
    assert sorted(found("r")) == ["Ann_Marie", "Bo", "Cy"]
