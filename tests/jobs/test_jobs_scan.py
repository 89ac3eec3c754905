"""The expiration scan: thresholds on their exact days, catch-up, lapse, renewal, recipients."""

from datetime import date, timedelta

from sqlalchemy import select

from jobs.scan import most_urgent_threshold
from registry.alerts.models import Alert
from registry.database import db
from tests.jobs import factories as f
from tests.jobs.conftest import COORDINATOR

TODAY = date(2026, 11, 27)
THRESHOLDS = [90, 60, 30, 14, 7, 1, -1]


def alerts(**where) -> list[Alert]:
    db.session.rollback()  # a fresh snapshot: the jobs wrote through their own sessions
    stmt = select(Alert).order_by(Alert.created_at, Alert.threshold_days.desc(), Alert.recipient)
    for key, value in where.items():
        stmt = stmt.where(getattr(Alert, key) == value)
    return list(db.session.scalars(stmt))


def test_most_urgent_threshold_rule():
    assert most_urgent_threshold(95, THRESHOLDS) is None
    assert most_urgent_threshold(90, THRESHOLDS) == 90
    assert most_urgent_threshold(61, THRESHOLDS) == 90
    assert most_urgent_threshold(10, THRESHOLDS) == 14
    assert most_urgent_threshold(1, THRESHOLDS) == 1
    assert most_urgent_threshold(0, THRESHOLDS) == 1
    assert most_urgent_threshold(-1, THRESHOLDS) == -1
    # after the lapse only news counts: crossed since the last scan (its day included)
    assert most_urgent_threshold(-2, THRESHOLDS) is None
    assert most_urgent_threshold(-2, THRESHOLDS, catch_up_days=1) == -1
    assert most_urgent_threshold(-3, THRESHOLDS, catch_up_days=1) is None
    assert most_urgent_threshold(-300, THRESHOLDS, catch_up_days=1) is None
    assert most_urgent_threshold(-8, THRESHOLDS, catch_up_days=7) == -1
    assert most_urgent_threshold(-9, THRESHOLDS, catch_up_days=7) is None
    assert most_urgent_threshold(-40, [30, -1, -30], catch_up_days=10) == -30
    # without an after-lapse threshold, reminders stop at the lapse
    assert most_urgent_threshold(-1, [30, 7]) is None


def test_each_threshold_fires_on_its_exact_day(app_context, run, frozen):
    tech = f.person(email="tess@example.org")
    expires = TODAY + timedelta(days=95)
    f.credential(tech, "CNIM", expires_on=expires)
    fired: dict[date, list[int]] = {}
    for offset in range(0, 99):
        day = TODAY + timedelta(days=offset)
        before = {a.id for a in alerts(recipient="tess@example.org")}
        run("scan")
        new = [a for a in alerts(recipient="tess@example.org") if a.id not in before]
        if new:
            fired[day] = [a.threshold_days for a in new]
        frozen.advance(days=1)
    assert fired == {expires - timedelta(days=t): [t] for t in THRESHOLDS}
    lapse_alert = alerts(recipient="tess@example.org", threshold_days=-1)[0]
    assert lapse_alert.event == "credential.expired"
    assert lapse_alert.lapse_date == expires
    assert "lapsed on" in lapse_alert.payload["subject"]
    thirty = alerts(recipient="tess@example.org", threshold_days=30)[0]
    assert thirty.event == "credential.expiring"
    assert thirty.payload["subject"].startswith("Your CNIM expires in 30 days")


def test_a_missed_week_is_caught_up_with_only_the_most_urgent_alert(app_context, run, frozen):
    tech = f.person(email="tess@example.org")
    f.credential(tech, "BLS", expires_on=TODAY + timedelta(days=20))
    run("scan")
    frozen.advance(days=14)  # the scheduler was down from day 20 to day 6: 14 and 7 missed
    run("scan")
    run("scan")
    assert [a.threshold_days for a in alerts(recipient="tess@example.org")] == [30, 7]
    seven = alerts(recipient="tess@example.org", threshold_days=7)[0]
    assert "expires in 6 days" in seven.payload["subject"]


def test_first_scan_of_a_new_item_sends_one_alert_not_the_whole_series(app_context, run, frozen):
    tech = f.person(email="tess@example.org")
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=3))
    run("scan")
    assert [a.threshold_days for a in alerts(recipient="tess@example.org")] == [7]


def test_the_day_after_the_lapse_and_nothing_more(app_context, run, frozen):
    tech = f.person(email="tess@example.org")
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=1))
    run("scan")
    frozen.advance(days=1)  # the last valid day: nothing new
    run("scan")
    assert [a.threshold_days for a in alerts(recipient="tess@example.org")] == [1]
    frozen.advance(days=1)  # the day after it lapsed
    run("scan")
    frozen.advance(days=5)
    run("scan")
    mine = alerts(recipient="tess@example.org")
    assert [a.threshold_days for a in mine] == [1, -1]
    assert mine[1].created_at.date() == TODAY + timedelta(days=2)


def test_a_renewal_starts_a_fresh_series(app_context, run, frozen):
    tech = f.person(email="tess@example.org")
    cnim = f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=7))
    run("scan")
    renewed_until = TODAY + timedelta(days=7 + 365)
    f.change(cnim, expires_on=renewed_until)
    run("scan")
    assert len(alerts(recipient="tess@example.org")) == 1  # nothing due for the new date yet
    frozen.advance(days=7 + 365 - 90)
    run("scan")
    mine = alerts(recipient="tess@example.org")
    assert [(a.lapse_date, a.threshold_days) for a in mine] == [
        (TODAY + timedelta(days=7), 7),
        (renewed_until, 90),
    ]


def test_a_renewal_recorded_as_a_new_credential_silences_the_old_one(app_context, run, frozen):
    tech = f.person(email="tess@example.org")
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=7))
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=7 + 5 * 365))
    run("scan")
    frozen.advance(days=8)
    run("scan")
    assert alerts() == []


def test_recipients_person_coordinators_and_supervising_physicians(app_context, run, frozen):
    spine = f.facility("Spine Center")
    other = f.facility("Elsewhere Hospital")
    tech = f.person("technologist", "Tess", "Nguyen")
    f.appointment(tech, spine)
    listed = f.person("physician", "Omar", "Haddad")
    everyone_at_spine = f.person("physician", "Lena", "Park")
    not_there = f.person("physician", "Ivan", "Petrov")
    lapsed_agreement = f.person("physician", "Ruth", "Ames")
    other_tech_only = f.person("physician", "Sam", "Cole")
    no_email = f.person("physician", "Nia", "Obi", email=None)
    colleague = f.person("technologist", "Kim", "Lee")
    f.agreement(spine, listed, technologists=[tech])
    f.agreement(spine, everyone_at_spine, technologists=[])
    f.agreement(other, not_there, technologists=[])  # Tess has no appointment there
    f.agreement(spine, lapsed_agreement, technologists=[tech], active=False)
    f.agreement(spine, other_tech_only, technologists=[colleague])
    f.agreement(spine, no_email, technologists=[tech])
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=30))
    run("scan")
    email_alerts = alerts(channel="email")
    assert sorted(a.recipient for a in email_alerts) == sorted(
        [COORDINATOR, "tess.nguyen@example.org", "omar.haddad@example.org", "lena.park@example.org"]
    )
    by_recipient = {a.recipient: a for a in email_alerts}
    assert (
        by_recipient["omar.haddad@example.org"]
        .payload["subject"]
        .startswith("Tess Nguyen: CNIM expires in 30 days")
    )
    assert "you supervise Tess Nguyen" in by_recipient["omar.haddad@example.org"].payload["text"]
    assert "Dear Tess" in by_recipient["tess.nguyen@example.org"].payload["text"]
    assert "credentialing coordinator" in by_recipient[COORDINATOR].payload["text"]


def test_a_listed_technologist_no_longer_working_there_is_not_reported_to_that_physician(
    app_context, run, frozen
):
    # SPEC: "the supervising physicians at the facilities where the technologist works"
    spine = f.facility("Spine Center")
    former = f.facility("Former Hospital")
    tech = f.person("technologist", "Tess", "Nguyen")
    f.appointment(tech, spine)
    f.appointment(tech, former, status="ended")
    here = f.person("physician", "Amy", "Adams")
    there = f.person("physician", "Ben", "Brown")
    f.agreement(spine, here, technologists=[])
    f.agreement(former, there, technologists=[tech])  # still lists her
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=30))
    run("scan")
    assert sorted(a.recipient for a in alerts(channel="email")) == sorted(
        [COORDINATOR, "tess.nguyen@example.org", "amy.adams@example.org"]
    )


def test_an_unverified_renewal_does_not_silence_the_lapsing_credential(app_context, run, frozen):
    # an unverified record does not qualify anyone, so it renews nothing either
    tech = f.person(email="tess@example.org")
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=7))
    f.credential(
        tech,
        "CNIM",
        expires_on=TODAY + timedelta(days=7 + 5 * 365),
        verification_method=None,
        verified_on=None,
    )
    run("scan")
    assert [(a.threshold_days, a.lapse_date) for a in alerts(recipient="tess@example.org")] == [
        (7, TODAY + timedelta(days=7))
    ]


def test_an_unverified_renewal_counts_where_the_policy_accepts_unverified_credentials(
    app, app_context, run, frozen, monkeypatch
):
    monkeypatch.setitem(app.config, "ACCEPT_UNVERIFIED", True)  # this test only
    tech = f.person(email="tess@example.org")
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=7))
    f.credential(
        tech,
        "CNIM",
        expires_on=TODAY + timedelta(days=7 + 5 * 365),
        verification_method=None,
        verified_on=None,
    )
    run("scan")
    assert alerts(recipient="tess@example.org") == []


def test_recipients_of_appointments_agreements_and_physician_credentials(app_context, run, frozen):
    spine = f.facility("Spine Center")
    doc = f.person("physician", "Omar", "Haddad")
    tech = f.person("technologist", "Tess", "Nguyen")
    f.appointment(tech, spine, expires_on=TODAY + timedelta(days=14))
    f.agreement(spine, doc, technologists=[tech], effective_to=TODAY + timedelta(days=60))
    license_ = f.credential(
        doc, "MEDICAL_LICENSE", expires_on=TODAY + timedelta(days=7), jurisdiction="KS"
    )
    run("scan")
    got = {(a.item_type, a.recipient, a.threshold_days) for a in alerts()}
    assert got == {
        ("appointment", "tess.nguyen@example.org", 14),
        ("appointment", COORDINATOR, 14),
        ("agreement", COORDINATOR, 60),
        ("credential", "omar.haddad@example.org", 7),
        ("credential", COORDINATOR, 7),
    }
    lic = alerts(item_id=license_.id, recipient="omar.haddad@example.org")[0]
    assert (
        lic.payload["subject"] == "Your State medical license (KS) expires in 7 days (4 Dec 2026)"
    )
    appointment = alerts(item_type="appointment", recipient="tess.nguyen@example.org")[0]
    assert appointment.facility_id == spine.id
    assert "appointment at Spine Center" in appointment.payload["subject"]


def test_revoked_ended_inactive_and_suspended_items_are_not_alerted(app_context, run, frozen):
    spine = f.facility("Spine Center")
    closed = f.facility("Closed Clinic", active=False)
    soon = TODAY + timedelta(days=7)
    tech = f.person("technologist", "Tess", "Nguyen")
    gone = f.person("technologist", "Gone", "Away", active=False)
    doc = f.person("physician", "Omar", "Haddad")
    f.credential(tech, "CNIM", expires_on=soon, status="revoked")
    f.credential(tech, "BLS", expires_on=soon, status="entered_in_error")
    f.credential(tech, "ACLS", expires_on=soon, status="suspended")
    f.credential(gone, "CNIM", expires_on=soon)
    f.appointment(tech, spine, expires_on=soon, status="ended")
    f.appointment(tech, closed, expires_on=soon)
    f.appointment(gone, spine, expires_on=soon)
    f.agreement(spine, doc, effective_to=soon, active=False)
    f.credential(tech, "DABNM", expires_on=None)  # does not expire
    run("scan")
    assert alerts() == []


def test_webhook_subscribers_get_the_events_they_chose(app_context, run, frozen, client, auth):
    expiring_only = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.org/a", "events": ["credential.expiring"]},
        headers=auth,
    ).json
    everything = client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.org/b"}, headers=auth
    ).json
    tech = f.person(email=None)
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=30))
    f.credential(tech, "BLS", expires_on=TODAY - timedelta(days=3))
    run("scan")
    hooks = {(a.recipient, a.event) for a in alerts(channel="webhook")}
    assert hooks == {
        (expiring_only["id"], "credential.expiring"),
        (everything["id"], "credential.expiring"),
        (everything["id"], "credential.expired"),
    }
    assert {a.recipient for a in alerts(channel="email")} == {COORDINATOR}


def test_the_day_after_any_item_lapsed_its_event_says_expired(
    app_context, run, frozen, client, auth
):
    expiring_only = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.org/a", "events": ["appointment.expiring"]},
        headers=auth,
    ).json
    everything = client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.org/b"}, headers=auth
    ).json
    spine = f.facility()
    tech, doc = f.person(email=None), f.person("physician", "Omar", "Haddad", email=None)
    yesterday = TODAY - timedelta(days=1)
    lapsed = f.appointment(tech, spine, expires_on=yesterday)
    soon = f.appointment(doc, spine, expires_on=TODAY + timedelta(days=7))
    ended = f.agreement(spine, doc, effective_to=yesterday)
    run("scan")
    hooks = {(a.recipient, a.item_id, a.event) for a in alerts(channel="webhook")}
    assert hooks == {
        (expiring_only["id"], soon.id, "appointment.expiring"),
        (everything["id"], soon.id, "appointment.expiring"),
        (everything["id"], lapsed.id, "appointment.expired"),
        (everything["id"], ended.id, "agreement.expired"),
    }


def test_rescans_never_duplicate(app_context, run, frozen):
    spine = f.facility()
    tech = f.person()
    f.appointment(tech, spine, expires_on=TODAY + timedelta(days=30))
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=1))
    first = run("scan")
    assert first == {"items due": 2, "alerts queued": 4, "items read": 2}
    assert run("scan") == {"items due": 2, "alerts queued": 0, "items read": 2}
    assert len(alerts()) == 4


def test_an_old_lapse_is_never_news_to_a_new_recipient(app_context, run, frozen, client, auth):
    tech = f.person("technologist", "Tess", "Nguyen", email=None)
    f.credential(tech, "CNIM", expires_on=TODAY - timedelta(days=300))
    recent = f.credential(tech, "BLS", expires_on=TODAY - timedelta(days=3))
    # a first-ever scan looks back a week: the BLS is news, the CNIM of 300 days ago is not read
    assert run("scan") == {"items due": 1, "alerts queued": 1, "items read": 1}
    assert [(a.item_id, a.threshold_days) for a in alerts()] == [(recent.id, -1)]

    frozen.advance(days=1)
    f.change(tech, email="tess@example.org")
    client.post("/api/v1/webhooks", json={"url": "https://hooks.example.org/new"}, headers=auth)
    newcomers = {"COORDINATOR_EMAILS": [COORDINATOR, "new.coordinator@example.org"]}
    assert run("scan", **newcomers) == {"items due": 0, "alerts queued": 0, "items read": 0}
    assert len(alerts()) == 1


def test_lapses_during_a_scheduler_outage_are_caught_up_once(app_context, run, frozen):
    tech = f.person(email="tess@example.org")
    f.credential(tech, "CNIM", expires_on=TODAY - timedelta(days=30))  # old news already
    during = f.credential(tech, "BLS", expires_on=TODAY + timedelta(days=5))
    run("scan")
    assert [a.recipient for a in alerts(threshold_days=7)] == [COORDINATOR, "tess@example.org"]
    frozen.advance(days=20)  # down for 20 days: the BLS lapsed 14 days ago, unseen
    assert run("scan")["alerts queued"] == 2
    frozen.advance(days=1)
    assert run("scan")["alerts queued"] == 0
    mine = alerts(recipient="tess@example.org")
    assert [(a.item_id, a.threshold_days) for a in mine] == [(during.id, 7), (during.id, -1)]
    assert mine[1].event == "credential.expired"


def held_back_renewal():
    """Tess's CNIM lapses in 20 days; her later CNIM was verified on 1 March, before the
    revocation of 1 June of another CNIM of hers, so the rules do not count it."""
    spine = f.facility("Spine Center")
    tech = f.person("technologist", "Tess", "Nguyen")
    doc = f.person("physician", "Omar", "Haddad")
    f.appointment(tech, spine)
    f.agreement(spine, doc, technologists=[tech])
    lapsing = f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=20))
    f.change(lapsing, verified_on=date(2026, 7, 1))
    later = f.credential(tech, "CNIM", expires_on=date(2031, 12, 31), verified_on=date(2026, 3, 1))
    f.credential(
        tech,
        "CNIM",
        expires_on=date(2030, 12, 31),
        status="revoked",
        revoked_on=date(2026, 6, 1),
        verified_on=date(2025, 1, 1),
    )
    return lapsing, later


def test_a_lapsing_cnim_whose_renewal_is_held_back_is_alerted_and_mailed(
    app_context, run, smtp_server, frozen
):
    lapsing, _ = held_back_renewal()
    assert run("scan")["alerts queued"] == 3
    assert {(a.item_id, a.recipient, a.threshold_days) for a in alerts()} == {
        (lapsing.id, "tess.nguyen@example.org", 30),
        (lapsing.id, "omar.haddad@example.org", 30),
        (lapsing.id, COORDINATOR, 30),
    }
    assert run("deliver") == {"sent": 3}
    assert smtp_server.subjects("tess.nguyen@example.org") == [
        "Your CNIM expires in 20 days (17 Dec 2026)"
    ]
    assert smtp_server.subjects("omar.haddad@example.org") == [
        "Tess Nguyen: CNIM expires in 20 days (17 Dec 2026)"
    ]


def test_a_queued_alert_is_withdrawn_once_the_renewal_counts(app_context, run, smtp_server, frozen):
    lapsing, later = held_back_renewal()
    run("scan")
    f.change(later, verified_on=date(2026, 6, 2))  # verified again after the revocation
    assert run("deliver") == {"withdrawn": 3}
    assert smtp_server.received == []
    frozen.advance(days=30)
    assert run("scan")["alerts queued"] == 0  # not after the lapse either: it was renewed


def test_the_scan_reads_in_a_fixed_number_of_statements(app_context, run, frozen):
    from sqlalchemy import event

    spine = f.facility("Spine Center")
    doc = f.person("physician", "Omar", "Haddad")
    f.agreement(spine, doc, technologists=[])

    def technologists(n: int, first: int) -> None:
        for i in range(first, first + n):
            tech = f.person("technologist", f"T{i}", "Tech")
            f.appointment(tech, spine)
            f.agreement(spine, f.person("physician", f"P{i}", "Doc"), technologists=[tech])
            f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=20))

    def selects_in_a_scan() -> int:
        seen = []

        def watch(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", watch)
        try:
            queued = run("scan")["alerts queued"]
        finally:
            event.remove(db.engine, "before_cursor_execute", watch)
        assert queued > 0
        return len(seen)

    technologists(2, 0)
    few = selects_in_a_scan()
    technologists(12, 2)
    assert selects_in_a_scan() == few
    # each technologist heard about by the physician of every agreement covering them there
    omar = {a.item_id for a in alerts(recipient="omar.haddad@example.org")}
    assert len(omar) == 14
    assert len(alerts(recipient="p7.doc@example.org")) == 1


def test_physicians_hear_only_where_the_technologists_appointment_is_in_force(
    app_context, run, frozen
):
    spine = f.facility("Spine Center")
    river = f.facility("River Market Hospital")
    tech = f.person("technologist", "Tess", "Nguyen")
    f.appointment(tech, spine)
    f.appointment(tech, river, expires_on=TODAY - timedelta(days=5))  # lapsed, still "active"
    f.agreement(spine, f.person("physician", "Amy", "Adams"), technologists=[tech])
    f.agreement(river, f.person("physician", "Ben", "Brown"), technologists=[tech])
    f.agreement(spine, f.person("physician", "Cy", "Cole"), effective_to=TODAY - timedelta(days=1))
    f.credential(tech, "CNIM", expires_on=TODAY + timedelta(days=30))
    run("scan")
    assert sorted(a.recipient for a in alerts(channel="email", item_type="credential")) == sorted(
        [COORDINATOR, "tess.nguyen@example.org", "amy.adams@example.org"]
    )
