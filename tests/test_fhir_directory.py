"""The read-only FHIR R4 directory at /fhir/r4: every answer validated with fhir.resources' R4B
models, the mapping checked field by field against the registry, paging, errors and auth."""

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fhir.resources.R4B import get_fhir_model_class

from registry.database import db
from registry.people.models import Person
from tests import factories as f

NPI = "http://hl7.org/fhir/sid/us-npi"
NUCC = "http://nucc.org/provider-taxonomy"
USPS = "https://www.usps.com/"
PLAN_NET_QUALIFICATION = (
    "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/practitioner-qualification"
)
BASE = "http://localhost/fhir/r4"
ATTESTED = {
    "verification_method": "attestation",
    "verified_on": date(2025, 3, 2),
    "verified_by": "coordinator",
    "verification_source": None,
}
FROM_DOCUMENT = {
    "verification_method": "document",
    "verified_on": date(2024, 6, 1),
    "verified_by": "coordinator",
    "verification_source": "scan of the wallet card",
}


def fhir(response, status=200, resource_type=None) -> dict:
    """The body of a FHIR answer, after checking its status, its media type and that the R4B
    model of its resourceType accepts it as it is (unknown or mistyped elements are refused)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    if resource_type:
        assert body["resourceType"] == resource_type
    model = get_fhir_model_class(body["resourceType"]).model_validate(body)
    assert model.model_dump(mode="json", by_alias=True, exclude_none=True) == body
    return body


def outcome(response, status: int, code: str) -> str:
    body = fhir(response, status, "OperationOutcome")
    assert [issue["code"] for issue in body["issue"]] == [code]
    assert body["issue"][0]["severity"] == "error"
    return body["issue"][0]["diagnostics"]


def extension(qualification: dict) -> dict:
    """Plan-Net's practitioner-qualification extension as {url: value}, whereValid a list."""
    (outer,) = [e for e in qualification["extension"] if e["url"] == PLAN_NET_QUALIFICATION]
    values = {"whereValid": []}
    for inner in outer["extension"]:
        if inner["url"] == "whereValid":
            values["whereValid"].append(inner["valueCodeableConcept"])
        else:
            values[inner["url"]] = inner["valueCode"]
    return values


@pytest.fixture(autouse=True)
def _base_url_from_the_request(app, monkeypatch):
    # whatever the environment says, the identifier systems sit under the test client's host
    monkeypatch.setitem(app.config, "REGISTRY_BASE_URL", "")


@pytest.fixture
def read_key(make_key):
    return make_key(("read",))


@pytest.fixture
def directory(app_context, frozen_clock):
    """A KS facility with a technologist and a physician whose files hold every case the
    mapping distinguishes (lapsed, suspended, revoked, unverified, entered in error...)."""
    frozen_clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    where = f.facility(name="Overland Park Spine Center", state="KS", external_id="FAC-7")
    other = f.facility(name="Mercy Neuro Institute", state="MO", required=())
    tech = f.person(
        "technologist",
        "Tess",
        "Nguyen",
        npi="1234567893",
        external_id="EMP-44",
        email="tess@example.org",
        phone="913-555-0100",
    )
    creds = {
        "cnim": f.credential(tech, "CNIM", number="CNIM-8812", issuer="ABRET"),
        "bls": f.credential(tech, "BLS", expires_on=date(2027, 6, 30), **ATTESTED),
        "rept": f.credential(tech, "R-EP-T", expires_on=date(2025, 12, 31), **FROM_DOCUMENT),
        "cltm": f.credential(tech, "CLTM", status="revoked", revoked_on=date(2026, 3, 1)),
        "dabnm": f.credential(tech, "DABNM", status="entered_in_error"),
    }
    tech_role = f.appointment(tech, where)
    f.appointment(tech, other, status="suspended")
    doc = f.person("physician", "Omar", "Haddad", npi="1245319599", email="omar@example.org")
    creds |= {
        "abcn": f.credential(doc, "ABCN", expires_on=None, number="ABCN-301"),
        "abpn_n": f.credential(doc, "ABPN-N"),
        "abpn_cn": f.credential(doc, "ABPN-CN"),
        "ks": f.credential(doc, "MEDICAL_LICENSE", jurisdiction="KS", number="04-33210"),
        "mo": f.credential(doc, "MEDICAL_LICENSE", jurisdiction="MO", status="suspended"),
        "acls": f.credential(doc, "ACLS", verified=False),
    }
    doc_role = f.appointment(doc, where, starts_on=date(2026, 1, 1), expires_on=date(2028, 12, 31))
    db.session.commit()
    return {
        "where": where,
        "other": other,
        "tech": tech,
        "doc": doc,
        "tech_role": tech_role,
        "doc_role": doc_role,
        **creds,
    }


def by_id(items: list[dict]) -> dict:
    return {item["id"]: item for item in items}


def test_metadata_needs_no_key_and_lists_exactly_what_is_served(client, read_key, directory):
    statement = fhir(client.get("/fhir/r4/metadata"), 200, "CapabilityStatement")
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert "application/fhir+json" in statement["format"]
    (rest,) = statement["rest"]
    assert rest["mode"] == "server"
    declared = {
        r["type"]: {p["name"]: p["type"] for p in r["searchParam"]} for r in rest["resource"]
    }
    assert declared == {
        "Practitioner": {"_id": "token", "identifier": "token", "name": "string"},
        "PractitionerRole": {
            "_id": "token",
            "practitioner": "reference",
            "organization": "reference",
        },
        "Organization": {"_id": "token", "identifier": "token", "name": "string"},
        "VerificationResult": {"_id": "token", "target": "reference"},
    }
    for resource in rest["resource"]:
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
        # every declared parameter is taken; one the statement does not declare is refused
        for name in declared[resource["type"]]:
            answer = client.get(f"/fhir/r4/{resource['type']}?{name}=x", headers=read_key)
            assert fhir(answer, 200, "Bundle")["total"] == 0
        refused = client.get(f"/fhir/r4/{resource['type']}?address-state=KS", headers=read_key)
        assert "address-state" in outcome(refused, 400, "not-supported")
    # types the statement does not list are not served
    assert "Patient" in outcome(
        client.get("/fhir/r4/Patient", headers=read_key), 404, "not-supported"
    )


def test_technologist_maps_field_by_field(client, read_key, directory):
    tech = directory["tech"]
    body = fhir(client.get(f"/fhir/r4/Practitioner/{tech.id}", headers=read_key))
    assert body["id"] == tech.id
    assert body["active"] is True
    assert body["identifier"] == [
        {"use": "official", "system": NPI, "value": "1234567893"},
        {"system": "http://localhost/identifiers/person-external-id", "value": "EMP-44"},
    ]
    assert body["name"] == [
        {"use": "official", "text": "Tess Nguyen", "family": "Nguyen", "given": ["Tess"]}
    ]
    assert body["telecom"] == [{"system": "email", "value": "tess@example.org", "use": "work"}]
    assert "birthDate" not in body and "gender" not in body

    quals = by_id(body["qualification"])
    # one per credential on file: the one entered in error is as if absent
    assert set(quals) == {directory[k].id for k in ("cnim", "bls", "rept", "cltm")}
    cnim = quals[directory["cnim"].id]
    assert cnim["code"] == {
        "text": "CNIM — Certification in Neurophysiologic Intraoperative Monitoring"
    }
    assert cnim["identifier"] == [{"value": "CNIM-8812"}]
    assert cnim["period"] == {"start": "2023-01-01", "end": "2028-12-31"}
    assert cnim["issuer"] == {"display": "ABRET"}
    assert extension(cnim) == {"status": "active", "whereValid": []}
    # no issuer on the record: the catalogue's
    assert quals[directory["bls"].id]["issuer"] == {"display": "American Heart Association"}
    assert extension(quals[directory["bls"].id])["status"] == "active"
    # lapsed on 2025-12-31, and revoked: inactive
    assert extension(quals[directory["rept"].id])["status"] == "inactive"
    assert extension(quals[directory["cltm"].id])["status"] == "inactive"
    assert "coding" not in cnim["code"]


def test_physician_maps_field_by_field(client, read_key, directory):
    doc = directory["doc"]
    body = fhir(client.get(f"/fhir/r4/Practitioner/{doc.id}", headers=read_key))
    assert body["identifier"] == [{"use": "official", "system": NPI, "value": "1245319599"}]
    quals = by_id(body["qualification"])
    assert len(quals) == 6
    clinical_neurophysiology = {
        "system": NUCC,
        "code": "2084N0600X",
        "display": "Clinical Neurophysiology Physician",
    }
    abcn = quals[directory["abcn"].id]
    assert abcn["code"]["coding"] == [clinical_neurophysiology]
    assert abcn["code"]["text"].startswith("ABCN — ")
    assert abcn["period"] == {"start": "2023-01-01"}  # does not expire
    assert abcn["identifier"] == [{"value": "ABCN-301"}]
    assert abcn["issuer"] == {"display": "American Board of Clinical Neurophysiology"}
    assert extension(abcn) == {"status": "active", "whereValid": []}
    abpn_cn = quals[directory["abpn_cn"].id]
    assert abpn_cn["code"]["coding"] == [clinical_neurophysiology]
    assert abpn_cn["code"]["text"] == "ABPN-CN — Clinical Neurophysiology subspecialty (ABPN)"
    assert quals[directory["abpn_n"].id]["code"]["coding"][0]["code"] == "2084N0400X"

    ks = quals[directory["ks"].id]
    assert ks["code"] == {"text": "MEDICAL_LICENSE — State medical license"}
    assert ks["identifier"] == [{"value": "04-33210"}]
    assert extension(ks) == {
        "status": "active",
        "whereValid": [{"coding": [{"system": USPS, "code": "KS"}], "text": "KS"}],
    }
    mo = quals[directory["mo"].id]
    assert extension(mo)["status"] == "inactive"  # suspended
    assert extension(mo)["whereValid"][0]["coding"][0]["code"] == "MO"
    # an unverified credential does not count, so a directory must not call it active
    assert extension(quals[directory["acls"].id])["status"] == "inactive"


def test_a_qualification_turns_inactive_when_the_engine_says_it_lapsed(
    client, read_key, directory, frozen_clock
):
    tech = directory["tech"]
    url = f"/fhir/r4/Practitioner/{tech.id}"
    cnim_id = directory["cnim"].id

    def cnim_status():
        return extension(by_id(fhir(client.get(url, headers=read_key))["qualification"])[cnim_id])

    assert cnim_status()["status"] == "active"
    frozen_clock.set(datetime(2028, 12, 31, 18, 0, tzinfo=UTC))  # its last day, in Chicago
    assert cnim_status()["status"] == "active"
    frozen_clock.set(datetime(2029, 1, 1, 12, 0, tzinfo=UTC))
    assert cnim_status()["status"] == "inactive"


def test_never_a_date_of_birth(client, read_key, directory):
    tech = directory["tech"]
    if hasattr(Person, "date_of_birth"):
        # once people carry a date of birth (screening), it must still never appear
        tech.date_of_birth = date(1987, 4, 19)
        db.session.commit()
    for url in (f"/fhir/r4/Practitioner/{tech.id}", "/fhir/r4/Practitioner"):
        text = client.get(url, headers=read_key).get_data(as_text=True)
        assert "birthDate" not in text
        assert "1987-04-19" not in text and "19870419" not in text


def test_practitioner_roles(client, read_key, directory):
    tech, doc = directory["tech"], directory["doc"]
    where = directory["where"]
    role = fhir(
        client.get(f"/fhir/r4/PractitionerRole/{directory['tech_role'].id}", headers=read_key),
        200,
        "PractitionerRole",
    )
    assert role["active"] is True
    assert role["period"] == {"start": "2025-01-01", "end": "2027-12-31"}
    assert role["practitioner"] == {
        "reference": f"Practitioner/{tech.id}",
        "display": "Tess Nguyen",
    }
    assert role["organization"] == {
        "reference": f"Organization/{where.id}",
        "display": "Overland Park Spine Center",
    }
    assert role["code"][0]["text"] == "Technologist"
    assert role["specialty"][0]["coding"] == [
        {
            "system": NUCC,
            "code": "246ZE0600X",
            "display": "Electroneurodiagnostic Specialist/Technologist",
        }
    ]
    doc_role = fhir(
        client.get(f"/fhir/r4/PractitionerRole/{directory['doc_role'].id}", headers=read_key)
    )
    assert doc_role["code"][0]["text"] == "Interpreting physician"
    assert doc_role["specialty"][0]["coding"][0]["code"] == "2084N0600X"
    assert doc_role["period"] == {"start": "2026-01-01", "end": "2028-12-31"}

    # one per appointment: the suspended one is listed, not active
    bundle = fhir(client.get(f"/fhir/r4/PractitionerRole?practitioner={tech.id}", headers=read_key))
    assert bundle["total"] == 2
    roles = [e["resource"] for e in bundle["entry"]]
    assert {r["organization"]["display"]: r["active"] for r in roles} == {
        "Overland Park Spine Center": True,
        "Mercy Neuro Institute": False,
    }
    same = fhir(
        client.get(
            f"/fhir/r4/PractitionerRole?practitioner=Practitioner/{tech.id}", headers=read_key
        )
    )
    assert same["total"] == 2
    at_where = fhir(
        client.get(
            f"/fhir/r4/PractitionerRole?organization=Organization/{where.id}", headers=read_key
        )
    )
    assert {e["resource"]["id"] for e in at_where["entry"]} == {
        directory["tech_role"].id,
        directory["doc_role"].id,
    }
    both = fhir(
        client.get(
            f"/fhir/r4/PractitionerRole?practitioner={doc.id}&organization={where.id}",
            headers=read_key,
        )
    )
    assert [e["resource"]["id"] for e in both["entry"]] == [directory["doc_role"].id]
    # a reference to another type names nobody
    other_type = client.get(
        f"/fhir/r4/PractitionerRole?practitioner=Organization/{tech.id}", headers=read_key
    )
    assert fhir(other_type)["total"] == 0


def test_a_role_lapses_on_its_facility_s_local_date(client, read_key, app_context, frozen_clock):
    east = f.facility(name="Hudson Spine", state="NY", timezone="America/New_York")
    tech = f.person("technologist", "Ed", "Eastman")
    role = f.appointment(tech, east, expires_on=date(2027, 12, 31))
    db.session.commit()
    url = f"/fhir/r4/PractitionerRole/{role.id}"
    frozen_clock.set(datetime(2028, 1, 1, 4, 30, tzinfo=UTC))  # 23:30 in New York
    assert fhir(client.get(url, headers=read_key))["active"] is True
    # 00:30 on 1 January in New York, still 31 December in the organisation's Chicago
    frozen_clock.set(datetime(2028, 1, 1, 5, 30, tzinfo=UTC))
    assert fhir(client.get(url, headers=read_key))["active"] is False


def test_organizations(client, read_key, directory):
    where = directory["where"]
    org = fhir(
        client.get(f"/fhir/r4/Organization/{where.id}", headers=read_key), 200, "Organization"
    )
    assert org["name"] == "Overland Park Spine Center"
    assert org["active"] is True
    assert org["address"] == [{"state": "KS", "country": "US"}]
    assert org["identifier"] == [
        {"system": "http://localhost/identifiers/facility-external-id", "value": "FAC-7"}
    ]
    found = fhir(
        client.get(
            "/fhir/r4/Organization?identifier=http://localhost/identifiers/facility-external-id|FAC-7",
            headers=read_key,
        )
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [where.id]
    named = fhir(client.get("/fhir/r4/Organization?name=mercy", headers=read_key))
    assert [e["resource"]["name"] for e in named["entry"]] == ["Mercy Neuro Institute"]


def test_verification_results(client, read_key, directory):
    tech = directory["tech"]
    bundle = fhir(client.get(f"/fhir/r4/VerificationResult?target={tech.id}", headers=read_key))
    results = by_id([e["resource"] for e in bundle["entry"]])
    # one per verified credential on file (the one entered in error has none)
    assert set(results) == {directory[k].id for k in ("cnim", "bls", "rept", "cltm")}
    cnim = results[directory["cnim"].id]
    assert cnim["target"] == [{"reference": f"Practitioner/{tech.id}"}]
    assert cnim["status"] == "validated"
    assert cnim["statusDate"] == "2024-01-05"
    assert cnim["validationProcess"][0]["text"] == "Primary source verification"
    assert cnim["validationProcess"][0]["coding"][0]["code"] == "primary"
    assert cnim["primarySource"] == [{"who": {"display": "https://abret.org/verify"}}]
    bls = results[directory["bls"].id]
    assert bls["status"] == "attested"
    assert bls["statusDate"] == "2025-03-02"
    assert bls["validationProcess"] == [{"text": "Attestation"}]
    assert "primarySource" not in bls
    rept = results[directory["rept"].id]
    assert rept["status"] == "validated"
    assert rept["validationProcess"] == [{"text": "Verified from a document"}]

    # targetLocation finds the qualification it speaks of in the Practitioner
    practitioner = fhir(client.get(f"/fhir/r4/Practitioner/{tech.id}", headers=read_key))
    quals = by_id(practitioner["qualification"])
    for result in results.values():
        (location,) = result["targetLocation"]
        assert location == f"Practitioner.qualification.where(id='{result['id']}')"
        assert result["id"] in quals

    # an unverified credential has no VerificationResult
    unverified = client.get(f"/fhir/r4/VerificationResult/{directory['acls'].id}", headers=read_key)
    outcome(unverified, 404, "not-found")
    every = fhir(client.get("/fhir/r4/VerificationResult", headers=read_key))
    assert every["total"] == 4 + 5


def test_identifier_search(client, read_key, directory):
    tech, doc = directory["tech"], directory["doc"]

    def ids(query):
        bundle = fhir(client.get(f"/fhir/r4/Practitioner?{query}", headers=read_key), 200, "Bundle")
        assert bundle["type"] == "searchset"
        assert bundle["total"] == len(bundle.get("entry", []))
        return [e["resource"]["id"] for e in bundle.get("entry", [])]

    assert ids(f"identifier={NPI}|1245319599") == [doc.id]
    assert ids("identifier=1234567893") == [tech.id]
    assert ids("identifier=http://localhost/identifiers/person-external-id|EMP-44") == [tech.id]
    assert ids(f"identifier={NPI}|") == [doc.id, tech.id]  # anyone with an NPI
    assert ids(f"identifier={NPI}|0000000000") == []
    assert ids(f"identifier={NPI}|1234567893,{NPI}|1245319599") == [doc.id, tech.id]
    # a system the registry does not know finds nothing, even with a value it holds
    assert ids("identifier=urn:oid:2.16.840.1.113883.4.6|1234567893") == []
    assert ids("identifier=|1234567893") == []
    assert ids(f"_id={tech.id}") == [tech.id]
    # FHIR escapes a value's own commas and bars with a backslash
    tech.external_id = "EMP,44|B"
    db.session.commit()
    system = "http://localhost/identifiers/person-external-id"
    assert ids(f"identifier={system}|EMP%5C,44%5C|B") == [tech.id]
    assert ids("identifier=EMP%5C,44%5C|B") == [tech.id]
    assert ids(f"identifier={system}|EMP,44|B") == []


def test_name_search(client, read_key, directory):
    def names(query):
        bundle = fhir(client.get(f"/fhir/r4/Practitioner?{query}", headers=read_key))
        return [e["resource"]["name"][0]["text"] for e in bundle.get("entry", [])]

    assert names("name=ngu") == ["Tess Nguyen"]
    assert names("name=TESS") == ["Tess Nguyen"]
    assert names("name=tess%20ng") == ["Tess Nguyen"]
    assert names("name=guy") == []
    assert names("name:contains=guy") == ["Tess Nguyen"]
    assert names("name:exact=Haddad") == ["Omar Haddad"]
    assert names("name:exact=haddad") == []
    assert names("name=%25") == []  # a LIKE wildcard is a plain character
    assert names("name=omar&name=had") == ["Omar Haddad"]  # repeated: both must match
    assert names("name=omar,tess") == ["Omar Haddad", "Tess Nguyen"]  # comma: either


def test_paging_links_walk_every_match_once(client, read_key, app_context):
    where = f.facility()
    for n in range(7):
        f.person("technologist", f"Tech{n}", f"Paged{n}", npi=None)
    f.person("physician", "Not", "Matched")
    db.session.commit()
    seen, pages = [], 0
    url = "/fhir/r4/Practitioner?name=paged&_count=3"
    first_self = None
    while url:
        bundle = fhir(client.get(url, headers=read_key), 200, "Bundle")
        pages += 1
        assert bundle["total"] == 7
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        first_self = first_self or links["self"]
        assert links["first"].startswith(BASE + "/Practitioner?")
        query = parse_qs(urlsplit(links["self"]).query)
        assert query["name"] == ["paged"] and query["_count"] == ["3"]
        assert parse_qs(urlsplit(links["last"]).query)["_offset"] == ["6"]
        if pages > 1:
            assert "previous" in links
        else:
            assert "previous" not in links
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        url = links.get("next", "").removeprefix("http://localhost")
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert parse_qs(urlsplit(first_self).query)["_offset"] == ["0"]
    only_total = fhir(client.get("/fhir/r4/Practitioner?name=paged&_count=0", headers=read_key))
    assert only_total["total"] == 7 and "entry" not in only_total
    clamped = fhir(client.get("/fhir/r4/Practitioner?_count=100000", headers=read_key))
    assert parse_qs(urlsplit(clamped["link"][0]["url"]).query)["_count"] == ["200"]
    assert len(clamped["entry"]) == 8
    past_the_end = fhir(client.get("/fhir/r4/Practitioner?_offset=50", headers=read_key))
    assert past_the_end["total"] == 8 and "entry" not in past_the_end
    assert where.id  # the facility is unrelated to the search


def test_errors_are_operation_outcomes(client, read_key, directory):
    for type_name in ("Practitioner", "PractitionerRole", "Organization", "VerificationResult"):
        answer = client.get(f"/fhir/r4/{type_name}/no-such-id", headers=read_key)
        assert "no-such-id" in outcome(answer, 404, "not-found")
    outcome(
        client.get("/fhir/r4/Practitioner?family=Nguyen", headers=read_key), 400, "not-supported"
    )
    outcome(
        client.get("/fhir/r4/Practitioner?name:fuzzy=x", headers=read_key), 400, "not-supported"
    )
    outcome(client.get("/fhir/r4/Practitioner/x?name=y", headers=read_key), 400, "not-supported")
    for bad in ("_count=-1", "_count=two", "_offset=1.5"):
        outcome(client.get(f"/fhir/r4/Practitioner?{bad}", headers=read_key), 400, "invalid")
    outcome(client.get("/fhir/r4/Practitioner?name=a%00b", headers=read_key), 400, "invalid")
    post = client.post(
        "/fhir/r4/Practitioner", json={"resourceType": "Practitioner"}, headers=read_key
    )
    outcome(post, 405, "not-supported")
    assert post.headers["Allow"] == "GET, HEAD"
    outcome(
        client.delete(f"/fhir/r4/Practitioner/{directory['tech'].id}", headers=read_key),
        405,
        "not-supported",
    )
    outcome(client.get("/fhir/r4/Practitioner/x/_history", headers=read_key), 404, "not-found")
    outcome(client.get("/fhir/r4/Practitioner?_format=xml", headers=read_key), 406, "not-supported")
    xml = {**read_key, "Accept": "application/fhir+xml"}
    outcome(client.get("/fhir/r4/Practitioner", headers=xml), 406, "not-supported")
    head = client.head(f"/fhir/r4/Practitioner/{directory['tech'].id}", headers=read_key)
    assert head.status_code == 200 and head.mimetype == "application/fhir+json"
    assert head.get_data() == b""
    versioned = {**read_key, "Accept": "application/fhir+json; fhirVersion=4.0"}
    assert fhir(client.get("/fhir/r4/Practitioner", headers=versioned))["total"] == 2
    json_accept = {**read_key, "Accept": "application/fhir+json"}
    assert fhir(client.get("/fhir/r4/Practitioner?_format=json", headers=json_accept))["total"] == 2
    # nothing was changed by any of it
    assert db.session.query(Person).count() == 2


def test_the_same_api_keys(client, make_key, directory, app_context):
    from registry.auth import keys

    url = f"/fhir/r4/Practitioner/{directory['tech'].id}"
    no_key = client.get(url)
    outcome(no_key, 401, "login")
    assert no_key.headers["WWW-Authenticate"].startswith("Bearer")
    outcome(client.get(url, headers={"Authorization": "Bearer reg_nope"}), 401, "login")
    outcome(client.get("/fhir/r4/Practitioner"), 401, "login")
    for scopes in (("check",), ("write",), ("admin",)):
        outcome(client.get(url, headers=make_key(scopes)), 403, "forbidden")
    reader = make_key(("read",))
    fhir(client.get(url, headers=reader), 200, "Practitioner")
    assert client.get("/fhir/r4/metadata").status_code == 200
    (key,) = [k for k in db.session.scalars(keys.list_statement()) if k.scopes == ["read"]]
    keys.revoke_key(key)
    db.session.commit()
    outcome(client.get(url, headers=reader), 401, "login")


def test_identifier_systems_follow_the_configured_base_url(
    client, read_key, directory, app, monkeypatch
):
    monkeypatch.setitem(app.config, "REGISTRY_BASE_URL", "https://registry.example.org")
    body = fhir(client.get(f"/fhir/r4/Practitioner/{directory['tech'].id}", headers=read_key))
    system = "https://registry.example.org/identifiers/person-external-id"
    assert body["identifier"][1] == {"system": system, "value": "EMP-44"}
    bundle = fhir(client.get(f"/fhir/r4/Practitioner?identifier={system}|EMP-44", headers=read_key))
    assert bundle["entry"][0]["fullUrl"].startswith("https://registry.example.org/fhir/r4/")
    assert bundle["link"][0]["url"].startswith("https://registry.example.org/fhir/r4/")
    old = "http://localhost/identifiers/person-external-id|EMP-44"
    assert (
        fhir(client.get(f"/fhir/r4/Practitioner?identifier={old}", headers=read_key))["total"] == 0
    )


def test_a_verification_held_back_by_a_revocation_requires_revalidation(
    client, read_key, directory
):
    tech = directory["tech"]
    # verified 2024-01-05, before the CLTM revocation of 2026-03-01: the engine holds it back
    renewed = f.credential(tech, "CLTM", number="CLTM-2")
    reverified = f.credential(
        tech, "CLTM", number="CLTM-3", verified_on=date(2026, 4, 1), issued_on=date(2026, 4, 1)
    )
    db.session.commit()
    results = by_id(
        [
            e["resource"]
            for e in fhir(
                client.get(f"/fhir/r4/VerificationResult?target={tech.id}", headers=read_key)
            )["entry"]
        ]
    )
    assert results[renewed.id]["status"] == "req-revalid"
    assert results[reverified.id]["status"] == "validated"
    assert results[directory["cltm"].id]["status"] == "validated"  # revoked, shown as such below
    quals = by_id(
        fhir(client.get(f"/fhir/r4/Practitioner/{tech.id}", headers=read_key))["qualification"]
    )
    assert extension(quals[renewed.id])["status"] == "inactive"
    assert extension(quals[reverified.id])["status"] == "active"
    assert extension(quals[directory["cltm"].id])["status"] == "inactive"


@pytest.mark.parametrize(
    "resource_type", ["Practitioner", "PractitionerRole", "VerificationResult"]
)
def test_a_page_costs_the_same_statements_however_many_people(
    client, read_key, app_context, resource_type
):
    from tests.statements import counting_queries

    where = f.facility()

    def add_people(n):
        for i in range(n):
            tech = f.qualified_technologist(where, given=f"T{i}", family=f"Count{i}")
            f.credential(tech, "R-EP-T", status="revoked", revoked_on=date(2026, 1, 1))
        db.session.commit()

    def statements_for_a_page():
        with counting_queries() as statements:
            bundle = fhir(client.get(f"/fhir/r4/{resource_type}?_count=200", headers=read_key))
        assert bundle["total"] == len(bundle["entry"])
        return len(statements)

    add_people(2)
    few = statements_for_a_page()
    add_people(20)
    assert statements_for_a_page() == few


def test_blank_values_on_file_leave_elements_out(client, read_key, app_context):
    # FHIR has no empty strings: a blank on file must not make the answer (or a page) fail
    where = f.facility(name="Blank Street Clinic", external_id="")
    tech = f.person("technologist", "", "Solo", email="", npi="", external_id="")
    cnim = f.credential(tech, "CNIM", number="", issuer="", verification_source="")
    f.appointment(tech, where)
    db.session.commit()
    body = fhir(client.get(f"/fhir/r4/Practitioner/{tech.id}", headers=read_key))
    assert body["name"] == [{"use": "official", "text": "Solo", "family": "Solo"}]
    assert "identifier" not in body and "telecom" not in body
    (qualification,) = body["qualification"]
    assert "identifier" not in qualification
    # no issuer on the record: the catalogue's
    assert qualification["issuer"] == {
        "display": "ABRET Neurodiagnostic Credentialing and Accreditation"
    }
    result = fhir(client.get(f"/fhir/r4/VerificationResult/{cnim.id}", headers=read_key))
    assert "primarySource" not in result
    assert fhir(client.get("/fhir/r4/PractitionerRole", headers=read_key))["total"] == 1
    org = fhir(client.get(f"/fhir/r4/Organization/{where.id}", headers=read_key))
    assert "identifier" not in org


def test_an_unreachable_database_is_a_503_operation_outcome(app, tmp_path):
    from registry import create_app

    engine = db.engine  # create_app() re-binds the process-wide session to its own database
    try:
        unreachable = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x",
                "REGISTRY_VAR_DIR": str(tmp_path),
            }
        )
        _answers_503(unreachable.test_client())
    finally:
        db.session.remove()
        if db.engine is not engine:
            db.engine.dispose()
        db.engine = engine
        db.session.configure(bind=engine)


def _answers_503(client):
    headers = {"Authorization": "Bearer reg_00000000_unknown"}
    answer = client.get("/fhir/r4/Practitioner", headers=headers)
    assert "database" in outcome(answer, 503, "transient")
    # the CapabilityStatement reads no database
    fhir(client.get("/fhir/r4/metadata"), 200, "CapabilityStatement")
