"""The audit trail: who changed what and when, with the record before and after."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request

from registry.admin.blueprint import bp
from registry.admin.paging import page_number, page_of
from registry.audit import service
from registry.audit.hook import ENTITY_TYPES
from registry.database import db

# entity types whose records have a page of their own in the UI
ENTITY_PAGES = {
    "person": ("admin.person", "person_id"),
    "credential": ("admin.credential", "credential_id"),
    "facility": ("admin.facility", "facility_id"),
}


def changes(event) -> list[tuple[str, object, object]]:
    """(field, before, after) for every field that differs (a creation lists every field)."""
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*after.keys(), *before.keys()]))
    return [
        (key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)
    ]


@bp.get("/audit")
def audit():
    """Audit events, newest first, filtered by entity, actor and date."""
    entity_type = request.args.get("entity_type", "")
    entity_type = entity_type if entity_type in ENTITY_TYPES.values() else ""
    entity_id = request.args.get("entity_id", "").strip()[:64]
    actor = request.args.get("actor", "").strip()[:200]
    since_text = request.args.get("since", "").strip()
    since = None
    if since_text:
        try:
            zone = ZoneInfo(current_app.config["REGISTRY_TIMEZONE"])
            since = datetime.combine(date.fromisoformat(since_text), datetime.min.time(), zone)
        except ValueError:
            since_text = ""
    stmt = service.search_statement(
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        actor=actor or None,
        since=since,
    )
    page = page_of(db.session, stmt, page_number(request.args.get("page")))
    return render_template(
        "admin/audit.html",
        section="audit",
        page=page,
        entity_types=sorted(ENTITY_TYPES.values()),
        entity_type=entity_type,
        entity_id=entity_id,
        actor=actor,
        since=since_text,
        changes=changes,
        entity_pages=ENTITY_PAGES,
    )
