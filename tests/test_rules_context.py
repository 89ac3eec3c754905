"""The rules context each process keeps between checks (modalities, credential types, each
facility's agreements): the database's triggers replace the stamp on every change, however it
is made, and the next check reads the change, in this process and in any other."""

from datetime import date

import pytest
from sqlalchemy import text

from registry import create_app
from registry.agreements.models import SupervisionAgreement
from registry.database import PreparedQuery, db
from registry.qualification import loader
from tests import factories as f
from tests.test_qualification_api import ask, case, codes

CONTEXT_FACTS = {"modality", "type", "agreement"}


def _stamp() -> str:
    return db.session.execute(text("SELECT stamp FROM rules_context_stamp")).scalar_one()


@pytest.fixture
def context_rows(monkeypatch):
    """How many context rows (modality, type, agreement) each load's statement brought."""
    counts = []
    rows = PreparedQuery.rows

    def counting(self, connection, **params):
        result = rows(self, connection, **params)
        if "kept_stamp" in params:
            counts.append(sum(1 for row in result if row[0] in CONTEXT_FACTS))
        return result

    monkeypatch.setattr(PreparedQuery, "rows", counting)
    return counts


CHANGES = {
    "a modality added": "INSERT INTO modalities (code, name) VALUES ('VEP2', 'Visual EP, second')",
    "a credential type renamed": "UPDATE credential_types SET name = 'Basic Life Support (AHA)'"
    " WHERE code = 'BLS'",
    "a modality removed": "DELETE FROM modalities WHERE code = 'EEG'",
    "an agreement ended": "UPDATE supervision_agreements SET active = false",
    "a technologist listed": "INSERT INTO agreement_technologists (agreement_id, technologist_id)"
    " SELECT a.id, p.id FROM supervision_agreements a, people p WHERE p.kind = 'technologist'",
    "an agreement removed": "DELETE FROM supervision_agreements",
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_every_change_to_the_context_tables_replaces_the_stamp(app_context, change):
    f.network()
    db.session.commit()
    if change == "an agreement removed":
        db.session.execute(text("DELETE FROM agreement_technologists"))
        db.session.commit()
    before = _stamp()
    db.session.execute(text(CHANGES[change]))
    db.session.commit()
    assert _stamp() != before


def test_a_change_rolled_back_or_elsewhere_keeps_the_stamp(app_context):
    where, doc, tech = f.network()
    before = _stamp()
    db.session.execute(text("UPDATE supervision_agreements SET max_concurrent_cases = 9"))
    db.session.rollback()
    assert _stamp() == before
    # people, credentials and appointments are read on every check: no stamp for them
    f.credential(tech, "ACLS")
    db.session.execute(text("UPDATE people SET given_name = 'Tessa'"))
    db.session.commit()
    assert _stamp() == before


def test_the_second_check_at_a_facility_brings_no_context_rows(
    app_context, client, auth, context_rows
):
    where, doc, tech = f.network()
    first = ask(client, auth, tech, "technologist", case(where))
    second = ask(client, auth, tech, "technologist", case(where))
    assert context_rows[0] > 0
    assert context_rows[1] == 0
    assert first["qualified"] is second["qualified"] is True
    assert first["evidence"] == second["evidence"]
    # another facility's context is its own
    other = f.facility(name="Harbor Neuro", state="KS")
    f.appointment(tech, other)
    f.agreement(other, doc)
    db.session.commit()
    ask(client, auth, tech, "technologist", case(other))
    assert context_rows[2] > 0


def test_a_check_reads_an_agreement_changed_through_the_api_at_once(
    app_context, client, auth, context_rows
):
    where, doc, tech = f.network()
    assert ask(client, auth, tech, "technologist", case(where))["qualified"] is True
    ident = db.session.query(SupervisionAgreement.id).scalar()
    path = f"/api/v1/supervision-agreements/{ident}"
    etag = client.get(path, headers=auth).headers["ETag"]
    response = client.patch(path, json={"active": False}, headers={**auth, "If-Match": etag})
    assert response.status_code == 200, response.json
    assert response.json["active"] is False
    decision = ask(client, auth, tech, "technologist", case(where))
    assert codes(decision) == ["NO_SUPERVISION_AGREEMENT"]
    assert context_rows[-1] > 0  # read again, not taken from what was kept


def test_a_check_reads_a_change_made_by_plain_sql_at_once(app_context, client, auth):
    where, doc, tech = f.network()
    body = case(where, modalities=["SSEP", "VEP2"])
    response = client.post(
        "/api/v1/qualification-checks",
        json={"person_id": tech.id, "role": "technologist", "case": body},
        headers=auth,
    )
    assert response.status_code == 422
    assert "VEP2" in str(response.json)
    db.session.execute(text(CHANGES["a modality added"]))
    db.session.execute(text("""UPDATE scopes SET modalities = '["SSEP", "VEP2"]'"""))
    db.session.commit()
    assert ask(client, auth, tech, "technologist", body)["qualified"] is True
    # and an agreement that ends, by SQL, is no longer kept
    db.session.execute(
        text("UPDATE supervision_agreements SET effective_to = :day"), {"day": date(2026, 11, 30)}
    )
    db.session.commit()
    assert codes(ask(client, auth, tech, "technologist", body)) == ["NO_SUPERVISION_AGREEMENT"]


def test_another_replica_reads_the_change_at_once(app, app_context, client, auth, database_url):
    """Two app instances (two engines, as two replicas) against one database."""
    where, doc, tech = f.network()
    replica = create_app({**app.config, "DATABASE_URL": database_url})
    other = replica.test_client()
    assert ask(other, auth, tech, "technologist", case(where))["qualified"] is True
    assert ask(client, auth, tech, "technologist", case(where))["qualified"] is True
    db.session.execute(text("UPDATE supervision_agreements SET active = false"))
    db.session.commit()
    assert codes(ask(other, auth, tech, "technologist", case(where))) == [
        "NO_SUPERVISION_AGREEMENT"
    ]
    with replica.app_context():
        db.session.remove()
        db.engine.dispose()


def test_what_is_kept_is_bounded(app_context, client, auth, monkeypatch):
    monkeypatch.setattr(loader, "_MOST_FACILITIES_KEPT", 2)
    where, doc, tech = f.network()
    places = [where]
    for name in ("Harbor Neuro", "Prairie Spine"):
        place = f.facility(name=name, state="KS")
        f.appointment(tech, place)
        f.agreement(place, doc)
        places.append(place)
    db.session.commit()
    for place in places:
        assert ask(client, auth, tech, "technologist", case(place))["qualified"] is True
    kept = loader._KEPT[db.engine]
    assert 1 <= len(kept) <= 2
    assert places[-1].id in kept
