"""A property over generated registries stored in the real database: the expiration list leaves
an item out as renewed exactly when a renewal that the rules engine counts takes over the day
after the item's last valid day."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from registry import clock
from registry.credentials.models import Credential
from registry.database import db
from registry.expirations.service import current_lapse_date, days_left, expiring_within
from registry.people.models import Person
from registry.qualification import engine, records

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 27 November in Chicago
TODAY = date(2026, 11, 27)
WITHIN = 60
ZONE = "America/Chicago"


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


# two credentials (one a license) and dates near the window, so that records of one credential,
# revocations and renewals starting late meet often in a few examples
credentials = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["CNIM", "CNIM", "MEDICAL_LICENSE"]),
        "jurisdiction": st.sampled_from(["KS", "KS", None, "MO"]),
        "status": st.sampled_from(["active"] * 3 + ["suspended", "revoked", "entered_in_error"]),
        "verified_on": st.one_of(st.none(), st.integers(-300, 0).map(day)),
        "issued_on": st.one_of(st.none(), st.integers(-300, 90).map(day)),
        "expires_on": st.one_of(st.none(), st.integers(-40, 200).map(day)),
        "revoked_on": st.integers(-300, 0).map(day),
    }
)
people = st.lists(
    st.fixed_dictionaries(
        {
            "active": st.sampled_from([True, True, False]),
            "credentials": st.lists(credentials, min_size=2, max_size=6),
        }
    ),
    min_size=1,
    max_size=3,
)


def store(registry: list[dict]) -> list[Credential]:
    stored = []
    for n, generated in enumerate(registry):
        person = Person(
            kind="technologist", given_name=f"P{n}", family_name="Gen", active=generated["active"]
        )
        db.session.add(person)
        db.session.flush()
        for c in generated["credentials"]:
            verified = c["verified_on"] is not None
            stored.append(
                Credential(
                    person_id=person.id,
                    type=c["type"],
                    jurisdiction=c["jurisdiction"],
                    status=c["status"],
                    issued_on=c["issued_on"],
                    expires_on=c["expires_on"],
                    verification_method="primary_source" if verified else None,
                    verified_on=c["verified_on"],
                    revoked_on=c["revoked_on"] if c["status"] == "revoked" else None,
                )
            )
    db.session.add_all(stored)
    db.session.commit()
    return stored


def engine_renewal(item: Credential, held: list[Credential], policy, types) -> Credential | None:
    """A record of the holder's that the engine counts, as this credential, the day after it
    lapses (the oracle, asked of the engine record by record)."""
    revocations = records.revocation_facts(held)
    lapsing = records.credential_fact(item)
    for other in held:
        fact = records.credential_fact(other)
        same = engine.same_credential(
            (lapsing.type_code, lapsing.jurisdiction),
            (fact.type_code, fact.jurisdiction),
            types,
            policy.license_type,
        )
        standing = engine.credential_standing(
            fact,
            item.expires_on + timedelta(days=1),
            policy=policy,
            credential_types=types,
            revocations=revocations,
        )
        if other.id != item.id and same and standing.counts:
            return other
    return None


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(registry=people, accept_unverified=st.booleans())
def test_left_out_exactly_when_the_engine_counts_a_renewal(
    app, app_context, monkeypatch, registry, accept_unverified
):
    # one database for the run: each example starts from a registry of its own
    db.session.execute(delete(Credential))
    db.session.execute(delete(Person))
    db.session.commit()
    monkeypatch.setitem(app.config, "ACCEPT_UNVERIFIED", accept_unverified)
    clock.set_source(lambda: NOW)
    try:
        stored = store(registry)
        listed = expiring_within(
            session=db.session, within_days=WITHIN, today=NOW, timezone=ZONE, kind="credential"
        )
        listed_ids = {item["item_id"] for item in listed}
        policy = engine.Policy(accept_unverified=accept_unverified)
        types = records.credential_types(db.session)
        owners = {p.id: p for p in db.session.scalars(select(Person))}
        for item in stored:
            # what the list looks at: active records of active people lapsing in the window
            in_window = (
                item.status == "active"
                and owners[item.person_id].active
                and item.expires_on is not None
                and days_left(item.expires_on, as_of=NOW, timezone=ZONE) <= WITHIN
            )
            if not in_window:
                assert item.id not in listed_ids
                continue
            held = [c for c in stored if c.person_id == item.person_id]
            renewal = engine_renewal(item, held, policy, types)
            assert (item.id in listed_ids) == (renewal is None), (item.id, renewal)
            lapse = current_lapse_date(session=db.session, item_type="credential", item_id=item.id)
            assert lapse == (None if renewal else item.expires_on)
    finally:
        clock.set_source(None)
        db.session.rollback()
