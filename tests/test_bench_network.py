"""The bench's network builder makes the network it promises, and the driver's requests on it
succeed."""

from sqlalchemy import func, select

from bench import driver
from bench.network import SIZES, build, sizes
from registry.agreements.models import SupervisionAgreement
from registry.assignments.models import Assignment
from registry.credentials.models import Credential
from registry.database import db
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person


def test_sizes_scale_people_and_their_records_not_facilities():
    assert sizes(1) == SIZES
    ten = sizes(10)
    for kind in ("people", "credentials", "appointments", "assignments"):
        assert ten[kind] == 10 * SIZES[kind]
    assert ten["facilities"] == 200 and ten["agreements"] == 1_000


def test_a_tiny_network_has_the_counts_asked_for(app, database_url, client, make_key):
    ids = build(database_url, scale=0.01)
    asked = sizes(0.01)
    with app.app_context():
        counted = {
            kind: db.session.scalar(select(func.count()).select_from(model))
            for kind, model in (
                ("people", Person),
                ("credentials", Credential),
                ("facilities", Facility),
                ("appointments", Appointment),
                ("agreements", SupervisionAgreement),
                ("assignments", Assignment),
            )
        }
    assert counted == asked == ids["counts"]
    assert asked["people"] == 100 and asked["credentials"] == 600
    assert 0 < ids["search_candidates"] <= len(ids["technologist_ids"]) + asked["appointments"]

    # the driver's booking and qualified-only search succeed on it, as the bench counts on
    headers = make_key(("read", "check", "write"))
    chosen = {op.key: op for op in driver.operations(ids)}
    method, path, body = chosen["book"].request()
    assert client.open(path, method=method, json=body, headers=headers).status_code == 201
    method, path, body = chosen["search"].request()
    found = client.open(path, method=method, json=body, headers=headers)
    assert found.status_code == 200
    assert len(found.get_json()["qualified"]) > 0
