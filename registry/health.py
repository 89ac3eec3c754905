"""Liveness and readiness probes for load balancers and orchestrators."""

from flask import Blueprint, jsonify

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """The database is reachable and migrated; 503 otherwise."""
    from registry import database_is_ready

    ready, detail = database_is_ready()
    response = jsonify(status="ready" if ready else "unavailable", detail=detail)
    response.status_code = 200 if ready else 503
    return response
