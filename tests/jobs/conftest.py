"""Real receivers for the jobs: an SMTP server (aiosmtpd) and a webhook HTTP server, both on
127.0.0.1, plus the job configuration and session factory pointing at them."""

import email
import json
import socket
import threading
from datetime import UTC, datetime
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from jobs.runs import run_job, sessions_for
from registry.database import db

COORDINATOR = "coordinator@example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An SMTP server that keeps every message; stop() and start() simulate an outage."""

    def __init__(self, **controller_options):
        self.port = free_port()
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()
        self.controller = None
        self.controller_options = controller_options

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self):
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, **self.controller_options
        )
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self, to: str | None = None) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for rcpts, m in self.received if to is None or to in rcpts]

    def subjects(self, to: str | None = None) -> list[str]:
        return sorted(str(m["Subject"]) for m in self.messages(to))


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


class WebhookReceiver:
    """A webhook endpoint that records each POST and answers with ``status``."""

    def __init__(self):
        self.status = 200
        self.reply: bytes | None = None  # the body answered; default {"ok": ...}
        self.requests: list[dict] = []
        self.on_request = None  # called with each request before it is answered
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server hook name
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                request = {"path": self.path, "headers": dict(self.headers), "body": body}
                receiver.requests.append(request)
                if receiver.on_request is not None:
                    receiver.on_request(request)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                default = json.dumps({"ok": receiver.status < 300}).encode()
                self.wfile.write(receiver.reply if receiver.reply is not None else default)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/registry"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def job_config(app, smtp_server, tmp_path) -> dict:
    """The app's configuration with mail going to the test SMTP server."""
    return {
        **app.config,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "IONM Registry <registry@example.org>",
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "COORDINATOR_EMAILS": [COORDINATOR],
        "REGISTRY_TIMEZONE": "America/Chicago",
        "ALERT_THRESHOLDS": [90, 60, 30, 14, 7, 1, -1],
        "WEBHOOK_TIMEOUT": 5,
        "DELIVERY_MAX_ATTEMPTS": 8,
    }


@pytest.fixture
def sessions(app_context):
    return sessions_for(db.engine)


@pytest.fixture
def run(sessions, job_config):
    """Run one job the way the scheduler does: ``run("scan")``; config overrides as kwargs."""

    def _run(name: str, **overrides) -> dict:
        return run_job(name, sessions=sessions, config={**job_config, **overrides})

    return _run


@pytest.fixture
def frozen(frozen_clock):
    """The app clock at 12:00 UTC (06:00 in Chicago, the scan's hour) on 27 November 2026."""
    frozen_clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    return frozen_clock
