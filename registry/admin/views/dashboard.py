"""The dashboard: what lapses within 30, 60 and 90 days and what has lapsed."""

from flask import current_app, render_template, request
from sqlalchemy import func, select

from registry import clock
from registry.admin.blueprint import bp
from registry.database import db
from registry.expirations.service import expiring_within
from registry.facilities.models import Facility
from registry.people.models import Person

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


def _band(days_left: int) -> str:
    if days_left < 0:
        return "lapsed"
    if days_left <= 30:
        return "30"
    if days_left <= 60:
        return "60"
    return "90"


def _shown(show: str, days_left: int) -> bool:
    if show == "all":
        return True
    if show == "lapsed":
        return days_left < 0
    return 0 <= days_left <= int(show)


@bp.get("/")
def dashboard():
    """Counts, and a table of what lapses soon (coloured by urgency) linking to each person."""
    show = request.args.get("show", "all")
    show = show if show in WINDOWS or show == "all" else "all"
    what = request.args.get("what", "")
    what = what if what in WHAT else ""
    facility_id = request.args.get("facility_id") or None
    items = expiring_within(
        session=db.session,
        within_days=90,
        include_expired=True,
        kind=what or None,
        facility_id=facility_id,
        today=clock.now(),
        timezone=current_app.config["REGISTRY_TIMEZONE"],
    )
    bands = dict.fromkeys(WINDOWS, 0)
    for item in items:
        bands[_band(item["days_left"])] += 1
    # the 60- and 90-day counts include the sooner ones, as "within" says
    counts = {
        "lapsed": bands["lapsed"],
        "30": bands["30"],
        "60": bands["30"] + bands["60"],
        "90": bands["30"] + bands["60"] + bands["90"],
    }
    people = dict(
        db.session.execute(
            select(Person.kind, func.count()).where(Person.active.is_(True)).group_by(Person.kind)
        ).all()
    )
    facilities = list(
        db.session.scalars(
            select(Facility).where(Facility.active.is_(True)).order_by(Facility.name)
        )
    )
    return render_template(
        "admin/dashboard.html",
        section="dashboard",
        items=[item for item in items if _shown(show, item["days_left"])],
        counts=counts,
        windows=WINDOWS,
        show=show,
        what=what,
        whats=WHAT,
        facility_id=facility_id or "",
        facilities=facilities,
        people=people,
    )
