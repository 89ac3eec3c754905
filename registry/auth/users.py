"""Admin UI users: passwords stored hashed, failed sign-ins slowed down."""

from datetime import timedelta

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
    if session.scalar(select(User).where(func.lower(User.email) == email)):
        raise UserError(f"a user {email} already exists")
    user = User(email=email, role=role)
    set_password(user=user, password=password)
    session.add(user)
    session.flush()
    return user


def set_password(*, user: User, password: str) -> None:
    """Store a new password, hashed (at least 8 characters)."""
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    user.password_hash = generate_password_hash(password)


def authenticate(*, session, email: str, password: str) -> tuple[User | None, str | None]:
    """Check a sign-in; returns (user, None) or (None, a message safe to show)."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    now = clock.now()
    if user is not None and user.locked_until and user.locked_until > now:
        return None, "Too many failed sign-ins; try again in a few minutes."
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= LOCK_AFTER_FAILURES:
                user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
        return None, "Email or password is not correct."
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user, None
