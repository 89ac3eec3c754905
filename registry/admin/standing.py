"""Each record's standing on today's date, as the rules engine reads it, for the pages.

The pages never decide whether a record counts: they ask ``engine.*_standing`` (through
``registry.qualification.records`` for stored credentials and people) and show its answer.
"""

from collections import defaultdict

from registry.admin.blueprint import bp
from registry.admin.display import organisation_today
from registry.agreements import service as agreements_service
from registry.credentials import service as credentials_service
from registry.facilities import service as facilities_service
from registry.qualification import engine, records
from registry.qualification.service import policy_from_config

# the badge colour of each state: green only for a record that counts
STANDING_TONES = {
    engine.VALID: "good",
    engine.SUSPENDED: "warn",
    engine.NOT_YET_VALID: "warn",
    engine.ENDED: "quiet",
    engine.LAPSED: "bad",
    engine.REVOKED: "bad",
    engine.ENTERED_IN_ERROR: "bad",
    engine.HELD_BACK: "bad",
    engine.UNVERIFIED: "bad",
}
assert set(STANDING_TONES) == set(engine.STANDING_STATES)


def credential_standings(session, credentials) -> dict[str, engine.Standing]:
    """The standing today of each of one person's credentials, by id."""
    return records.credential_standings(
        session=session,
        credentials=credentials,
        on=organisation_today(),
        policy=policy_from_config(),
    )


def work_standings(session, people) -> dict[str, engine.WorkStanding]:
    """Where each of these people can work today, by id, in a fixed number of queries."""
    return records.work_standings(
        session=session,
        person_ids=[p.id for p in people],
        on=organisation_today(),
        policy=policy_from_config(),
    )


def item_standings(session, items) -> dict[tuple[str, str], engine.Standing]:
    """The standing today of each listed expiration item, by (item_type, item_id), in four
    queries for the whole list (a credential's depends on its holder's revocations)."""
    wanted = defaultdict(set)
    for item in items:
        wanted[item["item_type"]].add(item["item_id"])
    out = {}
    holders = {item["person_id"] for item in items if item["item_type"] == "credential"}
    if holders:
        by_holder = defaultdict(list)
        stmt = credentials_service.list_statement(person_ids=sorted(holders))
        for record in session.scalars(stmt):
            by_holder[record.person_id].append(record)
        types = records.credential_types(session)
        policy = policy_from_config()
        for held in by_holder.values():
            standings = records.credential_standings(
                session=session,
                credentials=held,
                on=organisation_today(),
                policy=policy,
                types=types,
            )
            out.update(
                (("credential", i), s) for i, s in standings.items() if i in wanted["credential"]
            )
    if wanted["appointment"]:
        stmt = facilities_service.appointments_statement(ids=sorted(wanted["appointment"]))
        out.update((("appointment", a.id), appointment_standing(a)) for a in session.scalars(stmt))
    if wanted["agreement"]:
        stmt = agreements_service.list_statement(ids=sorted(wanted["agreement"]))
        out.update((("agreement", a.id), agreement_standing(a)) for a in session.scalars(stmt))
    return out


@bp.app_template_global()
def appointment_standing(record) -> engine.Standing:
    """An appointment's standing today."""
    return engine.appointment_standing(records.appointment_fact(record), organisation_today())


@bp.app_template_global()
def agreement_standing(record) -> engine.Standing:
    """A supervision agreement's standing today."""
    fact = engine.AgreementFact(
        id=record.id,
        facility_id=record.facility_id,
        physician_id=record.physician_id,
        technologist_ids=frozenset(record.technologist_ids),
        modes=frozenset(record.modes or ()),
        max_concurrent_cases=record.max_concurrent_cases,
        effective_from=record.effective_from,
        effective_to=record.effective_to,
        active=record.active,
    )
    return engine.agreement_standing(fact, organisation_today())


@bp.app_template_filter("standing_tone")
def standing_tone(standing: engine.Standing) -> str:
    """The badge colour of a standing: good (counts), warn, quiet or bad."""
    return STANDING_TONES[standing.state]


@bp.app_template_global()
def counts_again_from(standing: engine.Standing):
    """A held-back record: the first day a verification of it counts again."""
    if standing.held_by is None:
        return None
    return engine.first_day_verifications_count(standing.held_by)
