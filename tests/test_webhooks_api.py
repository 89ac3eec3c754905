"""Webhook subscriptions (scope admin): the secret is shown once, URLs are http(s), events come
from the catalogue, DELETE deactivates; and the alerts list."""

import json

import pytest

URL = "/api/v1/webhooks"


def test_subscribe_list_and_deactivate(client, auth):
    created = client.post(
        URL,
        json={
            "url": "https://hooks.example.org/registry",
            "events": ["credential.expiring", "credential.expired"],
            "secret": "a-long-enough-shared-secret",
            "description": "Staffing system",
        },
        headers=auth,
    )
    assert created.status_code == 201
    hook = created.json
    assert hook["secret"] == "a-long-enough-shared-secret"
    assert hook["active"] is True and hook["events"] == [
        "credential.expiring",
        "credential.expired",
    ]

    listed = client.get(URL, headers=auth)
    assert listed.status_code == 200
    assert [h["id"] for h in listed.json] == [hook["id"]]
    assert "secret" not in listed.json[0]

    assert client.delete(f"{URL}/{hook['id']}", headers=auth).status_code == 204
    after = client.get(URL, headers=auth).json
    assert [(h["id"], h["active"]) for h in after] == [(hook["id"], False)]
    assert client.get(f"{URL}?active=true", headers=auth).json == []
    assert client.delete(f"{URL}/no-such-hook", headers=auth).status_code == 404

    audit = client.get(f"/api/v1/audit-events?entity_id={hook['id']}", headers=auth).json
    assert [e["action"] for e in audit] == ["update", "create"]
    assert audit[1]["after"]["secret"] == "***"


def test_a_secret_is_generated_when_none_is_given_and_all_events_by_default(client, auth):
    first = client.post(URL, json={"url": "http://127.0.0.1:9/hook"}, headers=auth).json
    second = client.post(URL, json={"url": "http://127.0.0.1:9/hook"}, headers=auth).json
    assert len(first["secret"]) >= 32 and first["secret"] != second["secret"]
    assert first["events"] == [
        "credential.expiring",
        "credential.expired",
        "appointment.expiring",
        "appointment.expired",
        "agreement.expiring",
        "agreement.expired",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.org/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({}, "url"),
        ({"url": "https://h.example.org", "events": ["credential.renewed"]}, "events"),
        ({"url": "https://h.example.org", "events": []}, "events"),
        (
            {"url": "https://h.example.org", "events": ["agreement.expiring"] * 2},
            "events",
        ),
        ({"url": "https://h.example.org", "secret": "short"}, "secret"),
        ({"url": "https://h.example.org", "active": False}, "active"),
    ],
)
def test_bad_subscriptions_are_422_and_write_nothing(client, auth, body, field):
    response = client.post(URL, json=body, headers=auth)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert client.get(URL, headers=auth).json == []


def test_webhooks_need_the_admin_scope(client, make_key):
    writer = make_key(["read", "write", "check"])
    assert client.get(URL, headers=writer).status_code == 403
    assert (
        client.post(URL, json={"url": "https://h.example.org"}, headers=writer).status_code == 403
    )
    assert client.delete(f"{URL}/x", headers=writer).status_code == 403


def test_alerts_list_validates_its_filters_and_retry_needs_write(client, make_key):
    reader = make_key(["read"])
    assert client.get("/api/v1/alerts?status=failed", headers=reader).json == []
    bad = client.get("/api/v1/alerts?status=lost", headers=reader)
    assert bad.status_code == 422 and "status" in bad.json["errors"]["query"]
    assert client.post("/api/v1/alerts/x/retry", headers=reader).status_code == 403


def test_migration_0004_subscribes_expiring_subscribers_to_the_matching_expired_event(
    empty_database_url,
):
    from alembic import command
    from sqlalchemy import text

    from registry.database import make_engine
    from registry.migrate import alembic_config, upgrade

    url = empty_database_url
    upgrade(url, "0003")
    engine = make_engine(url)
    chosen = {
        "a": ["appointment.expiring"],
        "b": ["credential.expiring", "agreement.expiring", "agreement.expired"],
        "c": ["credential.expired"],
        "d": ["agreement.expired"],  # possible only after the upgrade; see the downgrade
    }
    with engine.begin() as connection:
        for hook_id, events in chosen.items():
            connection.execute(
                text(
                    "INSERT INTO webhooks (id, url, secret, events, active, created_at,"
                    " updated_at) VALUES (:id, 'https://h.example.org', 'x', :events,"
                    " :active, '2026-11-30 00:00:00', '2026-11-30 00:00:00')"
                ),
                {"id": hook_id, "events": json.dumps(events), "active": True},
            )

    def events() -> dict:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, events FROM webhooks ORDER BY id"))
            # JSON text on SQLite, already decoded on PostgreSQL
            return {
                hook_id: json.loads(value) if isinstance(value, str) else value
                for hook_id, value in rows
            }

    upgrade(url)
    assert events() == {
        "a": ["appointment.expiring", "appointment.expired"],
        "b": ["credential.expiring", "agreement.expiring", "agreement.expired"],
        "c": ["credential.expired"],
        "d": ["agreement.expired"],
    }
    command.downgrade(alembic_config(url), "0003")
    # the older code sends lapse notices as *.expiring: an *.expired subscriber keeps getting them
    assert events() == {
        "a": ["appointment.expiring"],
        "b": ["credential.expiring", "agreement.expiring"],
        "c": ["credential.expired"],
        "d": ["agreement.expiring"],
    }
    engine.dispose()
