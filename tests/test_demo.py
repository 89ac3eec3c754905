"""The demo network: idempotent, valid, and shaped for a demo whatever the date."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from registry import clock
from registry.agreements.models import SupervisionAgreement
from registry.audit.models import AuditEvent
from registry.credentials.models import Credential
from registry.demo import seed
from registry.facilities.models import Appointment, Facility
from registry.models import Base
from registry.people.models import Person
from registry.scopes.models import Scope
from schemas.base import npi_is_valid


def _row_counts(session) -> dict[str, int]:
    return {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }


def test_seeding_twice_changes_nothing(session):
    first = seed(session=session)
    session.commit()
    after_first = _row_counts(session)
    second = seed(session=session)
    session.commit()

    assert "created 4 facilities, 17 people" in first
    assert "created 0 facilities, 0 people, 0 credentials, 0 appointments" in second
    assert _row_counts(session) == after_first


def test_every_person_has_a_valid_npi_and_an_example_org_email(session):
    seed(session=session)
    people = session.scalars(select(Person)).all()
    assert len(people) == 17
    assert all(npi_is_valid(person.npi) for person in people)
    assert len({person.npi for person in people}) == len(people)
    assert all(person.email.endswith("@example.org") for person in people)


# November: 31 December is near; March: it is far, and the relative dates must still deliver.
@pytest.mark.parametrize("when", [datetime(2026, 11, 27, 15), datetime(2027, 3, 15, 18)])
def test_the_network_has_the_promised_shape(session, frozen_clock, when):
    frozen_clock.set(when.replace(tzinfo=UTC))
    seed(session=session)
    today = clock.today("America/Chicago")

    facilities = session.scalars(select(Facility)).all()
    people = session.scalars(select(Person)).all()
    credentials = session.scalars(select(Credential)).all()
    assert len(facilities) >= 3
    assert {f.state for f in facilities} == {"KS", "MO"}
    assert {f.timezone for f in facilities} == {"America/Chicago"}
    assert all("BLS" in f.required_credentials for f in facilities)
    assert any("ACLS" in f.required_credentials for f in facilities)
    assert sum(p.kind == "technologist" for p in people) >= 10
    assert sum(p.kind == "physician" for p in people) >= 4
    assert [p.external_id for p in people if not p.active] == ["KC-TECH-012"]

    licenses = [c for c in credentials if c.type == "MEDICAL_LICENSE"]
    assert {c.jurisdiction for c in licenses} == {"KS", "MO"}
    states_by_physician: dict[str, set] = {}
    for c in licenses:
        states_by_physician.setdefault(c.person_id, set()).add(c.jurisdiction)
    assert {"MO"} in states_by_physician.values()
    assert {"KS", "MO"} in states_by_physician.values()

    types = {c.type for c in credentials}
    assert {"CNIM", "DABNM", "R-EP-T", "R-EEG-T", "ABCN", "ABPN-N", "ABPN-CN", "BLS"} <= types
    cnim = [c for c in credentials if c.type == "CNIM"]
    assert all((c.expires_on.month, c.expires_on.day) == (12, 31) for c in cnim)
    assert [c.number for c in credentials if not c.verified] == ["CNIM-21760"]
    assert all(c.verification_source.startswith("https://") for c in credentials if c.verified)
    assert all(c.issued_on <= today for c in credentials)

    days_left = [(c.expires_on - today).days for c in credentials if c.expires_on]
    assert any(0 <= d <= 30 for d in days_left)
    assert any(30 < d <= 60 for d in days_left)
    assert any(60 < d <= 90 for d in days_left)
    assert any(d < 0 for d in days_left)

    appointments = session.scalars(select(Appointment)).all()
    assert any(0 <= (a.expires_on - today).days <= 30 for a in appointments if a.status == "active")
    terms = {round((a.expires_on - a.starts_on).days / 365) for a in appointments}
    assert terms == {2, 3}


def test_scopes_and_agreements(session):
    seed(session=session)
    scopes = session.scalars(select(Scope)).all()
    perform = [s for s in scopes if s.activity == "perform"]
    interpret = [s for s in scopes if s.activity == "interpret"]
    assert len(perform) == 12 and len(interpret) == 5
    assert sum("TCMEP" not in s.modalities for s in perform) == 1
    assert sum(len(s.modalities) < 10 for s in interpret) == 1

    agreements = session.scalars(select(SupervisionAgreement)).all()
    facilities = set(session.scalars(select(Facility.id)))
    assert {a.facility_id for a in agreements} == facilities
    assert sorted(a.max_concurrent_cases for a in agreements).count(2) == 1
    with_list = [a for a in agreements if a.technologists]
    assert len(with_list) == 1
    assert {p.kind for p in with_list[0].technologists} == {"technologist"}
    physicians = {p.id for p in session.scalars(select(Person).where(Person.kind == "physician"))}
    assert {a.physician_id for a in agreements} <= physicians
    assert {m for a in agreements for m in a.modes} == {"in_person", "remote"}


def test_seed_demo_command_loads_the_network_once_and_audits_it(app, runner, session):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "created 4 facilities, 17 people" in result.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "created 0 facilities, 0 people" in again.output

    session.rollback()
    people = session.scalar(select(func.count()).select_from(Person))
    assert people == 17
    actors = set(
        session.scalars(select(AuditEvent.actor).where(AuditEvent.entity_type == "person"))
    )
    assert actors == {"seed-demo"}


def test_demo_people_are_served_by_the_api(session, client, auth):
    seed(session=session)
    session.commit()
    response = client.get("/api/v1/people?kind=physician", headers=auth)
    assert response.status_code == 200
    assert {p["family_name"] for p in response.json} >= {"Haddad", "Ellison", "Tran"}
