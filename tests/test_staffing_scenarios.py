"""Realistic IONM cases, set up and asked entirely through the REST API as a staffing system."""

import pytest

VERIFIED = {
    "method": "primary_source",
    "verified_on": "2026-01-15",
    "verified_by": "cred-team",
    "source": "https://abret.org/verify",
}
SPINE = ["SSEP", "TCMEP", "EMG"]


class Api:
    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def post(self, path, body, expect=201):
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code == expect, (path, response.status_code, response.json)
        return response.json

    def person(self, kind, given, family):
        return self.post("/people", {"kind": kind, "given_name": given, "family_name": family})

    def credential(self, who, type_, expires_on, jurisdiction=None):
        body = {
            "type": type_,
            "issued_on": "2022-01-01",
            "expires_on": expires_on,
            "verification": VERIFIED,
        }
        if jurisdiction:
            body["jurisdiction"] = jurisdiction
        return self.post(f"/people/{who['id']}/credentials", body)

    def appoint(self, who, where):
        return self.post(
            f"/facilities/{where['id']}/appointments",
            {"person_id": who["id"], "starts_on": "2025-07-01", "expires_on": "2027-06-30"},
        )

    def scope(self, who, activity):
        return self.post(
            f"/people/{who['id']}/scopes",
            {
                "activity": activity,
                "modalities": SPINE + ["TRIGGERED_EMG"],
                "effective_from": "2025-07-01",
            },
        )


def spine_case(where, day="2026-12-10", start="07:30", end="11:30", **extra):
    return {
        "facility_id": where["id"],
        "starts_at": f"{day}T{start}:00-06:00",
        "ends_at": f"{day}T{end}:00-06:00",
        "modalities": SPINE,
        "procedure": "L4-S1 posterior fusion",
        **extra,
    }


@pytest.fixture
def network(client, auth):
    api = Api(client, auth)
    spine_center = api.post(
        "/facilities",
        {
            "name": "Overland Park Spine Institute",
            "state": "KS",
            "timezone": "America/Chicago",
            "required_credentials": ["BLS"],
        },
    )
    ana = api.person("technologist", "Ana", "Ruiz")
    api.credential(ana, "CNIM", "2026-12-31")
    api.credential(ana, "BLS", "2027-08-31")
    api.appoint(ana, spine_center)
    api.scope(ana, "perform")
    kay = api.person("physician", "Kay", "Brandt")  # licensed on both sides of the state line
    api.credential(kay, "ABPN-N", "2031-12-31")
    api.credential(kay, "ABPN-CN", "2031-12-31")
    api.credential(kay, "MEDICAL_LICENSE", "2028-06-30", jurisdiction="KS")
    api.credential(kay, "MEDICAL_LICENSE", "2028-06-30", jurisdiction="MO")
    api.credential(kay, "BLS", "2027-08-31")
    api.appoint(kay, spine_center)
    api.scope(kay, "interpret")
    ray = api.person("physician", "Ray", "Osei")  # remote reader licensed only in Missouri
    api.credential(ray, "ABCN", "2030-12-31")
    api.credential(ray, "MEDICAL_LICENSE", "2028-06-30", jurisdiction="MO")
    api.credential(ray, "BLS", "2027-08-31")
    api.appoint(ray, spine_center)
    api.scope(ray, "interpret")
    for doc in (kay, ray):
        api.post(
            "/supervision-agreements",
            {
                "facility_id": spine_center["id"],
                "physician_id": doc["id"],
                "technologist_ids": [],
                "modes": ["in_person", "remote"],
                "max_concurrent_cases": 3,
                "effective_from": "2025-07-01",
                "effective_to": "2027-06-30",
                "document_ref": "DMS-2025-114",
            },
        )
    return api, spine_center, ana, kay, ray


def check(api, who, role, case):
    return api.post(
        "/qualification-checks", {"person_id": who["id"], "role": role, "case": case}, expect=200
    )


def test_spine_case_technologist_qualifies_with_a_warning_about_cnim(network):
    api, spine_center, ana, kay, ray = network
    decision = check(api, ana, "technologist", spine_case(spine_center))
    assert decision["qualified"] is True
    assert [(w["code"], w["requirement"]) for w in decision["warnings"]] == [
        ("EXPIRES_SOON", "certification")
    ]
    january = check(api, ana, "technologist", spine_case(spine_center, day="2027-01-05"))
    assert [r["code"] for r in january["reasons"]] == ["CREDENTIAL_EXPIRED"]
    assert "CNIM" in january["reasons"][0]["message"]


def test_remote_reader_licensed_only_next_door(network):
    api, spine_center, ana, kay, ray = network
    kansas = check(api, ray, "interpreting_physician", spine_case(spine_center, remote=True))
    assert [r["code"] for r in kansas["reasons"]] == ["LICENSE_JURISDICTION"]
    missouri_patient = check(
        api,
        ray,
        "interpreting_physician",
        spine_case(spine_center, remote=True, patient_state="MO"),
    )
    assert missouri_patient["qualified"] is True
    found = api.post(
        "/qualification-searches",
        {
            "role": "interpreting_physician",
            "case": spine_case(spine_center, remote=True),
            "include_unqualified": True,
        },
        expect=200,
    )
    assert [p["name"] for p in found["qualified"]] == ["Kay Brandt"]
    assert [(p["name"], [r["code"] for r in p["reasons"]]) for p in found["unqualified"]] == [
        ("Ray Osei", ["LICENSE_JURISDICTION"])
    ]


def test_a_fourth_concurrent_remote_case_and_medicare(network):
    api, spine_center, ana, kay, ray = network
    windows = [("07:00", "11:00"), ("08:00", "12:00"), ("09:00", "13:00"), ("10:00", "14:00")]
    results = [
        api.client.post(
            "/api/v1/assignments",
            json={
                "person_id": kay["id"],
                "role": "interpreting_physician",
                "case": spine_case(spine_center, start=s, end=e, remote=True),
            },
            headers=api.headers,
        )
        for s, e in windows
    ]
    assert [r.status_code for r in results] == [201, 201, 201, 409]
    refused = results[3].json
    assert refused["decision"]["qualified"] is False
    assert [r["code"] for r in refused["decision"]["reasons"]] == ["CONCURRENCY_LIMIT"]
    medicare = check(
        api,
        kay,
        "interpreting_physician",
        spine_case(spine_center, start="12:30", end="15:00", remote=True, payer="medicare"),
    )
    assert [r["code"] for r in medicare["reasons"]] == ["CONCURRENCY_LIMIT"]
    # the evening case overlaps nothing
    evening = check(
        api,
        kay,
        "interpreting_physician",
        spine_case(spine_center, start="18:00", end="20:00", remote=True, payer="medicare"),
    )
    assert evening["qualified"] is True
