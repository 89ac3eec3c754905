"""The admin UI's one blueprint; the page modules in ``registry.admin.views`` attach to it."""

from flask import Blueprint, request

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/",
    template_folder="templates",
    static_folder="static",
    static_url_path="/admin-static",
)


# The UI's pages use no inline script or style, so the strictest policy fits; they show names,
# NPIs and emails, so no cache keeps them (the back button after signing out shows nothing).
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@bp.after_request
def _page_headers(response):
    for name, value in _PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return response
