"""CHECK_COMMIT: whether a plain check's stored record waits for the disk at commit."""

import pytest
from sqlalchemy import text

from registry.assignments import service as assignments
from registry.config import SettingError, from_environment
from registry.database import db
from registry.qualification import service
from schemas.qualification import CaseSchema
from tests import factories as f
from tests.test_qualification_api import case


def _synchronous_commit() -> str:
    return db.session.execute(text("SHOW synchronous_commit")).scalar_one()


def test_the_setting_is_durable_unless_set_and_refuses_other_words(monkeypatch):
    monkeypatch.delenv("CHECK_COMMIT", raising=False)
    assert from_environment()["CHECK_COMMIT"] == "durable"
    monkeypatch.setenv("CHECK_COMMIT", " Asynchronous ")
    assert from_environment()["CHECK_COMMIT"] == "asynchronous"
    monkeypatch.setenv("CHECK_COMMIT", "off")
    with pytest.raises(SettingError, match="CHECK_COMMIT must be one of durable, asynchronous"):
        from_environment()


@pytest.mark.parametrize("mode", ["durable", "asynchronous"])
def test_a_check_is_stored_and_read_back_either_way(
    app, app_context, client, auth, monkeypatch, mode
):
    monkeypatch.setitem(app.config, "CHECK_COMMIT", mode)
    where, _, tech = f.network()
    body = {"person_id": tech.id, "role": "technologist", "case": case(where)}
    answer = client.post("/api/v1/qualification-checks", json=body, headers=auth)
    assert answer.status_code == 200 and answer.json["qualified"] is True
    stored = client.get(f"/api/v1/qualification-checks/{answer.json['check_id']}", headers=auth)
    assert stored.status_code == 200 and stored.json["evidence"] == answer.json["evidence"]


@pytest.mark.postgres_only
def test_on_postgresql_only_a_plain_checks_commit_stops_waiting(app, monkeypatch):
    with app.app_context():
        where, _, tech = f.network()
        db.session.commit()
        question = CaseSchema().load(case(where))
        tech_id = tech.id

    def ask(mode: str, purpose: str) -> str:
        """What synchronous_commit the check's (or booking's) transaction commits with."""
        monkeypatch.setitem(app.config, "CHECK_COMMIT", mode)
        with app.test_request_context("/api/v1/qualification-checks", method="POST"):
            answer = service.check if purpose == "check" else assignments.book
            answer(
                session=db.session,
                person_id=tech_id,
                role="technologist",
                case=question,
                asked_by="test",
            )
            during = _synchronous_commit()
            db.session.commit()
            assert _synchronous_commit() == "on"  # for this transaction only
            db.session.rollback()
            return during

    assert ask("durable", "check") == "on"
    assert ask("asynchronous", "check") == "off"
    assert ask("asynchronous", "booking") == "on"  # a booking always waits for the disk


@pytest.mark.postgres_only
@pytest.mark.parametrize("word", ["Durable", "off", ""])
def test_any_other_word_given_to_the_app_keeps_the_commit_durable(app, monkeypatch, word):
    with app.app_context():
        where, _, tech = f.network()
        db.session.commit()
        question = CaseSchema().load(case(where))
        tech_id = tech.id
    monkeypatch.setitem(app.config, "CHECK_COMMIT", word)  # set by hand, not read and checked
    with app.test_request_context("/api/v1/qualification-checks", method="POST"):
        service.check(
            session=db.session,
            person_id=tech_id,
            role="technologist",
            case=question,
            asked_by="test",
        )
        assert _synchronous_commit() == "on"
        db.session.rollback()
