"""``make run``: migrate, load the demo network, then run the web app and the scheduler together.

Prints the URL, the API docs, a demo API key and a demo login; Ctrl-C stops both processes.
"""

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from registry import create_app
from registry.audit.context import acting_as
from registry.auth import keys, users
from registry.auth.models import User
from registry.database import db
from registry.demo import seed
from registry.migrate import upgrade

DEMO_LOGIN = "coordinator@demo.example"


def _demo_key(var_dir: Path) -> str:
    """Reuse the demo key kept in var/ while it still works, else create a new one."""
    key_file = var_dir / "demo-api-key"
    if key_file.exists():
        raw = key_file.read_text().strip()
        if keys.authenticate(session=db.session, raw_key=raw):
            return raw
    _, raw = keys.create(
        session=db.session,
        name=f"demo-{secrets.token_hex(3)}",
        scopes=["read", "check", "write", "admin"],
    )
    key_file.write_text(raw + "\n")
    key_file.chmod(0o600)
    return raw


def _demo_login(var_dir: Path) -> tuple[str, str]:
    login_file = var_dir / "demo-login"
    user = db.session.query(User).filter_by(email=DEMO_LOGIN).first()
    if user is not None and login_file.exists():
        return DEMO_LOGIN, login_file.read_text().strip()
    password = secrets.token_urlsafe(9)
    if user is None:
        users.create(session=db.session, email=DEMO_LOGIN, role="coordinator", password=password)
    else:
        users.set_password(user=user, password=password)
    login_file.write_text(password + "\n")
    login_file.chmod(0o600)
    return DEMO_LOGIN, password


def prepare() -> tuple[str, str, str]:
    """Migrate, seed and return (api key, login email, password)."""
    app = create_app()
    var_dir = Path(app.config["REGISTRY_VAR_DIR"])
    var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(app.config["DATABASE_URL"])
    with app.app_context(), acting_as("make-run"):
        print(seed(session=db.session))
        raw_key = _demo_key(var_dir)
        email, password = _demo_login(var_dir)
        db.session.commit()
    return raw_key, email, password


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument("--no-scheduler", action="store_true")
    args = parser.parse_args()

    from registry.config import SettingError, from_environment

    try:
        from_environment()
    except SettingError as exc:
        print(f"make run: {exc} (see docs/operations.md, Configuration)", file=sys.stderr)
        raise SystemExit(exc.exit_status) from None
    raw_key, email, password = prepare()
    bin_dir = Path(sys.executable).parent
    gunicorn = shutil.which("gunicorn", path=str(bin_dir)) or "gunicorn"
    registry_cli = shutil.which("registry", path=str(bin_dir)) or "registry"
    processes = [
        subprocess.Popen(
            [
                gunicorn,
                "--bind",
                f"{args.host}:{args.port}",
                "--workers",
                "2",
                "--access-logfile",
                "-",
                "wsgi:app",
            ],
            cwd=Path(__file__).resolve().parent.parent,
        )
    ]
    base = f"http://{args.host}:{args.port}"
    _wait_until_serving(processes[0], base)
    scheduler = not args.no_scheduler and _has_jobs_command()
    if scheduler:
        processes.append(subprocess.Popen([registry_cli, "jobs", "run"]))
    print("\nThe registry is running" + (" with its scheduler" if scheduler else "") + ".")
    print("Press Ctrl-C to stop.\n")
    print(f"URL: {base}/")
    print(f"API docs: {base}/api/docs")
    print(f"API key: {raw_key}")
    print(f"Login: {email} / {password}", flush=True)
    _wait(processes)


def _wait_until_serving(server, base: str, timeout: float = 30) -> None:
    """Return once the app answers /healthz; exit if gunicorn gave up (e.g. the port is taken)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(
                f"\nThe web server did not start (exit status {server.returncode}). "
                "Is the port in use? Try another one: make run PORT=8001"
            )
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return
        except OSError:  # not listening yet (or something else answers this port)
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"\nThe web server did not answer {base}/healthz within {timeout:.0f} seconds.")


def _has_jobs_command() -> bool:
    try:
        import jobs.cli  # noqa: F401
    except ImportError:
        return False
    return True


def _wait(processes) -> None:
    def stop(*_):
        for proc in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for proc in processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    os._exit(0)


if __name__ == "__main__":
    main()
