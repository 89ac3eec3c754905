"""Sending email: SMTP for real, a file of .eml messages or the console for local use.

``MAIL_BACKEND`` picks one: ``smtp`` (``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USERNAME``,
``SMTP_PASSWORD``, ``SMTP_STARTTLS``, ``SMTP_TIMEOUT``; port 465 means implicit TLS), ``file``
(one ``.eml`` per message in ``MAIL_FILE_DIR``, default ``var/mail/``) or ``console``.
"""

import os
import re
import smtplib
import ssl
import sys
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from registry import clock
from registry.config import MAIL_BACKENDS

# RFC 5322's hard line limit: subjects stay on one line and text stays readable (no encoding)
MESSAGE_POLICY = policy.default.clone(max_line_length=998)


class MailError(Exception):
    """A message could not be handed over; the text says why (kept as the alert's last error)."""


class MailNotTried(MailError):
    """A message was not even tried: the server was found unreachable earlier in this run."""


def compose(
    *, config, to: str, subject: str, text: str, html: str, message_key: str
) -> EmailMessage:
    """A multipart (plain text + HTML) message with a stable Message-ID per outbox row."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    sender = config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = f"<{message_key}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class SmtpMailer:
    """One SMTP connection per delivery run, opened on first use and reopened after an error."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.config["SMTP_HOST"], int(self.config["SMTP_PORT"])
        timeout = float(self.config.get("SMTP_TIMEOUT", 10))
        if port == 465:
            connection = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if port != 465 and self.config.get("SMTP_STARTTLS"):
                connection.starttls(context=ssl.create_default_context())
            if self.config.get("SMTP_USERNAME"):
                connection.login(self.config["SMTP_USERNAME"], self.config.get("SMTP_PASSWORD", ""))
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: EmailMessage) -> None:
        where = f"SMTP {self.config['SMTP_HOST']}:{self.config['SMTP_PORT']}"
        if self.unreachable:
            # one failed connection per run is enough: the rest wait for their next attempt
            raise MailNotTried(
                f"{where}: not tried, the server was unreachable: {self.unreachable}"
            )
        if self.connection is None:
            try:
                self.connection = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self.unreachable = repr(exc)
                raise MailError(f"{where}: {exc!r}") from exc
        try:
            refused = self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailError(f"{where}: {exc!r}") from exc
        if refused:
            raise MailError(f"SMTP refused recipients: {refused!r}")

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


class FileMailer:
    """Writes each message as a readable .eml file; resending the same message overwrites it."""

    def __init__(self, config):
        self.directory = Path(config.get("MAIL_FILE_DIR") or "var/mail")

    def send(self, message: EmailMessage) -> None:
        key = re.sub(r"[^A-Za-z0-9._-]+", "-", message["Message-ID"].strip("<>").split("@")[0])
        # the subject in the name lets a person find the right file in var/mail at a glance
        about = re.sub(r"[^a-z0-9]+", "-", str(message["Subject"]).lower()).strip("-")[:60]
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for old in self.directory.glob(f"*{key}.eml"):
                old.unlink()
            target = self.directory / f"{stamp}-{about}-{key}.eml"
            partial = target.with_suffix(".partial")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, target)
        except OSError as exc:
            raise MailError(f"cannot write to {self.directory}: {exc}") from exc

    def close(self) -> None:
        pass


class ConsoleMailer:
    """Prints each message to standard output."""

    def __init__(self, config):
        self.stream = sys.stdout

    def send(self, message: EmailMessage) -> None:
        self.stream.write(message.as_string() + "\n" + "-" * 72 + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


def mailer_for(config):
    """The mailer ``MAIL_BACKEND`` names; close() it when the run is over."""
    backend = (config.get("MAIL_BACKEND") or "file").lower()
    mailers = {"smtp": SmtpMailer, "file": FileMailer, "console": ConsoleMailer}
    if backend not in mailers:
        raise ValueError(f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, not {backend!r}")
    return mailers[backend](config)
