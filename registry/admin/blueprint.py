"""The admin UI's one blueprint; the page modules in ``registry.admin.views`` attach to it."""

from flask import Blueprint

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/",
    template_folder="templates",
    static_folder="static",
    static_url_path="/admin-static",
)
