"""Property tests for the pure qualification rules engine over generated facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.qualification import engine as e

SETTINGS = settings(max_examples=200, deadline=None)

ZONE = "America/Chicago"
BASE_DAY = date(2026, 12, 20)
BASE_START = datetime(2026, 12, 31, 8, tzinfo=ZoneInfo(ZONE))
MODALITIES = ("SSEP", "TCMEP", "EMG", "EEG")
STATES = ("IL", "WI")
PERSON_ID = "ME"

TYPES = {
    t.code: t
    for t in (
        e.CredentialTypeFact("CNIM", "CNIM", "certification"),
        e.CredentialTypeFact("DABNM", "DABNM", "certification"),
        e.CredentialTypeFact("ABCN", "ABCN", "board_certification"),
        e.CredentialTypeFact("ABPN-N", "ABPN Neurology", "board_certification"),
        e.CredentialTypeFact("ABPN-CN", "ABPN CN", "board_certification", "ABPN-N"),
        e.CredentialTypeFact("MEDICAL_LICENSE", "Medical license", "license"),
        e.CredentialTypeFact("BLS", "BLS", "training"),
    )
}
TYPE_CODES = tuple(TYPES)

# Dates a few weeks around the case; None is "no date" (no issue date / never expires).
days = st.integers(min_value=-40, max_value=40).map(lambda n: BASE_DAY + timedelta(days=n))
maybe_days = st.none() | days
# Start dates are biased to the past and end dates to the future so that many answers qualify.
early = st.integers(min_value=-400, max_value=12).map(lambda n: BASE_DAY + timedelta(days=n))
late = st.integers(min_value=0, max_value=60).map(lambda n: BASE_DAY + timedelta(days=n))
maybe_late = st.none() | late


def credentials(prefix: str):
    row = st.tuples(
        st.sampled_from(TYPE_CODES),
        st.sampled_from(("active", "active", "active", "suspended", "revoked", "entered_in_error")),
        st.booleans() | st.just(True),
        st.none() | early,
        maybe_late | maybe_days,
        st.sampled_from((None, *STATES)),
    )
    return st.lists(row, max_size=9).map(
        lambda rows: tuple(
            e.CredentialFact(f"{prefix}{i}", t, s, v, iss, exp, j)
            for i, (t, s, v, iss, exp, j) in enumerate(rows)
        )
    )


appointments = st.lists(
    st.tuples(
        st.sampled_from(("F1", "F1", "F2")),
        st.sampled_from(("active", "active", "suspended", "ended")),
        early,
        maybe_late,
    ),
    max_size=3,
).map(lambda rows: tuple(e.AppointmentFact(f"a{i}", *row) for i, row in enumerate(rows)))

scopes = st.lists(
    st.tuples(
        st.sampled_from(("perform", "interpret")),
        st.frozensets(st.sampled_from(MODALITIES), min_size=1),
        st.sampled_from((None, None, "F1", "F2")),
        early,
        maybe_late,
    ),
    max_size=4,
).map(lambda rows: tuple(e.ScopeFact(f"s{i}", *row) for i, row in enumerate(rows)))

agreements = st.lists(
    st.tuples(
        st.sampled_from(("F1", "F1", "F2")),
        st.sampled_from((PERSON_ID, PERSON_ID, "DOC2")),
        st.sampled_from((frozenset(), frozenset({PERSON_ID}), frozenset({"OTHER"}))),
        st.frozensets(st.sampled_from(("in_person", "remote")), min_size=1),
        st.integers(min_value=1, max_value=4),
        early,
        maybe_late,
        st.booleans() | st.just(True),
    ),
    max_size=3,
).map(lambda rows: tuple(e.AgreementFact(f"g{i}", *row) for i, row in enumerate(rows)))

# Bookings as (start offset, length) in hours around the case start.
bookings = st.lists(
    st.tuples(
        st.integers(min_value=-30, max_value=30),
        st.integers(min_value=1, max_value=10),
        st.booleans(),
        st.sampled_from(("commercial", "medicare")),
    ),
    max_size=4,
).map(
    lambda rows: tuple(
        e.BookingFact(
            f"b{i}",
            "technologist",
            "F1",
            BASE_START + timedelta(hours=offset),
            BASE_START + timedelta(hours=offset + length),
            remote,
            payer,
        )
        for i, (offset, length, remote, payer) in enumerate(rows)
    )
)

people = st.builds(
    e.PersonFacts,
    id=st.just(PERSON_ID),
    kind=st.sampled_from(("technologist", "physician")),
    active=st.booleans() | st.just(True),
    name=st.just("Sam Person"),
    credentials=st.lists(st.none(), max_size=0).map(tuple) | credentials("c"),
    appointments=appointments,
    scopes=scopes,
    bookings=bookings,
)

facilities = st.builds(
    e.FacilityFact,
    id=st.just("F1"),
    name=st.just("Mercy Hospital"),
    state=st.sampled_from(STATES),
    timezone=st.sampled_from((ZONE, "UTC", "America/New_York")),
    required_credentials=st.lists(st.sampled_from(("BLS", "CNIM", "ABPN-CN")), max_size=2).map(
        tuple
    ),
)

cases = st.builds(
    lambda start_minutes, length_minutes, modalities, state, remote, doc, payer: e.Case(
        facility_id="F1",
        starts_at=BASE_START + timedelta(minutes=start_minutes),
        ends_at=BASE_START + timedelta(minutes=start_minutes + length_minutes),
        modalities=tuple(modalities),
        patient_state=state,
        remote=remote,
        supervising_physician_id=doc,
        payer=payer,
    ),
    st.integers(min_value=-24 * 60, max_value=24 * 60),
    st.integers(min_value=30, max_value=30 * 60),
    st.lists(st.sampled_from(MODALITIES), min_size=1, max_size=3, unique=True),
    st.sampled_from((None, None, *STATES)),
    st.booleans(),
    st.sampled_from((None, None, PERSON_ID, "DOC2")),
    st.sampled_from(("commercial", "commercial", "medicare")),
)

policies = st.builds(
    e.Policy,
    accept_unverified=st.booleans(),
    warning_days=st.sampled_from((0, 7, 30)),
)
roles = st.sampled_from(e.ROLES)


@st.composite
def scenarios(draw):
    """Facts, role, case and policy: a core that would qualify, each piece usually present,
    plus random noise; the role matches the person's kind most of the time."""
    facility = draw(facilities)
    the_case = draw(cases)
    policy = draw(policies)
    noise = draw(people)
    kind = noise.kind
    role = "technologist" if kind == "technologist" else "interpreting_physician"
    if not draw(st.integers(0, 9)):
        role = draw(roles)
    first, last = e.case_dates(the_case, facility.timezone)

    def present() -> bool:
        return draw(st.integers(0, 19)) > 0

    def covering() -> tuple[date | None, date | None]:
        start = first - timedelta(days=draw(st.integers(0, 400)))
        end = draw(st.none() | st.integers(0, 60).map(lambda n: last + timedelta(days=n)))
        return start, end

    core: list[e.CredentialFact] = []

    def hold(code: str, jurisdiction: str | None = None) -> None:
        issued, expires = covering()
        core.append(
            e.CredentialFact(f"k{len(core)}", code, "active", True, issued, expires, jurisdiction)
        )
        if code == "ABPN-CN":
            hold("ABPN-N")

    if present():
        if kind == "technologist":
            hold(draw(st.sampled_from(("CNIM", "DABNM"))))
        else:
            hold(draw(st.sampled_from(("ABCN", "ABPN-CN"))))
    if kind == "physician" and present():
        hold("MEDICAL_LICENSE", the_case.patient_state or facility.state)
        if the_case.patient_state and the_case.patient_state != facility.state:
            hold("MEDICAL_LICENSE", facility.state)
    for code in facility.required_credentials:
        if present():
            hold(code)

    appointments_ = list(noise.appointments)
    if present():
        starts_on, expires_on = covering()
        appointments_.append(e.AppointmentFact("ka", "F1", "active", starts_on, expires_on))

    scopes_ = list(noise.scopes)
    if present():
        activity = "perform" if kind == "technologist" else "interpret"
        wanted = list(the_case.modalities)
        split = draw(st.integers(0, len(wanted)))
        for i, part in enumerate((wanted[:split], wanted[split:])):
            if part:
                starts_on, ends_on = covering()
                where = draw(st.sampled_from((None, "F1")))
                scopes_.append(
                    e.ScopeFact(f"ks{i}", activity, frozenset(part), where, starts_on, ends_on)
                )

    agreements_ = list(draw(agreements))
    if present():
        starts_on, ends_on = covering()
        if kind == "technologist":
            physician = the_case.supervising_physician_id or "DOC2"
            technologists = draw(st.sampled_from((frozenset(), frozenset({PERSON_ID, "OTHER"}))))
            modes = frozenset({"in_person"})
        else:
            physician = PERSON_ID
            technologists = frozenset()
            modes = frozenset({"remote" if the_case.remote else "in_person"})
        agreements_.append(
            e.AgreementFact(
                "kg",
                "F1",
                physician,
                technologists,
                modes,
                draw(st.integers(1, 4)),
                starts_on,
                ends_on,
                True,
            )
        )

    person = replace(
        noise,
        active=draw(st.integers(0, 19)) > 0,
        credentials=(*core, *noise.credentials),
        appointments=tuple(appointments_),
        scopes=tuple(scopes_),
        # Bookings are noise that would fail most cases; keep them only some of the time.
        bookings=noise.bookings if not draw(st.integers(0, 2)) else (),
    )
    return e.Facts(person, facility, TYPES, tuple(agreements_)), role, the_case, policy


def failed_requirements(decision: e.Decision) -> set[str]:
    return {r.requirement for r in decision.reasons}


@st.composite
def valid_credentials(draw, first: date, last: date, policy: e.Policy):
    """A credential that is valid for every date from first to last."""
    issued = draw(st.none() | st.integers(0, 400).map(lambda n: first - timedelta(days=n)))
    expires = draw(st.none() | st.integers(0, 400).map(lambda n: last + timedelta(days=n)))
    return e.CredentialFact(
        id=draw(st.sampled_from(("new", "c0", "zz"))) + "-added",
        type_code=draw(st.sampled_from(TYPE_CODES)),
        status="active",
        verified=True if not policy.accept_unverified else draw(st.booleans()),
        issued_on=issued,
        expires_on=expires,
        jurisdiction=draw(st.sampled_from((None, *STATES))),
    )


@SETTINGS
@given(data=st.data(), scenario=scenarios())
def test_adding_a_valid_credential_never_makes_things_worse(data, scenario):
    the_facts, role, the_case, policy = scenario
    before = e.evaluate(the_facts, role, the_case, policy)
    first, last = e.case_dates(the_case, the_facts.facility.timezone)
    added = data.draw(valid_credentials(first, last, policy))
    person = replace(the_facts.person, credentials=(*the_facts.person.credentials, added))
    after = e.evaluate(replace(the_facts, person=person), role, the_case, policy)
    if before.qualified:
        assert after.qualified, after.reasons
    assert failed_requirements(after) <= failed_requirements(before)


@SETTINGS
@given(data=st.data(), scenario=scenarios())
def test_a_window_inside_a_window_is_no_worse(data, scenario):
    the_facts, role, the_case, policy = scenario
    outer = e.evaluate(the_facts, role, the_case, policy)
    length = int((the_case.ends_at - the_case.starts_at).total_seconds() // 60)
    cut_start = data.draw(st.integers(0, length - 1), label="minutes cut from the start")
    cut_end = data.draw(st.integers(0, length - cut_start - 1), label="minutes cut from the end")
    inner_case = replace(
        the_case,
        starts_at=the_case.starts_at + timedelta(minutes=cut_start),
        ends_at=the_case.ends_at - timedelta(minutes=cut_end),
    )
    inner = e.evaluate(the_facts, role, inner_case, policy)
    if outer.qualified:
        assert inner.qualified, inner.reasons
    assert failed_requirements(inner) <= failed_requirements(outer)


def _shuffled(data, items: tuple) -> tuple:
    return tuple(data.draw(st.permutations(items)))


@SETTINGS
@given(data=st.data(), scenario=scenarios())
def test_the_order_of_the_facts_does_not_change_the_answer(data, scenario):
    the_facts, role, the_case, policy = scenario
    expected = e.evaluate(the_facts, role, the_case, policy)
    person = the_facts.person
    shuffled_person = replace(
        person,
        credentials=_shuffled(data, person.credentials),
        appointments=_shuffled(data, person.appointments),
        scopes=_shuffled(data, person.scopes),
        bookings=_shuffled(data, person.bookings),
    )
    shuffled_types = dict(_shuffled(data, tuple(the_facts.credential_types.items())))
    shuffled = e.Facts(
        shuffled_person,
        the_facts.facility,
        shuffled_types,
        _shuffled(data, the_facts.agreements),
    )
    actual = e.evaluate(shuffled, role, the_case, policy)
    assert actual == expected
    assert actual.to_dict() == expected.to_dict()


@SETTINGS
@given(scenario=scenarios())
def test_qualified_exactly_when_there_are_no_reasons_and_warnings_never_block(scenario):
    the_facts, role, the_case, policy = scenario
    decision = e.evaluate(the_facts, role, the_case, policy)
    assert decision.qualified == (decision.reasons == ())
    assert {r.code for r in decision.reasons} <= set(e.REASON_CODES)
    assert {w.code for w in decision.warnings} <= {e.EXPIRES_SOON}
    order = e.REQUIREMENTS[role]
    positions = [order.index(r.requirement) for r in decision.reasons]
    assert positions == sorted(positions)
    # Evidence for a requirement is only listed when that requirement holds (or, for the
    # facility's list, for the required credentials that do hold).
    failed = failed_requirements(decision) - {"facility_credentials"}
    assert not {x.requirement for x in decision.evidence} & failed


@given(first=scenarios(), second=scenarios())
def test_evaluating_many_gives_what_evaluating_each_gives(first, second):
    facts_a, role, the_case, policy = first
    facts_b = second[0]
    # the second person is someone else (agreements may list or name them, and not the first),
    # asked about the first scenario's facility and agreements
    other = "OTHER" if role == "technologist" else "DOC2"
    facts_b = e.Facts(
        person=replace(facts_b.person, id=other),
        facility=facts_a.facility,
        credential_types=facts_a.credential_types,
        agreements=facts_a.agreements,
    )
    together = e.evaluate_many([facts_a, facts_b, facts_a], role, the_case, policy)
    alone = [e.evaluate(f, role, the_case, policy) for f in (facts_a, facts_b, facts_a)]
    assert together == alone


@given(scenario=scenarios(), held=credentials("x"))
def test_the_quick_validity_test_agrees_with_the_explained_one(scenario, held):
    # the engine tests validity without writing messages; it must agree with the reasons
    the_facts, role, the_case, policy = scenario
    first, last = e.case_dates(the_case, the_facts.facility.timezone)
    evaluation = e._Evaluation(the_facts, role, the_case, policy, first, last)
    for credential in (*the_facts.person.credentials, *held):
        explained = evaluation._credential_failures(credential)
        assert evaluation._is_valid(credential) == (not explained), (credential, explained)
