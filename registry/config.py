"""Settings read from the environment, with defaults that work on a laptop."""

import math
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SQLITE_SYNCHRONOUS_MODES = ("NORMAL", "FULL")
CHECK_COMMIT_MODES = ("durable", "asynchronous")
MAIL_BACKENDS = ("smtp", "file", "console")


class SettingError(ValueError):
    """An environment variable the registry cannot use; the message names it and says why."""

    exit_status = 78  # EX_CONFIG: the container entrypoint stops retrying on it


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env, name: str, default: bool) -> bool:
    """true/false (also 1/0, yes/no, on/off, any case); unset or empty is the default. Anything
    else stops the start: a typo (``ture``) must not quietly mean false."""
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise SettingError(f"{name} must be true or false, not {env.get(name)!r}")


def _number(
    env,
    name: str,
    default: str,
    kind=int,
    minimum: float | None = None,
    maximum: float | None = None,
):
    """A whole number (``kind=int``) or a number of seconds or hours (``float``)."""
    text = (env.get(name) or "").strip() or default
    try:
        value = kind(text)
        if not math.isfinite(value):
            raise ValueError(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingError(f"{name} must be {what}, not {env.get(name)!r}") from None
    if minimum is not None and value < minimum:
        raise SettingError(f"{name} must be at least {minimum:g}, not {env.get(name)!r}")
    if maximum is not None and value > maximum:
        raise SettingError(f"{name} must be at most {maximum:g}, not {env.get(name)!r}")
    return value


def _choice(env, name: str, default: str, choices: tuple[str, ...], *, case=str.upper) -> str:
    value = case((env.get(name) or "").strip() or default)
    if value not in choices:
        raise SettingError(f"{name} must be one of {', '.join(choices)}, not {env.get(name)!r}")
    return value


def _log_level(env, name: str, default: str) -> str:
    """A Python log level name in any case; WARN and FATAL mean WARNING and CRITICAL."""
    value = ((env.get(name) or "").strip() or default).upper()
    value = {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(value, value)
    if value not in LOG_LEVELS:
        raise SettingError(f"{name} must be one of {', '.join(LOG_LEVELS)}, not {env.get(name)!r}")
    return value


def _timezone(env, name: str, default: str) -> str:
    value = (env.get(name) or "").strip() or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            f"{name} must be an IANA time zone such as America/Chicago, not {env.get(name)!r}"
        ) from None
    return value


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _ints(env, name: str, default: list[int]) -> list[int]:
    items = _list(env.get(name))
    try:
        return [int(item) for item in items] if items else default
    except ValueError:
        raise SettingError(
            f"{name} must be whole numbers separated by commas, not {env.get(name)!r}"
        ) from None


def _base_url(env, name: str) -> str:
    """An http(s) URL without a trailing slash; unset or empty is "" (use the request's)."""
    value = (env.get(name) or "").strip().rstrip("/")
    if value and not value.lower().startswith(("http://", "https://")):
        raise SettingError(f"{name} must be an http:// or https:// URL, not {env.get(name)!r}")
    return value


def from_environment() -> dict:
    """Build the app configuration from environment variables; a value that cannot be used
    raises SettingError naming the variable (the app, the scheduler and the CLI do not start)."""
    env = os.environ
    var_dir = Path(env.get("REGISTRY_VAR_DIR", PROJECT_ROOT / "var"))
    return {
        # unset: a random key kept in REGISTRY_VAR_DIR/secret-key (see ensure_secret_key)
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{var_dir / 'registry.db'}"),
        "REGISTRY_VAR_DIR": str(var_dir),
        "REGISTRY_TIMEZONE": _timezone(env, "REGISTRY_TIMEZONE", "America/Chicago"),
        "REGISTRY_BASE_URL": _base_url(env, "REGISTRY_BASE_URL"),
        "MAIL_BACKEND": _choice(env, "MAIL_BACKEND", "file", MAIL_BACKENDS, case=str.lower),
        "MAIL_FILE_DIR": env.get("MAIL_FILE_DIR", str(var_dir / "mail")),
        "SMTP_HOST": env.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": _number(env, "SMTP_PORT", "25", minimum=1, maximum=65535),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env, "SMTP_STARTTLS", False),
        "SMTP_TIMEOUT": _number(env, "SMTP_TIMEOUT", "10", float, minimum=0.1),
        "MAIL_FROM": env.get("MAIL_FROM", "registry@localhost"),
        "COORDINATOR_EMAILS": _list(env.get("COORDINATOR_EMAILS")),
        "ALERT_THRESHOLDS": _ints(env, "ALERT_THRESHOLDS", [90, 60, 30, 14, 7, 1, -1]),
        "WEBHOOK_TIMEOUT": _number(env, "WEBHOOK_TIMEOUT", "5", float, minimum=0.1),
        "DELIVERY_MAX_ATTEMPTS": _number(env, "DELIVERY_MAX_ATTEMPTS", "8", minimum=1),
        "DELIVERY_GIVE_UP_HOURS": _number(env, "DELIVERY_GIVE_UP_HOURS", "72", float, minimum=0),
        "TECHNOLOGIST_CERTIFICATIONS": _list(env.get("TECHNOLOGIST_CERTIFICATIONS"))
        or ["CNIM", "DABNM"],
        "PHYSICIAN_BOARD_CERTIFICATIONS": _list(env.get("PHYSICIAN_BOARD_CERTIFICATIONS"))
        or ["ABCN", "ABPN-CN"],
        "EXPIRY_WARNING_DAYS": _number(env, "EXPIRY_WARNING_DAYS", "30", minimum=0),
        "ACCEPT_UNVERIFIED": _bool(env, "ACCEPT_UNVERIFIED", False),
        "DB_POOL_TIMEOUT": _number(env, "DB_POOL_TIMEOUT", "5", float, minimum=0),
        "DB_CONNECT_TIMEOUT": _number(env, "DB_CONNECT_TIMEOUT", "3", minimum=1),
        "LOG_LEVEL": _log_level(env, "LOG_LEVEL", "INFO"),
        # NORMAL: a power cut or OS crash may lose the last commits; FULL: none (slower)
        "SQLITE_SYNCHRONOUS": _choice(
            env, "SQLITE_SYNCHRONOUS", "NORMAL", SQLITE_SYNCHRONOUS_MODES
        ),
        # asynchronous: on PostgreSQL a plain check's stored record does not wait for the disk
        # (a server crash may lose the last fraction of a second of them; never bookings)
        "CHECK_COMMIT": _choice(env, "CHECK_COMMIT", "durable", CHECK_COMMIT_MODES, case=str.lower),
        "SESSION_COOKIE_SECURE": _bool(env, "SESSION_COOKIE_SECURE", False),
        # a UI sign-in lasts this long at most (a working day), then the user signs in again
        "SESSION_LIFETIME_HOURS": _number(env, "SESSION_LIFETIME_HOURS", "12", float, minimum=0.1),
    }


def ensure_secret_key(config: dict) -> None:
    """Without SECRET_KEY, use a random key made once and kept in var/ (never a known default).

    Several replicas must share one key: set SECRET_KEY for them.
    """
    if config.get("SECRET_KEY"):
        return
    import secrets

    path = Path(config["REGISTRY_VAR_DIR"]) / "secret-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    config["SECRET_KEY"] = path.read_text().strip()


def _in_force() -> dict:
    """The settings as the app reads them: the app's configuration inside an app, the
    environment outside one."""
    from flask import current_app, has_app_context

    return current_app.config if has_app_context() else from_environment()


def accepts_unverified() -> bool:
    """The qualification policy's ``ACCEPT_UNVERIFIED``: whether unverified credentials count.
    Services that apply the rule ask here rather than take it from each caller."""
    return bool(_in_force()["ACCEPT_UNVERIFIED"])


def registry_timezone() -> str:
    """``REGISTRY_TIMEZONE``: the zone whose calendar the coordinators' dates are in."""
    return _in_force()["REGISTRY_TIMEZONE"]
