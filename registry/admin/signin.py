"""Signing in to the admin UI: a user id (and the user's session epoch) in Flask's signed
session, roles checked per route.

Routes that accept POST are edit routes (their GET shows the edit form), so a viewer is refused
both the form and the post (403) by one rule here rather than by a decorator on each view.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from registry.admin.blueprint import bp
from registry.audit.context import set_actor
from registry.auth import users
from registry.auth.models import User
from registry.database import db

EDIT_ROLES = frozenset({"admin", "coordinator"})
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})
# routes that take a POST but change no registry record
READ_POSTS = frozenset({"admin.login", "admin.logout"})
# a browser a user signed in with carries this mark (signed, the user's id and password
# fingerprint); failed sign-ins from it are counted apart from everyone else's (users.authenticate)
KNOWN_BROWSER_COOKIE = "registry_known_browser"
KNOWN_BROWSER_LIFETIME = timedelta(days=180)


def current_user() -> User | None:
    """The signed-in, active user of this request, or None."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = db.session.get(User, user_id) if isinstance(user_id, str) else None
        # a session opened before a new password or a deactivation has ended
        current = user is not None and session.get("session_epoch", 0) == user.session_epoch
        g.user = user if current and user.active else None
    return g.user


def can_edit(user: User | None) -> bool:
    """Admins and coordinators edit; viewers read."""
    return user is not None and user.role in EDIT_ROLES


def is_edit_endpoint(endpoint: str | None, methods) -> bool:
    """Whether a route edits the registry: it accepts POST and is not sign-in or sign-out."""
    return bool(methods) and "POST" in methods and endpoint not in READ_POSTS


@bp.before_request
def _require_sign_in():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = current_user()
    if user is None:
        return redirect(url_for("admin.login", next=_local_path(request.full_path)))
    set_actor(f"user:{user.email}")
    rule = request.url_rule
    if is_edit_endpoint(request.endpoint, rule.methods if rule else None) and not can_edit(user):
        abort(403)
    return None


@bp.app_context_processor
def _user_in_templates():
    user = current_user() if request and request.blueprint == "admin" else None
    return {"current_user": user, "user_can_edit": can_edit(user)}


def _local_path(target: str | None) -> str | None:
    """Only a path on this site may be a redirect target after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    target = target.rstrip("?")
    return None if target in ("/", "/login") else target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password; repeated failures lock the account for a while."""
    next_path = _local_path(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_path or url_for("admin.dashboard"))
        return render_template("admin/login.html", email="", error=None, next_path=next_path)
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    user, error = users.authenticate(
        session=db.session, email=email, password=password, known_browser=_known_browser()
    )
    if user is not None:
        set_actor(f"user:{user.email}")
    # the failure counter and lock-out are stored whether or not the password was right
    db.session.commit()
    if user is None:
        return render_template(
            "admin/login.html", email=email, error=error, next_path=next_path
        ), 401
    session.clear()
    session["user_id"] = user.id
    session["session_epoch"] = user.session_epoch
    g.pop("user", None)
    response = redirect(next_path or url_for("admin.dashboard"))
    response.set_cookie(
        KNOWN_BROWSER_COOKIE,
        _known_browser_marks().dumps(
            {"user": user.id, "password": users.password_fingerprint(user)}
        ),
        max_age=int(KNOWN_BROWSER_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def _known_browser_marks() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="known-browser")


def _known_browser() -> dict | None:
    """What this browser's known-browser mark says, if it carries a valid one."""
    mark = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not mark:
        return None
    try:
        said = _known_browser_marks().loads(
            mark, max_age=int(KNOWN_BROWSER_LIFETIME.total_seconds())
        )
    except BadData:
        return None
    return said if isinstance(said, dict) else None


@bp.post("/logout")
def logout():
    """Sign out: the user's sessions end, in this browser and in any other (a copy of the
    session cookie, which Flask keeps in the browser, no longer works)."""
    user = current_user()
    if user is not None:
        users.end_sessions(user)
        db.session.commit()
    session.clear()
    g.pop("user", None)
    return redirect(url_for("admin.login"))
