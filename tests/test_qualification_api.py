"""The qualification question through the API, as a staffing system asks it."""

from datetime import date

import pytest

from registry.credentials.models import Credential
from registry.database import db
from registry.facilities.models import Appointment
from tests import factories as f


def case(where, starts="2026-12-01T08:00:00-06:00", ends="2026-12-01T12:00:00-06:00", **extra):
    return {
        "facility_id": where.id,
        "starts_at": starts,
        "ends_at": ends,
        "modalities": ["SSEP", "TCMEP", "EMG"],
        **extra,
    }


def ask(client, auth, who, role, case_body):
    response = client.post(
        "/api/v1/qualification-checks",
        json={"person_id": who.id, "role": role, "case": case_body},
        headers=auth,
    )
    assert response.status_code == 200, response.json
    return response.json


def codes(decision):
    return sorted(r["code"] for r in decision["reasons"])


def test_qualified_technologist_with_evidence_and_stored_check(app_context, client, auth):
    where, doc, tech = f.network()
    decision = ask(client, auth, tech, "technologist", case(where))
    assert decision["qualified"] is True, decision["reasons"]
    assert decision["reasons"] == []
    kinds = {(e["requirement"], e["kind"]) for e in decision["evidence"]}
    assert ("certification", "credential") in kinds
    assert ("appointment", "appointment") in kinds
    assert ("supervision", "agreement") in kinds
    stored = client.get(f"/api/v1/qualification-checks/{decision['check_id']}", headers=auth)
    assert stored.status_code == 200
    body = stored.json
    assert body["person_id"] == tech.id and body["role"] == "technologist"
    assert body["asked_by"].startswith("api-key:")
    assert body["case"]["modalities"] == ["SSEP", "TCMEP", "EMG"]
    assert body["evidence"] == decision["evidence"]


def test_stored_check_does_not_change_when_records_change(app_context, client, auth):
    where, doc, tech = f.network()
    decision = ask(client, auth, tech, "technologist", case(where))
    cnim = db.session.query(Credential).filter_by(person_id=tech.id, type="CNIM").one()
    cnim.status = "revoked"
    db.session.commit()
    assert ask(client, auth, tech, "technologist", case(where))["qualified"] is False
    stored = client.get(f"/api/v1/qualification-checks/{decision['check_id']}", headers=auth).json
    assert stored["qualified"] is True
    assert stored["checked_at"] == decision["checked_at"]


def test_cnim_lapsing_on_31_december_fails_a_case_crossing_midnight(app_context, client, auth):
    where = f.facility()
    doc = f.qualified_physician(where)
    tech = f.qualified_technologist(where, cnim_expires=date(2026, 12, 31))
    f.agreement(where, doc)
    db.session.commit()
    night = case(where, starts="2026-12-31T22:00:00-06:00", ends="2027-01-01T02:00:00-06:00")
    decision = ask(client, auth, tech, "technologist", night)
    assert codes(decision) == ["CREDENTIAL_EXPIRED"]
    assert "2026-12-31" in decision["reasons"][0]["message"]
    evening = case(where, starts="2026-12-31T18:00:00-06:00", ends="2026-12-31T23:59:00-06:00")
    assert ask(client, auth, tech, "technologist", evening)["qualified"] is True
    # 03:00 UTC on 1 January is still 31 December in Kansas City
    utc = case(where, starts="2026-12-31T23:00:00Z", ends="2027-01-01T03:00:00Z")
    assert ask(client, auth, tech, "technologist", utc)["qualified"] is True


def test_remote_physician_licensed_only_in_the_neighbouring_state(app_context, client, auth):
    where = f.facility(state="KS")
    doc = f.qualified_physician(where, license_states=("MO",))
    f.agreement(where, doc, modes=("remote",))
    db.session.commit()
    decision = ask(client, auth, doc, "interpreting_physician", case(where, remote=True))
    assert codes(decision) == ["LICENSE_JURISDICTION"]
    assert "KS" in " ".join(r["message"] for r in decision["reasons"])
    # a patient in Missouri (remote interpretation is practised where the patient is)
    mo_patient = ask(
        client, auth, doc, "interpreting_physician", case(where, remote=True, patient_state="MO")
    )
    assert "LICENSE_JURISDICTION" not in codes(mo_patient)


def test_every_failed_requirement_is_listed(app_context, client, auth):
    where = f.facility()
    tech = f.person("technologist")
    f.credential(tech, "CNIM", expires_on=date(2025, 12, 31))
    f.appointment(tech, where, status="suspended")
    db.session.commit()
    decision = ask(client, auth, tech, "technologist", case(where))
    assert decision["qualified"] is False
    assert {
        "CREDENTIAL_EXPIRED",
        "MISSING_CREDENTIAL",
        "NO_APPOINTMENT",
        "SCOPE_NOT_COVERED",
        "NO_SUPERVISION_AGREEMENT",
    } <= set(codes(decision))
    for reason in decision["reasons"]:
        assert reason["message"] and reason["requirement"]


def test_search_lists_qualified_and_why_the_others_are_not(app_context, client, auth):
    where, doc, tech = f.network()
    lapsed = f.qualified_technologist(where, "Lou", "Park", cnim_expires=date(2025, 12, 31))
    f.person("technologist", "Ina", "Active", active=False)
    db.session.commit()
    body = {"role": "technologist", "case": case(where), "include_unqualified": True}
    result = client.post("/api/v1/qualification-searches", json=body, headers=auth)
    assert result.status_code == 200
    assert [p["person_id"] for p in result.json["qualified"]] == [tech.id]
    assert [p["person_id"] for p in result.json["unqualified"]] == [lapsed.id]
    assert result.json["unqualified"][0]["reasons"][0]["code"] == "CREDENTIAL_EXPIRED"
    only = client.post(
        "/api/v1/qualification-searches", json={**body, "include_unqualified": False}, headers=auth
    ).json
    assert only["unqualified"] == []


def test_expiring_soon_is_a_warning_not_a_refusal(app_context, client, auth):
    where, doc, tech = f.network()
    appt = db.session.query(Appointment).filter_by(person_id=tech.id).one()
    appt.expires_on = date(2026, 12, 15)
    db.session.commit()
    decision = ask(client, auth, tech, "technologist", case(where))
    assert decision["qualified"] is True
    assert [w["code"] for w in decision["warnings"]] == ["EXPIRES_SOON"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"role": "surgeon"}, "role"),
        ({"case": {"modalities": ["SSEP"]}}, "case"),
        ({"person_id": "nobody"}, "person_id"),
        ({"case_patch": {"ends_at": "2026-12-01T07:00:00-06:00"}}, "case"),
        ({"case_patch": {"starts_at": "2026-12-01T08:00:00"}}, "case"),
        ({"case_patch": {"modalities": ["XRAY"]}}, "case"),
        ({"case_patch": {"facility_id": "elsewhere"}}, "case"),
        ({"case_patch": {"patient_state": "ZZ"}}, "case"),
        ({"case_patch": {"payer": "cash"}}, "case"),
        ({"case_patch": {"patient_name": "Jane Doe"}}, "case"),
    ],
)
def test_bad_questions_are_422_and_store_nothing(app_context, client, auth, body, where):
    facility, doc, tech = f.network()
    request = {"person_id": tech.id, "role": "technologist", "case": case(facility)}
    patch = body.pop("case_patch", None)
    request.update(body)
    if patch:
        request["case"] = {**request["case"], **patch}
    response = client.post("/api/v1/qualification-checks", json=request, headers=auth)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert where in (errors.get("json") or errors)
    from registry.qualification.models import QualificationCheck

    assert db.session.query(QualificationCheck).count() == 0


def test_checks_need_the_check_scope(app_context, client, make_key):
    where, doc, tech = f.network()
    body = {"person_id": tech.id, "role": "technologist", "case": case(where)}
    response = client.post("/api/v1/qualification-checks", json=body, headers=make_key(["read"]))
    assert response.status_code == 403


def test_a_check_only_key_reads_back_its_checks_and_bookings(app_context, client, make_key):
    # SPEC: the check scope covers qualification checks, searches and assignments
    where, doc, tech = f.network()
    checker = make_key(["check"])
    body = {"person_id": tech.id, "role": "technologist", "case": case(where)}
    checked = client.post("/api/v1/qualification-checks", json=body, headers=checker)
    assert checked.status_code == 200, checked.json
    stored = client.get(f"/api/v1/qualification-checks/{checked.json['check_id']}", headers=checker)
    assert stored.status_code == 200 and stored.json["person_id"] == tech.id
    booked = client.post("/api/v1/assignments", json=body, headers=checker)
    assert booked.status_code == 201, booked.json
    one = client.get(f"/api/v1/assignments/{booked.json['id']}", headers=checker)
    assert one.status_code == 200 and one.json["id"] == booked.json["id"]
    listed = client.get(f"/api/v1/assignments?person_id={tech.id}", headers=checker)
    assert [a["id"] for a in listed.json] == [booked.json["id"]]
    # the rest of the registry stays closed to it, and a write-only key reads no checks
    refused = client.get(f"/api/v1/people/{tech.id}", headers=checker)
    assert refused.status_code == 403
    writer = make_key(["write"])
    response = client.get(
        f"/api/v1/qualification-checks/{checked.json['check_id']}", headers=writer
    )
    assert response.status_code == 403
    assert response.json["message"] == "This API key lacks the 'read' or 'check' scope."


# at the calendar's ends: the UTC or facility-local time of these would not be a datetime
EXTREME_WINDOWS = [
    ("0001-01-01T00:00:00+05:00", "0001-01-01T01:00:00+05:00"),
    ("9999-12-31T23:00:00+00:00", "9999-12-31T23:30:00-06:00"),
    ("1899-12-31T08:00:00-06:00", "1899-12-31T12:00:00-06:00"),
]


@pytest.mark.parametrize(("starts", "ends"), EXTREME_WINDOWS)
def test_times_at_the_calendars_ends_are_422_and_store_nothing(
    app_context, client, auth, starts, ends
):
    from registry.qualification.models import QualificationCheck

    where, doc, tech = f.network()
    window = case(where, starts=starts, ends=ends)
    check = client.post(
        "/api/v1/qualification-checks",
        json={"person_id": tech.id, "role": "technologist", "case": window},
        headers=auth,
    )
    assert check.status_code == 422, check.json
    assert "between the years 1900 and 9998" in check.json["errors"]["json"]["case"]["starts_at"][0]
    search = client.post(
        "/api/v1/qualification-searches",
        json={"role": "interpreting_physician", "case": window},
        headers=auth,
    )
    assert search.status_code == 422 and "starts_at" in search.json["errors"]["json"]["case"]
    assert db.session.query(QualificationCheck).count() == 0
    # the range's first and last hours, in the farthest offsets, are answered
    for inside in (
        case(where, starts="1900-01-01T00:00:00+14:00", ends="1900-01-01T01:00:00+14:00"),
        case(where, starts="9998-12-31T22:00:00-12:00", ends="9998-12-31T23:59:00-12:00"),
    ):
        assert ask(client, auth, tech, "technologist", inside)["qualified"] is False


def test_a_verification_made_before_a_revocation_vouches_for_no_cnim(
    app_context, client, auth, frozen_clock
):
    where, _, tech = f.network()
    cnim = db.session.query(Credential).filter_by(person_id=tech.id, type="CNIM").one()
    cnim.number = "CNIM-9"
    db.session.commit()
    cnim_id, number = cnim.id, cnim.number
    verification = {
        "method": cnim.verification_method,
        "verified_on": cnim.verified_on.isoformat(),
        "verified_by": cnim.verified_by,
        "source": cnim.verification_source,
    }
    body = {"type": "CNIM", "number": number, "issued_on": "2023-01-01"}
    body["expires_on"] = "2028-12-31"
    # a copy of the record with the same verification, made before the revocation
    copy = client.post(
        f"/api/v1/people/{tech.id}/credentials",
        json={**body, "verification": verification},
        headers=auth,
    )
    assert copy.status_code == 201
    assert ask(client, auth, tech, "technologist", case(where))["qualified"] is True
    client.patch(f"/api/v1/credentials/{cnim_id}", json={"status": "revoked"}, headers=auth)
    # the copy, and the revoked record entered again (with or without its number, its
    # verification retouched), count for nothing: each needs a verification made since
    for retyped in ({"number": None}, {"number": f" {number.lower()} "}):
        entered = client.post(
            f"/api/v1/people/{tech.id}/credentials",
            json={**body, **retyped, "verification": {**verification, "verified_by": "Other"}},
            headers=auth,
        )
        assert entered.status_code == 201
    decision = ask(client, auth, tech, "technologist", case(where))
    assert decision["qualified"] is False and codes(decision) == ["CREDENTIAL_UNVERIFIED"]
    (reason,) = decision["reasons"]
    assert f"(credential {cnim_id}) was revoked on 2026-11-27" in reason["message"]
    # verified again since the revocation, the copy counts
    again = {**verification, "verified_on": "2026-11-27"}
    client.patch(
        f"/api/v1/credentials/{copy.json['id']}", json={"verification": again}, headers=auth
    )
    decision = ask(client, auth, tech, "technologist", case(where))
    assert decision["qualified"] is True
    assert copy.json["id"] in [e["id"] for e in decision["evidence"]]


def test_an_unknown_modality_is_named_with_the_codes_there_are(app_context, client, auth):
    where, _, tech = f.network()
    body = {"person_id": tech.id, "role": "technologist", "case": case(where)}
    body["case"]["modalities"] = ["SSEP", "ssep", " EMG"]
    response = client.post("/api/v1/qualification-checks", json=body, headers=auth)
    assert response.status_code == 422
    (message,) = response.json["errors"]["case"]["modalities"]
    assert message.startswith("Unknown modalities: 'ssep', ' EMG'; the codes are ")
    assert "SSEP, TCMEP" in message and message.endswith(".")


def test_no_copy_of_a_revoked_cnim_qualifies_in_a_check_a_search_or_a_booking(
    app_context, client, auth, frozen_clock
):
    where, _, tech = f.network()
    cnim = db.session.query(Credential).filter_by(person_id=tech.id, type="CNIM").one()
    # verified today and revoked today: the copy carries that very verification, and names a
    # state (a CNIM is one certification, whatever state a record of it names)
    cnim.verified_on = date(2026, 11, 27)
    db.session.commit()
    verification = {
        "method": cnim.verification_method,
        "verified_on": "2026-11-27",
        "verified_by": cnim.verified_by,
        "source": cnim.verification_source,
    }
    copy = {
        "type": "CNIM",
        "jurisdiction": "ks",
        "issued_on": "2023-01-01",
        "expires_on": "2028-12-31",
        "verification": verification,
    }
    client.patch(f"/api/v1/credentials/{cnim.id}", json={"status": "revoked"}, headers=auth)
    added = client.post(f"/api/v1/people/{tech.id}/credentials", json=copy, headers=auth)
    assert added.status_code == 201
    decision = ask(client, auth, tech, "technologist", case(where))
    assert codes(decision) == ["CREDENTIAL_UNVERIFIED"]
    assert decision["reasons"][0]["evidence"] == [added.json["id"], cnim.id]
    assert (
        "only a verification made on or after 2026-11-28 counts"
        in (decision["reasons"][0]["message"])
    )
    search = client.post(
        "/api/v1/qualification-searches",
        json={"role": "technologist", "case": case(where), "include_unqualified": True},
        headers=auth,
    ).json
    assert tech.id not in [hit["person_id"] for hit in search["qualified"]]
    booking = client.post(
        "/api/v1/assignments",
        json={"person_id": tech.id, "role": "technologist", "case": case(where)},
        headers=auth,
    )
    assert booking.status_code == 409


def test_a_revoked_cnim_is_on_file_in_a_check_a_search_and_a_refused_booking(
    app_context, client, auth, frozen_clock
):
    # SPEC round 2: CREDENTIAL_INACTIVE naming the revoked record, never MISSING_CREDENTIAL
    where, _, tech = f.network()
    cnim = db.session.query(Credential).filter_by(person_id=tech.id, type="CNIM").one()
    revoked = client.patch(
        f"/api/v1/credentials/{cnim.id}",
        json={"status": "revoked", "revoked_on": "2026-11-02"},
        headers=auth,
    )
    assert revoked.status_code == 200, revoked.json
    expected = [
        {
            "code": "CREDENTIAL_INACTIVE",
            "message": "CNIM certification revoked on 2026-11-02.",
            "requirement": "certification",
            "evidence": [cnim.id],
        }
    ]
    assert ask(client, auth, tech, "technologist", case(where))["reasons"] == expected
    search = client.post(
        "/api/v1/qualification-searches",
        json={"role": "technologist", "case": case(where), "include_unqualified": True},
        headers=auth,
    ).json
    (unqualified,) = [hit for hit in search["unqualified"] if hit["person_id"] == tech.id]
    assert unqualified["reasons"] == expected
    booking = client.post(
        "/api/v1/assignments",
        json={"person_id": tech.id, "role": "technologist", "case": case(where)},
        headers=auth,
    )
    assert booking.status_code == 409
    assert booking.json["decision"]["reasons"] == expected
