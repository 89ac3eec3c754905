"""/fhir/r4: the registry as a read-only FHIR R4 directory (application/fhir+json).

Reads and searches need an API key with the ``read`` scope, as the REST API's reads do;
``metadata`` (the CapabilityStatement) needs none. Every error is an OperationOutcome.
"""

import json
import logging
from urllib.parse import urlencode

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from registry import clock
from registry.audit.context import set_actor
from registry.database import db
from registry.fhir import mapping
from registry.fhir.directory import RESOURCE_TYPES, Context, SearchError
from registry.fhir.mapping import validated
from registry.paging import fetch_page
from registry.qualification.service import policy_from_config

log = logging.getLogger("registry")
PREFIX = "/fhir/r4"
FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
DEFAULT_COUNT = 50
MAX_COUNT = 200
# what _format may ask for; anything else (XML, turtle) is a 406
JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
# parameters every search takes besides the type's own (paging and the format)
CONTROL_PARAMETERS = ("_count", "_offset", "_format")

bp = Blueprint("fhir", __name__, url_prefix=PREFIX)


class FhirError(Exception):
    """An answer of status ``status`` carrying an OperationOutcome with one issue."""

    def __init__(self, status: int, code: str, diagnostics: str, headers: dict | None = None):
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics
        self.headers = headers or {}


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> Response:
    """A validated resource (``mapping.validated``) as application/fhir+json."""
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype=FHIR_JSON, headers=headers or {})


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict:
    return validated(
        OperationOutcome,
        {"issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}]},
    )


@bp.errorhandler(FhirError)
def _fhir_error(exc: FhirError):
    db.session.rollback()
    return fhir_response(operation_outcome(exc.code, exc.diagnostics), exc.status, exc.headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    db.session.rollback()
    codes = {404: "not-found", 405: "not-supported", 406: "not-supported", 413: "too-costly"}
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return fhir_response(
        operation_outcome(codes.get(exc.code, "processing"), exc.description or exc.name),
        exc.code or 500,
        headers,
    )


@bp.errorhandler(OperationalError)
@bp.errorhandler(PoolTimeout)
def _database_unavailable(exc):
    # the REST API's 503, in FHIR's shape: a reader retries later
    db.session.rollback()
    log.warning("FHIR read without a database: %s", exc)
    return fhir_response(
        operation_outcome("transient", "The database is unavailable; try again shortly."), 503
    )


def base_url() -> str:
    """The registry's base URL: REGISTRY_BASE_URL, else the one this request came to."""
    return current_app.config.get("REGISTRY_BASE_URL") or request.host_url.rstrip("/")


def fhir_base() -> str:
    return base_url() + PREFIX


def _context() -> Context:
    return Context(
        systems=mapping.IdentifierSystems(base_url()),
        today=clock.today(current_app.config["REGISTRY_TIMEZONE"]),
        policy=policy_from_config(),
    )


@bp.before_request
def _authenticate_and_negotiate():
    _refuse_a_format_other_than_json()
    if request.endpoint == "fhir.metadata":
        return
    from registry.auth.keys import authenticate

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(
            401,
            "login",
            "Send an API key: 'Authorization: Bearer <key>'.",
            {"WWW-Authenticate": 'Bearer realm="registry"'},
        )
    key = authenticate(session=db.session, raw_key=token.strip())
    if key is None:
        raise FhirError(
            401,
            "login",
            "The API key is unknown or revoked.",
            {"WWW-Authenticate": 'Bearer realm="registry"'},
        )
    if "read" not in key.scopes:
        raise FhirError(403, "forbidden", "This API key lacks the 'read' scope.")
    g.api_key = key
    set_actor(f"api-key:{key.name}")


def _refuse_a_format_other_than_json() -> None:
    wanted = request.args.get("_format")
    if wanted is not None:
        if wanted.split(";")[0].strip().lower() not in JSON_FORMATS:
            raise FhirError(406, "not-supported", "This server answers JSON only (_format=json).")
        return
    accepted = [
        value.split(";")[0].strip().lower()  # FHIR clients add "; fhirVersion=4.0"
        for value, quality in request.accept_mimetypes
        if quality > 0
    ]
    if accepted and not set(accepted) & (JSON_FORMATS | {"*/*", "application/*"}):
        raise FhirError(406, "not-supported", f"This server answers {FHIR_JSON} only.")


@bp.get("/metadata")
def metadata():
    """The CapabilityStatement: exactly the types, interactions and parameters served."""
    return fhir_response(capability_statement())


def capability_statement() -> dict:
    """What this server serves, built from the same table the reads and searches use."""
    resources = [
        {
            "type": rt.name,
            "documentation": rt.documentation,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {
                    "name": p.name,
                    "type": p.type,
                    "documentation": p.documentation
                    + (f" (modifiers: {', '.join(p.modifiers)})" if p.modifiers else ""),
                }
                for p in rt.parameters
            ],
        }
        for rt in RESOURCE_TYPES.values()
    ]
    return validated(
        CapabilityStatement,
        {
            "status": "active",
            "date": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": "instance",
            "software": {"name": "IONM credential registry"},
            "implementation": {
                "description": "IONM credential registry: read-only FHIR directory",
                "url": fhir_base(),
            },
            "fhirVersion": FHIR_VERSION,
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "Read-only. Searches page with _count (default "
                    f"{DEFAULT_COUNT}, at most {MAX_COUNT}) and _offset; an unknown parameter is "
                    "refused with an OperationOutcome.",
                    "security": {
                        "description": "Authorization: Bearer <API key> with the read scope "
                        "(metadata needs none)."
                    },
                    "resource": resources,
                }
            ],
        },
    )


def _resource_type(name: str):
    rt = RESOURCE_TYPES.get(name)
    if rt is None:
        served = ", ".join(RESOURCE_TYPES)
        raise FhirError(404, "not-supported", f"Unknown resource type {name!r}; served: {served}.")
    return rt


@bp.get("/<type_name>/<resource_id>")
def read(type_name: str, resource_id: str):
    """One resource by id, or a 404 OperationOutcome."""
    rt = _resource_type(type_name)
    _refuse_parameters(set(request.args) - {"_format"}, "a read takes only _format")
    _refuse_control_characters({"id": resource_id})
    rows = db.session.scalars(rt.statement().where(rt.id_column == resource_id)).all()
    if not rows:
        raise FhirError(404, "not-found", f"{type_name}/{resource_id} is not known.")
    return fhir_response(rt.render(db.session, rows, _context())[0])


@bp.get("/<type_name>")
def search(type_name: str):
    """A searchset Bundle of the matches, one page of them, with total and paging links."""
    rt = _resource_type(type_name)
    context = _context()
    given = [(k, v) for k, v in request.args.items(multi=True)]
    _refuse_control_characters(dict(given))
    unknown = {
        key
        for key, _ in given
        if key not in CONTROL_PARAMETERS and rt.parameter(key.partition(":")[0]) is None
    }
    names = ", ".join(p.name for p in rt.parameters)
    _refuse_parameters(
        unknown, f"{type_name} is searched by {names} (and _count, _offset)", "not-supported"
    )
    count = _whole_number("_count", DEFAULT_COUNT, minimum=0)
    count = min(count, MAX_COUNT)
    offset = _whole_number("_offset", 0, minimum=0)
    stmt = rt.statement()
    for key, value in given:
        if key in CONTROL_PARAMETERS or not value:
            continue  # FHIR: a parameter with an empty value is ignored
        name, _, modifier = key.partition(":")
        parameter = rt.parameter(name)
        if modifier and modifier not in parameter.modifiers:
            raise FhirError(
                400, "not-supported", f"{name} takes no :{modifier} modifier on {type_name}."
            )
        try:
            stmt = stmt.where(parameter.clause(value, modifier or None, context))
        except SearchError as exc:
            raise FhirError(400, "invalid", f"{key}: {exc}") from None
    rows, total = fetch_page(db.session, stmt, offset=offset, limit=count or 1)
    if not count:
        rows = []  # _count=0: the total only
    resources = rt.render(db.session, rows, context) if rows else []
    base = fhir_base()
    entries = [
        {"fullUrl": f"{base}/{type_name}/{resource['id']}", "search": {"mode": "match"}}
        for resource in resources
    ]
    shell = {
        "type": "searchset",
        "total": total,
        "link": _paging_links(base, type_name, given, offset, count, total),
    }
    if entries:
        shell["entry"] = entries
    # the resources were validated as they were built: the Bundle around them is checked alone
    bundle = validated(Bundle, shell)
    for entry, resource in zip(bundle.get("entry", []), resources, strict=True):
        entry["resource"] = resource
    return fhir_response(bundle)


def _paging_links(base, type_name, given, offset, count, total) -> list[dict]:
    kept = [(k, v) for k, v in given if k not in ("_count", "_offset")]

    def url(at: int) -> str:
        return f"{base}/{type_name}?" + urlencode(kept + [("_count", count), ("_offset", at)])

    links = [{"relation": "self", "url": url(offset)}]
    if count == 0:
        return links
    last = max(0, (total - 1) // count * count)
    links.append({"relation": "first", "url": url(0)})
    if offset > 0:
        links.append({"relation": "previous", "url": url(max(0, min(offset - count, last)))})
    if offset + count < total:
        links.append({"relation": "next", "url": url(offset + count)})
    links.append({"relation": "last", "url": url(last)})
    return links


def _whole_number(name: str, default: int, minimum: int) -> int:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) > 9 or int(text) < minimum:
        raise FhirError(400, "invalid", f"{name} must be a whole number of {minimum} or more.")
    return int(text)


def _refuse_parameters(names, takes: str, code: str = "not-supported") -> None:
    if names:
        listed = ", ".join(sorted(names))
        raise FhirError(400, code, f"Unknown parameter(s) {listed}: {takes}.")


def _refuse_control_characters(values: dict) -> None:
    for key, value in values.items():
        if any(ord(ch) < 32 for ch in f"{key}{value}"):
            raise FhirError(400, "invalid", f"{key!r} holds a control character.")


@bp.route("/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def anything_else(rest: str):
    """Writes, history, operations and unknown paths: an OperationOutcome, never a page."""
    first = rest.split("/", 1)[0]
    if request.method not in ("GET", "HEAD") and (first in RESOURCE_TYPES or first == "metadata"):
        raise FhirError(
            405,
            "not-supported",
            "This directory is read-only: GET reads and searches only.",
            {"Allow": "GET, HEAD"},
        )
    raise FhirError(404, "not-found", f"Nothing is served at {PREFIX}/{rest}.")
