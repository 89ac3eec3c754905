"""Settings read from the environment, with defaults that work on a laptop."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _ints(value: str | None, default: list[int]) -> list[int]:
    items = _list(value)
    return [int(item) for item in items] if items else default


def from_environment() -> dict:
    """Build the app configuration from environment variables."""
    env = os.environ
    var_dir = Path(env.get("REGISTRY_VAR_DIR", PROJECT_ROOT / "var"))
    return {
        # unset: a random key kept in REGISTRY_VAR_DIR/secret-key (see ensure_secret_key)
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{var_dir / 'registry.db'}"),
        "REGISTRY_VAR_DIR": str(var_dir),
        "REGISTRY_TIMEZONE": env.get("REGISTRY_TIMEZONE", "America/Chicago"),
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "file"),
        "MAIL_FILE_DIR": env.get("MAIL_FILE_DIR", str(var_dir / "mail")),
        "SMTP_HOST": env.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS"), False),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", "10")),
        "MAIL_FROM": env.get("MAIL_FROM", "registry@localhost"),
        "COORDINATOR_EMAILS": _list(env.get("COORDINATOR_EMAILS")),
        "ALERT_THRESHOLDS": _ints(env.get("ALERT_THRESHOLDS"), [90, 60, 30, 14, 7, 1, -1]),
        "WEBHOOK_TIMEOUT": float(env.get("WEBHOOK_TIMEOUT", "5")),
        "DELIVERY_MAX_ATTEMPTS": int(env.get("DELIVERY_MAX_ATTEMPTS", "8")),
        "DELIVERY_GIVE_UP_HOURS": float(env.get("DELIVERY_GIVE_UP_HOURS", "72")),
        "TECHNOLOGIST_CERTIFICATIONS": _list(env.get("TECHNOLOGIST_CERTIFICATIONS"))
        or ["CNIM", "DABNM"],
        "PHYSICIAN_BOARD_CERTIFICATIONS": _list(env.get("PHYSICIAN_BOARD_CERTIFICATIONS"))
        or ["ABCN", "ABPN-CN"],
        "EXPIRY_WARNING_DAYS": int(env.get("EXPIRY_WARNING_DAYS", "30")),
        "ACCEPT_UNVERIFIED": _bool(env.get("ACCEPT_UNVERIFIED"), False),
        "DB_POOL_TIMEOUT": float(env.get("DB_POOL_TIMEOUT", "5")),
        "DB_CONNECT_TIMEOUT": int(env.get("DB_CONNECT_TIMEOUT", "3")),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").strip().upper(),  # debug works too
        # NORMAL: a power cut or OS crash may lose the last commits; FULL: none (slower)
        "SQLITE_SYNCHRONOUS": env.get("SQLITE_SYNCHRONOUS", "NORMAL").strip().upper(),
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), False),
        # a UI sign-in lasts this long at most (a working day), then the user signs in again
        "SESSION_LIFETIME_HOURS": float(env.get("SESSION_LIFETIME_HOURS", "12")),
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
