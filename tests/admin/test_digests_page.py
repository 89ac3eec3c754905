"""The alerts page lists the coordinators' digests too, with a retry button for failed ones."""

from datetime import date

from registry.alerts.models import Digest
from registry.database import db


def _digest(recipient: str, status: str, **extra) -> Digest:
    return Digest(
        digest_date=date(2026, 11, 27),
        recipient=recipient,
        status=status,
        payload={"subject": f"Credential registry digest for {recipient}"},
        **extra,
    )


def test_failed_digests_show_on_the_alerts_page_with_a_retry_button(app, ui, viewer):
    with app.app_context():
        failed = _digest("ana@example.org", "failed", attempts=8, last_error="SMTP 451 try later")
        sent = _digest("bo@example.org", "sent", attempts=1)
        db.session.add_all([failed, sent])
        db.session.commit()
        failed_id, sent_id = failed.id, sent.id
    html = ui.get("/alerts?status=failed").get_data(as_text=True)
    assert "Daily digests" in html and "1 digest" in html
    assert "SMTP 451 try later" in html and f"/digests/{failed_id}/retry" in html
    assert "Credential registry digest for ana@example.org" in html
    assert "bo@example.org" not in html
    everything = ui.get("/alerts").get_data(as_text=True)
    assert "bo@example.org" in everything and f"/digests/{sent_id}/retry" not in everything
    assert f"/digests/{failed_id}/retry" not in viewer.get("/alerts").get_data(as_text=True)

    response = ui.post_form(f"/digests/{failed_id}/retry", {"status": "failed"})
    assert response.status_code == 302 and response.headers["Location"] == "/alerts?status=failed"
    with app.app_context():
        digest = db.session.get(Digest, failed_id)
        assert (digest.status, digest.attempts) == ("pending", 0)
    again = ui.post_form(f"/digests/{failed_id}/retry", {})
    assert again.status_code == 409 and "only a failed digest" in again.get_data(as_text=True)
    assert ui.post_form("/digests/nope/retry", {}).status_code == 404


def test_digests_have_pages_of_their_own(app, ui):
    with app.app_context():
        db.session.add_all(_digest(f"c{n:02}@example.org", "sent") for n in range(51))
        db.session.commit()
    first = ui.get("/alerts").get_data(as_text=True)
    assert "51 digests" in first and 'aria-label="Digest pages"' in first
    assert "/alerts?digest_page=2" in first
    second = ui.get("/alerts?digest_page=2").get_data(as_text=True)
    assert second.count(">email: c") == 1
