"""Liveness and readiness probes for load balancers and orchestrators."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from registry.database import db
from registry.migrate import current_head, database_revision, known_revisions

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """The database is reachable and migrated; 503 otherwise."""
    ready, detail = database_is_ready()
    response = jsonify(status="ready" if ready else "unavailable", detail=detail)
    response.status_code = 200 if ready else 503
    return response


def database_is_ready() -> tuple[bool, str]:
    """Whether the database answers and is at this code's migration (or a newer one)."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = database_revision(conn)
            # ended with COMMIT, not the rollback of closing: on PostgreSQL a rollback makes
            # psycopg drop the statements prepared on this pooled connection (database.py)
            conn.commit()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return False, f"database unreachable: {type(exc).__name__}"
    # a revision this code does not know is newer: old replicas stay ready during a rollout
    if revision != current_head() and (revision is None or revision in known_revisions()):
        return False, f"database at revision {revision}, code expects {current_head()}"
    return True, "ok"
