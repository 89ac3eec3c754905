"""Alerts and the coordinators' digests: sent, pending and failed deliveries, with a retry
button for the failed ones."""

from flask import flash, redirect, render_template, request, url_for

from registry.admin.blueprint import bp
from registry.admin.paging import page_number, page_of
from registry.alerts import service
from registry.alerts.models import ALERT_STATUSES
from registry.database import db
from registry.people import service as people_service


@bp.get("/alerts")
def alerts():
    """The outbox of expiration notices and digests, newest first, filtered by status."""
    status = request.args.get("status", "")
    status = status if status in ALERT_STATUSES else ""
    page = page_of(
        db.session,
        service.search_statement(status=status or None),
        page_number(request.args.get("page")),
    )
    digests = page_of(
        db.session,
        service.digests_statement(status=status or None),
        page_number(request.args.get("digest_page")),
    )
    return render_template(
        "admin/alerts.html",
        section="alerts",
        page=page,
        digests=digests,
        status=status,
        statuses=ALERT_STATUSES,
        people_names=people_service.names(
            session=db.session, ids={a.person_id for a in page.items}
        ),
    )


@bp.post("/alerts/<alert_id>/retry")
def alert_retry(alert_id):
    """Queue a failed alert again, to be sent on the next delivery run."""
    alert = service.get(session=db.session, alert_id=alert_id)
    service.retry(session=db.session, alert=alert)
    db.session.commit()
    flash(f"The alert to {alert.recipient} is queued again.", "success")
    return redirect(url_for("admin.alerts", status=request.form.get("status") or None))


@bp.post("/digests/<digest_id>/retry")
def digest_retry(digest_id):
    """Queue a failed digest again, to be sent on the next delivery run."""
    digest = service.get_digest(session=db.session, digest_id=digest_id)
    service.retry_digest(session=db.session, digest=digest)
    db.session.commit()
    flash(f"The digest to {digest.recipient} is queued again.", "success")
    return redirect(url_for("admin.alerts", status=request.form.get("status") or None))
