"""Renewals in the expiration list, as a coordinator meets them: a lapsing record is left out
only when a renewal that the rules engine counts takes over the day after it lapses."""

from datetime import date, timedelta

from registry.database import db
from registry.expirations.service import current_lapse_date
from tests import factories as f

URL = "/api/v1/expirations"
TODAY = date(2026, 11, 27)  # the frozen clock's day in Chicago
LAPSES = TODAY + timedelta(days=20)


def listed(client, auth, query=""):
    response = client.get(f"{URL}?page_size=100{query}", headers=auth)
    assert response.status_code == 200, response.json
    return [(item["item_type"], item["item_id"], item["days_left"]) for item in response.json]


def lapsing_cnim_with_a_held_back_renewal():
    """Tess's CNIM lapses in 20 days; her later CNIM was verified on 1 March, before the
    revocation of 1 June of another CNIM of hers, so the rules do not count it."""
    where = f.facility()
    doc = f.qualified_physician(where)
    tess = f.person("technologist", "Tess", "Nguyen")
    f.credential(tess, "BLS")
    f.appointment(tess, where)
    f.scope(tess, "perform")
    f.agreement(where, doc)
    lapsing = f.credential(tess, "CNIM", expires_on=LAPSES, verified_on=date(2026, 7, 1))
    later = f.credential(
        tess,
        "CNIM",
        issued_on=date(2026, 1, 1),
        expires_on=date(2031, 12, 31),
        verified_on=date(2026, 3, 1),
    )
    f.credential(
        tess,
        "CNIM",
        expires_on=date(2030, 12, 31),
        verified_on=date(2025, 1, 1),
        status="revoked",
        revoked_on=date(2026, 6, 1),
    )
    db.session.commit()
    return where, tess, lapsing, later


def test_a_lapsing_cnim_whose_renewal_is_held_back_is_listed(
    app_context, client, auth, frozen_clock
):
    where, tess, lapsing, later = lapsing_cnim_with_a_held_back_renewal()
    assert ("credential", lapsing.id, 20) in listed(client, auth)
    assert ("credential", lapsing.id, 20) in listed(client, auth, "&kind=credential")
    assert current_lapse_date(session=db.session, item_type="credential", item_id=lapsing.id) == (
        LAPSES
    )
    # the check for a case after the lapse agrees: no CNIM counts then
    day_after = LAPSES + timedelta(days=1)
    check = client.post(
        "/api/v1/qualification-checks",
        json={
            "person_id": tess.id,
            "role": "technologist",
            "case": {
                "facility_id": where.id,
                "starts_at": f"{day_after}T08:00:00-06:00",
                "ends_at": f"{day_after}T12:00:00-06:00",
                "modalities": ["SSEP"],
            },
        },
        headers=auth,
    )
    assert check.status_code == 200, check.json
    assert check.json["qualified"] is False
    first = check.json["reasons"][0]
    assert (first["code"], first["evidence"]) == ("CREDENTIAL_EXPIRED", [lapsing.id])


def test_a_renewal_verified_after_the_revocation_counts_and_hides_the_lapsing_cnim(
    app_context, client, auth, frozen_clock
):
    where, tess, lapsing, later = lapsing_cnim_with_a_held_back_renewal()
    later.verified_on = date(2026, 6, 2)  # re-verified after the revocation
    db.session.commit()
    assert lapsing.id not in [item_id for _, item_id, _ in listed(client, auth)]
    assert current_lapse_date(session=db.session, item_type="credential", item_id=lapsing.id) is (
        None
    )


def test_a_renewal_that_starts_after_the_lapse_leaves_a_gap_and_renews_nothing(
    app_context, client, auth, frozen_clock
):
    tess = f.person("technologist", "Tess", "Nguyen")
    lapsing = f.credential(tess, "BLS", expires_on=LAPSES)
    f.credential(tess, "BLS", issued_on=LAPSES + timedelta(days=2), expires_on=date(2029, 1, 1))
    on_time = f.credential(tess, "ACLS", expires_on=LAPSES)
    f.credential(tess, "ACLS", issued_on=LAPSES + timedelta(days=1), expires_on=date(2029, 1, 1))
    db.session.commit()
    ids = [item_id for _, item_id, _ in listed(client, auth)]
    assert lapsing.id in ids
    assert on_time.id not in ids


def test_appointments_and_agreements_are_renewed_only_by_records_in_force_the_day_after(
    app_context, client, auth, frozen_clock
):
    where = f.facility()
    doc = f.person("physician", "Omar", "Haddad")
    tess = f.person("technologist", "Tess", "Nguyen")
    gap = f.appointment(tess, where, expires_on=LAPSES)
    f.appointment(tess, where, starts_on=LAPSES + timedelta(days=3), expires_on=date(2029, 1, 1))
    seamless = f.appointment(doc, where, expires_on=LAPSES)
    f.appointment(doc, where, starts_on=LAPSES + timedelta(days=1), expires_on=date(2029, 1, 1))
    renewed = f.agreement(where, doc, effective_to=LAPSES)
    renewal = f.agreement(
        where, doc, effective_from=date(2026, 1, 1), effective_to=date(2029, 1, 1)
    )
    db.session.commit()
    ids = [item_id for _, item_id, _ in listed(client, auth)]
    assert gap.id in ids
    assert seamless.id not in ids
    assert renewed.id not in ids
    renewal.active = False  # the renewal ends: the agreement it renewed lapses again
    db.session.commit()
    assert renewed.id in [item_id for _, item_id, _ in listed(client, auth)]
    assert current_lapse_date(session=db.session, item_type="agreement", item_id=renewed.id) == (
        LAPSES
    )
