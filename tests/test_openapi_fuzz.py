"""The OpenAPI spec fuzzed in-process with schemathesis: every operation, no 5xx, and every
answer conforms to the spec (documented status code, content type, body and headers).

The schema is read from the running app, so operations added later are fuzzed automatically.
Half of the generated path parameters and body references are swapped for ids of real records,
so the fuzzer reaches the services behind the 404s, not only the lookups.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.database import db
from tests import factories as f

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES_PER_OPERATION = 20
OPENAPI_PATH = "/api/v1/openapi.json"


def real_records() -> dict[str, str]:
    """A small network; returns parameter name → id of a matching real record."""
    where, doc, tech = f.network()
    credential = f.credential(tech, "ACLS")
    appointment = f.appointment(tech, where)
    scope = f.scope(tech, "perform", where=where)
    agreement = f.agreement(where, doc, technologists=[tech])
    db.session.commit()
    return {
        "person_id": tech.id,
        "physician_id": doc.id,
        "technologist_id": tech.id,
        "supervising_physician_id": doc.id,
        "facility_id": where.id,
        "credential_id": credential.id,
        "appointment_id": appointment.id,
        "scope_id": scope.id,
        "agreement_id": agreement.id,
        "code": "CNIM",
    }


def _with_real_ids(values, ids: dict[str, str]):
    """A copy of a generated dict with every known reference replaced by a real id."""
    if not isinstance(values, dict):
        return values
    replaced = {}
    for key, value in values.items():
        if key in ids and isinstance(value, str):
            replaced[key] = ids[key]
        elif key == "technologist_ids" and isinstance(value, list):
            replaced[key] = [ids["technologist_id"]]
        elif isinstance(value, dict):
            replaced[key] = _with_real_ids(value, ids)
        else:
            replaced[key] = value
    return replaced


@pytest.fixture
def fuzz_schema(app):
    """The app's own OpenAPI document, loaded through the app (no network), with hooks that
    point half of the generated references at real records."""
    with app.app_context():
        ids = real_records()
    loaded = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app)

    @loaded.hook
    def flatmap_path_parameters(_context, path_parameters):
        return st.sampled_from([path_parameters, _with_real_ids(path_parameters, ids)])

    @loaded.hook
    def flatmap_body(_context, body):
        return st.sampled_from([body, _with_real_ids(body, ids)])

    return loaded


def test_the_spec_is_fuzzed_whole(fuzz_schema, app):
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    api_routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != OPENAPI_PATH
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert len(operations) == len(api_routes) >= 40


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms(case, auth):
    case.call_and_validate(headers=auth, checks=CHECKS)


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("GET", "/api/v1/people/a%00b", None, 404),
        ("GET", "/api/v1/people/a%00b/credentials", None, 404),
        ("GET", "/api/v1/facilities/a%00b", None, 404),
        ("GET", "/api/v1/credential-types/A%00", None, 404),
        ("GET", "/api/v1/scopes/a%00", None, 404),
        ("GET", "/api/v1/supervision-agreements/a%00", None, 404),
        ("GET", "/api/v1/credentials/a%00", None, 404),
        ("GET", "/api/v1/appointments/a%00", None, 404),
        ("GET", "/api/v1/assignments/a%00", None, 404),
        ("POST", "/api/v1/assignments/a%00/cancel", {}, 404),
        ("GET", "/api/v1/qualification-checks/a%00", None, 404),
        ("POST", "/api/v1/alerts/a%00/retry", {}, 404),
        ("POST", "/api/v1/digests/a%00/retry", {}, 404),
        ("DELETE", "/api/v1/webhooks/a%00", None, 404),
        ("GET", "/api/v1/people/" + "a" * 65, None, 404),
        ("GET", "/api/v1/people?q=a%00b", None, 422),
        ("GET", "/api/v1/supervision-agreements?technologist_id=a%00", None, 422),
        ("POST", "/api/v1/facilities", {"name": "a\x00b", "state": "KS"}, 422),
        ("POST", "/api/v1/people", {"given_name": "\x00", "kind": "physician"}, 422),
    ],
)
def test_nul_characters_are_refused_cleanly(client, auth, method, url, body, status):
    # PostgreSQL cannot store NUL and the fuzzer seldom sends one: a 4xx, never a 500
    response = client.open(url, method=method, json=body, headers=auth)
    assert response.status_code == status, response.json
    assert response.json["code"] == status
    if status == 422 and body:
        assert "NUL" in " ".join(response.json["errors"]["json"][next(iter(body))])
