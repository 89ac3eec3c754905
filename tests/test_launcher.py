"""``make run``'s preparation: migrate, seed, and a demo key and login that survive restarts."""

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from registry.auth import keys, users
from registry.database import db
from registry.launcher import DEMO_LOGIN, _wait_until_serving, prepare
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


def test_launcher_stops_with_a_message_when_the_web_server_cannot_start():
    failed = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(SystemExit) as stopped:
        _wait_until_serving(failed, "http://127.0.0.1:1")
    assert "exit status 3" in str(stopped.value.code)
    assert "PORT=" in str(stopped.value.code)


def test_launcher_waits_until_the_app_answers_healthz():
    class Healthy(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _wait_until_serving(running, f"http://127.0.0.1:{server.server_port}", timeout=10)
        assert running.poll() is None
    finally:
        running.kill()
        running.wait()
        server.shutdown()
        server.server_close()
