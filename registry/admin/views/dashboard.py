"""The dashboard: what lapses within 30, 60 and 90 days and what has lapsed."""

from flask import current_app, render_template, request

from registry import clock
from registry.admin.blueprint import bp
from registry.admin.paging import PAGE_SIZE, Page, page_number
from registry.admin.standing import item_standings
from registry.database import db
from registry.expirations.service import (
    count_lapsed_and_within,
    expiration_item,
    expirations_statement,
)
from registry.facilities import service as facilities_service
from registry.paging import fetch_page
from registry.people import service as people_service

WINDOWS = {
    "lapsed": "Lapsed",
    "30": "Within 30 days",
    "60": "Within 60 days",
    "90": "Within 90 days",
}
WHAT = {
    "": "Everything",
    "credential": "Credentials",
    "appointment": "Facility appointments",
    "agreement": "Supervision agreements",
    "technologist": "Technologists' items",
    "physician": "Physicians' items",
}


# what each "show" choice lists: the days_left window of expirations_statement
SHOWN = {
    "all": {"within_days": 90, "include_expired": True},
    "lapsed": {"within_days": -1, "include_expired": True},
    "30": {"within_days": 30, "include_expired": False},
    "60": {"within_days": 60, "include_expired": False},
    "90": {"within_days": 90, "include_expired": False},
}


@bp.get("/")
def dashboard():
    """Counts, and a table of what lapses soon (coloured by urgency) linking to each person."""
    show = request.args.get("show", "all")
    show = show if show in WINDOWS or show == "all" else "all"
    what = request.args.get("what", "")
    what = what if what in WHAT else ""
    facility_id = request.args.get("facility_id") or None
    now = clock.now()
    zone = current_app.config["REGISTRY_TIMEZONE"]
    chosen = {"kind": what or None, "facility_id": facility_id, "today": now, "timezone": zone}
    # counted and paged in the database: the lapsed list grows every day and is never trimmed
    everything = expirations_statement(session=db.session, **SHOWN["all"], **chosen)
    counts = count_lapsed_and_within(session=db.session, statement=everything, windows=(30, 60, 90))
    # each window is a part of "all": narrow its select instead of asking the engine again
    window = SHOWN[show]
    days_left = everything.selected_columns.days_left
    listed = everything.where(days_left <= window["within_days"])
    if not window["include_expired"]:
        listed = listed.where(days_left >= 0)
    number = page_number(request.args.get("page"))
    rows, total = fetch_page(
        db.session, listed, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, scalars=False
    )
    page = Page(
        items=[expiration_item(row, today=now, timezone=zone) for row in rows],
        number=number,
        size=PAGE_SIZE,
        total=total,
    )
    people = people_service.count_by_kind(session=db.session)
    facilities = facilities_service.by_name(session=db.session, active=True)
    return render_template(
        "admin/dashboard.html",
        section="dashboard",
        items=page.items,
        standings=item_standings(db.session, page.items),
        page=page,
        counts={key: counts["lapsed" if key == "lapsed" else int(key)] for key in WINDOWS},
        windows=WINDOWS,
        show=show,
        what=what,
        whats=WHAT,
        facility_id=facility_id or "",
        facilities=facilities,
        people=people,
    )
