"""A digest that could not be delivered stays visible and can be retried, like an alert."""

from sqlalchemy import select

from registry.alerts.models import Digest
from registry.database import db
from tests.jobs.conftest import COORDINATOR

GIVE_UP_AT_ONCE = {"DELIVERY_MAX_ATTEMPTS": 1, "DELIVERY_GIVE_UP_HOURS": 0}


def test_a_failed_digest_is_listed_and_retried_through_the_api(
    app_context, run, smtp_server, frozen, client, make_key
):
    reader, writer = make_key(["read"]), make_key(["read", "write"])
    smtp_server.stop()
    assert run("digest") == {"digests written": 1}
    (pending,) = client.get("/api/v1/digests?status=pending", headers=reader).json
    assert (pending["status"], pending["attempts"]) == ("pending", 0)
    assert run("deliver", **GIVE_UP_AT_ONCE) == {"failed": 1}
    db.session.rollback()  # the test's requests share its session: read what the job wrote

    failed = client.get("/api/v1/digests?status=failed", headers=reader)
    assert failed.status_code == 200 and failed.headers["X-Pagination"]
    (digest,) = failed.json
    assert digest["recipient"] == COORDINATOR and digest["attempts"] == 1
    assert digest["digest_date"] == "2026-11-27"
    assert digest["subject"].startswith("Credential registry digest for Friday 27 November 2026")
    assert "SMTP 127.0.0.1" in digest["last_error"]
    assert client.get("/api/v1/digests?status=pending", headers=reader).json == []
    assert client.get("/api/v1/digests?status=bogus", headers=reader).status_code == 422
    assert client.get("/api/v1/alerts?status=failed", headers=reader).json == []  # unchanged

    smtp_server.start()
    assert run("deliver") == {}  # failed stays failed until someone retries it
    retry_url = f"/api/v1/digests/{digest['id']}/retry"
    assert client.post(retry_url, headers=reader).status_code == 403
    retried = client.post(retry_url, headers=writer)
    assert retried.status_code == 200
    assert (retried.json["status"], retried.json["attempts"]) == ("pending", 0)
    trail = client.get(
        f"/api/v1/audit-events?entity_type=digest&entity_id={digest['id']}", headers=reader
    ).json
    assert sorted((e["action"], e["actor"].split(":")[0]) for e in trail) == [
        ("create", "job"),
        ("update", "api-key"),  # the retry, as whoever asked for it
        ("update", "job"),
    ]
    (retry,) = [e for e in trail if e["actor"].startswith("api-key:")]
    assert (retry["before"]["status"], retry["after"]["status"]) == ("failed", "pending")
    assert client.post(retry_url, headers=writer).status_code == 409

    assert run("deliver") == {"sent": 1}
    assert len(smtp_server.messages(COORDINATOR)) == 1
    db.session.rollback()
    assert db.session.scalars(select(Digest.status)).one() == "sent"
    assert client.post(retry_url, headers=writer).status_code == 409
    assert client.post("/api/v1/digests/nope/retry", headers=writer).status_code == 404
