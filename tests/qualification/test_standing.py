"""A record's standing on a date: the engine's one reading of whether it counts."""

from datetime import date

import pytest

from registry.qualification import engine as e
from tests.qualification.test_engine import (
    FACILITY,
    TECH,
    TYPES,
    agreement,
    appointment,
    cred,
    physician,
    run,
    technologist,
)

POLICY = e.Policy()
DAY = date(2026, 6, 10)


@pytest.mark.parametrize(
    ("credential", "revocations", "state", "message"),
    [
        (cred("c", "CNIM"), (), e.VALID, "CNIM certification is valid through 2030-12-31."),
        (
            cred("c", "CNIM", date(2025, 7, 4)),
            (),
            e.LAPSED,
            "CNIM certification lapsed after 2025-07-04.",
        ),
        (
            cred("c", "CNIM", issued_on=date(2026, 7, 1)),
            (),
            e.NOT_YET_VALID,
            "CNIM certification is valid from 2026-07-01.",
        ),
        (
            cred("c", "CNIM", verified=False),
            (),
            e.UNVERIFIED,
            "CNIM certification has not been verified.",
        ),
        (
            cred("c", "CNIM", status="suspended", expires_on=date(2020, 1, 1)),
            (),
            e.SUSPENDED,
            "CNIM certification is suspended.",
        ),
        (
            cred("c", "CNIM", status="revoked", revoked_on=date(2026, 11, 2)),
            (),
            e.REVOKED,
            "CNIM certification revoked on 2026-11-02.",
        ),
        (
            cred("c", "CNIM", status="entered_in_error"),
            (),
            e.ENTERED_IN_ERROR,
            "CNIM certification was entered in error.",
        ),
        (
            cred("c", "MEDICAL_LICENSE", jurisdiction="KS", verified_on=date(2026, 1, 5)),
            (e.RevocationFact("r", "MEDICAL_LICENSE", "KS", date(2026, 3, 1)),),
            e.HELD_BACK,
            "Medical license in KS was verified on 2026-01-05, before the revocation of "
            "2026-03-01; only a verification made on or after 2026-03-01 counts.",
        ),
    ],
)
def test_a_credentials_standing_names_its_most_serious_shortfall(
    credential, revocations, state, message
):
    standing = e.credential_standing(
        credential, DAY, policy=POLICY, credential_types=TYPES, revocations=revocations
    )
    assert (standing.state, standing.message) == (state, message)
    assert standing.counts is (state == e.VALID)
    # a record that counts for nothing never reads as valid
    assert (standing.label == "Valid") is standing.counts


def test_a_revoked_credential_stands_revoked_whatever_its_dates_say():
    revoked = cred("c", "CNIM", date(2029, 12, 31), status="revoked", revoked_on=date(2026, 1, 2))
    standing = e.credential_standing(revoked, DAY, policy=POLICY, credential_types=TYPES)
    assert standing.state == e.REVOKED and not standing.counts
    assert standing.changes_on is None  # no date brings it back: only a reinstatement


def test_the_date_that_changes_a_standing():
    valid = e.credential_standing(cred("c", "CNIM", date(2026, 12, 31)), DAY, policy=POLICY)
    assert valid.changes_on == date(2027, 1, 1)
    later = e.credential_standing(cred("c", "CNIM", issued_on=date(2026, 7, 1)), DAY, policy=POLICY)
    assert later.changes_on == date(2026, 7, 1)
    assert e.credential_standing(cred("c", "CNIM", None), DAY, policy=POLICY).changes_on is None


def test_a_window_counts_only_when_every_day_of_it_does():
    c = cred("c", "CNIM", date(2026, 6, 12))
    assert e.credential_standing(c, DAY, date(2026, 6, 12), policy=POLICY).counts
    assert not e.credential_standing(c, DAY, date(2026, 6, 13), policy=POLICY).counts


def test_the_policy_may_accept_unverified_credentials():
    policy = e.Policy(accept_unverified=True)
    assert e.credential_standing(cred("c", "CNIM", verified=False), DAY, policy=policy).counts


def test_appointment_and_agreement_standing():
    assert e.appointment_standing(appointment(), DAY).state == e.VALID
    assert e.appointment_standing(appointment(status="suspended"), DAY).state == e.SUSPENDED
    assert e.appointment_standing(appointment(status="ended"), DAY).state == e.ENDED
    lapsed = e.appointment_standing(appointment(expires_on=date(2026, 6, 9)), DAY)
    assert (lapsed.state, lapsed.message) == (e.LAPSED, "Appointment lapsed after 2026-06-09.")
    assert e.appointment_standing(appointment(starts_on=date(2026, 7, 1)), DAY).changes_on == (
        date(2026, 7, 1)
    )
    assert e.agreement_standing(agreement(), DAY).state == e.VALID
    assert e.agreement_standing(agreement(active=False), DAY).state == e.ENDED
    assert e.agreement_standing(agreement(effective_to=date(2026, 1, 1)), DAY).state == e.LAPSED


FACILITIES = {FACILITY.id: FACILITY}


def work(person, facilities=FACILITIES, policy=POLICY):
    return e.work_standing(person, facilities, credential_types=TYPES, policy=policy, on=DAY)


def test_a_qualified_technologist_can_work_at_their_facility():
    standing = work(technologist())
    assert standing.can_work and standing.facility_ids == (FACILITY.id,)
    assert standing.summary == "can work at 1 facility"


def test_a_revoked_cnim_keeps_a_technologist_from_working_and_says_so():
    person = technologist(
        credentials=(
            cred("c", "CNIM", status="revoked", revoked_on=date(2026, 1, 2)),
            cred("b", "BLS"),
        )
    )
    standing = work(person)
    assert not standing.can_work
    assert standing.summary == "cannot work: CNIM revoked"
    assert [r.code for r in standing.blockers] == [e.CREDENTIAL_INACTIVE]


def test_work_standing_counts_facilities_and_names_what_blocks_the_rest():
    other = e.FacilityFact("F2", "St. Luke's", "IL", "America/Chicago", ("ACLS",))
    person = technologist(appointments=(appointment("A1"), appointment("A2", facility_id="F2")))
    standing = work(person, {FACILITY.id: FACILITY, "F2": other})
    assert standing.facility_ids == (FACILITY.id,) and standing.summary == "can work at 1 facility"
    both = technologist(
        appointments=(appointment("A1"), appointment("A2", facility_id="F2")),
        credentials=(cred("c", "CNIM"), cred("b", "BLS"), cred("a", "ACLS")),
    )
    assert work(both, {FACILITY.id: FACILITY, "F2": other}).summary == "can work at 2 facilities"


@pytest.mark.parametrize(
    ("person", "summary"),
    [
        (technologist(active=False), "cannot work: inactive"),
        (technologist(appointments=()), "cannot work: no appointment"),
        (
            technologist(appointments=(), credentials=(cred("b", "BLS"),)),
            "cannot work: no technologist certification on file (accepted: CNIM, DABNM)",
        ),
        (
            technologist(appointments=(appointment(expires_on=date(2026, 1, 1)),)),
            "cannot work: no appointment in force",
        ),
        (
            technologist(credentials=(cred("c", "CNIM", date(2026, 1, 1)), cred("b", "BLS"))),
            "cannot work: CNIM lapsed",
        ),
        (
            physician(
                credentials=(
                    cred("c-abcn", "ABCN"),
                    cred("l", "MEDICAL_LICENSE", date(2026, 1, 1), jurisdiction="IL"),
                    cred("c-bls-p", "BLS"),
                )
            ),
            "cannot work: Medical license in IL lapsed",
        ),
    ],
)
def test_what_keeps_a_person_from_working_in_a_few_words(person, summary):
    assert work(person).summary == summary


def test_a_revoked_credential_is_on_file_in_the_check_and_named_with_its_date():
    person = technologist(
        credentials=(
            cred("c", "CNIM", status="revoked", revoked_on=date(2026, 11, 2)),
            cred("b", "BLS"),
        )
    )
    (reason,) = run(person, TECH).reasons
    assert (reason.code, reason.message, reason.evidence) == (
        e.CREDENTIAL_INACTIVE,
        "CNIM certification revoked on 2026-11-02.",
        ("c",),
    )
