"""Read requests (GET, HEAD, OPTIONS) on PostgreSQL: their transaction is READ ONLY and ends
with COMMIT, so the connection keeps the statements the driver prepared for the checks that
share it (psycopg forgets them all when a connection rolls back)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registry.database import db
from tests import factories as f
from tests.test_qualification_api import case

pytestmark = pytest.mark.postgres_only


def _read_only_now() -> str:
    return db.session.execute(text("SHOW transaction_read_only")).scalar_one()


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_a_read_requests_transaction_is_read_only_and_refuses_writes(app, method):
    db.engine.dispose()  # one connection from here on: the one each block below gets
    with app.test_request_context("/api/v1/people", method=method):
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert _read_only_now() == "on"
        with pytest.raises(DBAPIError, match="read-only transaction"):
            db.session.execute(
                text("INSERT INTO modalities (code, name) VALUES ('XX', 'never written')")
            )
    with app.test_request_context("/api/v1/people", method="POST"):
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() == backend
        assert _read_only_now() == "off"  # the pooled connection is no longer read only
        f.person()  # and writes
        db.session.commit()
    with app.app_context():  # outside a request (CLI, scheduler): as before
        assert _read_only_now() == "off"
        assert db.session.execute(text("SELECT count(*) FROM people")).scalar_one() == 1
        assert (
            db.session.execute(
                text("SELECT count(*) FROM modalities WHERE code = 'XX'")
            ).scalar_one()
            == 0
        )


def test_a_read_request_between_checks_keeps_the_checks_prepared_statement(app, client, auth):
    with app.app_context():
        where, _doc, tech = f.network()
        db.session.commit()
    body = {"person_id": tech.id, "role": "technologist", "case": case(where)}
    db.engine.dispose()  # from here on one connection: the requests run one at a time
    # psycopg prepares a statement on a connection from its sixth run there
    for _ in range(8):
        assert (
            client.post("/api/v1/qualification-checks", json=body, headers=auth).status_code == 200
        )

    # reads of every kind, answered or refused, and the readiness probe
    assert client.get("/api/v1/whoami", headers=auth).status_code == 200
    assert client.get(f"/api/v1/people/{tech.id}", headers=auth).status_code == 200
    assert client.head(f"/api/v1/people/{tech.id}", headers=auth).status_code == 200
    assert client.options("/api/v1/people", headers=auth).status_code == 200
    missing = "/api/v1/people/00000000-0000-4000-8000-000000000000"
    assert client.get(missing, headers=auth).status_code == 404
    assert client.get("/readyz").status_code == 200
    # a search is a POST that only reads
    search = {"role": "technologist", "case": case(where), "include_unqualified": True}
    assert (
        client.post("/api/v1/qualification-searches", json=search, headers=auth).status_code == 200
    )

    assert db.engine.pool.checkedin() == 1
    with app.app_context():  # on that one connection
        prepared = (
            db.session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        )
    # the check's read of the person and their credentials is still prepared on the connection
    reads_person = "SELECT people.id AS person_id"
    assert any(statement.startswith(reads_person) for statement in prepared), prepared


def test_a_failing_read_request_still_answers_and_leaves_the_connection_usable(app, client, auth):
    missing = client.get("/api/v1/people/00000000-0000-4000-8000-000000000000", headers=auth)
    assert missing.status_code == 404
    assert (
        client.post(
            "/api/v1/people",
            json={"kind": "technologist", "given_name": "After", "family_name": "Read"},
            headers=auth,
        ).status_code
        == 201
    )
