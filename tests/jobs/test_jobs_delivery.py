"""Outbox delivery against a real SMTP server and a real webhook receiver: exactly once,
through outages, with backoff, stable delivery ids and verifiable signatures."""

import email
import hashlib
import hmac
import json
import threading
from datetime import date, timedelta
from email import policy

import pytest
from sqlalchemy import select

from jobs.delivery import signature
from jobs.locks import hold_job_lock
from jobs.runs import run_job, sessions_for
from registry import create_app
from registry.alerts.models import Alert, Digest, JobRun
from registry.database import db, make_engine
from tests.jobs import factories as f
from tests.jobs.conftest import COORDINATOR, SmtpServer

TODAY = date(2026, 11, 27)


def alerts(**where) -> list[Alert]:
    db.session.rollback()  # a fresh snapshot: the jobs wrote through their own sessions
    stmt = select(Alert).order_by(Alert.recipient, Alert.item_id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Alert, key) == value)
    return list(db.session.scalars(stmt))


def audit_of(client, auth, alert_id: str) -> list[dict]:
    found = client.get(
        f"/api/v1/audit-events?entity_type=alert&entity_id={alert_id}&page_size=100", headers=auth
    )
    assert found.status_code == 200
    return found.json


def digests_queued() -> list[Digest]:
    db.session.rollback()
    return list(db.session.scalars(select(Digest).order_by(Digest.digest_date, Digest.recipient)))


def small_network():
    """A technologist whose CNIM lapses in 30 days, supervised by a physician whose license
    lapses in 7; the expected emails as (recipient, subject)."""
    spine = f.facility("Spine Center")
    tech = f.person("technologist", "Tess", "Nguyen")
    doc = f.person("physician", "Omar", "Haddad")
    f.appointment(tech, spine)
    f.appointment(doc, spine)
    f.agreement(spine, doc, technologists=[tech])
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=30))
    f.credential(doc, "MEDICAL_LICENSE", expires_on=TODAY + timedelta(days=7), jurisdiction="KS")
    return [
        ("tess.nguyen@example.org", "Your CNIM expires in 30 days (27 Dec 2026)"),
        ("omar.haddad@example.org", "Tess Nguyen: CNIM expires in 30 days (27 Dec 2026)"),
        (COORDINATOR, "Tess Nguyen: CNIM expires in 30 days (27 Dec 2026)"),
        (
            "omar.haddad@example.org",
            "Your State medical license (KS) expires in 7 days (4 Dec 2026)",
        ),
        (COORDINATOR, "Omar Haddad: State medical license (KS) expires in 7 days (4 Dec 2026)"),
    ]


def received(smtp_server, *, digests=False) -> list[tuple[str, str]]:
    pairs = []
    for rcpts, message in list(smtp_server.received):
        subject = str(message["Subject"])
        if subject.startswith("Credential registry digest") != digests:
            continue
        pairs.extend((rcpt, subject) for rcpt in rcpts)
    return sorted(pairs)


def test_run_once_all_from_the_cli_delivers_exactly_once_across_runs_and_a_restart(
    app, runner, smtp_server, job_config, frozen, monkeypatch
):
    with app.app_context():
        expected = small_network()
    for key in ("MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "MAIL_FROM", "COORDINATOR_EMAILS"):
        monkeypatch.setitem(app.config, key, job_config[key])
    for _ in range(3):
        result = runner.invoke(args=["jobs", "run-once", "all"])
        assert result.exit_code == 0, result.output
    assert received(smtp_server) == sorted(expected)
    assert received(smtp_server, digests=True) == [
        (
            COORDINATOR,
            "Credential registry digest for Friday 27 November 2026: "
            "0 lapsed, 2 lapsing within 30 days",
        )
    ]
    assert "scan: items due: 2, alerts queued: 0" in result.output

    # a restart: a new app instance (new engine, new sessions) finds the work done
    original_engine = db.engine
    restarted = create_app({key: app.config[key] for key in job_config if key in app.config})
    try:
        assert db.engine is not original_engine
        result = restarted.test_cli_runner().invoke(args=["jobs", "run-once", "all"])
        assert result.exit_code == 0, result.output
        assert "alerts queued: 0" in result.output
    finally:
        db.engine.dispose()
        db.engine = original_engine
        db.session.remove()
        db.session.configure(bind=original_engine)
    assert len(smtp_server.received) == len(expected) + 1
    with app.app_context():
        assert {a.status for a in alerts()} == {"sent"}
        assert all(a.attempts == 1 for a in alerts())


def test_smtp_down_keeps_alerts_pending_then_each_arrives_once(
    app_context, run, smtp_server, frozen
):
    expected = small_network()
    smtp_server.stop()
    run("scan")
    # one message finds the server down; the others are not tried, so not counted
    assert run("deliver") == {"pending": 1, "deferred": len(expected) - 1}
    waiting = alerts()
    assert {a.status for a in waiting} == {"pending"}
    assert sorted(a.attempts for a in waiting) == [0] * (len(expected) - 1) + [1]
    assert all("SMTP 127.0.0.1" in a.last_error for a in waiting)
    assert all(a.next_attempt_at == frozen.current + timedelta(minutes=1) for a in waiting)
    assert run("deliver") == {}  # not due again before the backoff
    smtp_server.start()
    frozen.advance(minutes=1)
    assert run("deliver") == {"sent": len(expected)}
    assert run("deliver") == {}
    run("scan")
    assert run("deliver") == {}
    assert received(smtp_server) == sorted(expected)
    assert sorted(a.attempts for a in alerts()) == [1] * (len(expected) - 1) + [2]
    assert {a.status for a in alerts()} == {"sent"}


def test_a_day_long_smtp_outage_loses_nothing_and_each_alert_arrives_once(
    app_context, run, smtp_server, frozen, client, auth
):
    expected = small_network()
    smtp_server.stop()
    for _ in range(24 * 12):  # the scheduler keeps going every five minutes for a day
        if frozen.current.hour == 12 and frozen.current.minute == 0:
            run("scan")
        run("deliver")
        frozen.advance(minutes=5)
    waiting = alerts()
    assert len(waiting) == len(expected)
    assert {a.status for a in waiting} == {"pending"}
    assert client.get("/api/v1/alerts?status=failed", headers=auth).json == []
    assert all(a.attempts < 8 * 12 for a in waiting)  # one try of the server per run at most
    smtp_server.start()
    for _ in range(12 * 2):  # within an hour of the server's return everything has gone
        run("deliver")
        frozen.advance(minutes=5)
    assert received(smtp_server) == sorted(expected)
    assert {a.status for a in alerts()} == {"sent"}


def test_after_the_last_attempt_an_alert_is_failed_until_someone_retries_it(
    app_context, run, smtp_server, frozen, client, auth
):
    expected = small_network()
    smtp_server.stop()
    run("scan")
    queued_at = frozen.current
    give_up = {"DELIVERY_MAX_ATTEMPTS": 3, "DELIVERY_GIVE_UP_HOURS": 2}
    first_failure = None
    for _ in range(6 * 6):
        run("deliver", **give_up)
        if first_failure is None and any(a.status == "failed" for a in alerts()):
            first_failure = frozen.current
        if all(a.status == "failed" for a in alerts()):
            break
        frozen.advance(minutes=10)
    # three tries are not enough by themselves: the alert must also be two hours old
    assert first_failure is not None and first_failure - queued_at >= timedelta(hours=2)
    failed = client.get("/api/v1/alerts?status=failed&page_size=50", headers=auth)
    assert failed.status_code == 200
    assert len(failed.json) == len(expected)
    assert all(a["attempts"] >= 3 and "SMTP" in a["last_error"] for a in failed.json)
    assert client.get("/api/v1/alerts?status=pending", headers=auth).json == []
    # the job's every change is audited: queued, each failed attempt, then failed
    trail = audit_of(client, auth, failed.json[0]["id"])
    assert sorted({(e["action"], e["actor"]) for e in trail}) == [
        ("create", "job:scan"),
        ("update", "job:deliver"),
    ]
    assert trail[0]["after"]["status"] == "failed" and "SMTP" in trail[0]["after"]["last_error"]

    smtp_server.start()
    run("deliver")
    assert received(smtp_server) == []  # failed stays failed: nothing lost, nothing resent
    alert_id = failed.json[0]["id"]
    retried = client.post(f"/api/v1/alerts/{alert_id}/retry", headers=auth)
    assert retried.status_code == 200
    assert retried.json["status"] == "pending" and retried.json["attempts"] == 0
    # ...and a person's retry is audited as theirs
    (event,) = [e for e in audit_of(client, auth, alert_id) if e["actor"].startswith("api-key:")]
    assert event["action"] == "update"
    assert (event["before"]["status"], event["after"]["status"]) == ("failed", "pending")
    again = client.post(f"/api/v1/alerts/{alert_id}/retry", headers=auth)
    assert again.status_code == 409
    assert run("deliver") == {"sent": 1}
    assert len(received(smtp_server)) == 1
    assert client.post(f"/api/v1/alerts/{alert_id}/retry", headers=auth).status_code == 409
    assert client.post("/api/v1/alerts/nope/retry", headers=auth).status_code == 404


def test_webhook_500_is_retried_with_backoff_same_delivery_id_and_a_valid_signature(
    app_context, run, webhook_receiver, frozen, client, auth
):
    secret = "s3cret-for-signing-deliveries"
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": webhook_receiver.url, "events": ["credential.expiring"], "secret": secret},
        headers=auth,
    ).json
    tech = f.person(email=None)
    cnim = f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=14))
    webhook_receiver.status = 500
    run("scan")
    (alert,) = alerts(channel="webhook")
    assert alert.recipient == hook["id"]
    timeline = []
    for minute in range(0, 8):
        before = len(webhook_receiver.requests)
        run("deliver")
        if len(webhook_receiver.requests) > before:
            timeline.append(minute)
        frozen.advance(minutes=1)
    assert timeline == [0, 1, 3, 7]  # waits of 1, 2 and 4 minutes
    webhook_receiver.status = 204
    frozen.advance(minutes=8)
    assert run("deliver") == {"sent": 1}
    assert run("deliver") == {}
    requests_ = webhook_receiver.requests
    assert len(requests_) == 5
    assert {r["headers"]["X-Registry-Delivery"] for r in requests_} == {alert.id}
    assert {r["headers"]["X-Registry-Event"] for r in requests_} == {"credential.expiring"}
    assert len({r["body"] for r in requests_}) == 1  # byte-identical on every retry
    for request in requests_:
        expected = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
        assert request["headers"]["X-Registry-Signature"] == f"sha256={expected}"
        assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(requests_[0]["body"])
    assert body["id"] == alert.id and body["event"] == "credential.expiring"
    assert body["occurred_at"].startswith("2026-11-27T12:00:00")
    assert body["data"] == {
        "item_type": "credential",
        "item_id": cnim.id,
        "person_id": tech.id,
        "facility_id": None,
        "type": "CNIM",
        "expires_on": "2026-12-11",
        "days_left": 14,
        "threshold_days": 14,
    }
    (done,) = alerts(channel="webhook")
    assert done.status == "sent" and done.attempts == 5 and "HTTP 500" in done.last_error
    assert (
        signature(secret, requests_[0]["body"]) == requests_[0]["headers"]["X-Registry-Signature"]
    )


def test_a_failed_webhook_shows_readers_neither_the_reply_nor_the_urls_secrets(
    app_context, run, webhook_receiver, frozen, client, auth, make_key
):
    url = webhook_receiver.url.replace("http://", "http://user:pw@") + "?token=abc123"
    hook = client.post(
        "/api/v1/webhooks",
        json={
            "url": url,
            "events": ["credential.expiring"],
            "secret": "s3cret-for-signing-deliveries",
        },
        headers=auth,
    )
    assert hook.status_code == 201, hook.json
    tech = f.person(email=None)
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=14))
    webhook_receiver.status = 500
    webhook_receiver.reply = b"INTERNAL ONLY: db_password=hunter2"
    run("scan")
    run("deliver")
    assert len(webhook_receiver.requests) == 1  # it did reach the receiver
    reader = make_key(scopes=["read"])
    (seen,) = client.get("/api/v1/alerts?channel=webhook", headers=reader).json
    port = webhook_receiver.url.split(":")[2].split("/")[0]
    assert seen["last_error"] == f"HTTP 500 from http://127.0.0.1:{port}/hooks/registry"
    webhook_receiver.close()  # gone: the error names the failure, not the URL's query
    frozen.advance(minutes=1)
    run("deliver")
    db.session.rollback()  # the job wrote through its own session
    (seen,) = client.get("/api/v1/alerts?channel=webhook", headers=reader).json
    assert seen["last_error"].startswith("ConnectionError from http://127.0.0.1:")
    assert "abc123" not in seen["last_error"] and "pw" not in seen["last_error"]


def test_a_queued_alert_that_no_longer_applies_is_withdrawn_not_sent(
    app_context, run, smtp_server, webhook_receiver, frozen, client, auth
):
    hook = client.post("/api/v1/webhooks", json={"url": webhook_receiver.url}, headers=auth).json
    tech = f.person()
    cnim = f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=7))
    run("scan")
    assert len(alerts()) == 3  # the person, the coordinator, the webhook
    f.change(cnim, expires_on=TODAY + timedelta(days=7 + 5 * 365))  # renewed before delivery
    assert run("deliver") == {"withdrawn": 3}
    assert smtp_server.received == [] and webhook_receiver.requests == []
    kept = alerts()  # nothing is deleted: each stays, withdrawn, with the reason
    assert len(kept) == 3 and {a.status for a in kept} == {"withdrawn"}
    assert {a.last_error for a in kept} == {"the item was renewed, ended or deactivated"}
    assert all(a.next_attempt_at is None and a.sent_at is None for a in kept)

    f.credential(tech, "BLS", expires_on=TODAY + timedelta(days=1))
    run("scan")
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=auth).status_code == 204
    assert run("deliver") == {"sent": 2, "withdrawn": 1}
    assert webhook_receiver.requests == []
    listed = client.get("/api/v1/alerts?status=withdrawn", headers=auth)
    assert listed.status_code == 200 and len(listed.json) == 4
    assert run("scan")["alerts queued"] == 0  # a withdrawn alert is not queued again
    assert client.post(f"/api/v1/alerts/{kept[0].id}/retry", headers=auth).status_code == 409


def test_two_schedulers_at_once_deliver_everything_exactly_once(
    app, database_url, smtp_server, webhook_receiver, job_config, frozen, client, auth
):
    with app.app_context():
        client.post("/api/v1/webhooks", json={"url": webhook_receiver.url}, headers=auth)
        expected = small_network()
        for n in range(6):
            tech = f.person("technologist", f"T{n}", "Extra", email=None)
            f.credential(tech, "BLS", expires_on=TODAY + timedelta(days=1 + n))
    engines = [make_engine(database_url, app.config) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def scheduler(engine):
        sessions = sessions_for(engine)
        try:
            for _ in range(3):
                barrier.wait(timeout=30)
                for name in ("scan", "deliver", "digest"):
                    run_job(name, sessions=sessions, config=job_config)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for engine in engines:
        engine.dispose()
    assert errors == []
    emails = received(smtp_server)
    assert len(emails) == len(expected) + 6  # and six BLS notices to the coordinator
    assert sorted(set(emails)) == emails  # no duplicates
    assert set(expected) <= set(emails)
    assert len(received(smtp_server, digests=True)) == 1
    deliveries = [r["headers"]["X-Registry-Delivery"] for r in webhook_receiver.requests]
    assert len(deliveries) == 2 + 6 and len(set(deliveries)) == len(deliveries)
    with app.app_context():
        assert {a.status for a in alerts()} == {"sent"}
        assert {a.attempts for a in alerts()} == {1}


def test_the_scan_lock_keeps_a_second_scanner_out(app_context, sessions, run, frozen):
    tech = f.person()
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=7))
    holder = sessions()
    try:
        holder.begin()
        assert hold_job_lock(holder, "scan") is True
        if db.engine.dialect.name == "postgresql":
            assert run("scan") == {"skipped (another scheduler is scanning)": 1}
            assert alerts() == []
            # a skipped run is not a completed scan: the next one still looks back far enough
            assert db.session.get(JobRun, "scan") is None
        else:
            # SQLite: the scan transaction holds the write lock; another writer must wait
            import sqlite3

            other = sqlite3.connect(db.engine.url.database, timeout=0.1, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                raise AssertionError("a second writer got in while the scan lock was held")
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
            finally:
                other.close()
    finally:
        holder.rollback()
        holder.close()
    assert run("scan")["alerts queued"] == 2


def test_file_backend_writes_a_readable_eml_into_the_mail_folder(
    app_context, run, frozen, tmp_path
):
    mail_dir = tmp_path / "var" / "mail"
    tech = f.person("technologist", "Tess", "Nguyen")
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=30), number="CNIM-12345")
    run("scan")
    assert run("deliver", MAIL_BACKEND="file", MAIL_FILE_DIR=str(mail_dir)) == {"sent": 2}
    files = sorted(mail_dir.glob("*.eml"))
    assert len(files) == 2
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
    mine = next(m for m in messages if m["To"] == "tess.nguyen@example.org")
    assert mine["Subject"] == "Your CNIM expires in 30 days (27 Dec 2026)"
    assert mine.get_content_type() == "multipart/alternative"
    text = mine.get_body(("plain",)).get_content()
    html = mine.get_body(("html",)).get_content()
    assert "Dear Tess," in text
    assert "valid through Sunday 27 December 2026" in text
    assert "CNIM-12345" in text and "What to do" in text
    assert "renewed until Wednesday 27 January 2027" in text  # ABRET's one-month grace
    assert "examination must be taken again" in text
    assert "<strong>Late renewal:</strong>" in html and "Tess" in html
    assert mine["Message-ID"].startswith("<alert-")
    assert any("-your-cnim-expires-in-30-days-27-dec-2026-alert-" in p.name for p in files)


def test_console_backend_prints_the_message(app_context, run, frozen, capsys):
    tech = f.person("technologist", "Tess", "Nguyen", email=None)
    f.credential(tech, "BLS", expires_on=TODAY + timedelta(days=1))
    run("scan")
    assert run("deliver", MAIL_BACKEND="console") == {"sent": 1}
    out = capsys.readouterr().out
    assert "Subject: Tess Nguyen: BLS expires tomorrow (28 Nov 2026)" in out


def test_digest_once_a_day_grouped_by_facility_and_person(app_context, run, smtp_server, frozen):
    spine = f.facility("Spine Center")
    river = f.facility("River Market Hospital", timezone="America/New_York", state="MO")
    tess = f.person("technologist", "Tess", "Nguyen")
    omar = f.person("physician", "Omar", "Haddad")
    f.appointment(tess, spine)
    f.appointment(tess, river, expires_on=TODAY + timedelta(days=20))
    f.appointment(omar, river)
    f.credential(tess, "BLS", expires_on=TODAY - timedelta(days=2))
    f.credential(omar, "ABCN", expires_on=TODAY + timedelta(days=29))
    f.credential(omar, "ACLS", expires_on=TODAY + timedelta(days=31))  # beyond 30 days
    coordinators = [COORDINATOR, "second@example.org"]
    assert run("digest", COORDINATOR_EMAILS=coordinators) == {"digests written": 2}
    # the digest job only queues: the deliver job is the one place that sends
    assert received(smtp_server, digests=True) == []
    assert {d.status for d in digests_queued()} == {"pending"}
    assert run("deliver") == {"sent": 2}
    assert run("digest", COORDINATOR_EMAILS=coordinators) == {"digests written": 0}
    frozen.advance(hours=6)
    run("digest", COORDINATOR_EMAILS=coordinators)
    assert run("deliver") == {}
    digests = received(smtp_server, digests=True)
    assert sorted(r for r, _ in digests) == sorted(coordinators)
    subject = (
        "Credential registry digest for Friday 27 November 2026: 1 lapsed, 2 lapsing within 30 days"
    )
    assert {s for _, s in digests} == {subject}
    text = smtp_server.messages(COORDINATOR)[0].get_body(("plain",)).get_content()
    river_part = text.split("== River Market Hospital ==")[1]
    spine_part = text.split("== Spine Center ==")[1]
    assert river_part.index("Omar Haddad") < river_part.index("Tess Nguyen")  # by family name
    assert "ABCN: expires in 29 days" in river_part
    assert "BLS: LAPSED 2 days ago" in river_part and "BLS: LAPSED 2 days ago" in spine_part
    assert "facility appointment (privileges): expires in 20 days" in river_part
    assert "ACLS" not in text
    frozen.advance(days=1)
    run("digest", COORDINATOR_EMAILS=coordinators)
    run("deliver")
    assert len(received(smtp_server, digests=True)) == 4
    assert {(d.status, d.attempts) for d in digests_queued()} == {("sent", 1)}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login_with_the_configured_username_and_password(app_context, run, frozen):
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            auth_data.login in ("registry", b"registry") and auth_data.password == b"right-password"
        )
        return AuthResult(success=ok)

    server = SmtpServer(auth_required=True, auth_require_tls=False, authenticator=authenticator)
    server.start()
    try:
        tech = f.person(email=None)
        f.credential(tech, "BLS", expires_on=TODAY + timedelta(days=7))
        run("scan")
        smtp = {"SMTP_PORT": server.port, "SMTP_USERNAME": "registry"}
        # the server stalls a failed login (as real ones do); a short timeout gives up on it
        assert run("deliver", **smtp, SMTP_PASSWORD="wrong", SMTP_TIMEOUT=1) == {"pending": 1}
        assert alerts()[0].last_error.startswith(f"SMTP 127.0.0.1:{server.port}")
        assert server.received == []
        frozen.advance(minutes=1)
        assert run("deliver", **smtp, SMTP_PASSWORD="right-password") == {"sent": 1}
        assert [str(m["Subject"]) for m in server.messages(COORDINATOR)] == [
            "Tess Nguyen: BLS expires in 7 days (4 Dec 2026)"
        ]
    finally:
        server.stop()


def test_a_run_killed_after_claiming_loses_nothing(app_context, sessions, run, smtp_server, frozen):
    from jobs.outbox import LEASE, claim_due

    expected = small_network()
    run("scan")
    claimed = claim_due(sessions, Alert, now=frozen.current, limit=100)
    assert len(claimed) == len(expected)  # ...and the process dies before sending anything
    assert run("deliver") == {}  # a restarted scheduler leaves the claimed rows alone for a while
    frozen.advance(seconds=LEASE.total_seconds())
    assert run("deliver") == {"sent": len(expected)}
    assert received(smtp_server) == sorted(expected)


def test_each_batch_is_leased_from_when_it_is_claimed(
    app_context, sessions, run, webhook_receiver, frozen, client, auth
):
    client.post("/api/v1/webhooks", json={"url": webhook_receiver.url}, headers=auth)
    for n in range(45):
        tech = f.person("technologist", f"T{n}", "Slow", email=None)
        f.credential(tech, "BLS", expires_on=TODAY + timedelta(days=7))
    run("scan", COORDINATOR_EMAILS=[])
    sent_on_an_expired_lease = []

    def slow_and_watched(request):
        frozen.advance(seconds=30)  # each delivery takes half a minute: the run, 22 minutes
        delivery_id = request["headers"]["X-Registry-Delivery"]
        with sessions() as session:
            lease = session.scalar(select(Alert.next_attempt_at).where(Alert.id == delivery_id))
        if lease <= frozen.current:  # another replica could claim it and send it again
            sent_on_an_expired_lease.append(delivery_id)

    webhook_receiver.on_request = slow_and_watched
    assert run("deliver") == {"sent": 45}
    assert sent_on_an_expired_lease == []
    assert len({r["headers"]["X-Registry-Delivery"] for r in webhook_receiver.requests}) == 45


def test_the_scheduler_defines_its_jobs_in_code(app):
    from jobs.scheduler import build_scheduler

    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {
        "expiration-scan",
        "expiration-scan-at-start",
        "outbox-delivery",
        "daily-digest",
    } <= set(jobs)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time
    assert str(jobs["expiration-scan"].trigger.timezone) == app.config["REGISTRY_TIMEZONE"]
    assert "hour='6'" in str(jobs["expiration-scan"].trigger)
    assert "hour='7'" in str(jobs["daily-digest"].trigger)
    assert jobs["outbox-delivery"].trigger.interval.total_seconds() == 60
    assert [job.args for job in jobs.values() if job.id.startswith("expiration-scan")] == [
        ("scan",),
        ("scan",),
    ]
