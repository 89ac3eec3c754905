"""Outbox delivery: email alerts and digests, and signed webhook POSTs, with retries.

Every due row is claimed (see ``jobs.outbox``), sent with no lock held, and its outcome
recorded in a short transaction of its own, so a crash mid-run neither loses nor repeats
what was already recorded. Each batch is leased from the moment it is claimed, so a long run
never sends on an expired lease that another replica could claim. A failure waits 1, 2, 4 …
minutes (at most an hour) before the next attempt; a row is ``failed`` only after
``DELIVERY_MAX_ATTEMPTS`` attempts and ``DELIVERY_GIVE_UP_HOURS`` since it was queued. Once the
SMTP server is found unreachable, the run's other emails are not tried (nor counted): they wait
for the next run, which tries the server again with one message. A queued alert that no longer
applies is marked ``withdrawn``, never deleted.
"""

import hashlib
import hmac
import logging
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import requests

from jobs.mail import MailError, MailNotTried, compose, mailer_for
from jobs.outbox import claim_due, defer, record_outcome, withdraw
from registry import clock
from registry.alerts.models import Alert, Digest, Webhook
from registry.expirations.service import current_lapse_date

log = logging.getLogger("registry.jobs")
BATCH = 20


def signature(secret: str, body: bytes) -> str:
    """The ``X-Registry-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(
    http: requests.Session,
    *,
    url: str,
    secret: str,
    body: str,
    event: str,
    delivery_id: str,
    timeout: float,
) -> str | None:
    """POST one delivery; None when the receiver answered 2xx, else the error."""
    raw = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ionm-credential-registry",
        "X-Registry-Event": event,
        "X-Registry-Delivery": delivery_id,
        "X-Registry-Signature": signature(secret, raw),
    }
    try:
        response = http.post(
            url, data=raw, headers=headers, timeout=(timeout, timeout), allow_redirects=False
        )
    except requests.RequestException as exc:
        # the details (they may quote the URL's query) go to the operators' log only
        log.info("webhook delivery %s: %r", delivery_id, exc)
        return f"{type(exc).__name__} from {_receiver(url)}"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code} from {_receiver(url)}"


def _receiver(url: str) -> str:
    """Where a webhook went, for a delivery's ``last_error``: readers of alerts (a read key, a
    UI viewer) see it, so never the receiver's reply (an internal server's error page) nor the
    URL's query or user info (a token some receivers take there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def deliver(*, sessions, config, outboxes=(Alert, Digest)) -> dict:
    """Send everything due in the outbox once; returns counts by outcome."""
    # rows that come due while this run goes wait for the next run, so the loop ends
    started = clock.now()
    counts: Counter = Counter()
    mailer = mailer_for(config)
    http = requests.Session()
    try:
        for model in outboxes:
            while True:
                email_down = getattr(mailer, "unreachable", None) is not None
                if email_down and model is Digest:
                    break  # every digest is an email: they wait for the next run
                ids = claim_due(
                    sessions,
                    model,
                    now=clock.now(),
                    due_by=started,
                    limit=BATCH,
                    where=(Alert.channel != "email",) if email_down else (),
                )
                if not ids:
                    break
                for row_id in ids:
                    counts[_deliver_one(sessions, model, row_id, mailer, http, config)] += 1
    finally:
        mailer.close()
        http.close()
    return dict(counts)


def _deliver_one(sessions, model, row_id, mailer, http, config) -> str:
    with sessions() as session:
        row = session.get(model, row_id)
        if row is None or row.status != "pending":
            return "skipped"
        payload = dict(row.payload or {})
        recipient, channel = row.recipient, getattr(row, "channel", "email")
        event = getattr(row, "event", "digest")
        target = None
        withdrawn = None
        if model is Alert:
            lapse = current_lapse_date(
                session=session, item_type=row.item_type, item_id=row.item_id
            )
            if lapse != row.lapse_date:
                withdrawn = "the item was renewed, ended or deactivated"
            elif channel == "webhook":
                webhook = session.get(Webhook, recipient)
                if webhook is None or not webhook.active:
                    withdrawn = "the webhook subscription is inactive"
                else:
                    target = (webhook.url, webhook.secret)
    if withdrawn:
        log.info("alert %s withdrawn: %s", row_id, withdrawn)
        return withdraw(sessions, model, row_id, reason=withdrawn, now=clock.now())
    if channel == "webhook":
        error = post_webhook(
            http,
            url=target[0],
            secret=target[1],
            body=payload["body"],
            event=event,
            delivery_id=row_id,
            timeout=float(config["WEBHOOK_TIMEOUT"]),
        )
    else:
        try:
            error = _send_email(mailer, config, model, row_id, recipient, payload)
        except MailNotTried as exc:
            return defer(sessions, model, row_id, reason=str(exc), now=clock.now())
    status = record_outcome(
        sessions,
        model,
        row_id,
        error=error,
        now=clock.now(),
        max_attempts=int(config["DELIVERY_MAX_ATTEMPTS"]),
        give_up_after=timedelta(hours=float(config["DELIVERY_GIVE_UP_HOURS"])),
    )
    if error:
        log.warning(
            "%s %s to %s not delivered (%s): %s", model.__name__, row_id, recipient, status, error
        )
    return status


def _send_email(mailer, config, model, row_id, recipient, payload) -> str | None:
    message = compose(
        config=config,
        to=recipient,
        subject=payload["subject"],
        text=payload["text"],
        html=payload["html"],
        message_key=f"{model.__tablename__[:-1]}-{row_id}",
    )
    try:
        mailer.send(message)
    except MailNotTried:
        raise
    except MailError as exc:
        return str(exc)
    return None
