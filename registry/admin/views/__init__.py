"""The admin UI's pages, one module per area, all on the ``admin`` blueprint."""

import logging

from flask import render_template
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from registry.admin.blueprint import bp
from registry.database import db
from registry.errors import DomainError

log = logging.getLogger("registry")


def load() -> None:
    """Import every page module so its routes are attached to the blueprint."""
    from registry.admin import display, signin  # noqa: F401
    from registry.admin.views import (  # noqa: F401
        alerts,
        audit,
        case_check,
        credentials,
        dashboard,
        facilities,
        people,
        practice,
        transfer,
    )


def error_page(status: int, title: str, message: str):
    """An HTML error page in the admin layout."""
    return render_template("admin/error.html", status=status, title=title, message=message), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db.discard_changes()
    titles = {404: "Not found", 409: "Conflict", 422: "Not valid"}
    return error_page(exc.status, titles.get(exc.status, "Refused"), exc.message)


@bp.errorhandler(IntegrityError)
def _integrity_error(exc):
    db.session.rollback()
    log.info("integrity error in the admin UI: %s", exc.orig)
    return error_page(409, "Conflict", "This conflicts with an existing record.")


@bp.errorhandler(StaleDataError)
def _stale(exc):
    db.session.rollback()
    return error_page(
        409, "Changed meanwhile", "The record changed while you were saving; open it again."
    )


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    messages = {
        400: "The request was refused (was the form open too long? Reload it and try again).",
        403: "Your role may read the registry but not change it.",
        404: "There is no such page or record.",
    }
    return error_page(exc.code or 500, exc.name, messages.get(exc.code, exc.description or ""))
