"""``make run``'s preparation: migrate, seed, and a demo key and login that survive restarts."""

import pytest
from sqlalchemy import func, select

from registry.auth import keys, users
from registry.database import db
from registry.launcher import DEMO_LOGIN, prepare
from registry.people.models import Person


@pytest.fixture
def fresh_environment(tmp_path, monkeypatch):
    """A temp SQLite database and var/ directory; the shared test database is re-bound after."""
    var_dir = tmp_path / "var"
    monkeypatch.setenv("REGISTRY_VAR_DIR", str(var_dir))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{var_dir / 'registry.db'}")
    # prepare() builds its own app, which re-binds the process-wide session to its database
    engine = db.engine
    yield var_dir
    db.session.remove()
    if db.engine is not engine:
        db.engine.dispose()
    db.engine = engine
    db.session.configure(bind=engine)


def test_prepare_twice_reuses_the_demo_key_and_login(fresh_environment):
    var_dir = fresh_environment
    first_key, email, first_password = prepare()
    assert (var_dir / "registry.db").exists()
    assert (var_dir / "demo-api-key").read_text().strip() == first_key
    assert (var_dir / "demo-api-key").stat().st_mode & 0o777 == 0o600

    second_key, second_email, second_password = prepare()
    assert (second_key, second_email, second_password) == (first_key, email, first_password)

    key = keys.authenticate(session=db.session, raw_key=second_key)
    assert key is not None
    assert set(key.scopes) == {"read", "check", "write", "admin"}
    assert email == DEMO_LOGIN
    user, problem = users.authenticate(session=db.session, email=email, password=second_password)
    assert problem is None and user.role == "coordinator"
    # the demo network was loaded once, not twice
    assert db.session.scalar(select(func.count()).select_from(Person)) == 17
    db.session.rollback()


def test_prepare_replaces_a_key_that_no_longer_works(fresh_environment):
    var_dir = fresh_environment
    first_key, _, _ = prepare()
    (var_dir / "demo-api-key").write_text("reg_deadbeef_not-a-real-key\n")
    second_key, _, _ = prepare()
    assert second_key != first_key
    assert keys.authenticate(session=db.session, raw_key=second_key) is not None
    db.session.rollback()
