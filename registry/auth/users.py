"""Admin UI users: passwords stored hashed, failed sign-ins slowed down."""

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from registry import clock
from registry.auth.models import USER_ROLES, User

LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 5


class UserError(ValueError):
    """A bad request about a user."""


def create(*, session, email: str, role: str, password: str) -> User:
    """Create a user with a hashed password."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise UserError("email must be an email address")
    if role not in USER_ROLES:
        raise UserError(f"role must be one of {', '.join(USER_ROLES)}")
    if by_email(session=session, email=email):
        raise UserError(f"a user {email} already exists")
    user = User(email=email, role=role)
    set_password(user=user, password=password)
    session.add(user)
    session.flush()
    return user


def set_password(*, user: User, password: str) -> None:
    """Store a new password, hashed (at least 8 characters); the user's open UI sessions end."""
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End the user's open UI sessions: those opened in an earlier epoch are refused."""
    user.session_epoch = (user.session_epoch or 0) + 1


def by_email(*, session, email: str) -> User | None:
    """The user with this email (in any case), or None."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get(*, session, email: str) -> User:
    """The user with this email, or UserError."""
    user = by_email(session=session, email=email)
    if user is None:
        raise UserError(f"there is no user {email.strip().lower()}")
    return user


def set_active(*, session, email: str, active: bool) -> User:
    """Let a user sign in again, or stop them: a deactivated user's open sessions end at their
    next request, and stay ended when the user is let in again (they sign in anew)."""
    user = get(session=session, email=email)
    if user.active and not active:
        end_sessions(user)
    user.active = active
    session.flush()
    return user


def reset_password(*, session, email: str, password: str) -> User:
    """Give a user a new password and lift a lock-out from failed sign-ins (an operator's reset
    usually follows one)."""
    user = get(session=session, email=email)
    set_password(user=user, password=password)
    user.failed_logins = user.known_browser_failed_logins = 0
    user.locked_until = user.known_browser_locked_until = None
    session.flush()
    return user


# one answer for every refused sign-in, so that neither the message nor the time it takes tells
# whether an account exists, is deactivated or is locked out
SIGN_IN_REFUSED = (
    f"Email or password is not correct. After {LOCK_AFTER_FAILURES} failed sign-ins in a row an "
    f"account waits {LOCK_MINUTES} minutes, except in the browsers it has signed in with before: "
    f"if you are sure of your password, try again in {LOCK_MINUTES} minutes."
)


@cache
def _hash_of_no_password() -> str:
    """A hash to check a password against when there is no user: the same work as for one."""
    return generate_password_hash(secrets.token_urlsafe(32))


def password_fingerprint(user: User) -> str:
    """A short digest of the user's stored password hash: what a known-browser mark is bound
    to, so that a new password makes every browser a stranger again."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def authenticate(
    *, session, email: str, password: str, known_browser: dict | None = None
) -> tuple[User | None, str | None]:
    """Check a sign-in; returns (user, None) or (None, a message safe to show).

    ``known_browser``: what the browser's known-browser mark says (a user id and a password
    fingerprint, see registry/admin/signin.py), or None. Failures are counted, and lock out,
    separately for the user's known browsers and for every other browser: anyone who knows an
    email can lock the account for strangers, not for the browsers the user works in.
    """
    user = by_email(session=session, email=email)
    now = clock.now()
    # the password is always checked (one scrypt): a quick refusal would tell who has an account
    stored_hash = user.password_hash if user is not None else _hash_of_no_password()
    password_ok = check_password_hash(stored_hash, password)
    if user is None:
        return None, SIGN_IN_REFUSED
    known = known_browser is not None and known_browser == {
        "user": user.id,
        "password": password_fingerprint(user),
    }
    prefix = "known_browser_" if known else ""
    locked_until = getattr(user, f"{prefix}locked_until")
    if locked_until and locked_until > now:
        return None, SIGN_IN_REFUSED
    if not user.active or not password_ok:
        failures = (getattr(user, f"{prefix}failed_logins") or 0) + 1
        if failures >= LOCK_AFTER_FAILURES:
            setattr(user, f"{prefix}locked_until", now + timedelta(minutes=LOCK_MINUTES))
            failures = 0
        setattr(user, f"{prefix}failed_logins", failures)
        return None, SIGN_IN_REFUSED
    setattr(user, f"{prefix}failed_logins", 0)
    setattr(user, f"{prefix}locked_until", None)
    user.last_login_at = now
    return user, None
