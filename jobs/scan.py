"""The expiration scan: queue one alert per item, threshold, recipient and channel, once.

For every credential, appointment and supervision agreement that ``expiring_within`` lists,
the scan finds the most urgent threshold of ``ALERT_THRESHOLDS`` the item has crossed (90, 60,
30, 14, 7, 1 days before its last valid day; -1 = the day after it lapsed) and queues that one
alert for each recipient. Run daily, that is each threshold on its exact day; after a missed
week only the most urgent one goes out. The alerts' unique key (item, lapse date, threshold,
channel, recipient) and ``INSERT … ON CONFLICT DO NOTHING`` make re-runs, restarts and a second
scheduler harmless; a renewal changes the lapse date and so starts a fresh series.

After the lapse the alert is news, not a reminder: only items that crossed an after-lapse
threshold since the last completed scan (``job_runs.last_run_on``, that day included, so an item
entered after that day's scan is not missed) are alerted, and only those are read. A first-ever
scan looks back ``FIRST_SCAN_LAPSE_DAYS``. So a new coordinator, webhook or email address never
receives a ``credential.expired`` for a lapse of long ago.
"""

import json
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select

from jobs.locks import hold_job_lock
from jobs.outbox import insert_if_absent
from jobs.rendering import alert_subject, item_label, render
from registry import clock
from registry.agreements import service as agreements
from registry.alerts.models import Alert, JobRun, Webhook
from registry.credentials.models import Credential, CredentialType
from registry.database import new_id
from registry.expirations.service import expiring_within, local_date
from registry.people.models import Person

CHUNK = 500
AUDIENCE_RANK = {"person": 0, "supervisor": 1, "coordinator": 2}
# with no scan on record, lapses of the past week still get their day-after alert
FIRST_SCAN_LAPSE_DAYS = 7


def most_urgent_threshold(
    days_left: int, thresholds: list[int], *, catch_up_days: int = 0
) -> int | None:
    """The smallest threshold crossed, or None.

    Before the lapse, any threshold crossed counts (reminders stop once it has lapsed). After
    it, a negative threshold counts only if it was crossed at most ``catch_up_days`` ago: the
    days since the last completed scan.
    """
    crossed = [
        t
        for t in thresholds
        if days_left <= t and (days_left >= 0 if t >= 0 else t - days_left <= catch_up_days)
    ]
    return min(crossed) if crossed else None


def catch_up_days(session, as_of: date) -> int:
    """Days since the last completed scan (its day is looked at again), or the first-scan span."""
    last = session.get(JobRun, "scan")
    if last is None or last.last_run_on is None:
        return FIRST_SCAN_LAPSE_DAYS
    return max((as_of - last.last_run_on).days, 0)


def event_for(item_type: str, threshold_days: int) -> str:
    """The webhook event of an alert: ``<item type>.expiring`` before the item lapses,
    ``<item type>.expired`` after (the threshold -1: the day after it lapsed)."""
    return f"{item_type}.expired" if threshold_days < 0 else f"{item_type}.expiring"


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def scan(*, sessions, config) -> dict:
    """Queue the alerts that are due now (one transaction, under the scan lock)."""
    now = clock.now()
    zone = config["REGISTRY_TIMEZONE"]
    thresholds = sorted({int(t) for t in config["ALERT_THRESHOLDS"]}, reverse=True)
    with sessions.begin() as session:
        if not hold_job_lock(session, "scan"):
            return {"skipped (another scheduler is scanning)": 1}
        catch_up = catch_up_days(session, local_date(now, zone))
        after_lapse = [t for t in thresholds if t < 0]
        items = expiring_within(
            session=session,
            within_days=max(thresholds[0], 0),
            include_expired=bool(after_lapse),
            # the oldest lapse that can still be news; nothing older is read
            lapsed_within=catch_up - min(after_lapse) if after_lapse else None,
            today=now,
            timezone=zone,
        )
        due = []
        for item in items:
            threshold = most_urgent_threshold(item["days_left"], thresholds, catch_up_days=catch_up)
            if threshold is not None:
                due.append((item, threshold))
        if not due:
            return {"items due": 0, "alerts queued": 0, "items read": len(items)}
        directory = _Directory(session, [item for item, _ in due], config, now)
        rows = []
        for item, threshold in due:
            rows.extend(directory.alert_rows(item, threshold))
        existing = _existing_keys(session, rows)
        fresh = [row for row in rows if _key(row) not in existing]
        for row in fresh:
            row["payload"] = directory.payload(row)
        queued = insert_if_absent(session, Alert.__table__, fresh)
    return {"items due": len(due), "alerts queued": len(queued), "items read": len(items)}


def _key(row: dict) -> tuple:
    return (
        row["item_type"],
        row["item_id"],
        row["lapse_date"],
        row["threshold_days"],
        row["channel"],
        row["recipient"],
    )


def _existing_keys(session, rows: list[dict]) -> set[tuple]:
    existing: set[tuple] = set()
    item_ids = sorted({row["item_id"] for row in rows})
    for chunk in _chunks(item_ids):
        stmt = select(
            Alert.item_type,
            Alert.item_id,
            Alert.lapse_date,
            Alert.threshold_days,
            Alert.channel,
            Alert.recipient,
        ).where(Alert.item_id.in_(chunk))
        existing.update(tuple(row) for row in session.execute(stmt))
    return existing


class _Directory:
    """Who hears about what, and the details the notices need, loaded in a few queries."""

    def __init__(self, session, items: list[dict], config, now):
        self.config = config
        self.now = now
        self.as_of = local_date(now, config["REGISTRY_TIMEZONE"])
        self.items = {(item["item_type"], item["item_id"]): item for item in items}
        self.coordinators = sorted(
            {email.strip().lower() for email in config["COORDINATOR_EMAILS"] if email.strip()}
        )
        self.people = self._load_people(session, {item["person_id"] for item in items})
        self.credentials = self._load_credentials(
            session, [i["item_id"] for i in items if i["item_type"] == "credential"]
        )
        technologists = {
            i["person_id"]
            for i in items
            if i["item_type"] == "credential"
            and self.people[i["person_id"]]["kind"] == "technologist"
        }
        self.supervisors = self._load_supervisors(session, technologists)
        self.webhooks = list(
            session.execute(select(Webhook.id, Webhook.events).where(Webhook.active.is_(True)))
        )

    @staticmethod
    def _load_people(session, person_ids) -> dict[str, dict]:
        people = {}
        for chunk in _chunks(sorted(person_ids)):
            stmt = select(
                Person.id, Person.given_name, Person.family_name, Person.kind, Person.email
            ).where(Person.id.in_(chunk))
            for row in session.execute(stmt):
                people[row.id] = {
                    "name": f"{row.given_name} {row.family_name}",
                    "given_name": row.given_name,
                    "kind": row.kind,
                    "email": (row.email or "").strip().lower() or None,
                }
        return people

    @staticmethod
    def _load_credentials(session, credential_ids) -> dict[str, dict]:
        details = {}
        for chunk in _chunks(credential_ids):
            stmt = (
                select(
                    Credential.id,
                    Credential.number,
                    Credential.jurisdiction,
                    Credential.issuer,
                    CredentialType.issuer.label("type_issuer"),
                    CredentialType.grace_days,
                )
                .join(CredentialType, CredentialType.code == Credential.type)
                .where(Credential.id.in_(chunk))
            )
            for row in session.execute(stmt):
                details[row.id] = {
                    "number": row.number,
                    "jurisdiction": row.jurisdiction,
                    "issuer": row.issuer or row.type_issuer,
                    "grace_days": row.grace_days,
                }
        return details

    def _load_supervisors(self, session, technologist_ids) -> dict[str, dict[str, dict]]:
        """technologist id → {physician email: {name, places}}: the supervising physicians at
        the facilities where the technologist works (``agreements.service.supervisors``)."""
        found: dict[str, dict[str, dict]] = defaultdict(dict)
        for supervisor in agreements.supervisors(
            session=session, technologist_ids=technologist_ids, on=self.as_of
        ):
            email = (supervisor.physician_email or "").strip().lower()
            if not email:
                continue
            entry = found[supervisor.technologist_id].setdefault(
                email, {"name": supervisor.physician_name, "places": []}
            )
            if supervisor.facility_name not in entry["places"]:
                entry["places"].append(supervisor.facility_name)
        return found

    def email_recipients(self, item: dict) -> dict[str, dict]:
        """email → {audience, name, supervised_at} for one item, the closest role winning."""
        found: dict[str, dict] = {}

        def offer(email, audience, name=None, supervised_at=None):
            current = found.get(email)
            if current is None or AUDIENCE_RANK[audience] < AUDIENCE_RANK[current["audience"]]:
                found[email] = {"audience": audience, "name": name, "supervised_at": supervised_at}

        person = self.people[item["person_id"]]
        if item["item_type"] in ("credential", "appointment") and person["email"]:
            offer(person["email"], "person", person["given_name"])
        if item["item_type"] == "credential":
            for email, entry in self.supervisors.get(item["person_id"], {}).items():
                offer(email, "supervisor", entry["name"], ", ".join(sorted(entry["places"])))
        for email in self.coordinators:
            offer(email, "coordinator")
        return found

    def alert_rows(self, item: dict, threshold: int) -> list[dict]:
        event = event_for(item["item_type"], threshold)
        base = {
            "item_type": item["item_type"],
            "item_id": item["item_id"],
            "person_id": item["person_id"],
            "facility_id": item["facility_id"],
            "lapse_date": item["expires_on"],
            "threshold_days": threshold,
            "event": event,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": self.now,
            "created_at": self.now,
            "updated_at": self.now,
        }
        rows = [
            {**base, "id": new_id(), "channel": "email", "recipient": email}
            for email in sorted(self.email_recipients(item))
        ]
        rows.extend(
            {**base, "id": new_id(), "channel": "webhook", "recipient": webhook_id}
            for webhook_id, events in self.webhooks
            if event in (events or [])
        )
        return rows

    def payload(self, row: dict) -> dict:
        """What is sent, fixed now so every retry sends the same bytes."""
        item = self.items[(row["item_type"], row["item_id"])]
        if row["channel"] == "webhook":
            body = {
                "id": row["id"],
                "event": row["event"],
                "occurred_at": self.now.isoformat(),
                "data": {
                    "item_type": item["item_type"],
                    "item_id": item["item_id"],
                    "person_id": item["person_id"],
                    "facility_id": item["facility_id"],
                    "type": item["type"],
                    "expires_on": item["expires_on"].isoformat(),
                    "days_left": item["days_left"],
                    "threshold_days": row["threshold_days"],
                },
            }
            return {"body": json.dumps(body, separators=(",", ":"))}
        reader = self.email_recipients(item)[row["recipient"]]
        notice = self.notice(item, row["threshold_days"], reader)
        notice["subject"] = alert_subject(notice)
        return {
            "subject": notice["subject"],
            "text": render("alert.txt", notice=notice),
            "html": render("alert.html", notice=notice),
        }

    def notice(self, item: dict, threshold: int, reader: dict) -> dict:
        details = (
            self.credentials.get(item["item_id"], {}) if item["item_type"] == "credential" else {}
        )
        grace_days = details.get("grace_days")
        grace_until: date | None = (
            item["expires_on"] + timedelta(days=grace_days) if grace_days else None
        )
        person = self.people[item["person_id"]]
        return {
            "audience": reader["audience"],
            "recipient_name": reader["name"],
            "supervised_at": reader["supervised_at"],
            "item_type": item["item_type"],
            "label": item_label(item),
            "type_code": item["type"],
            "type_name": item["type_name"],
            "issuer": details.get("issuer"),
            "number": details.get("number"),
            "jurisdiction": details.get("jurisdiction"),
            "person_name": person["name"],
            "person_kind": person["kind"],
            "facility_name": item["facility_name"],
            "expires_on": item["expires_on"],
            "days_left": item["days_left"],
            "threshold_days": threshold,
            "grace_days": grace_days,
            "grace_until": grace_until,
            "as_of": self.as_of,
        }
