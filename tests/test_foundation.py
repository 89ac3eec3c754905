"""The foundation: migrations match the models, every API route needs a key, health probes."""

import json
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from registry.database import db
from registry.migrate import current_head, database_revision
from registry.models import Base
from tests import factories as f
from tests.test_qualification_api import case

OPEN_ROUTES = {"/healthz", "/readyz", "/api/v1/openapi.json", "/api/docs"}


def test_migrations_match_models(app_context):
    with db.engine.connect() as conn:
        assert database_revision(conn) == current_head()
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_seed_the_catalogue_the_code_offers(app_context):
    # migration 0001 holds its own frozen copy: a catalogue change needs a new migration
    from registry.credentials.catalogue import MODALITIES, credential_type_rows
    from registry.credentials.models import CredentialType, Modality

    columns = credential_type_rows()[0].keys()
    stored = [
        {name: getattr(row, name) for name in columns}
        for row in db.session.scalars(select(CredentialType).order_by(CredentialType.code))
    ]
    assert stored == sorted(credential_type_rows(), key=lambda row: row["code"])
    modalities = db.session.execute(select(Modality.code, Modality.name).order_by(Modality.code))
    assert [tuple(row) for row in modalities] == sorted(MODALITIES)


def _concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "00000000-0000-0000-0000-000000000000", rule)


def test_no_api_route_is_open_by_accident(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        path = _concrete(rule.rule)
        if rule.rule in OPEN_ROUTES or rule.endpoint == "static" or not path.startswith("/api/"):
            continue
        if rule.rule.startswith("/api/docs"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, json={})
            assert response.status_code == 401, (
                f"{method} {rule.rule} answered {response.status_code}"
            )
            checked += 1
    assert checked >= 46


def test_wrong_scope_is_forbidden(client, make_key):
    reader = make_key(["read"])
    response = client.post(
        "/api/v1/people",
        json={"kind": "technologist", "given_name": "A", "family_name": "B"},
        headers=reader,
    )
    assert response.status_code == 403
    assert "write" in response.json["message"]


def test_head_needs_the_scope_of_get(client, make_key, auth):
    person = client.post(
        "/api/v1/people",
        json={"kind": "technologist", "given_name": "A", "family_name": "B"},
        headers=auth,
    ).json
    reader = make_key(["read"])
    for path in ("/api/v1/people", f"/api/v1/people/{person['id']}"):
        assert client.head(path, headers=reader).status_code == 200, path
    assert client.head("/api/v1/people", headers=make_key(["check"])).status_code == 403


def test_unknown_and_revoked_keys_are_refused(app, client, runner, make_key):
    assert client.get("/api/v1/people", headers={"Authorization": "Bearer nope"}).status_code == 401
    headers = make_key(["read"])
    assert client.get("/api/v1/people", headers=headers).status_code == 200
    result = runner.invoke(args=["api-keys", "revoke", "test-0"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/people", headers=headers).status_code == 401


def test_api_key_cli_prints_key_last_and_stores_only_a_hash(app, runner, client):
    result = runner.invoke(args=["api-keys", "create", "staffing", "--scopes", "read,check"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip().splitlines()[-1]
    assert raw.startswith("reg_")
    from registry.auth.models import ApiKey

    with app.app_context():
        stored = db.session.query(ApiKey).filter_by(name="staffing").one()
        assert raw not in (stored.key_hash, stored.prefix)
        assert stored.scopes == ["read", "check"]
    assert (
        client.get("/api/v1/people", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    )
    bad = runner.invoke(args=["api-keys", "create", "other", "--scopes", "read,superuser"])
    assert bad.exit_code != 0
    assert "superuser" in bad.output


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def test_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "https://" not in html.split("<body>")[0]
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json["openapi"].startswith("3.")


def test_the_openapi_description_names_the_error_answers_and_scopes(app, client, make_key):
    spec = client.get("/api/v1/openapi.json").json
    cancel = spec["paths"]["/api/v1/assignments/{assignment_id}/cancel"]["post"]
    assert {"401", "403", "404", "412", "413", "415", "422"} <= set(cancel["responses"])
    assert cancel["x-required-scopes"] == ["check"]
    assert cancel["description"].endswith("Needs an API key with the check scope.")
    people = spec["paths"]["/api/v1/people"]
    assert "404" not in people["get"]["responses"] and "415" not in people["get"]["responses"]
    assert people["post"]["x-required-scopes"] == ["write"]
    # what it says is what the API does: every operation's scopes are the ones it checks
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            scopes = operation.get("x-required-scopes")
            assert scopes, (method, path)
            others = [s for s in ("read", "check", "write", "admin") if s not in scopes]
            if not others or "{" in path:
                continue
            refused = client.open(path, method=method.upper(), headers=make_key(others[:1]))
            assert refused.status_code == 403, (method, path)


def test_request_id_is_returned_and_recorded(client, auth):
    response = client.post(
        "/api/v1/people",
        json={"kind": "physician", "given_name": "Rae", "family_name": "Chen"},
        headers={**auth, "X-Request-Id": "req-123"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-Id"] == "req-123"
    events = client.get(f"/api/v1/audit-events?entity_id={response.json['id']}", headers=auth).json
    assert [e["request_id"] for e in events] == ["req-123"]
    assert events[0]["actor"].startswith("api-key:")


def test_without_secret_key_a_random_one_is_kept_in_var(tmp_path):
    from registry.config import ensure_secret_key

    first = {"SECRET_KEY": None, "REGISTRY_VAR_DIR": str(tmp_path)}
    ensure_secret_key(first)
    second = {"SECRET_KEY": "", "REGISTRY_VAR_DIR": str(tmp_path)}
    ensure_secret_key(second)
    assert len(first["SECRET_KEY"]) >= 40 and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0
    given = {"SECRET_KEY": "from-the-environment", "REGISTRY_VAR_DIR": str(tmp_path)}
    ensure_secret_key(given)
    assert given["SECRET_KEY"] == "from-the-environment"


# every list endpoint with each of its filters given empty, as a form's empty inputs send them
EMPTY_FILTERS = [
    ("/people?kind=&active=&q=&external_id=&npi=", True),
    ("/facilities?active=&state=&q=&external_id=", True),
    ("/credentials?type=&status=&expires_before=&person_id=", True),
    ("/people/{tech}/credentials?type=&status=&expires_before=", True),
    ("/people/{tech}/appointments?status=", True),
    ("/facilities/{where}/appointments?status=", True),
    ("/people/{tech}/scopes?", True),
    ("/supervision-agreements?facility_id=&physician_id=&technologist_id=&active=", True),
    ("/assignments?person_id=&facility_id=&case_ref=&status=&from=&to=", True),
    ("/expirations?within_days=&include_expired=&kind=&facility_id=", False),
    ("/audit-events?entity_type=&entity_id=&actor=&since=", True),
    ("/alerts?status=&channel=&person_id=&item_id=", False),
    ("/webhooks?active=", False),
]


@pytest.mark.parametrize(("url", "listed"), EMPTY_FILTERS)
def test_an_empty_query_value_is_a_parameter_not_given(
    app_context, client, auth, frozen_clock, url, listed
):
    where, _, tech = f.network()
    booked = client.post(
        "/api/v1/assignments",
        json={"person_id": tech.id, "role": "technologist", "case": case(where)},
        headers=auth,
    )
    assert booked.status_code == 201
    url = "/api/v1" + url.format(tech=tech.id, where=where.id)
    everything = client.get(url.partition("?")[0], headers=auth)
    assert everything.status_code == 200 and bool(everything.json) is listed
    # the page parameters too
    response = client.get(url + "&page=&page_size=", headers=auth)
    assert response.status_code == 200, response.json
    assert response.json == everything.json


def test_a_misspelt_query_parameter_is_refused_not_ignored(app_context, client, auth):
    where, other, tech = f.network()
    # ignored, this would list every credential, and the caller act on the wrong list
    response = client.get("/api/v1/credentials?expire_before=2027-01-01&type=CNIM", headers=auth)
    assert response.status_code == 422
    assert response.json["message"] == "Some fields are not valid."
    assert list(response.json["errors"]["query"]) == ["expire_before"]
    (why,) = response.json["errors"]["query"]["expire_before"]
    assert "expires_before" in why and "type" in why
    # a path parameter is not a query parameter; an endpoint without any says so
    response = client.get(f"/api/v1/people/{tech.id}?person_id={tech.id}", headers=auth)
    assert response.status_code == 422
    assert "no query parameters" in response.json["errors"]["query"]["person_id"][0]
    # HEAD takes what GET takes; every name the endpoint declares is accepted
    assert client.head("/api/v1/people?kind=technologist&page=1", headers=auth).status_code == 200
    assert client.head("/api/v1/people?knid=technologist", headers=auth).status_code == 422


def test_a_write_with_an_unknown_query_parameter_changes_nothing(app_context, client, auth):
    where, _, tech = f.network()
    response = client.post(
        "/api/v1/assignments?dry_run=true",
        json={"person_id": tech.id, "role": "technologist", "case": case(where)},
        headers=auth,
    )
    assert response.status_code == 422
    assert list(response.json["errors"]["query"]) == ["dry_run"]
    assert client.get("/api/v1/assignments", headers=auth).json == []


def test_the_key_is_checked_before_the_query(client):
    response = client.get("/api/v1/people?knid=technologist")
    assert response.status_code == 401


def test_json_nested_too_deeply_is_a_client_error_and_writes_nothing(client, auth):
    person = '{"kind": "technologist", "given_name": "A", "family_name": "B", "phone": %s}'
    headers = {**auth, "Content-Type": "application/json"}
    deep_field = client.post(
        "/api/v1/people", data=person % ("[" * 500 + "]" * 500), headers=headers
    )
    assert deep_field.status_code == 422 and "phone" in deep_field.json["errors"]["json"]
    deep_object = client.post(
        "/api/v1/people", data=person % ('{"a": ' * 500 + "1" + "}" * 500), headers=headers
    )
    assert deep_object.status_code == 422 and "phone" in deep_object.json["errors"]["json"]
    # deeper than Python's JSON decoder can go
    deep_body = client.post("/api/v1/people", data="[" * 5000 + "]" * 5000, headers=headers)
    assert deep_body.status_code == 400
    assert deep_body.json["errors"] == {"json": ["Invalid JSON body: nested too deeply."]}
    assert client.get("/api/v1/people", headers=auth).json == []


def test_a_query_string_that_is_not_utf8_is_400(client, auth):
    raw = {"QUERY_STRING": b"q=\xed\xa0\x80".decode("latin-1")}
    api = client.get("/api/v1/people", headers=auth, environ_overrides=raw)
    assert api.status_code == 400 and "not valid UTF-8" in api.json["message"]
    assert client.get("/login", environ_overrides=raw).status_code == 400
    # percent-encoded, the same bytes are kept as typed; a NUL is refused like in a body
    assert client.get("/api/v1/people?q=%ED%A0%80", headers=auth).status_code == 200
    nul = client.get("/api/v1/people?q=%00", headers=auth)
    assert nul.status_code == 422 and "NUL" in nul.json["errors"]["query"]["q"][0]


def test_log_level_may_be_given_in_any_case(monkeypatch):
    from registry.config import from_environment

    monkeypatch.setenv("LOG_LEVEL", " debug ")
    assert from_environment()["LOG_LEVEL"] == "DEBUG"


@pytest.mark.parametrize(("given", "pragma"), [(None, 1), ("full", 2), (" Normal ", 1)])
def test_sqlite_synchronous_sets_how_commits_reach_the_disk(monkeypatch, tmp_path, given, pragma):
    from sqlalchemy import text

    from registry.config import from_environment
    from registry.database import make_engine

    if given is None:
        monkeypatch.delenv("SQLITE_SYNCHRONOUS", raising=False)
    else:
        monkeypatch.setenv("SQLITE_SYNCHRONOUS", given)
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", from_environment())
    try:
        with engine.connect() as conn:
            # PRAGMA synchronous reads 1 for NORMAL, 2 for FULL
            assert conn.execute(text("PRAGMA synchronous")).scalar() == pragma
    finally:
        engine.dispose()


def test_an_unknown_sqlite_synchronous_mode_stops_the_start(monkeypatch, tmp_path):
    from registry.config import SettingError, from_environment
    from registry.database import make_engine

    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(SettingError, match="SQLITE_SYNCHRONOUS must be one of NORMAL, FULL"):
        from_environment()
    # a configuration built by hand is checked where the engine is made
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS must be NORMAL or FULL"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}", {"SQLITE_SYNCHRONOUS": "OFF"})


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SMTP_PORT", "twenty-five", "SMTP_PORT must be a whole number, not 'twenty-five'"),
        ("SMTP_TIMEOUT", "nan", "SMTP_TIMEOUT must be a number"),
        ("DELIVERY_MAX_ATTEMPTS", "0", "DELIVERY_MAX_ATTEMPTS must be at least 1"),
        ("ACCEPT_UNVERIFIED", "ture", "ACCEPT_UNVERIFIED must be true or false, not 'ture'"),
        ("SESSION_COOKIE_SECURE", "maybe", "SESSION_COOKIE_SECURE must be true or false"),
        ("ALERT_THRESHOLDS", "90,sixty", "ALERT_THRESHOLDS must be whole numbers"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
        ("MAIL_BACKEND", "pigeon", "MAIL_BACKEND must be one of smtp, file, console"),
        ("REGISTRY_TIMEZONE", "Mars/Olympus", "REGISTRY_TIMEZONE must be an IANA time zone"),
        ("SESSION_LIFETIME_HOURS", "-1", "SESSION_LIFETIME_HOURS must be at least 0.1"),
        ("SMTP_PORT", "99999", "SMTP_PORT must be at most 65535"),
        ("REGISTRY_BASE_URL", "registry.example.org", "REGISTRY_BASE_URL must be an http"),
    ],
)
def test_a_setting_that_cannot_be_used_is_named_at_start(monkeypatch, name, value, says):
    from registry.config import SettingError, from_environment

    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as refused:
        from_environment()
    assert says in str(refused.value)


def test_the_cli_names_a_bad_setting_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SMTP_PORT": "abc", "REGISTRY_VAR_DIR": str(tmp_path)}
    ran = subprocess.run(
        [sys.executable, "-c", "from registry.cli import main; main()", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 78  # EX_CONFIG
    assert ran.stderr.strip() == (
        "registry: SMTP_PORT must be a whole number, not 'abc' "
        "(see docs/operations.md, Configuration)"
    )


def test_make_run_names_a_bad_setting_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "ACCEPT_UNVERIFIED": "ture", "REGISTRY_VAR_DIR": str(tmp_path)}
    ran = subprocess.run(
        [sys.executable, "-m", "registry.launcher"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 78
    assert ran.stderr.strip() == (
        "make run: ACCEPT_UNVERIFIED must be true or false, not 'ture' "
        "(see docs/operations.md, Configuration)"
    )
    assert not (tmp_path / "registry.db").exists()  # nothing was started or created


def test_the_container_entrypoint_does_not_retry_a_bad_setting(tmp_path):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert shutil.which("registry", path=str(Path(sys.executable).parent))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "SMTP_PORT": "abc",
        "REGISTRY_VAR_DIR": str(tmp_path),
        "REGISTRY_MIGRATE_ATTEMPTS": "30",
    }
    ran = subprocess.run(
        ["sh", str(root / "docker-entrypoint.sh"), "true"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 78
    # said once, not 30 times as "database not ready"
    assert ran.stderr.count("SMTP_PORT must be a whole number") == 1
    assert "not ready" not in ran.stderr


def test_settings_take_the_usual_spellings(monkeypatch):
    from registry.config import from_environment

    for name, value in {
        "ACCEPT_UNVERIFIED": "Yes",
        "SMTP_STARTTLS": " on ",
        "SESSION_COOKIE_SECURE": "0",
        "MAIL_BACKEND": "SMTP",
        "SMTP_PORT": " 587 ",
        "WEBHOOK_TIMEOUT": "2.5",
        "ALERT_THRESHOLDS": "30, 7 ,-1",
        "LOG_LEVEL": "warn",
    }.items():
        monkeypatch.setenv(name, value)
    config = from_environment()
    assert (config["ACCEPT_UNVERIFIED"], config["SMTP_STARTTLS"]) == (True, True)
    assert config["SESSION_COOKIE_SECURE"] is False and config["MAIL_BACKEND"] == "smtp"
    assert (config["SMTP_PORT"], config["WEBHOOK_TIMEOUT"]) == (587, 2.5)
    assert config["ALERT_THRESHOLDS"] == [30, 7, -1]
    assert config["LOG_LEVEL"] == "WARNING"


def test_every_422_says_in_a_message_that_fields_are_not_valid(client, auth):
    # a schema's refusal (errors by location) and a service's (errors by field) both carry it
    by_schema = client.post("/api/v1/people", json={"kind": "robot"}, headers=auth)
    assert by_schema.status_code == 422
    assert by_schema.json["message"] == "Some fields are not valid."
    assert "kind" in by_schema.json["errors"]["json"]
    by_service = client.post(
        "/api/v1/qualification-checks",
        json={
            "person_id": "nobody",
            "role": "technologist",
            "case": {
                "facility_id": "nowhere",
                "starts_at": "2026-12-01T08:00:00-06:00",
                "ends_at": "2026-12-01T10:00:00-06:00",
                "modalities": ["SSEP"],
            },
        },
        headers=auth,
    )
    assert by_service.status_code == 422
    assert by_service.json["message"] == "Some fields are not valid."


def test_a_body_that_is_not_sent_as_json_is_415_and_changes_nothing(app_context, client, auth):
    where, _, tech = f.network()
    booked = client.post(
        "/api/v1/assignments",
        json={"person_id": tech.id, "role": "technologist", "case": case(where)},
        headers=auth,
    ).json
    cancel = f"/api/v1/assignments/{booked['id']}/cancel"
    body = json.dumps({"reason": "surgeon ill"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {**auth, **({"Content-Type": content_type} if content_type else {})}
        refused = client.post(cancel, data=body, headers=headers)
        assert refused.status_code == 415, content_type
        assert refused.json["message"] == (
            "Send the request body as JSON, with 'Content-Type: application/json'."
        )
    assert client.get(f"/api/v1/assignments/{booked['id']}", headers=auth).json["status"] == (
        "booked"
    )
    # no body at all needs no type; JSON with a charset or a +json type is JSON
    assert client.post(cancel, headers=auth).status_code == 200
    person = {"kind": "technologist", "given_name": "A", "family_name": "B"}
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        created = client.post(
            "/api/v1/people",
            data=json.dumps(person),
            headers={**auth, "Content-Type": content_type},
        )
        assert created.status_code == 201, content_type
    # the key is checked first
    assert client.post(cancel, data=body, headers={"Content-Type": "text/plain"}).status_code == 401


def test_a_method_a_route_does_not_take_is_405_with_allow(client, auth):
    refused = client.put("/api/v1/assignments", json={}, headers=auth)
    assert refused.status_code == 405
    assert set(refused.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert refused.json["code"] == 405


def test_a_body_over_the_size_limit_is_413_before_it_is_read(app, client, auth):
    from registry import MAX_REQUEST_BYTES

    assert app.config["MAX_CONTENT_LENGTH"] == MAX_REQUEST_BYTES == 16 * 1024 * 1024
    padding = "x" * MAX_REQUEST_BYTES
    body = json.dumps({"kind": "technologist", "given_name": padding, "family_name": "B"})
    refused = client.post(
        "/api/v1/people", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert refused.status_code == 413 and refused.json["code"] == 413
    assert client.get("/api/v1/people", headers=auth).json == []
