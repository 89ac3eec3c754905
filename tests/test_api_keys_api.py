"""API keys over the API (admin scope): list them without their secrets, revoke one."""

API = "/api/v1"


def test_an_admin_lists_keys_without_secrets_and_revokes_one(client, make_key):
    admin = make_key(["admin"])
    staffing = make_key(["read", "check"])
    listed = client.get(f"{API}/api-keys", headers=admin)
    assert listed.status_code == 200
    assert "X-Pagination" in listed.headers
    by_name = {k["name"]: k for k in listed.json}
    assert set(by_name) == {"test-0", "test-1"}
    assert by_name["test-1"]["scopes"] == ["read", "check"]
    assert by_name["test-1"]["revoked_at"] is None
    assert set(by_name["test-1"]) == {"id", "name", "prefix", "scopes", "created_at", "revoked_at"}
    assert staffing["Authorization"].startswith(f"Bearer reg_{by_name['test-1']['prefix']}_")

    assert client.get(f"{API}/whoami", headers=staffing).status_code == 200
    revoked = client.post(f"{API}/api-keys/{by_name['test-1']['id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json["revoked_at"] is not None
    assert client.get(f"{API}/whoami", headers=staffing).status_code == 401
    again = client.post(f"{API}/api-keys/{by_name['test-1']['id']}/revoke", headers=admin)
    assert again.json["revoked_at"] == revoked.json["revoked_at"]  # revoking again: no change

    only_revoked = client.get(f"{API}/api-keys?revoked=true", headers=admin).json
    assert [k["name"] for k in only_revoked] == ["test-1"]
    active = client.get(f"{API}/api-keys?revoked=false", headers=admin).json
    assert [k["name"] for k in active] == ["test-0"]


def test_the_revocation_is_audited_and_the_hash_never_shown(client, make_key):
    admin = make_key(["admin", "read"])
    make_key(["read"])
    key_id = client.get(f"{API}/api-keys?revoked=false", headers=admin).json[1]["id"]
    client.post(f"{API}/api-keys/{key_id}/revoke", headers=admin)
    events = client.get(
        f"{API}/audit-events?entity_type=api_key&entity_id={key_id}", headers=admin
    ).json
    update = [e for e in events if e["action"] == "update"]
    assert len(update) == 1 and update[0]["actor"] == "api-key:test-0"
    assert update[0]["before"]["revoked_at"] is None and update[0]["after"]["revoked_at"]
    (created,) = [e for e in events if e["action"] == "create"]
    assert created["after"]["key_hash"] == "***"  # the trail never shows the hash


def test_keys_need_the_admin_scope_and_unknown_ids_are_404(client, make_key):
    everything_else = make_key(["read", "check", "write"])
    assert client.get(f"{API}/api-keys", headers=everything_else).status_code == 403
    admin = make_key(["admin"])
    key_id = client.get(f"{API}/api-keys", headers=admin).json[0]["id"]
    refused = client.post(f"{API}/api-keys/{key_id}/revoke", headers=everything_else)
    assert refused.status_code == 403
    assert client.post(f"{API}/api-keys/nope/revoke", headers=admin).status_code == 404
    assert client.get(f"{API}/api-keys?revoked=maybe", headers=admin).status_code == 422


def test_any_active_key_may_ask_who_it_is(client, make_key):
    for scopes in (["check"], ["write"], ["admin"], ["read"]):
        response = client.get(f"{API}/whoami", headers=make_key(scopes))
        assert response.status_code == 200 and response.json["scopes"] == scopes
