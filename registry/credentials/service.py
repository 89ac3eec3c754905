"""Credentials people hold, and the catalogue of credential types and modalities."""

from calendar import monthrange
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import select

from registry import clock
from registry.config import accepts_unverified, registry_timezone
from registry.credentials.models import (
    CREDENTIAL_STATUSES,
    Credential,
    CredentialType,
    Modality,
)
from registry.errors import Conflict, InvalidData, NotFound
from registry.ids import find
from registry.people import service as people
from registry.qualification import engine
from schemas.base import require_order

_VERIFICATION_COLUMNS = {
    "method": "verification_method",
    "verified_on": "verified_on",
    "verified_by": "verified_by",
    "source": "verification_source",
}


def get(*, session, credential_id: str) -> Credential:
    """The credential with this id, or NotFound."""
    found = find(session, Credential, credential_id)
    if found is None:
        raise NotFound(f"credential {credential_id!r} not found")
    return found


def create(*, session, person_id: str, data: dict) -> Credential:
    """Record a credential a person holds (the person must exist; the type must apply to them)."""
    person = people.get(session=session, person_id=person_id)
    values = dict(data)
    credential_type = _known_type(session, values.get("type"))
    if person.kind not in (credential_type.kinds or []):
        raise InvalidData(
            {
                "type": [
                    f"{credential_type.code} applies to {_words(credential_type.kinds)}, "
                    f"not to a {person.kind}."
                ]
            }
        )
    _check_jurisdiction(values.get("jurisdiction"), credential_type)
    _check_verification_date(values)
    _date_the_revocation(values, status=values.get("status", "active"), was=None)
    if "expires_on" not in values:
        # omitted: the type's default term from issued_on (an explicit null never expires)
        values["expires_on"] = _default_expiry(credential_type, values.get("issued_on"))
    _flatten_verification(values)
    credential = Credential(person_id=person.id, **values)
    session.add(credential)
    session.flush()
    return credential


def update(*, session, credential: Credential, data: dict) -> Credential:
    """Apply a partial update (dates are checked against the stored values too).

    A verification vouches for the dates and jurisdiction it saw: a change that could make a
    verified credential count where it did not (a later or no expiry, an earlier or no issue
    date, another jurisdiction) must bring its own verification, unless the policy
    (``ACCEPT_UNVERIFIED``) counts unverified credentials anyway. Otherwise the credential
    would go on qualifying on a verification of other facts.
    """
    values = dict(data)
    if not accepts_unverified():
        _keep_revoked_until_reverified(credential, values)
        _require_verification_of_wider_facts(credential, values)
    if _brings_new_verification(credential, values):
        _check_verification_date(values)
    _date_the_revocation(
        values,
        status=values.get("status", credential.status),
        was=credential.status,
        dated=credential.revoked_on,
    )
    _check_order(values, credential, "issued_on", "expires_on")
    jurisdiction = values.get("jurisdiction", credential.jurisdiction)
    _check_jurisdiction(jurisdiction, _known_type(session, credential.type))
    _flatten_verification(values)
    for key, value in values.items():
        setattr(credential, key, value)
    session.flush()
    return credential


def term_end(credential_type: CredentialType | None, *, counted_from: date | None) -> date | None:
    """The last valid day of a term of the type's ``validity_months`` counted from a date (a
    new credential's ``issued_on``, or the current ``expires_on`` for its renewal): the same day
    that many months later (the month's last day when it is shorter). ABRET credentials expire
    on 31 December of their expiration year (SPEC), so an ABRET term runs to 31 December.

    None when the type sets no validity, there is no date to count from, or the end would fall
    after 9999-12-31. The one rule for the API's default expiry and the UI's renewal suggestion.
    """
    if credential_type is None or not credential_type.validity_months or counted_from is None:
        return None
    months = counted_from.month - 1 + credential_type.validity_months
    year, month = counted_from.year + months // 12, months % 12 + 1
    if year > date.max.year:
        return None
    if (credential_type.issuer or "").startswith("ABRET"):
        return date(year, 12, 31)
    return date(year, month, min(counted_from.day, monthrange(year, month)[1]))


def _default_expiry(credential_type: CredentialType, issued_on: date | None) -> date | None:
    expires_on = term_end(credential_type, counted_from=issued_on)
    if expires_on is None and issued_on is not None and credential_type.validity_months:
        raise InvalidData(
            {
                "expires_on": [
                    f"Give expires_on: {credential_type.validity_months} months of "
                    f"{credential_type.code} from issued_on end after 9999-12-31."
                ]
            }
        )
    return expires_on


def renew(
    *,
    session,
    credential: Credential,
    expires_on,
    issued_on=None,
    number=None,
    verification=None,
) -> Credential:
    """Renew a credential in place (the audit trail keeps the previous dates), with the
    verification of the renewal.

    The old verification vouched for the old dates only, and an unverified credential does not
    qualify (unless the policy, ``ACCEPT_UNVERIFIED``, says it does): recorded without one, a
    renewal would stop a still-valid credential from qualifying. So a renewal is recorded once
    it is verified; until then the current, verified term stays in force (and its expiry alerts
    keep coming).
    """
    if (verification is None or _on_file(credential, verification)) and not accepts_unverified():
        raise InvalidData(
            {
                "verification": {
                    "method": [
                        "Verify the renewal to record it; until then the current term stays "
                        "in force."
                    ]
                }
            }
        )
    values = {"expires_on": expires_on, "verification": verification}
    if issued_on is not None:
        values["issued_on"] = issued_on
    if number is not None:
        values["number"] = number
    return update(session=session, credential=credential, data=values)


def set_status(*, session, credential: Credential, status: str) -> Credential:
    """Suspend, revoke, reactivate or mark a credential entered in error (never deleted).

    A revoked credential is reinstated only with a new verification (``update`` with the
    status and the verification), unless the policy counts unverified credentials."""
    if status not in CREDENTIAL_STATUSES:
        raise InvalidData({"status": [f"Must be one of: {', '.join(CREDENTIAL_STATUSES)}."]})
    if not accepts_unverified():
        _keep_revoked_until_reverified(credential, {"status": status})
    values = {"status": status}
    _date_the_revocation(values, status=status, was=credential.status, dated=credential.revoked_on)
    for key, value in values.items():
        setattr(credential, key, value)
    session.flush()
    return credential


def list_statement(  # noqa: A002
    *, person_id=None, type=None, status=None, expires_before=None, person_ids=None
):
    """The filtered select behind the credential lists: soonest expiry first, never-expiring
    last. ``person_ids`` keeps the credentials of any of those people."""
    stmt = select(Credential)
    if person_id:
        stmt = stmt.where(Credential.person_id == person_id)
    if person_ids is not None:
        stmt = stmt.where(Credential.person_id.in_(person_ids))
    if type:
        stmt = stmt.where(Credential.type == type)
    if status:
        stmt = stmt.where(Credential.status == status)
    if expires_before is not None:
        stmt = stmt.where(Credential.expires_on < expires_before)
    return stmt.order_by(
        Credential.expires_on.is_(None), Credential.expires_on, Credential.type, Credential.id
    )


def get_type(*, session, code: str) -> CredentialType:
    """The credential type with this code, or NotFound."""
    found = find(session, CredentialType, code)
    if found is None:
        raise NotFound(f"credential type {code!r} not found")
    return found


def create_type(*, session, data: dict) -> CredentialType:
    """Add a credential type to the catalogue (the code must be new)."""
    code = data["code"]
    if session.get(CredentialType, code) is not None:
        raise Conflict(
            f"credential type {code!r} already exists",
            errors={"code": [f"{code} is already in the catalogue; PATCH it instead."]},
        )
    _check_depends_on(session, code, data.get("depends_on"))
    credential_type = CredentialType(**data)
    session.add(credential_type)
    session.flush()
    return credential_type


def update_type(*, session, credential_type: CredentialType, data: dict) -> CredentialType:
    """Change a credential type (its code never changes)."""
    if "depends_on" in data:
        _check_depends_on(session, credential_type.code, data["depends_on"])
    for key, value in data.items():
        setattr(credential_type, key, value)
    session.flush()
    return credential_type


def types_statement():
    """Every credential type, by code."""
    return select(CredentialType).order_by(CredentialType.code)


def type_names(*, session) -> dict[str, str]:
    """Credential type code -> name, for every type in the catalogue."""
    return dict(session.execute(select(CredentialType.code, CredentialType.name)).all())


def modality_names(*, session) -> dict[str, str]:
    """Modality code -> name, by code."""
    return {m.code: m.name for m in session.scalars(modalities_statement())}


def modalities_statement():
    """Every modality, by code."""
    return select(Modality).order_by(Modality.code)


def unknown_modalities(*, session, codes) -> list[str]:
    """The codes among ``codes`` that are not in the modality catalogue, in the order given."""
    wanted = list(dict.fromkeys(codes or []))
    if not wanted:
        return []
    known = set(session.scalars(select(Modality.code).where(Modality.code.in_(wanted))))
    return [code for code in wanted if code not in known]


def unknown_types(*, session, codes) -> list[str]:
    """The codes among ``codes`` that are not credential types, in the order given."""
    wanted = list(dict.fromkeys(codes or []))
    if not wanted:
        return []
    known = set(session.scalars(select(CredentialType.code).where(CredentialType.code.in_(wanted))))
    return [code for code in wanted if code not in known]


def _words(items) -> str:
    items = list(items or [])
    return " and ".join(items) if items else "no one"


def _known_type(session, code) -> CredentialType:
    found = find(session, CredentialType, code)
    if found is None:
        raise InvalidData(
            {"type": ["Unknown credential type; GET /api/v1/credential-types lists the codes."]}
        )
    return found


def _check_jurisdiction(jurisdiction: str | None, credential_type: CredentialType) -> None:
    if credential_type.requires_jurisdiction and not jurisdiction:
        raise InvalidData(
            {
                "jurisdiction": [
                    f"Required for {credential_type.code}: the two-letter state that issued it "
                    "(e.g. KS)."
                ]
            }
        )


def _check_verification_date(values: dict) -> None:
    """A verification is dated no later than tomorrow in the registry's zone (a coordinator a
    day ahead of it is still right)."""
    given = values.get("verification")
    if not given or not given.get("verified_on"):
        return
    latest = clock.today(registry_timezone()) + timedelta(days=1)
    if given["verified_on"] > latest:
        raise InvalidData(
            {"verification": {"verified_on": [f"A verification cannot be dated after {latest}."]}}
        )


def _date_the_revocation(
    values: dict, *, status: str, was: str | None, dated: date | None = None
) -> None:
    """``revoked_on`` goes with status revoked: the date given (not after tomorrow), else the
    day an existing credential becomes revoked (a credential entered as revoked needs its
    date: it would otherwise hold back the person's verifications made before today). It is
    kept when a revoked credential is marked entered in error and goes when the credential is
    reinstated. The qualification rules hold verifications made before it (and the revoked
    credential's own) against every credential of the same type and, for licenses, state."""
    given = values.pop("revoked_on", None)  # null: not given
    today = clock.today(registry_timezone())
    if given is not None and given > today + timedelta(days=1):
        raise InvalidData(
            {"revoked_on": [f"A revocation cannot be dated after {today + timedelta(days=1)}."]}
        )
    if status == "entered_in_error":
        # a revoked credential marked entered in error keeps its date (an export of one
        # imports again)
        if given is not None:
            values["revoked_on"] = given
        return
    if status != "revoked":
        if given is not None:
            raise InvalidData(
                {
                    "revoked_on": [
                        "Only a revoked credential (or one revoked, then marked entered in "
                        "error) has a revocation date."
                    ]
                }
            )
        if was in ("revoked", "entered_in_error") and status in ("active", "suspended"):
            values["revoked_on"] = None
        return
    if given is None and was is None:
        raise InvalidData(
            {
                "revoked_on": [
                    "Give the day the issuer revoked it (a credential entered as revoked)."
                ]
            }
        )
    if given is not None:
        values["revoked_on"] = given
    elif dated is None:  # revoked now (back from entered in error, it keeps its date)
        values["revoked_on"] = today


def _revoked_by(credential: Credential) -> date:
    """When a revoked credential was revoked (its ``revoked_on``; a record revoked before that
    was kept: the registry-zone date of its last change)."""
    if credential.revoked_on is not None:
        return credential.revoked_on
    return credential.updated_at.astimezone(ZoneInfo(registry_timezone())).date()


def reverification_from(credential: Credential) -> date:
    """The first day a verification of a revoked credential (for its reinstatement, or of a
    copy) may be dated: not before the revocation, and after the verification it had. The
    rules' own reading (``engine.first_day_verifications_count``)."""
    return engine.first_day_verifications_count(
        engine.RevocationFact(
            credential.id,
            credential.type,
            credential.jurisdiction,
            _revoked_by(credential),
            credential.verified_on,
        )
    )


REVOKED_STAYS = (
    "A revoked credential stays revoked (or is marked entered in error) until it is reinstated "
    "with a new verification."
)
REINSTATE_WITH_NEW_VERIFICATION = (
    "A revoked credential is reinstated with a new verification: the one on file predates the "
    "revocation."
)


def _keep_revoked_until_reverified(credential: Credential, values: dict) -> None:
    """The issuer took a revoked credential back, so the verification on file no longer vouches
    for it. Its only way out is a reinstatement (status ``active``) with a verification made
    since; it may be marked entered in error (a record that should not exist), which changes
    nothing of that. Meanwhile neither another status, nor a change of verification or state,
    may open a side door (suspended, then active; the verification cleared, reinstated, then
    put back; a revoked license moved to another state)."""
    if not credential.revoked_until_reinstated:
        return
    status = values.get("status", credential.status)
    if status == "active":
        given = values.get("verification")
        if given is None:
            raise InvalidData({"status": [REINSTATE_WITH_NEW_VERIFICATION]})
        earliest = reverification_from(credential)
        if _on_file(credential, given):
            raise InvalidData(
                {
                    "verification": {
                        "verified_on": [
                            f"That is the verification on file ({credential.verified_on}); a "
                            f"reinstatement needs one made on or after {earliest}."
                        ]
                    }
                }
            )
        if given.get("verified_on") and given["verified_on"] < earliest:
            raise InvalidData(
                {
                    "verification": {
                        "verified_on": [
                            f"A reinstatement needs a verification made on or after {earliest}: "
                            "the credential was revoked, and the verification it had does not "
                            "vouch for it."
                        ]
                    }
                }
            )
        return
    if status not in ("revoked", "entered_in_error"):
        raise InvalidData({"status": [REVOKED_STAYS]})
    if "verification" in values and (
        values["verification"] is None or not _on_file(credential, values["verification"])
    ):
        raise InvalidData({"verification": [REVOKED_STAYS]})
    if (
        "jurisdiction" in values
        and (values["jurisdiction"] or "").upper() != (credential.jurisdiction or "").upper()
    ):
        raise InvalidData({"jurisdiction": [REVOKED_STAYS]})


def _require_verification_of_wider_facts(credential: Credential, values: dict) -> None:
    if not credential.verified or _brings_new_verification(credential, values):
        return
    widened = {}
    if "expires_on" in values and _later_end(values["expires_on"], credential.expires_on):
        widened["expires_on"] = "A later expiry"
    if "issued_on" in values and _earlier_start(values["issued_on"], credential.issued_on):
        widened["issued_on"] = "An earlier issue date"
    if "jurisdiction" in values and values["jurisdiction"] != credential.jurisdiction:
        widened["jurisdiction"] = "Another jurisdiction"
    if widened:
        raise InvalidData(
            {
                field: [
                    f"{change} needs a verification of its own: send a new verification "
                    "with it (the one on file vouched for what was on file then)."
                ]
                for field, change in widened.items()
            }
        )


def _brings_new_verification(credential: Credential, values: dict) -> bool:
    """Whether an update says how the credential stands verified now: a verification other
    than the one on file, or none (it becomes unverified). The one on file sent back unchanged
    (the edit form shows it; a client may echo what it read) vouches for nothing new."""
    if "verification" not in values:
        return False
    return values["verification"] is None or not _on_file(credential, values["verification"])


def _on_file(credential: Credential, verification: dict) -> bool:
    """Whether a verification is the one the credential already has (blank = absent)."""

    def key(given: dict | None) -> tuple:
        return tuple((given or {}).get(name) or None for name in _VERIFICATION_COLUMNS)

    return key(verification) == key(credential.verification)


def _later_end(new: date | None, old: date | None) -> bool:
    """Whether an expiry moves later (None: does not expire)."""
    if new is None:
        return old is not None
    return old is not None and new > old


def _earlier_start(new: date | None, old: date | None) -> bool:
    """Whether an issue date moves earlier (None: valid from any date)."""
    if new is None:
        return old is not None
    return old is not None and new < old


def _flatten_verification(values: dict) -> None:
    """Turn ``{"verification": {...} | None}`` into the model's flat columns."""
    if "verification" not in values:
        return
    verification = values.pop("verification") or {}
    for key, column in _VERIFICATION_COLUMNS.items():
        values[column] = verification.get(key)


def _check_order(values: dict, existing, first: str, second: str) -> None:
    try:
        require_order(values, first, second, existing=existing)
    except ValidationError as exc:
        raise InvalidData(exc.messages) from exc


def _check_depends_on(session, code: str, depends_on: str | None) -> None:
    if depends_on is None:
        return
    if depends_on == code:
        raise InvalidData({"depends_on": ["A credential type cannot depend on itself."]})
    seen = {code}
    current = depends_on
    while current is not None:
        if current in seen:
            raise InvalidData(
                {"depends_on": [f"{depends_on} already depends on {code}: that would be a cycle."]}
            )
        seen.add(current)
        found = session.get(CredentialType, current)
        if found is None:
            raise InvalidData(
                {"depends_on": [f"Unknown credential type {current!r}; use an existing code."]}
            )
        current = found.depends_on
