"""API keys: created once, shown once, stored only as a hash."""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from registry import clock
from registry.auth.models import SCOPES, ApiKey
from registry.errors import NotFound
from registry.ids import find


class ApiKeyError(ValueError):
    """A bad request about API keys (unknown scope, duplicate name, unknown key)."""


def hash_key(raw_key: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a sufficient one-way hash."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    """Parse and validate a comma-separated scope list."""
    scopes = [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)
    scopes = [s for s in scopes if s]
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise ApiKeyError(
            f"scopes must be a non-empty subset of {', '.join(SCOPES)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return [s for s in SCOPES if s in scopes]


def create(*, session, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key; returns the record and the raw key (the only time it is visible)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyError("name must be 1 to 100 characters")
    if session.scalar(select(ApiKey).where(ApiKey.name == name)):
        raise ApiKeyError(f"an API key named {name!r} already exists")
    prefix = secrets.token_hex(4)
    raw = f"reg_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=hash_key(raw), scopes=parse_scopes(scopes))
    session.add(key)
    session.flush()
    return key, raw


def revoke(*, session, name: str) -> ApiKey:
    """Revoke a key by name."""
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise ApiKeyError(f"no API key named {name!r}")
    return revoke_key(key)


def revoke_key(key: ApiKey) -> ApiKey:
    """Revoke a key (again: nothing changes); it answers 401 at once, on every replica."""
    if key.revoked_at is None:
        key.revoked_at = clock.now()
    return key


def get(*, session, key_id: str) -> ApiKey:
    """The key with this id, or NotFound."""
    key = find(session, ApiKey, key_id)
    if key is None:
        raise NotFound(f"API key {key_id!r} not found")
    return key


def list_statement(*, revoked: bool | None = None):
    """Keys by name (never their hashes), optionally only the revoked or the active ones."""
    stmt = select(ApiKey)
    if revoked is not None:
        stmt = stmt.where(
            ApiKey.revoked_at.is_not(None) if revoked else ApiKey.revoked_at.is_(None)
        )
    return stmt.order_by(ApiKey.name)


@dataclass(frozen=True)
class Caller:
    """The active key a request came with: what authorisation and the audit trail need."""

    id: str
    name: str
    scopes: tuple[str, ...]


# every request runs it: a plain row, not an ORM object the session then tracks
_ACTIVE_KEY = select(ApiKey.id, ApiKey.name, ApiKey.scopes).where(
    ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None)
)


def authenticate(*, session, raw_key: str) -> Caller | None:
    """The active key matching a raw key, or None."""
    row = session.connection().execute(_ACTIVE_KEY, {"key_hash": hash_key(raw_key)}).first()
    if row is None:
        return None
    return Caller(id=row.id, name=row.name, scopes=tuple(row.scopes))
