"""The admin web UI for credentialing coordinators: server-rendered pages at ``/``.

``register(app)`` adds the pages, CSRF protection for every form (the JSON API, which
authenticates with bearer keys, is exempt) and the session sign-in.
"""

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from registry.api import API_PREFIX

# probes and JSON endpoints that take no form posts and carry no session
_EXEMPT_PATHS = ("/healthz", "/readyz")


def register(app: Flask) -> None:
    """Attach the admin UI, CSRF protection and sign-in to the app."""
    from registry.admin import views
    from registry.admin.blueprint import bp

    views.load()
    # before CSRFProtect's hook, which is the first to read the form
    app.before_request(views.transfer.make_room_for_an_import)
    csrf = CSRFProtect(app)
    for name in _api_blueprint_names(app):
        csrf.exempt(app.blueprints[name])
    app.register_blueprint(bp)


def _api_blueprint_names(app: Flask) -> set[str]:
    """Blueprints whose routes are all under /api/v1 or /fhir/r4 or are the health probes."""
    routes: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        blueprint, dot, _ = rule.endpoint.rpartition(".")
        if dot and blueprint in app.blueprints:
            routes.setdefault(blueprint, []).append(rule.rule)
    return {
        name
        for name, paths in routes.items()
        if all(
            path.startswith((API_PREFIX + "/", "/fhir/r4/")) or path in _EXEMPT_PATHS
            for path in paths
        )
    }
