"""The credential registry: a Flask application built by ``create_app``."""

import logging
import uuid
from datetime import timedelta

from flask import Flask, g, jsonify, request, send_from_directory
from flask_smorest import abort
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from registry import config as settings
from registry.api import (
    API_PREFIX,
    api,
    declared_query_parameters,
    refuse_a_body_that_is_not_json,
    refuse_unknown_query_parameters,
    required_scopes_for,
    writes_late,
)
from registry.audit import hook as audit_hook
from registry.audit.context import set_actor, set_request_id
from registry.database import db
from registry.errors import DomainError

log = logging.getLogger("registry")
# the largest request body read (413 above it): an API body is a few KB; a CSV import of the
# most rows it takes (10,000) is a few MB
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config.update(settings.from_environment())
    app.config.update(config or {})
    settings.ensure_secret_key(app.config)
    register_api_settings(app)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_error_handlers(app)
    register_cli(app)
    declared_query_parameters(app)  # from this app's own routes, before the first request
    return app


def register_api_settings(app: Flask) -> None:
    import swagger_ui_bundle

    app.config.setdefault("API_TITLE", "IONM credential registry")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "v1/openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/api/docs/assets/")
    app.config.setdefault("SWAGGER_UI_DIR", swagger_ui_bundle.swagger_ui_path)
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "info": {
                "description": "Who is qualified for an IONM case, explained reason by reason. "
                "Authenticate with `Authorization: Bearer <api key>`."
            },
        },
    )
    # Flask's own defaults already hold these keys, so set them outright
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Flask refuses a session cookie signed longer ago than this (whatever the browser kept)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=float(app.config["SESSION_LIFETIME_HOURS"])
    )
    app.json.sort_keys = False


def register_logging(app: Flask) -> None:
    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            from registry.audit.context import current_request_id

            record.request_id = current_request_id() or "-"
            return True

    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    handler.addFilter(RequestIdFilter())
    if not any(getattr(h, "_registry", False) for h in log.handlers):
        handler._registry = True
        log.addHandler(handler)
    log.setLevel(app.config["LOG_LEVEL"])
    log.propagate = False


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    audit_hook.install()
    api.init_app(app)


def register_blueprints(app: Flask) -> None:
    from registry.blueprints import api_blueprints
    from registry.health import blp as health

    for blueprint in api_blueprints():
        api.register_blueprint(blueprint)
    app.register_blueprint(health)
    from registry.fhir.views import bp as fhir

    app.register_blueprint(fhir)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename):
        return send_from_directory(app.config["SWAGGER_UI_DIR"], filename, max_age=3600)

    from registry.admin import register as register_admin

    register_admin(app)


def _is_api_request() -> bool:
    return request.path.startswith(API_PREFIX + "/")


def register_request_hooks(app: Flask) -> None:
    open_paths = {f"{API_PREFIX}/openapi.json"}

    @app.before_request
    def _start_request():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if 0 < len(incoming) <= 64 else uuid.uuid4().hex
        set_request_id(g.request_id)
        set_actor("anonymous")
        _refuse_an_undecodable_query_string()
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and db.engine.dialect.name == "sqlite"
            and not db.session().in_transaction()
            and not writes_late(request.endpoint, request.method)
        ):
            # a write request takes SQLite's write lock at BEGIN, so it waits its turn (busy
            # timeout) instead of failing when another writer got there first
            db.session.connection(execution_options={"sqlite_immediate": True})
        if _is_api_request() and request.path not in open_paths:
            refused = _authenticate_api_request()
            if refused is None:
                refuse_unknown_query_parameters()
                refuse_a_body_that_is_not_json()
            return refused
        return None

    @app.teardown_request
    def _forget_actor(_exc):
        # the next thing this thread does (a CLI command, a job) must not inherit the caller
        set_actor("system")
        set_request_id(None)

    @app.after_request
    def _finish_request(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        etag = g.pop("response_etag", None)
        if etag and response.status_code < 300:
            response.headers["ETag"] = etag
        return response


def _refuse_an_undecodable_query_string() -> None:
    """A 400 for raw bytes in the query string that are not UTF-8: werkzeug cannot decode
    them, so any read of ``request.args`` would fail (a 500)."""
    try:
        request.query_string.decode()
    except UnicodeDecodeError:
        abort(400, message="The query string is not valid UTF-8; percent-encode it.")


def _authenticate_api_request():
    from registry.auth.keys import authenticate

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "Send an API key: 'Authorization: Bearer <key>'.")
    key = authenticate(session=db.session, raw_key=token.strip())
    if key is None:
        return _error(401, "The API key is unknown or revoked.")
    accepted = required_scopes_for(request.endpoint, request.method)
    if request.endpoint is not None and not set(accepted) & set(key.scopes):
        needed = " or ".join(repr(scope) for scope in accepted)
        return _error(403, f"This API key lacks the {needed} scope.")
    g.api_key = key
    set_actor(f"api-key:{key.name}")
    return None


def _error(status: int, message: str, errors: dict | None = None):
    from werkzeug.http import HTTP_STATUS_CODES

    body = {"code": status, "status": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="registry"'
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        db.discard_changes()
        return _error(exc.status, exc.message, exc.errors)

    @app.errorhandler(IntegrityError)
    def _integrity_error(exc):
        db.session.rollback()
        log.info("integrity error: %s", exc.orig)
        return _error(409, "This conflicts with an existing record (a unique value is taken).")

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc):
        db.session.rollback()
        log.warning("database unavailable: %s", exc.orig)
        return _error(503, "The database is unavailable; try again shortly.")

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc):
        db.session.rollback()
        log.warning("no free database connection within DB_POOL_TIMEOUT: %s", exc)
        return _error(503, "The database is busy; try again shortly.")

    @app.errorhandler(DBAPIError)
    def _database_error(exc):
        db.session.rollback()
        if exc.connection_invalidated:
            return _error(503, "The database connection was lost; try again shortly.")
        if isinstance(exc, DataError):
            # a value the schemas let through but the database cannot store (e.g. a NUL in a path)
            log.info("data error: %s", exc.orig)
            return _error(422, "A value cannot be stored (e.g. a NUL character); change it.")
        raise exc

    from sqlalchemy.orm.exc import StaleDataError

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        db.session.rollback()
        if request.headers.get("If-Match"):
            return _error(412, "The record changed while you were saving; fetch it again.")
        # no ETag was sent: a simultaneous change won (two cancels at once, say), not a stale read
        return _error(409, "Someone changed this record at the same moment; fetch it again.")


def register_cli(app: Flask) -> None:
    from registry.cli import register_commands

    register_commands(app)
