"""The rules context each process keeps between checks (modalities, credential types, each
facility's agreements): the database's triggers replace the stamp on every change, however it
is made, and the next check reads the change, in this process and in any other."""

from datetime import date

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from registry import create_app
from registry.agreements.models import SupervisionAgreement
from registry.credentials.models import CredentialType, Modality
from registry.database import PreparedQuery, db, make_engine
from registry.migrate import alembic_config, upgrade
from registry.qualification import loader
from tests import factories as f
from tests.test_qualification_api import ask, case, codes

CONTEXT_FACTS = {"modality", "type", "agreement"}
WATCHED = {"modalities", "credential_types", "supervision_agreements", "agreement_technologists"}


def _triggers(connection) -> dict[str, int]:
    """The stamp's triggers on each table."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"
                " AND name LIKE '%rules_context_stamp'"
            )
        )
    else:
        rows = connection.execute(
            text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND t.tgname LIKE '%rules_context_stamp'"
                " AND c.relnamespace = current_schema()::regnamespace"
            )
        )
    counts: dict[str, int] = {}
    for (table,) in rows:
        counts[table] = counts.get(table, 0) + 1
    return counts


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


def test_insert_update_and_delete_of_each_watched_table_replace_the_stamp(app_context):
    where, doc, tech = f.network()
    other = f.person(given="Lou", family="Park")
    db.session.commit()
    seen = {_stamp()}

    def renewed(what: str) -> None:
        """Commit the change just made; its stamp must be new."""
        db.session.commit()
        stamp = _stamp()
        assert stamp not in seen, f"{what}: the stamp stayed"
        seen.add(stamp)

    catalogue = [
        (Modality, "VEP9", {}),
        (CredentialType, "TEST-CT", {"category": "certification", "kinds": ["technologist"]}),
    ]
    for model, code, extra in catalogue:
        table = model.__tablename__
        db.session.add(model(code=code, name="Test", **extra))
        renewed(f"{table} insert")
        db.session.get(model, code).name = "Other"
        renewed(f"{table} update")
        db.session.delete(db.session.get(model, code))
        renewed(f"{table} delete")

    agreement = f.agreement(where, doc)
    renewed("agreement insert")
    agreement.technologists.append(tech)
    renewed("technologist listed")
    db.session.execute(
        text("UPDATE agreement_technologists SET technologist_id = :to"), {"to": other.id}
    )
    renewed("technologist changed")
    db.session.expire_all()
    agreement.technologists.clear()
    renewed("technologist unlisted")
    agreement.max_concurrent_cases = 1
    renewed("agreement update")
    db.session.delete(agreement)
    renewed("agreement delete")
    assert len(seen) == 13


def test_every_watched_table_has_its_triggers_at_the_head_revision(app_context):
    # a later migration that rebuilds a watched table on SQLite (batch mode) drops its
    # triggers: this fails until it creates them again
    per_table = 3 if db.engine.dialect.name == "sqlite" else 1  # insert/update/delete, or one
    assert _triggers(db.session.connection()) == dict.fromkeys(WATCHED, per_table)


def test_the_stamp_is_one_row(app_context):
    assert len(_stamp()) >= 32
    with pytest.raises(IntegrityError):
        db.session.execute(text("INSERT INTO rules_context_stamp (id, stamp) VALUES (2, 'x')"))
    db.session.rollback()


def test_migration_0002_downgrades_and_upgrades_again(empty_database_url):
    url = empty_database_url
    upgrade(url)
    command.downgrade(alembic_config(url), "0001")
    engine = make_engine(url)
    with engine.connect() as connection:
        assert _triggers(connection) == {}
        assert not connection.dialect.has_table(connection, "rules_context_stamp")
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert set(_triggers(connection)) == WATCHED
        assert connection.execute(text("SELECT count(*) FROM rules_context_stamp")).scalar() == 1
    engine.dispose()


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


def test_another_replica_reads_the_change_at_once(
    app, app_context, client, auth, database_url, context_rows
):
    """Two app instances (two engines, as two replicas) against one database."""
    where, doc, tech = f.network()
    replica = create_app({**app.config, "DATABASE_URL": database_url})
    other = replica.test_client()
    for _ in range(2):
        assert ask(other, auth, tech, "technologist", case(where))["qualified"] is True
    assert context_rows[1] == 0  # the replica keeps the context
    assert ask(client, auth, tech, "technologist", case(where))["qualified"] is True
    db.session.execute(text("UPDATE supervision_agreements SET active = false"))
    db.session.commit()
    assert codes(ask(other, auth, tech, "technologist", case(where))) == [
        "NO_SUPERVISION_AGREEMENT"
    ]
    assert context_rows[-1] > 0
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


def test_physician_checks_and_searches_use_the_kept_context(
    app_context, client, auth, context_rows
):
    where, doc, tech = f.network()
    remote = case(where, remote=True)
    for _ in range(2):
        assert ask(client, auth, doc, "interpreting_physician", remote)["qualified"] is True
    response = client.post(
        "/api/v1/qualification-searches",
        json={"role": "technologist", "case": case(where)},
        headers=auth,
    )
    assert response.status_code == 200
    assert [p["person_id"] for p in response.json["qualified"]] == [tech.id]
    assert context_rows[0] > 0
    assert context_rows[1:] == [0, 0]


@pytest.mark.postgres_only
def test_a_writer_with_an_empty_search_path_still_renews_the_stamp(app_context):
    # pg_restore --data-only, for one, writes with search_path set to ''
    before = _stamp()
    schema = db.session.execute(text("SELECT current_schema()")).scalar_one()
    db.session.execute(text("SET LOCAL search_path = ''"))
    db.session.execute(text(f"UPDATE {schema}.modalities SET name = name WHERE code = 'EEG'"))
    db.session.commit()
    assert _stamp() != before
