"""A person's credentialing file: everything the person's page shows, in a few queries."""

from registry import clock
from registry.admin.standing import credential_standings
from registry.agreements import service as agreements
from registry.assignments import service as assignments
from registry.credentials import service as credentials
from registry.facilities import service as facilities
from registry.people import service as people
from registry.people.models import Person
from registry.qualification import service as qualification
from registry.scopes import service as scopes

RECENT_CHECKS = 10
RECENT_ASSIGNMENTS = 25


def person_file(session, person: Person) -> dict:
    """Credentials, appointments, scopes, agreements, assignments and recent checks of a person."""
    creds = list(session.scalars(credentials.list_statement(person_id=person.id)))
    appointments = list(session.scalars(facilities.appointments_statement(person_id=person.id)))
    person_scopes = list(session.scalars(scopes.list_statement(person_id=person.id)))
    facility_ids = {a.facility_id for a in appointments}
    if person.kind == "physician":
        agreement_stmt = agreements.list_statement(physician_id=person.id)
    else:
        agreement_stmt = agreements.list_statement(technologist_id=person.id)
    person_agreements = list(session.scalars(agreement_stmt))
    # every assignment not yet over, soonest first; of those over, the most recent
    now = clock.now()
    upcoming = list(session.scalars(assignments.list_statement(person_id=person.id, from_=now)))
    earlier = assignments.latest_ended(
        session=session, person_id=person.id, before=now, limit=RECENT_ASSIGNMENTS
    )
    bookings = upcoming + earlier
    checks = qualification.recent_checks(session=session, person_id=person.id, limit=RECENT_CHECKS)
    facility_ids |= {s.facility_id for s in person_scopes if s.facility_id}
    facility_ids |= {a.facility_id for a in person_agreements}
    facility_ids |= {b.facility_id for b in bookings}
    physician_ids = {a.physician_id for a in person_agreements}
    return {
        "credentials": creds,
        "standings": credential_standings(session, creds),
        "credentials_by_id": {c.id: c for c in creds},
        "appointments": appointments,
        "scopes": person_scopes,
        "agreements": person_agreements,
        "assignments": upcoming,
        "earlier_assignments": earlier,
        "recent_assignments": RECENT_ASSIGNMENTS,
        "checks": checks,
        "type_names": credentials.type_names(session=session),
        "facility_names": facilities.names(session=session, ids=facility_ids),
        "people_names": people.names(session=session, ids=physician_ids),
    }
