"""Every change a job makes is audited with the job as the actor, in the change's transaction;
the scheduler's own bookkeeping (a claim's lease, when a job last ran) is not."""

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from registry.alerts.models import Alert
from registry.audit import hook as audit_hook
from registry.audit.models import AuditEvent
from registry.database import db
from tests.jobs import factories as f
from tests.jobs.conftest import COORDINATOR

TODAY = date(2026, 11, 27)


def trail(entity_type: str | None = None) -> list[AuditEvent]:
    db.session.rollback()  # a fresh snapshot: the jobs wrote through their own sessions
    stmt = select(AuditEvent).order_by(AuditEvent.occurred_at, AuditEvent.action)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    return list(db.session.scalars(stmt))


def by_entity(events: list[AuditEvent]) -> dict[str, list[AuditEvent]]:
    found: dict[str, list[AuditEvent]] = {}
    for e in events:
        found.setdefault(e.entity_id, []).append(e)
    return found


def lapsing_credential(days: int = 30, email: str | None = "auto"):
    tech = f.person("technologist", "Tess", "Nguyen", email=email)
    return f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=days))


def test_scan_and_delivery_audit_each_alert_queued_and_sent_as_the_job(
    app_context, run, smtp_server, frozen
):
    lapsing_credential()
    assert run("scan")["alerts queued"] == 2
    db.session.rollback()
    queued = {a.id: a for a in db.session.scalars(select(Alert))}
    created = trail("alert")
    assert {e.entity_id for e in created} == set(queued)
    for e in created:
        assert (e.action, e.actor, e.before) == ("create", "job:scan", None)
        assert e.request_id.startswith("job-scan-")
        assert e.after["recipient"] == queued[e.entity_id].recipient
        assert (e.after["status"], e.after["last_error"]) == ("pending", None)
        assert "payload" not in e.after  # the rendered message stays on its row only
    assert len({e.request_id for e in created}) == 1  # one run

    assert run("deliver") == {"sent": 2}
    for events in by_entity(trail("alert")).values():
        # claiming (the lease) is not a change of the alert: queued, then sent, nothing between
        assert [(e.action, e.actor) for e in events] == [
            ("create", "job:scan"),
            ("update", "job:deliver"),
        ]
        sent = events[1]
        assert (sent.before["status"], sent.after["status"]) == ("pending", "sent")
        assert (sent.before["attempts"], sent.after["attempts"]) == (0, 1)
        assert sent.after["sent_at"] == frozen.current.isoformat()
        assert sent.request_id.startswith("job-deliver-")
    # when each job last completed is the scheduler's bookkeeping, not a registry change
    assert {e.entity_type for e in trail()} == {"person", "credential", "alert"}


def test_digests_are_audited_when_written_and_when_sent(app_context, run, smtp_server, frozen):
    assert run("digest") == {"digests written": 1}
    (digest,) = trail("digest")
    assert (digest.action, digest.actor, digest.entity_type) == ("create", "job:digest", "digest")
    assert digest.after["recipient"] == COORDINATOR and digest.after["status"] == "pending"
    assert digest.after["digest_date"] == TODAY.isoformat()
    assert run("deliver") == {"sent": 1}
    created, sent = trail("digest")
    assert (sent.action, sent.actor, sent.entity_id) == ("update", "job:deliver", digest.entity_id)
    assert (sent.before["status"], sent.after["status"]) == ("pending", "sent")


def test_failed_attempts_and_deferred_sends_are_audited(app_context, run, smtp_server, frozen):
    lapsing_credential()
    smtp_server.stop()
    run("scan")
    # one message finds the server down (a failed attempt); the other is deferred, untried
    assert run("deliver") == {"pending": 1, "deferred": 1}
    updates = [e for e in trail("alert") if e.action == "update"]
    assert {e.actor for e in updates} == {"job:deliver"}
    assert sorted((e.before["attempts"], e.after["attempts"]) for e in updates) == [(0, 0), (0, 1)]
    assert {(e.before["status"], e.after["status"]) for e in updates} == {("pending", "pending")}
    assert all("SMTP" in e.after["last_error"] for e in updates)
    retry_at = (frozen.current + timedelta(minutes=1)).isoformat()
    assert {e.after["next_attempt_at"] for e in updates} == {retry_at}

    run("digest")
    give_up = {"DELIVERY_MAX_ATTEMPTS": 1, "DELIVERY_GIVE_UP_HOURS": 0}
    for _ in range(3):  # while the server is down, each run tries it with one message
        frozen.advance(minutes=5)
        run("deliver", **give_up)
    failed = [e for e in trail() if e.after and e.after.get("status") == "failed"]
    assert sorted(e.entity_type for e in failed) == ["alert", "alert", "digest"]
    assert {e.actor for e in failed} == {"job:deliver"}


def test_withdrawn_alerts_are_audited(app_context, run, smtp_server, frozen):
    credential = lapsing_credential()
    run("scan")
    f.change(credential, expires_on=TODAY + timedelta(days=400))  # renewed before it was sent
    assert run("deliver") == {"withdrawn": 2}
    withdrawn = [e for e in trail("alert") if e.action == "update"]
    assert len(withdrawn) == 2 and {e.actor for e in withdrawn} == {"job:deliver"}
    assert {(e.before["status"], e.after["status"]) for e in withdrawn} == {
        ("pending", "withdrawn")
    }
    assert {e.after["last_error"] for e in withdrawn} == {
        "the item was renewed, ended or deactivated"
    }


def test_a_scan_writes_its_audit_events_in_one_statement(app_context, run, frozen):
    for n in range(30):
        who = f.person("technologist", f"T{n}", "Batch")
        f.credential(who, "BLS", expires_on=TODAY + timedelta(days=7))
    statements = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO audit_events"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        assert run("scan")["alerts queued"] == 60
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert len(statements) == 1
    assert len(trail("alert")) == 60


def test_an_alert_and_its_audit_event_are_one_transaction(app_context, run, frozen, monkeypatch):
    lapsing_credential()

    def refuse(*args, **kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(audit_hook, "record_inserted", refuse)
    with pytest.raises(RuntimeError):
        run("scan")
    db.session.rollback()
    assert db.session.scalars(select(Alert)).all() == []
    monkeypatch.undo()
    assert run("scan")["alerts queued"] == 2
    assert len(trail("alert")) == 2
