"""The REST API's shared plumbing: the Api object, scopes, pagination, ETags, errors."""

import hashlib
import re
from http import HTTPStatus

import flask_smorest
from apispec import BasePlugin
from flask import current_app, g, request
from flask_smorest import Api, abort
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict

from registry.errors import InvalidData
from registry.paging import fetch_page

API_PREFIX = "/api/v1"


class RegistryParser(FlaskParser):
    """webargs' Flask parser with the registry's two reading rules for every endpoint."""

    def load_querystring(self, req, schema):
        # `?kind=&facility_id=` (a form's empty inputs) means those parameters were not given
        given = MultiDict((key, value) for key, value in req.args.items(multi=True) if value)
        return self._makeproxy(given, schema)

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            # nested deeper than the JSON decoder can go: bad JSON (400), not a server error
            abort(400, exc=exc, messages={"json": ["Invalid JSON body: nested too deeply."]})


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint reading arguments and pages with the ``RegistryParser``."""

    ARGUMENTS_PARSER = RegistryParser()
    PAGINATION_ARGUMENTS_PARSER = RegistryParser()


class ErrorAnswersPlugin(BasePlugin):
    """Documents, on every operation, the error answers the API's shared rules give (so a
    client generated from the OpenAPI description knows them), and the scopes it needs."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            codes = [401, 403]  # no or a bad key; a key without the scope
            if path and "{" in path:
                codes.append(404)
            if method in ("post", "put", "patch"):
                codes += [413, 415]  # over 16 MB; not sent as JSON
            responses = operation.setdefault("responses", {})
            for code in codes:
                # flask-smorest's response components, named as HTTPStatus names them
                responses.setdefault(code, HTTPStatus(code).name)
            if rule is not None:
                scopes = required_scopes_for(rule.endpoint, method)
                operation["x-required-scopes"] = list(scopes)
                needs = f"Needs an API key with the {' or '.join(scopes)} scope."
                operation["description"] = f"{operation.get('description', '')}\n\n{needs}".strip()


class RegistryApi(Api):
    """flask-smorest's Api whose error bodies may also carry a qualification ``decision``, and
    whose 422s carry a ``message`` as the services' do."""

    def register_blueprint(self, blp, **options):
        # inside the app, so that the description can name each operation's scopes
        with self._app.app_context():
            super().register_blueprint(blp, **options)

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        # the exception's own headers too (a 405's Allow), which flask-smorest leaves out
        headers = dict(headers or {})
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                headers.setdefault(name, value)
        data = getattr(error, "data", None) or {}
        if "decision" in data:
            payload["decision"] = data["decision"]
        if code == 422 and "message" not in payload:
            payload["message"] = InvalidData.default_message
        return payload, code, headers

    def _register_pagination_header(self):
        # X-Pagination carries JSON: documented as content, not as a "simple"-style object
        from flask_smorest.pagination import PaginationMetadataSchema

        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata (JSON)",
                "content": {"application/json": {"schema": PaginationMetadataSchema}},
            },
            lazy=True,
        )


api = RegistryApi(spec_kwargs={"extra_plugins": [ErrorAnswersPlugin()]})

# OpenAPI for a read of one record and for an update: the ETag, the optional If-Match, the 412
READ_ONE_DOC = {"responses": {200: {"headers": {"ETag": "ETAG"}}}}
UPDATE_DOC = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": "The ETag you read; the update is refused (412) if the record changed",
            "schema": {"type": "string", "maxLength": 200},
        }
    ],
    "responses": {200: {"headers": {"ETag": "ETAG"}}, 412: "PRECONDITION_FAILED"},
}


def requires_scope(*scopes: str):
    """Declare the API key scopes a view method accepts (any one of them will do); routes
    without one require ``admin``."""

    def decorate(func_):
        func_.required_scopes = scopes
        return func_

    return decorate


def takes_write_lock_late(func_):
    """Mark a POST view that mostly reads and writes at the end (it calls
    ``registry.database.switch_to_writing`` itself), so SQLite's write lock is not held up front."""
    func_.takes_write_lock_late = True
    return func_


def _handler(endpoint: str | None, method: str):
    view = current_app.view_functions.get(endpoint) if endpoint else None
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    # Flask answers HEAD with the GET handler, so HEAD needs what GET needs
    verb = "get" if method.upper() == "HEAD" else method.lower()
    return getattr(view_class, verb, None) if view_class else view


def required_scopes_for(endpoint: str | None, method: str) -> tuple[str, ...]:
    """The scopes a request to this endpoint and method accepts, any one of them (fail closed:
    ``admin``)."""
    return getattr(_handler(endpoint, method), "required_scopes", ("admin",))


def writes_late(endpoint: str | None, method: str) -> bool:
    """Whether the view takes its own write lock late (see ``takes_write_lock_late``)."""
    return getattr(_handler(endpoint, method), "takes_write_lock_late", False)


def declared_query_parameters(app) -> dict[tuple[str, str], frozenset[str]]:
    """For each API route and method, the query parameters its OpenAPI description declares
    (what callers are told the endpoint takes); worked out once per app."""
    known = app.extensions.get("registry_query_parameters")
    if known is None:
        with app.app_context():
            paths = api.spec.to_dict()["paths"]
        known = {}
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith(API_PREFIX + "/"):
                continue
            # werkzeug's /people/<person_id> (or <int:n>) is OpenAPI's /people/{person_id}
            operations = paths.get(re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule))
            if operations is None:
                continue
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                operation = operations.get(method.lower())
                if operation is None:
                    continue
                parameters = operations.get("parameters", []) + operation.get("parameters", [])
                names = frozenset(p["name"] for p in parameters if p.get("in") == "query")
                known[(rule.rule, method)] = names
                if method == "GET":
                    known[(rule.rule, "HEAD")] = names
        app.extensions["registry_query_parameters"] = known
    return known


def refuse_unknown_query_parameters() -> None:
    """A 422 naming each query parameter the endpoint does not take: a misspelt filter
    (``?expire_before=``) would otherwise be ignored and the caller act on an unfiltered list."""
    rule = request.url_rule
    if rule is None:
        return
    declared = declared_query_parameters(current_app).get((rule.rule, request.method))
    if declared is None:
        return
    unknown = [name for name in dict.fromkeys(request.args.keys()) if name not in declared]
    if unknown:
        takes = (
            f"this endpoint takes {', '.join(sorted(declared))}"
            if declared
            else "this endpoint takes no query parameters"
        )
        raise InvalidData({"query": {name: [f"Unknown parameter; {takes}."] for name in unknown}})


NOT_JSON = "Send the request body as JSON, with 'Content-Type: application/json'."


def refuse_a_body_that_is_not_json() -> None:
    """A 415 for a request body sent as anything but JSON: the API would otherwise not read it
    (a form-encoded cancel reason was dropped, a text/plain check said its fields were missing).
    A request without a body needs no type."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.is_json:
        return
    has_body = bool(request.content_length) or "chunked" in (
        request.headers.get("Transfer-Encoding", "").lower()
    )
    if has_body:
        abort(415, message=NOT_JSON)


def paginate(session, stmt, pagination_parameters, *, scalars: bool = True):
    """Run a select with flask-smorest's page parameters and set the item count."""
    items, pagination_parameters.item_count = fetch_page(
        session,
        stmt,
        offset=pagination_parameters.first_item,
        limit=pagination_parameters.page_size,
        scalars=scalars,
    )
    return items


def etag_of(obj) -> str:
    """A strong ETag for a versioned record."""
    token = f"{type(obj).__name__}:{getattr(obj, 'id', '')}:{obj.version}"
    return '"' + hashlib.sha256(token.encode()).hexdigest()[:32] + '"'


def check_if_match(obj) -> None:
    """Refuse an update whose If-Match does not name the record's current version (412)."""
    header = request.headers.get("If-Match")
    if not header:
        return
    candidates = {tag.strip() for tag in header.split(",")}
    current = etag_of(obj)
    if "*" not in candidates and current not in candidates and f"W/{current}" not in candidates:
        abort(412, message="the record changed since you read it; fetch it again (ETag)")


def set_etag(obj) -> None:
    """Attach the record's ETag to the response of the current request."""
    g.response_etag = etag_of(obj)
