"""Table tests for the pure qualification rules engine (no database, no app)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from registry.qualification import engine as e

CHICAGO = ZoneInfo("America/Chicago")

TYPES = {
    t.code: t
    for t in (
        e.CredentialTypeFact("CNIM", "Certified in Neurophysiologic IOM", "certification"),
        e.CredentialTypeFact("DABNM", "Diplomate ABNM", "certification"),
        e.CredentialTypeFact(
            "ABCN", "American Board of Clinical Neurophysiology", "board_certification"
        ),
        e.CredentialTypeFact("ABPN-N", "ABPN Neurology", "board_certification"),
        e.CredentialTypeFact(
            "ABPN-CN", "ABPN Clinical Neurophysiology", "board_certification", "ABPN-N"
        ),
        e.CredentialTypeFact("MEDICAL_LICENSE", "Medical license", "license"),
        e.CredentialTypeFact("BLS", "Basic Life Support", "training"),
    )
}

FACILITY = e.FacilityFact("F1", "Mercy Hospital", "IL", "America/Chicago", ("BLS",))
OTHER_FACILITY_ID = "F2"
TECH_ID = "T1"
DOC_ID = "P1"


def local(*args: int) -> datetime:
    """An aware datetime in the facility's zone."""
    return datetime(*args, tzinfo=CHICAGO)


def cred(cid, type_code, expires_on=date(2030, 12, 31), **kw) -> e.CredentialFact:
    values = {
        "status": "active",
        "verified": True,
        "issued_on": date(2022, 1, 1),
        "jurisdiction": None,
    }
    values.update(kw)
    return e.CredentialFact(id=cid, type_code=type_code, expires_on=expires_on, **values)


def appointment(aid="A1", **kw) -> e.AppointmentFact:
    values = {
        "facility_id": FACILITY.id,
        "status": "active",
        "starts_on": date(2025, 1, 1),
        "expires_on": date(2028, 1, 1),
    }
    values.update(kw)
    return e.AppointmentFact(id=aid, **values)


def scope(sid, activity, modalities=("SSEP", "TCMEP", "EMG"), **kw) -> e.ScopeFact:
    values = {"facility_id": None, "effective_from": date(2025, 1, 1), "effective_to": None}
    values.update(kw)
    return e.ScopeFact(id=sid, activity=activity, modalities=frozenset(modalities), **values)


def agreement(gid="G1", **kw) -> e.AgreementFact:
    values = {
        "facility_id": FACILITY.id,
        "physician_id": DOC_ID,
        "technologist_ids": frozenset(),
        "modes": frozenset({"in_person", "remote"}),
        "max_concurrent_cases": 3,
        "effective_from": date(2025, 1, 1),
        "effective_to": None,
        "active": True,
    }
    values.update(kw)
    return e.AgreementFact(id=gid, **values)


def booking(bid, start, end, remote=True, payer="commercial", role="interpreting_physician"):
    return e.BookingFact(bid, role, FACILITY.id, start, end, remote, payer)


def technologist(**kw) -> e.PersonFacts:
    values = {
        "id": TECH_ID,
        "kind": "technologist",
        "active": True,
        "name": "Tess Tech",
        "credentials": (cred("c-cnim", "CNIM"), cred("c-bls-t", "BLS")),
        "appointments": (appointment("A-T"),),
        "scopes": (scope("S-T", "perform"),),
        "bookings": (),
    }
    values.update(kw)
    return e.PersonFacts(**values)


def physician(**kw) -> e.PersonFacts:
    values = {
        "id": DOC_ID,
        "kind": "physician",
        "active": True,
        "name": "Dr. Pat Doc",
        "credentials": (
            cred("c-abcn", "ABCN"),
            cred("c-lic-il", "MEDICAL_LICENSE", jurisdiction="IL"),
            cred("c-bls-p", "BLS"),
        ),
        "appointments": (appointment("A-P"),),
        "scopes": (scope("S-P", "interpret"),),
        "bookings": (),
    }
    values.update(kw)
    return e.PersonFacts(**values)


def facts(person, agreements=(agreement(),), facility=FACILITY) -> e.Facts:
    return e.Facts(person, facility, TYPES, tuple(agreements))


def case(start=None, end=None, **kw) -> e.Case:
    start = start or local(2026, 6, 10, 8)
    end = end or start + timedelta(hours=4)
    values = {"modalities": ("SSEP", "TCMEP")}
    values.update(kw)
    return e.Case(FACILITY.id, start, end, **values)


POLICY = e.Policy()
TECH = "technologist"
DOC = "interpreting_physician"


def run(person, role, the_case=None, policy=POLICY, agreements=(agreement(),), facility=FACILITY):
    return e.evaluate(facts(person, agreements, facility), role, the_case or case(), policy)


def codes(decision) -> list[tuple[str, str]]:
    return [(r.requirement, r.code) for r in decision.reasons]


# --- the baseline ----------------------------------------------------------------------------


def test_baseline_technologist_is_qualified_with_evidence_for_every_requirement():
    d = run(technologist(), TECH)
    assert d.qualified and d.reasons == () and d.warnings == ()
    assert [(x.requirement, x.kind, x.id) for x in d.evidence] == [
        ("person", "person", TECH_ID),
        ("certification", "credential", "c-cnim"),
        ("facility_credentials", "credential", "c-bls-t"),
        ("appointment", "appointment", "A-T"),
        ("scope", "scope", "S-T"),
        ("supervision", "agreement", "G1"),
    ]
    cnim = d.evidence[1].to_dict()
    assert cnim == {
        "requirement": "certification",
        "kind": "credential",
        "id": "c-cnim",
        "type": "CNIM",
        "issued_on": "2022-01-01",
        "expires_on": "2030-12-31",
        "jurisdiction": None,
    }


def test_baseline_physician_is_qualified_with_evidence_for_every_requirement():
    d = run(physician(), DOC)
    assert d.qualified, d.reasons
    assert [x.requirement for x in d.evidence] == [
        "person",
        "board_certification",
        "license",
        "facility_credentials",
        "appointment",
        "scope",
        "supervision",
    ]
    assert d.evidence[2].details["jurisdiction"] == "IL"


def test_requirement_keys_are_named_in_order():
    assert e.REQUIREMENTS["technologist"][0] == "person"
    assert e.REQUIREMENTS["technologist"][-1] == "schedule"
    assert e.REQUIREMENTS["interpreting_physician"][-1] == "concurrency"
    assert set(e.REQUIREMENTS) == set(e.ROLES)


# --- the table: one row per reason, both roles -----------------------------------------------

YEAR_END = case(local(2026, 12, 31, 22), local(2027, 1, 1, 2))
PAST = date(2026, 1, 1)

TABLE = [
    # (name, person, role, case, policy, agreements, expected (requirement, code) list)
    (
        "inactive person",
        technologist(active=False),
        TECH,
        None,
        POLICY,
        None,
        [("person", e.PERSON_INACTIVE)],
    ),
    (
        "physician asked as technologist",
        physician(),
        TECH,
        None,
        POLICY,
        None,
        [
            ("person", e.ROLE_MISMATCH),
            ("certification", e.MISSING_CREDENTIAL),
            ("scope", e.SCOPE_NOT_COVERED),
        ],
    ),
    (
        "technologist asked as physician",
        technologist(),
        DOC,
        None,
        POLICY,
        None,
        [
            ("person", e.ROLE_MISMATCH),
            ("board_certification", e.MISSING_CREDENTIAL),
            ("license", e.MISSING_CREDENTIAL),
            ("scope", e.SCOPE_NOT_COVERED),
            ("supervision", e.NO_SUPERVISION_AGREEMENT),
        ],
    ),
    (
        "no certification",
        technologist(credentials=(cred("b", "BLS"),)),
        TECH,
        None,
        POLICY,
        None,
        [("certification", e.MISSING_CREDENTIAL)],
    ),
    ("year-end case, CNIM valid for years", technologist(), TECH, YEAR_END, POLICY, None, []),
    (
        "CNIM expiring 2026-12-31 on a case into 1 Jan",
        technologist(credentials=(cred("c", "CNIM", date(2026, 12, 31)), cred("b", "BLS"))),
        TECH,
        YEAR_END,
        POLICY,
        None,
        [("certification", e.CREDENTIAL_EXPIRED)],
    ),
    (
        "CNIM not yet issued",
        technologist(
            credentials=(cred("c", "CNIM", issued_on=date(2026, 6, 11)), cred("b", "BLS"))
        ),
        TECH,
        None,
        POLICY,
        None,
        [("certification", e.CREDENTIAL_NOT_YET_VALID)],
    ),
    (
        "CNIM suspended",
        technologist(credentials=(cred("c", "CNIM", status="suspended"), cred("b", "BLS"))),
        TECH,
        None,
        POLICY,
        None,
        [("certification", e.CREDENTIAL_INACTIVE)],
    ),
    (
        "CNIM unverified",
        technologist(credentials=(cred("c", "CNIM", verified=False), cred("b", "BLS"))),
        TECH,
        None,
        POLICY,
        None,
        [("certification", e.CREDENTIAL_UNVERIFIED)],
    ),
    (
        "CNIM unverified, policy accepts unverified",
        technologist(credentials=(cred("c", "CNIM", verified=False), cred("b", "BLS"))),
        TECH,
        None,
        e.Policy(accept_unverified=True),
        None,
        [],
    ),
    (
        "CNIM entered in error is ignored",
        technologist(credentials=(cred("c", "CNIM", status="entered_in_error"), cred("b", "BLS"))),
        TECH,
        None,
        POLICY,
        None,
        [("certification", e.MISSING_CREDENTIAL)],
    ),
    (
        # SPEC: a revoked credential is on file; only entered_in_error is as if absent
        "CNIM revoked is on file",
        technologist(credentials=(cred("c", "CNIM", status="revoked"), cred("b", "BLS"))),
        TECH,
        None,
        POLICY,
        None,
        [("certification", e.CREDENTIAL_INACTIVE)],
    ),
    (
        "DABNM stands in for CNIM",
        technologist(credentials=(cred("d", "DABNM"), cred("b", "BLS"))),
        TECH,
        None,
        POLICY,
        None,
        [],
    ),
    (
        "facility requires BLS, none held",
        technologist(credentials=(cred("c", "CNIM"),)),
        TECH,
        None,
        POLICY,
        None,
        [("facility_credentials", e.MISSING_CREDENTIAL)],
    ),
    (
        "facility BLS expired",
        physician(
            credentials=(
                cred("a", "ABCN"),
                cred("l", "MEDICAL_LICENSE", jurisdiction="IL"),
                cred("b", "BLS", PAST),
            )
        ),
        DOC,
        None,
        POLICY,
        None,
        [("facility_credentials", e.CREDENTIAL_EXPIRED)],
    ),
    (
        "no appointment",
        technologist(appointments=()),
        TECH,
        None,
        POLICY,
        None,
        [("appointment", e.NO_APPOINTMENT)],
    ),
    (
        "appointment only at another facility",
        technologist(appointments=(appointment(facility_id=OTHER_FACILITY_ID),)),
        TECH,
        None,
        POLICY,
        None,
        [("appointment", e.NO_APPOINTMENT)],
    ),
    (
        "appointment suspended",
        technologist(appointments=(appointment(status="suspended"),)),
        TECH,
        None,
        POLICY,
        None,
        [("appointment", e.NO_APPOINTMENT)],
    ),
    (
        "appointment ended",
        physician(appointments=(appointment(status="ended"),)),
        DOC,
        None,
        POLICY,
        None,
        [("appointment", e.NO_APPOINTMENT)],
    ),
    (
        "appointment expired",
        physician(appointments=(appointment(expires_on=PAST),)),
        DOC,
        None,
        POLICY,
        None,
        [("appointment", e.APPOINTMENT_EXPIRED)],
    ),
    (
        "appointment starts after the case",
        technologist(appointments=(appointment(starts_on=date(2026, 7, 1)),)),
        TECH,
        None,
        POLICY,
        None,
        [("appointment", e.APPOINTMENT_EXPIRED)],
    ),
    (
        "scope covers only some modalities",
        technologist(scopes=(scope("s", "perform", ("SSEP",)),)),
        TECH,
        None,
        POLICY,
        None,
        [("scope", e.SCOPE_NOT_COVERED)],
    ),
    (
        "two scopes together cover the modalities",
        technologist(
            scopes=(scope("s1", "perform", ("SSEP",)), scope("s2", "perform", ("TCMEP",)))
        ),
        TECH,
        None,
        POLICY,
        None,
        [],
    ),
    (
        "scope at another facility",
        technologist(scopes=(scope("s", "perform", facility_id=OTHER_FACILITY_ID),)),
        TECH,
        None,
        POLICY,
        None,
        [("scope", e.SCOPE_NOT_COVERED)],
    ),
    (
        "scope at this facility",
        technologist(scopes=(scope("s", "perform", facility_id="F1"),)),
        TECH,
        None,
        POLICY,
        None,
        [],
    ),
    (
        "interpret scope does not cover perform",
        technologist(scopes=(scope("s", "interpret"),)),
        TECH,
        None,
        POLICY,
        None,
        [("scope", e.SCOPE_NOT_COVERED)],
    ),
    (
        "scope ends before the case",
        physician(scopes=(scope("s", "interpret", effective_to=PAST),)),
        DOC,
        None,
        POLICY,
        None,
        [("scope", e.SCOPE_NOT_COVERED)],
    ),
    (
        "no agreement",
        technologist(),
        TECH,
        None,
        POLICY,
        (),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "agreement inactive",
        physician(),
        DOC,
        None,
        POLICY,
        (agreement(active=False),),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "agreement lists other technologists",
        technologist(),
        TECH,
        None,
        POLICY,
        (agreement(technologist_ids=frozenset({"T9"})),),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "agreement lists this technologist",
        technologist(),
        TECH,
        None,
        POLICY,
        (agreement(technologist_ids=frozenset({"T9", TECH_ID})),),
        [],
    ),
    (
        "agreement ends mid-case (the case crosses midnight)",
        technologist(),
        TECH,
        YEAR_END,
        POLICY,
        (agreement(effective_to=date(2026, 12, 31)),),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "requested supervising physician has no agreement",
        technologist(),
        TECH,
        case(supervising_physician_id="P2"),
        POLICY,
        None,
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "requested supervising physician has an agreement",
        technologist(),
        TECH,
        case(supervising_physician_id="P2"),
        POLICY,
        (agreement(), agreement("G2", physician_id="P2")),
        [],
    ),
    (
        "agreement at another facility",
        physician(),
        DOC,
        None,
        POLICY,
        (agreement(facility_id=OTHER_FACILITY_ID),),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "agreement naming another physician",
        physician(),
        DOC,
        None,
        POLICY,
        (agreement(physician_id="P2"),),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "remote case, agreement in person only",
        physician(),
        DOC,
        case(remote=True),
        POLICY,
        (agreement(modes=frozenset({"in_person"})),),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "in-person case, agreement remote only",
        physician(),
        DOC,
        None,
        POLICY,
        (agreement(modes=frozenset({"remote"})),),
        [("supervision", e.NO_SUPERVISION_AGREEMENT)],
    ),
    (
        "technologist double-booked",
        technologist(
            bookings=(booking("B1", local(2026, 6, 10, 11), local(2026, 6, 10, 13), role=TECH),)
        ),
        TECH,
        None,
        POLICY,
        None,
        [("schedule", e.SCHEDULE_CONFLICT)],
    ),
    (
        "technologist booked back to back",
        technologist(
            bookings=(booking("B1", local(2026, 6, 10, 6), local(2026, 6, 10, 8), role=TECH),)
        ),
        TECH,
        None,
        POLICY,
        None,
        [],
    ),
    (
        "no medical license",
        physician(credentials=(cred("a", "ABCN"), cred("b", "BLS"))),
        DOC,
        None,
        POLICY,
        None,
        [("license", e.MISSING_CREDENTIAL)],
    ),
    (
        "license only in the neighbouring state",
        physician(
            credentials=(
                cred("a", "ABCN"),
                cred("l", "MEDICAL_LICENSE", jurisdiction="WI"),
                cred("b", "BLS"),
            )
        ),
        DOC,
        None,
        POLICY,
        None,
        [("license", e.LICENSE_JURISDICTION)],
    ),
    (
        "patient state overrides the facility state",
        physician(),
        DOC,
        case(patient_state="WI"),
        POLICY,
        None,
        [("license", e.LICENSE_JURISDICTION)],
    ),
    (
        "license in the patient's state",
        physician(
            credentials=(
                cred("a", "ABCN"),
                cred("l", "MEDICAL_LICENSE", jurisdiction="WI"),
                cred("b", "BLS"),
            )
        ),
        DOC,
        case(patient_state="WI", remote=True),
        POLICY,
        None,
        [],
    ),
    (
        "in-person physician with an overlapping case",
        physician(bookings=(booking("B1", local(2026, 6, 10, 9), local(2026, 6, 10, 10)),)),
        DOC,
        None,
        POLICY,
        None,
        [("concurrency", e.CONCURRENCY_LIMIT)],
    ),
]


@pytest.mark.parametrize(
    ("person", "role", "the_case", "policy", "agreements", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in TABLE],
)
def test_table(person, role, the_case, policy, agreements, expected):
    d = run(
        person, role, the_case, policy, agreements if agreements is not None else (agreement(),)
    )
    assert codes(d) == expected
    assert d.qualified == (expected == [])
    for reason in d.reasons:
        assert reason.message and reason.message[0].isupper()


def test_table_exercises_every_reason_code_and_every_requirement():
    seen_codes = {code for row in TABLE for _, code in row[-1]}
    assert seen_codes == set(e.REASON_CODES) - {e.CREDENTIAL_EXPIRED} | {e.CREDENTIAL_EXPIRED}
    seen = {(row[2], req) for row in TABLE for req, _ in row[-1]}
    for role, requirements in e.REQUIREMENTS.items():
        missing = {r for r in requirements if (role, r) not in seen}
        # The remaining requirements of each role are covered by the focused tests below.
        assert missing <= {"certification", "board_certification", "schedule", "concurrency"}


# --- dates and time zones --------------------------------------------------------------------


def test_year_end_case_needs_validity_on_both_dates():
    person = technologist(credentials=(cred("c", "CNIM", date(2026, 12, 31)), cred("b", "BLS")))
    d = run(person, TECH, YEAR_END)
    (reason,) = d.reasons
    assert reason.to_dict() == {
        "code": "CREDENTIAL_EXPIRED",
        "message": "CNIM certification expires 2026-12-31, before the case ends on 2027-01-01 "
        "(America/Chicago).",
        "requirement": "certification",
        "evidence": ["c"],
    }


def test_year_end_case_ending_before_midnight_is_qualified_with_a_warning():
    person = technologist(credentials=(cred("c", "CNIM", date(2026, 12, 31)), cred("b", "BLS")))
    d = run(person, TECH, case(local(2026, 12, 31, 20), local(2026, 12, 31, 23, 59)))
    assert d.qualified
    assert [(w.code, w.evidence) for w in d.warnings] == [(e.EXPIRES_SOON, ("c",))]


def test_case_ending_exactly_at_local_midnight_does_not_touch_the_next_day():
    the_case = case(local(2026, 12, 31, 20), local(2027, 1, 1, 0))
    assert e.case_dates(the_case, "America/Chicago") == (date(2026, 12, 31), date(2026, 12, 31))
    person = technologist(credentials=(cred("c", "CNIM", date(2026, 12, 31)), cred("b", "BLS")))
    assert run(person, TECH, the_case).qualified


def test_utc_timestamps_are_judged_on_the_facility_local_date():
    # 03:00-05:30 UTC on 1 Jan is 21:00-23:30 on 31 Dec in Chicago.
    the_case = case(datetime(2027, 1, 1, 3, tzinfo=UTC), datetime(2027, 1, 1, 5, 30, tzinfo=UTC))
    assert e.case_dates(the_case, "America/Chicago") == (date(2026, 12, 31), date(2026, 12, 31))
    assert e.case_dates(the_case, "UTC") == (date(2027, 1, 1), date(2027, 1, 1))
    person = technologist(credentials=(cred("c", "CNIM", date(2026, 12, 31)), cred("b", "BLS")))
    assert run(person, TECH, the_case).qualified
    # 02:00 UTC on 10 June is still 9 June in Chicago: a credential issued on the 10th is too new.
    early = case(datetime(2026, 6, 10, 2, tzinfo=UTC), datetime(2026, 6, 10, 4, tzinfo=UTC))
    person = technologist(
        credentials=(cred("c", "CNIM", issued_on=date(2026, 6, 10)), cred("b", "BLS"))
    )
    d = run(person, TECH, early)
    assert codes(d) == [("certification", e.CREDENTIAL_NOT_YET_VALID)]
    assert "2026-06-09" in d.reasons[0].message


def test_case_dates_across_a_dst_change_and_several_days():
    the_case = case(local(2026, 3, 7, 22), local(2026, 3, 9, 3))
    assert e.case_dates(the_case, "America/Chicago") == (date(2026, 3, 7), date(2026, 3, 9))


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="unknown role"):
        run(technologist(), "surgeon")
    with pytest.raises(ValueError, match="timezone-aware"):
        e.case_dates(case(datetime(2026, 6, 10, 8), datetime(2026, 6, 10, 9)), "America/Chicago")
    with pytest.raises(ValueError, match="time zone"):
        run(technologist(), TECH, facility=replace(FACILITY, timezone="Mars/Olympus"))
    with pytest.raises(ValueError, match="after"):
        run(technologist(), TECH, case(local(2026, 6, 10, 8), local(2026, 6, 10, 8)))


# --- credentials -----------------------------------------------------------------------------


def test_closest_candidate_prefers_active_lists_every_way_it_fails_and_names_the_suspended():
    person = technologist(
        credentials=(
            cred("c-susp", "CNIM", status="suspended"),
            cred("c-old", "CNIM", PAST, verified=False),
            cred("c-error", "CNIM", status="entered_in_error"),
            cred("b", "BLS"),
        )
    )
    d = run(person, TECH)
    # SPEC: a suspended or revoked credential is on file, so the answer shows it as well
    assert [(r.code, r.evidence) for r in d.reasons] == [
        (e.CREDENTIAL_UNVERIFIED, ("c-old",)),
        (e.CREDENTIAL_EXPIRED, ("c-old",)),
        (e.CREDENTIAL_INACTIVE, ("c-susp",)),
    ]


def test_a_valid_credential_beside_failing_ones_satisfies_the_requirement():
    person = technologist(
        credentials=(
            cred("c-old", "CNIM", PAST),
            cred("c-new", "CNIM", date(2031, 12, 31)),
            cred("b", "BLS"),
        )
    )
    d = run(person, TECH)
    assert d.qualified
    assert [x.id for x in d.evidence if x.requirement == "certification"] == ["c-new"]


def test_missing_certification_names_the_accepted_set():
    d = run(technologist(credentials=(cred("b", "BLS"),)), TECH)
    assert "CNIM, DABNM" in d.reasons[0].message
    d = run(technologist(credentials=(cred("b", "BLS"),)), TECH, policy=e.Policy(("R-EP-T",)))
    assert "R-EP-T" in d.reasons[0].message


def test_reasons_for_every_held_accepted_type_when_none_is_valid():
    person = technologist(
        credentials=(cred("c", "CNIM", PAST), cred("d", "DABNM", verified=False), cred("b", "BLS"))
    )
    d = run(person, TECH)
    assert [(r.code, r.evidence) for r in d.reasons] == [
        (e.CREDENTIAL_EXPIRED, ("c",)),
        (e.CREDENTIAL_UNVERIFIED, ("d",)),
    ]


def _doc_with_boards(*boards):
    return physician(
        credentials=(*boards, cred("l", "MEDICAL_LICENSE", jurisdiction="IL"), cred("b", "BLS"))
    )


def test_abpn_subspecialty_needs_a_valid_primary_certificate():
    d = run(_doc_with_boards(cred("cn", "ABPN-CN"), cred("n", "ABPN-N", PAST)), DOC)
    assert codes(d) == [("board_certification", e.CREDENTIAL_EXPIRED)]
    assert d.reasons[0].evidence == ("n",)
    assert d.reasons[0].message.startswith("ABPN-N board certification expires 2026-01-01")
    assert "ABPN-CN is only valid while ABPN-N is" in d.reasons[0].message


def test_abpn_subspecialty_without_any_primary_certificate():
    d = run(_doc_with_boards(cred("cn", "ABPN-CN")), DOC)
    assert codes(d) == [("board_certification", e.MISSING_CREDENTIAL)]
    assert "ABPN-N" in d.reasons[0].message


def test_abpn_subspecialty_with_valid_primary_lists_both_as_evidence():
    d = run(_doc_with_boards(cred("cn", "ABPN-CN"), cred("n", "ABPN-N", date(2026, 6, 20))), DOC)
    assert d.qualified
    assert [x.id for x in d.evidence if x.requirement == "board_certification"] == ["cn", "n"]
    # The dependency lapses ten days after the case: warned about, not blocking.
    assert [(w.requirement, w.evidence) for w in d.warnings] == [("board_certification", ("n",))]


def test_abcn_alone_is_enough_even_beside_a_broken_abpn_chain():
    assert run(_doc_with_boards(cred("a", "ABCN")), DOC).qualified
    d = run(
        _doc_with_boards(cred("a", "ABCN"), cred("cn", "ABPN-CN"), cred("n", "ABPN-N", PAST)), DOC
    )
    assert d.qualified
    assert [x.id for x in d.evidence if x.requirement == "board_certification"] == ["a"]


def test_dependency_cycles_in_the_catalogue_do_not_loop():
    types = {
        **TYPES,
        "X": e.CredentialTypeFact("X", "X", "certification", "Y"),
        "Y": e.CredentialTypeFact("Y", "Y", "certification", "X"),
    }
    person = technologist(credentials=(cred("x", "X"), cred("y", "Y"), cred("b", "BLS")))
    the_facts = e.Facts(person, FACILITY, types, (agreement(),))
    assert e.evaluate(the_facts, TECH, case(), e.Policy(("X",))).qualified


# --- license ---------------------------------------------------------------------------------


def test_license_jurisdiction_names_the_states_held():
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("l-in", "MEDICAL_LICENSE", jurisdiction="IN"),
            cred("b", "BLS"),
        )
    )
    (reason,) = run(person, DOC).reasons
    assert reason.code == e.LICENSE_JURISDICTION
    assert "IL" in reason.message and "IN, WI" in reason.message
    assert reason.evidence == ("l-in", "l-wi")


def test_license_in_the_right_state_that_fails_gives_the_credential_reasons():
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il", "MEDICAL_LICENSE", jurisdiction="IL", verified=False),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("b", "BLS"),
        )
    )
    d = run(person, DOC)
    assert [(r.requirement, r.code, r.evidence) for r in d.reasons] == [
        ("license", e.CREDENTIAL_UNVERIFIED, ("l-il",))
    ]
    assert "Medical license in IL" in d.reasons[0].message


def test_lapsed_license_in_the_facility_state_suspends_privileges():
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il", "MEDICAL_LICENSE", date(2026, 5, 31), jurisdiction="IL"),
            cred("b", "BLS"),
        )
    )
    d = run(person, DOC)
    assert codes(d) == [
        ("license", e.CREDENTIAL_EXPIRED),
        ("appointment", e.APPOINTMENT_EXPIRED),
    ]
    assert "suspended since 2026-06-01" in d.reasons[1].message
    assert "Mercy Hospital" in d.reasons[1].message
    assert d.reasons[1].evidence == ("l-il",)
    assert not [x for x in d.evidence if x.requirement == "appointment"]


def test_remote_case_for_a_patient_elsewhere_still_needs_privileges_from_a_live_license():
    # Licensed in WI for a WI patient, but the IL license (facility state) lapsed.
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il", "MEDICAL_LICENSE", PAST, jurisdiction="IL"),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("b", "BLS"),
        )
    )
    d = run(person, DOC, case(patient_state="WI", remote=True))
    assert codes(d) == [("appointment", e.APPOINTMENT_EXPIRED)]


def test_a_renewal_issued_after_the_case_does_not_lift_the_suspension():
    # The IL license lapsed before the case; the renewal on file starts only afterwards, so
    # privileges are suspended for the case even though a later license "covers" its end.
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il-old", "MEDICAL_LICENSE", date(2026, 5, 31), jurisdiction="IL"),
            cred(
                "l-il-new",
                "MEDICAL_LICENSE",
                date(2029, 1, 14),
                issued_on=date(2026, 7, 15),
                jurisdiction="IL",
            ),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("b", "BLS"),
        )
    )
    remote_elsewhere = run(person, DOC, case(patient_state="WI", remote=True))
    assert codes(remote_elsewhere) == [("appointment", e.APPOINTMENT_EXPIRED)]
    (reason,) = remote_elsewhere.reasons
    assert reason.message == (
        "Privileges at Mercy Hospital are suspended since 2026-06-01: the medical license in IL "
        "lapsed on 2026-05-31; none on file is in force on 2026-06-10."
    )
    assert reason.evidence == ("l-il-new", "l-il-old")
    # a patient in the facility's state: the license and the privileges both fail
    here = run(person, DOC)
    assert codes(here) == [
        ("license", e.CREDENTIAL_NOT_YET_VALID),
        ("appointment", e.APPOINTMENT_EXPIRED),
    ]
    assert not [x for x in here.evidence if x.requirement == "appointment"]


@pytest.mark.parametrize(
    ("renewal", "suspended"),
    [
        ({}, False),  # active, verified, issued before the case: privileges continue
        ({"verified": False}, True),  # an unverified renewal is not a license in force
        ({"status": "suspended"}, True),
        ({"issued_on": date(2026, 6, 11)}, True),  # issued after the case's only day
    ],
)
def test_only_a_license_in_force_keeps_privileges_after_a_lapse(renewal, suspended):
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il-old", "MEDICAL_LICENSE", date(2026, 5, 31), jurisdiction="IL"),
            cred(
                "l-il-new",
                "MEDICAL_LICENSE",
                **{"jurisdiction": "IL", "issued_on": date(2026, 6, 1), **renewal},
            ),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("b", "BLS"),
        )
    )
    d = run(person, DOC, case(patient_state="WI", remote=True))
    assert (("appointment", e.APPOINTMENT_EXPIRED) in codes(d)) == suspended
    assert d.qualified == (not suspended)


def test_a_license_lapsing_mid_case_suspends_from_the_next_day():
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il", "MEDICAL_LICENSE", date(2026, 12, 31), jurisdiction="IL"),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("b", "BLS"),
        )
    )
    d = run(person, DOC, case(local(2026, 12, 31, 22), local(2027, 1, 1, 2), patient_state="WI"))
    (reason,) = d.reasons
    assert reason.code == e.APPOINTMENT_EXPIRED
    assert reason.message.startswith("Privileges at Mercy Hospital are suspended since 2027-01-01")
    assert reason.message.endswith("lapsed on 2026-12-31.")


def test_the_lapse_is_the_end_of_the_last_license_in_force():
    # the unverified IL license expiring later never lifted anything: privileges ended with
    # the verified one
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il", "MEDICAL_LICENSE", date(2026, 6, 5), jurisdiction="IL"),
            cred(
                "l-il-unv", "MEDICAL_LICENSE", date(2026, 6, 8), jurisdiction="IL", verified=False
            ),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("b", "BLS"),
        )
    )
    (reason,) = run(person, DOC, case(patient_state="WI", remote=True)).reasons
    assert reason.message.startswith(
        "Privileges at Mercy Hospital are suspended since 2026-06-06: the medical license in IL "
        "lapsed on 2026-06-05"
    )


def test_privileges_lapsing_soon_with_the_facility_state_license_are_warned_about():
    # A WI patient: the IL license is not the license requirement's, but privileges at the IL
    # facility end with it ten days after the case.
    person = physician(
        credentials=(
            cred("a", "ABCN"),
            cred("l-il-2019", "MEDICAL_LICENSE", date(2019, 6, 30), jurisdiction="IL"),
            cred("l-il", "MEDICAL_LICENSE", date(2026, 6, 20), jurisdiction="IL"),
            cred("l-wi", "MEDICAL_LICENSE", jurisdiction="WI"),
            cred("b", "BLS"),
        )
    )
    d = run(person, DOC, case(patient_state="WI", remote=True))
    assert d.qualified
    (warning,) = d.warnings  # citing the license that ends, not the one of 2019
    assert (warning.code, warning.requirement, warning.evidence) == (
        e.EXPIRES_SOON,
        "appointment",
        ("l-il",),
    )
    assert warning.message == (
        "The medical license in IL, on which privileges at Mercy Hospital depend, expires "
        "2026-06-20, 10 days after the case ends on 2026-06-10."
    )
    # for a patient in IL the license requirement warns about that license, once
    (only,) = run(person, DOC).warnings
    assert only.requirement == "license"


@pytest.mark.parametrize("role", [TECH, DOC])
def test_a_scope_ending_soon_after_the_case_is_warned_about(role):
    activity = "perform" if role == TECH else "interpret"
    ending = scope("s-end", activity, effective_to=date(2026, 6, 20))
    person = (technologist if role == TECH else physician)(scopes=(ending,))
    d = run(person, role)
    assert d.qualified
    (warning,) = d.warnings
    assert (warning.code, warning.requirement, warning.evidence) == (
        e.EXPIRES_SOON,
        "scope",
        ("s-end",),
    )
    assert warning.message == (
        f"Scope of practice to {activity} SSEP, TCMEP expires 2026-06-20, 10 days after the "
        "case ends on 2026-06-10."
    )


def test_a_scope_ending_soon_is_not_warned_about_where_another_covers_longer():
    ending = scope("s-end", "perform", effective_to=date(2026, 6, 20))
    # an open scope here covers SSEP beyond: only TCMEP's coverage ends with s-end
    lasting = scope("s-here", "perform", ("SSEP",), facility_id=FACILITY.id)
    (warning,) = run(technologist(scopes=(ending, lasting)), TECH).warnings
    assert warning.message.startswith("Scope of practice to perform TCMEP expires 2026-06-20")
    everything = scope("s-all", "perform", ("SSEP", "TCMEP"))
    assert run(technologist(scopes=(ending, everything)), TECH).warnings == ()
    # a scope at this facility says so
    here = scope("s-f", "perform", facility_id=FACILITY.id, effective_to=date(2026, 6, 10))
    (warning,) = run(technologist(scopes=(here,)), TECH).warnings
    assert warning.message == (
        "Scope of practice to perform SSEP, TCMEP at Mercy Hospital expires 2026-06-10, on the "
        "last day of the case."
    )


def test_an_agreement_listing_no_technologists_covers_one_without_an_appointment_here():
    # requirement 6 holds ("listed, or the list is empty"); the missing appointment is
    # requirement 4's reason, given once
    d = run(technologist(appointments=()), TECH)
    assert codes(d) == [("appointment", e.NO_APPOINTMENT)]


def test_no_scope_warning_when_the_case_names_no_modality():
    ending = scope("s-end", "perform", ("SSEP",), effective_to=date(2026, 6, 20))
    lasting = scope("s-open", "perform", ("TCMEP",))
    assert run(technologist(scopes=(ending, lasting)), TECH, case(modalities=())).warnings == ()


# --- appointment, scope, supervision messages -------------------------------------------------


def test_suspended_appointment_message_names_the_facility_and_status():
    d = run(technologist(appointments=(appointment("A9", status="suspended"),)), TECH)
    (reason,) = d.reasons
    assert reason.message == "Appointment at Mercy Hospital is suspended."
    assert reason.evidence == ("A9",)


def test_scope_not_covered_lists_the_missing_modalities():
    person = technologist(scopes=(scope("s", "perform", ("SSEP",)),))
    d = run(person, TECH, case(modalities=("SSEP", "TCMEP", "EMG")))
    (reason,) = d.reasons
    assert "TCMEP, EMG" in reason.message and "SSEP," not in reason.message
    assert reason.evidence == ("s",)


def test_scope_elsewhere_is_mentioned_as_the_near_miss():
    person = technologist(scopes=(scope("s", "perform", facility_id=OTHER_FACILITY_ID),))
    (reason,) = run(person, TECH).reasons
    assert "another facility" in reason.message
    assert reason.evidence == ("s",)


def test_agreement_ending_mid_case_says_when():
    d = run(
        technologist(), TECH, YEAR_END, agreements=(agreement(effective_to=date(2026, 12, 31)),)
    )
    (reason,) = d.reasons
    assert "ends on 2026-12-31, before the case ends on 2027-01-01" in reason.message
    assert reason.evidence == ("G1",)


# --- concurrency -----------------------------------------------------------------------------

REMOTE = case(local(2026, 6, 10, 8), local(2026, 6, 10, 12), remote=True)


def _overlaps(n, **kw):
    return tuple(
        booking(f"B{i}", local(2026, 6, 10, 7 + i), local(2026, 6, 10, 9 + i), **kw)
        for i in range(n)
    )


@pytest.mark.parametrize(
    ("the_case", "bookings", "cap", "qualified"),
    [
        pytest.param(REMOTE, _overlaps(2), 3, True, id="remote 2 overlaps at cap 3"),
        pytest.param(REMOTE, _overlaps(3), 3, False, id="remote 3 overlaps at cap 3"),
        pytest.param(REMOTE, _overlaps(1), 1, False, id="remote 1 overlap at cap 1"),
        pytest.param(REMOTE, _overlaps(1, remote=False), 3, False, id="in-person overlap"),
        pytest.param(REMOTE, _overlaps(1, payer="medicare"), 3, False, id="medicare overlap"),
        pytest.param(replace(REMOTE, payer="medicare"), _overlaps(1), 3, False, id="medicare case"),
        pytest.param(replace(REMOTE, remote=False), _overlaps(1), 3, False, id="in-person case"),
        pytest.param(
            REMOTE,
            (booking("B0", local(2026, 6, 10, 6), local(2026, 6, 10, 8)),)
            + (booking("B1", local(2026, 6, 10, 12), local(2026, 6, 10, 14)),),
            1,
            True,
            id="adjacent bookings do not overlap",
        ),
        pytest.param(
            replace(REMOTE, payer="medicare", remote=False),
            (booking("B0", local(2026, 6, 10, 6), local(2026, 6, 10, 8), remote=False),),
            1,
            True,
            id="medicare in person, adjacent",
        ),
    ],
)
def test_concurrency(the_case, bookings, cap, qualified):
    d = run(
        physician(bookings=bookings),
        DOC,
        the_case,
        agreements=(agreement(max_concurrent_cases=cap),),
    )
    assert d.qualified is qualified
    if not qualified:
        (reason,) = d.reasons
        assert reason.code == e.CONCURRENCY_LIMIT and reason.requirement == "concurrency"
        overlapping = [b.id for b in bookings if b.starts_at < the_case.ends_at]
        assert list(reason.evidence) == overlapping


def test_cap_is_the_largest_among_satisfying_agreements():
    agreements = (
        agreement("G1", max_concurrent_cases=1),
        agreement("G2", max_concurrent_cases=3),
        agreement("G3", max_concurrent_cases=9, active=False),
    )
    assert run(physician(bookings=_overlaps(2)), DOC, REMOTE, agreements=agreements).qualified
    d = run(physician(bookings=_overlaps(3)), DOC, REMOTE, agreements=agreements)
    assert codes(d) == [("concurrency", e.CONCURRENCY_LIMIT)]
    assert "at most 3" in d.reasons[0].message


def test_the_agreement_that_allows_the_overlap_is_the_evidence_and_is_warned_about():
    # G1 ranks first (open-ended) but allows one case at a time; G2 allows three and ends ten
    # days after the case: with one overlapping case, the case is done under G2
    agreements = (
        agreement("G1", max_concurrent_cases=1),
        agreement("G2", max_concurrent_cases=3, effective_to=date(2026, 6, 20)),
    )
    d = run(physician(bookings=_overlaps(1)), DOC, REMOTE, agreements=agreements)
    assert d.qualified
    (supervision,) = [x for x in d.evidence if x.requirement == "supervision"]
    assert (supervision.id, supervision.details["max_concurrent_cases"]) == ("G2", 3)
    (warning,) = d.warnings
    assert (warning.requirement, warning.evidence) == ("supervision", ("G2",))
    # with no overlap the best ranked agreement is the evidence, and nothing ends soon with it
    alone = run(physician(), DOC, REMOTE, agreements=agreements)
    assert [x.id for x in alone.evidence if x.requirement == "supervision"] == ["G1"]
    assert alone.warnings == ()
    # in person, the cap does not matter
    in_person = run(physician(), DOC, case(remote=False), agreements=agreements)
    assert [x.id for x in in_person.evidence if x.requirement == "supervision"] == ["G1"]


@pytest.mark.parametrize(
    ("the_case", "overlap"),
    [
        (case(remote=True, payer="medicare"), _overlaps(1)),
        (REMOTE, _overlaps(1, remote=False)),
    ],
    ids=["medicare case", "beside an in-person case"],
)
def test_where_no_cap_allows_an_overlap_the_best_ranked_agreement_stays_the_evidence(
    the_case, overlap
):
    agreements = (
        agreement("G1", max_concurrent_cases=1),
        agreement("G2", max_concurrent_cases=3, effective_to=date(2026, 6, 20)),
    )
    d = run(physician(bookings=overlap), DOC, the_case, agreements=agreements)
    assert codes(d) == [("concurrency", e.CONCURRENCY_LIMIT)]
    assert [x.id for x in d.evidence if x.requirement == "supervision"] == ["G1"]
    assert d.warnings == ()


def test_a_remote_physician_is_not_booked_twice_on_the_same_case():
    # a staffing system re-sending a booking (a retry after a timeout) must not take a second
    # of the physician's remote slots for one case
    this_case = case(remote=True, case_ref="CASE-42")
    same = booking("B-same", local(2026, 6, 10, 8), local(2026, 6, 10, 12))
    same = replace(same, case_ref="CASE-42")
    d = run(physician(bookings=(same,)), DOC, this_case)
    assert codes(d) == [("concurrency", e.CONCURRENCY_LIMIT)]
    assert d.reasons[0].evidence == ("B-same",)
    assert d.reasons[0].message == "Dr. Pat Doc is already booked on case CASE-42."
    # another case overlapping, or one without a case_ref, is just another case under the cap
    other = replace(same, case_ref="CASE-43")
    assert run(physician(bookings=(other,)), DOC, this_case).qualified
    unnamed = replace(same, case_ref=None)
    assert run(physician(bookings=(unnamed,)), DOC, this_case).qualified
    # the same case_ref at another facility is another case
    elsewhere = replace(same, facility_id=OTHER_FACILITY_ID)
    assert run(physician(bookings=(elsewhere,)), DOC, this_case).qualified


def test_schedule_conflict_lists_every_overlapping_booking_in_time_order():
    bookings = (
        booking("B-late", local(2026, 6, 10, 11), local(2026, 6, 10, 13), role=TECH),
        booking("B-other-day", local(2026, 6, 11, 8), local(2026, 6, 11, 9), role=TECH),
        booking("B-early", local(2026, 6, 10, 7), local(2026, 6, 10, 9), role=TECH),
    )
    (reason,) = run(technologist(bookings=bookings), TECH).reasons
    assert reason.code == e.SCHEDULE_CONFLICT
    assert reason.evidence == ("B-early", "B-late")


# --- several failures, warnings, shapes ------------------------------------------------------


def test_every_failed_requirement_is_listed_not_just_the_first():
    person = technologist(
        active=False,
        credentials=(cred("c", "CNIM", PAST),),
        appointments=(),
        scopes=(scope("s", "perform", ("SSEP",)),),
        bookings=(booking("B1", local(2026, 6, 10, 9), local(2026, 6, 10, 10), role=TECH),),
    )
    d = run(person, TECH, agreements=())
    assert codes(d) == [
        ("person", e.PERSON_INACTIVE),
        ("certification", e.CREDENTIAL_EXPIRED),
        ("facility_credentials", e.MISSING_CREDENTIAL),
        ("appointment", e.NO_APPOINTMENT),
        ("scope", e.SCOPE_NOT_COVERED),
        ("supervision", e.NO_SUPERVISION_AGREEMENT),
        ("schedule", e.SCHEDULE_CONFLICT),
    ]
    assert not d.qualified and d.evidence == ()


def test_expires_soon_warnings_do_not_block():
    person = physician(
        credentials=(
            cred("a", "ABCN", date(2026, 7, 10)),  # 30 days after: warned
            cred("l", "MEDICAL_LICENSE", date(2026, 7, 11), jurisdiction="IL"),  # 31: not warned
            cred("b", "BLS", date(2026, 6, 10)),  # the last day itself: warned
        ),
        appointments=(appointment("A-P", expires_on=date(2026, 6, 30)),),
    )
    d = run(person, DOC, agreements=(agreement(effective_to=date(2026, 6, 15)),))
    assert d.qualified and d.reasons == ()
    assert [(w.code, w.requirement, w.evidence) for w in d.warnings] == [
        (e.EXPIRES_SOON, "board_certification", ("a",)),
        (e.EXPIRES_SOON, "facility_credentials", ("b",)),
        (e.EXPIRES_SOON, "appointment", ("A-P",)),
        (e.EXPIRES_SOON, "supervision", ("G1",)),
    ]
    assert d.warnings[0].message == (
        "ABCN board certification expires 2026-07-10, 30 days after the case ends on 2026-06-10."
    )
    assert "last day of the case" in d.warnings[1].message
    assert run(person, DOC, policy=e.Policy(warning_days=0)).warnings[0].evidence == ("b",)


def test_decision_to_dict_shape():
    d = run(technologist(appointments=()), TECH)
    out = d.to_dict()
    assert set(out) == {"qualified", "reasons", "warnings", "evidence"}
    assert out["qualified"] is False
    assert out["reasons"] == [
        {
            "code": "NO_APPOINTMENT",
            "message": "No appointment at Mercy Hospital on file.",
            "requirement": "appointment",
            "evidence": [],
        }
    ]
    assert {"requirement": "scope", "kind": "scope", "id": "S-T"}.items() <= out["evidence"][
        3
    ].items()
    assert out["evidence"][3]["modalities"] == "EMG,SSEP,TCMEP"


def test_agreement_without_the_needed_mode_says_so():
    d = run(
        physician(), DOC, case(remote=True), agreements=(agreement(modes=frozenset({"in_person"})),)
    )
    (reason,) = d.reasons
    assert reason.message == (
        "Supervision agreement at Mercy Hospital with physician P1 does not allow remote "
        "interpretation."
    )


# --- revocations: a verification made before one vouches for nothing of that credential -----

REVOKED = date(2026, 5, 1)


def revocation(rid="r", type_code="CNIM", jurisdiction=None, revoked_on=REVOKED, verified_on=None):
    return e.RevocationFact(rid, type_code, jurisdiction, revoked_on, verified_on)


@pytest.mark.parametrize(
    ("label", "verified_on", "revocations", "policy", "earliest"),
    [
        ("no revocation", date(2024, 1, 5), (), POLICY, None),
        (
            "verified before the CNIM was revoked",
            date(2024, 1, 5),
            (revocation(),),
            POLICY,
            REVOKED,
        ),
        ("verified on the day of the revocation", REVOKED, (revocation(),), POLICY, None),
        ("verified since", date(2026, 5, 2), (revocation(),), POLICY, None),
        (
            "the latest revocation counts",
            date(2026, 5, 2),
            (revocation("r1"), revocation("r2", revoked_on=date(2026, 6, 1))),
            POLICY,
            date(2026, 6, 1),
        ),
        ("no date for the verification", None, (revocation(),), POLICY, REVOKED),
        (
            # verified and revoked the same day: that verification is the revoked one's
            "the revoked credential's own verification, revoked that day",
            REVOKED,
            (revocation(verified_on=REVOKED),),
            POLICY,
            date(2026, 5, 2),
        ),
        (
            # the issuer's date is earlier than the verification on file: that one does not count
            "the issuer revoked it before the verification on file",
            date(2024, 1, 5),
            (revocation(revoked_on=date(2023, 6, 30), verified_on=date(2024, 1, 5)),),
            POLICY,
            date(2024, 1, 6),
        ),
        (
            "another type was revoked",
            date(2024, 1, 5),
            (revocation(type_code="DABNM"),),
            POLICY,
            None,
        ),
        (
            "unverified credentials count",
            date(2024, 1, 5),
            (revocation(),),
            e.Policy(accept_unverified=True),
            None,
        ),
    ],
)
def test_a_verification_made_before_a_revocation_does_not_count(
    label, verified_on, revocations, policy, earliest
):
    person = technologist(
        credentials=(cred("c-cnim", "CNIM", verified_on=verified_on), cred("c-bls-t", "BLS")),
        revocations=revocations,
    )
    d = run(person, TECH, policy=policy)
    if earliest is None:
        assert d.qualified, label
        return
    assert codes(d) == [("certification", e.CREDENTIAL_UNVERIFIED)], label
    (reason,) = d.reasons
    revoked = max(revocations, key=lambda r: r.revoked_on)
    # the evidence names the credential and the revoked one that holds it back
    assert reason.evidence == ("c-cnim", revoked.id)
    assert reason.message == (
        f"CNIM certification was verified on {verified_on or 'an unknown date'}; the person's "
        f"CNIM certification (credential {revoked.id}) was revoked on {revoked.revoked_on}, so "
        f"only a verification made on or after {earliest} counts."
    ), label


def test_a_state_on_a_record_of_another_kind_of_credential_escapes_no_revocation():
    # only licenses are per state; a CNIM (or a board certification) is one, whatever state a
    # record of it names
    copy = cred("c-copy", "CNIM", jurisdiction="KS", verified_on=date(2024, 1, 5))
    person = technologist(credentials=(copy, cred("b", "BLS")), revocations=(revocation(),))
    assert codes(run(person, TECH)) == [("certification", e.CREDENTIAL_UNVERIFIED)]
    # and through depends_on: ABPN-CN is only valid while ABPN-N is
    doc = physician(
        credentials=(
            cred("c-cn", "ABPN-CN"),
            cred("c-n", "ABPN-N", jurisdiction="KS", verified_on=date(2024, 1, 5)),
            cred("c-lic-il", "MEDICAL_LICENSE", jurisdiction="IL"),
            cred("c-bls-p", "BLS"),
        ),
        revocations=(revocation("r-n", "ABPN-N"),),
    )
    assert codes(run(doc, DOC)) == [("board_certification", e.CREDENTIAL_UNVERIFIED)]


def test_a_revoked_license_holds_back_verifications_in_its_state_only():
    # one verification (an FSMB report, say) covered licenses in IL and WI; the IL one is revoked
    verified = {"verified_on": date(2024, 1, 5)}
    person = physician(
        credentials=(
            cred("c-abcn", "ABCN"),
            cred("c-lic-il", "MEDICAL_LICENSE", jurisdiction="IL", **verified),
            cred("c-lic-wi", "MEDICAL_LICENSE", jurisdiction="WI", **verified),
            cred("c-bls-p", "BLS"),
        ),
        revocations=(revocation("r-il", "MEDICAL_LICENSE", "il"),),
    )
    in_illinois = run(person, DOC)
    assert ("license", e.CREDENTIAL_UNVERIFIED) in codes(in_illinois)
    from_wisconsin = run(person, DOC, case(patient_state="WI"))
    assert "license" not in [requirement for requirement, _ in codes(from_wisconsin)]
    assert ("license", "credential", "c-lic-wi") in [
        (x.requirement, x.kind, x.id) for x in from_wisconsin.evidence
    ]


def test_a_technologist_booked_on_this_very_case_is_told_so():
    this_case = case(case_ref="CASE-42")
    same = replace(
        booking("B-same", local(2026, 6, 10, 8), local(2026, 6, 10, 12), role=TECH),
        case_ref="CASE-42",
    )
    d = run(technologist(bookings=(same,)), TECH, this_case)
    assert codes(d) == [("schedule", e.SCHEDULE_CONFLICT)]
    assert d.reasons[0].message == "Tess Tech is already booked on case CASE-42."
    other = replace(same, id="B-other", case_ref="CASE-7")
    d = run(technologist(bookings=(same, other)), TECH, this_case)
    assert d.reasons[0].message == (
        "Tess Tech is already booked on case CASE-42, and on 1 other case overlapping it."
    )
    assert set(d.reasons[0].evidence) == {"B-same", "B-other"}
    # without a case_ref, or another one, it is an overlap like any other
    d = run(technologist(bookings=(other,)), TECH, this_case)
    assert d.reasons[0].message == "Tess Tech is already booked on 1 case overlapping this one."
