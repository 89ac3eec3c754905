"""Signing in and out: labelled fields, hashed passwords, lock-out, safe redirects, cookies."""

import time
from datetime import timedelta

from alembic import command
from sqlalchemy import inspect, text

from registry.admin.signin import KNOWN_BROWSER_COOKIE
from registry.auth import users
from registry.auth.models import User
from registry.auth.users import SIGN_IN_REFUSED
from registry.database import db, make_engine
from registry.migrate import alembic_config, upgrade
from tests.admin.conftest import PASSWORD, csrf_token, sign_in


def test_pages_need_a_signed_in_user(client):
    response = client.get("/people?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/").headers["Location"] == "/login"


def test_sign_in_page_labels_email_and_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert 'type="password"' in page


def test_sign_in_then_out(client, make_user):
    email = make_user("coordinator")
    response = sign_in(client, email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert email in dashboard.get_data(as_text=True)
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client, make_user):
    email = make_user("coordinator")
    wrong = sign_in(client, email, "not the password")
    unknown = sign_in(client, "nobody@example.org", "whatever-1")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Email or password is not correct." in response.get_data(as_text=True)
    # what was typed as the email is kept
    assert f'value="{email}"' in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_repeated_failures_lock_the_account_for_a_while(client, make_user, frozen_clock, app):
    email = make_user("coordinator")
    for _ in range(5):
        assert sign_in(client, email, "wrong-password").status_code == 401
    locked = sign_in(client, email, PASSWORD)
    assert locked.status_code == 401
    # the same words as any refusal: a distinct one would tell that this account exists
    assert SIGN_IN_REFUSED in locked.get_data(as_text=True)
    frozen_clock.advance(minutes=4)
    assert sign_in(client, email, PASSWORD).status_code == 401
    frozen_clock.advance(minutes=2)
    assert sign_in(client, email, PASSWORD).status_code == 302
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        assert user.failed_logins == 0 and user.locked_until is None
        assert user.password_hash != PASSWORD and PASSWORD not in user.password_hash
        assert user.last_login_at == frozen_clock.current


def test_next_goes_back_only_to_a_page_of_this_site(client, make_user):
    email = make_user("coordinator")
    token = csrf_token(client, "/login")
    back = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "/people?q=ana", "csrf_token": token},
    )
    assert back.headers["Location"] == "/people?q=ana"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client, "/login")
    away = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "//evil.example/", "csrf_token": token},
    )
    assert away.headers["Location"] == "/"


def test_a_deactivated_user_is_signed_out(app, ui):
    assert ui.get("/").status_code == 200
    with app.app_context():
        user = db.session.query(User).filter_by(email=ui.email).one()
        user.active = False
        db.session.commit()
    assert ui.get("/").status_code == 302


def test_every_refusal_reads_the_same_and_costs_a_password_check(
    client, make_user, app, monkeypatch
):
    email = make_user("coordinator")
    inactive = make_user("viewer")
    with app.app_context():
        db.session.query(User).filter_by(email=inactive).one().active = False
        db.session.commit()
    checked = []
    real_check = users.check_password_hash

    def counting(stored_hash, password):
        checked.append(password)
        return real_check(stored_hash, password)

    monkeypatch.setattr(users, "check_password_hash", counting)
    refusals = [
        sign_in(client, email, "not the password"),
        sign_in(client, "nobody@example.org", "whatever-1"),
        sign_in(client, inactive, PASSWORD),
    ]
    for response in refusals:
        assert response.status_code == 401
        assert SIGN_IN_REFUSED in response.get_data(as_text=True)
    # an unknown or deactivated account is refused only after the same scrypt check as the rest
    assert checked == ["not the password", "whatever-1", PASSWORD]


def test_signing_out_ends_the_session_a_copied_cookie_too(app, client, make_user):
    email = make_user("coordinator")
    sign_in(client, email)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/").status_code == 200  # the cookie alone is a session
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert copy.get("/").status_code == 302


def test_a_sign_in_lasts_the_session_lifetime(app, client, make_user, monkeypatch):
    assert app.permanent_session_lifetime == timedelta(hours=12)  # SESSION_LIFETIME_HOURS
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(seconds=1))
    sign_in(client, make_user("coordinator"))
    assert client.get("/").status_code == 200
    time.sleep(2.1)  # the cookie's signature carries whole seconds
    assert client.get("/").status_code == 302


def test_pages_forbid_framing_sniffing_and_caching(ui, client):
    for response in (ui.get("/"), client.get("/login")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
    stylesheet = client.get("/admin-static/admin.css")
    assert stylesheet.status_code == 200 and "no-store" not in stylesheet.headers.get(
        "Cache-Control", ""
    )


def test_a_strangers_failures_do_not_lock_the_user_out_of_a_browser_they_signed_in_with(
    app, make_user, frozen_clock
):
    email = make_user("coordinator")
    own = app.test_client()  # the coordinator's browser: signed in there before
    assert sign_in(own, email).status_code == 302
    mark = own.get_cookie(KNOWN_BROWSER_COOKIE)
    assert mark is not None and mark.http_only and mark.same_site == "Lax"
    assert mark.max_age == 180 * 24 * 3600
    own.post("/logout", data={"csrf_token": csrf_token(own, "/")})
    stranger = app.test_client()
    for _ in range(5):
        assert sign_in(stranger, email, "guessing-1").status_code == 401
    # the account is locked for every browser it has not signed in with, the right password too
    assert sign_in(stranger, email).status_code == 401
    assert sign_in(app.test_client(), email).status_code == 401
    # but not for the coordinator's own browser
    assert sign_in(own, email).status_code == 302
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        assert user.locked_until is not None  # still locked for strangers
        assert (user.known_browser_failed_logins, user.known_browser_locked_until) == (0, None)


def test_failures_in_a_known_browser_lock_known_browsers_only(app, make_user, frozen_clock):
    email = make_user("coordinator")
    own = app.test_client()
    sign_in(own, email)
    own.post("/logout", data={"csrf_token": csrf_token(own, "/")})
    for _ in range(5):
        assert sign_in(own, email, "guessing-1").status_code == 401
    refused = sign_in(own, email)
    assert refused.status_code == 401 and SIGN_IN_REFUSED in refused.get_data(as_text=True)
    assert sign_in(app.test_client(), email).status_code == 302  # strangers' count is apart
    frozen_clock.advance(minutes=6)
    assert sign_in(own, email).status_code == 302


def test_a_mark_counts_only_for_its_user_unforged_and_until_the_password_changes(
    app, make_user, frozen_clock
):
    email, other = make_user("coordinator"), make_user("viewer")
    own = app.test_client()
    sign_in(own, email)
    mark = own.get_cookie(KNOWN_BROWSER_COOKIE).value

    def lock_out_strangers(who: str) -> None:
        for _ in range(5):
            sign_in(app.test_client(), who, "guessing-1")

    def with_mark(value: str):
        browser = app.test_client()
        browser.set_cookie(KNOWN_BROWSER_COOKIE, value)
        return browser

    lock_out_strangers(other)
    # the coordinator's mark says nothing about another user; a forged one says nothing at all
    assert sign_in(with_mark(mark), other).status_code == 401
    lock_out_strangers(email)
    assert sign_in(with_mark(mark[:-2] + "xx"), email).status_code == 401
    assert sign_in(with_mark(mark), email).status_code == 302
    # a new password makes every browser a stranger again (a reset follows a compromise)
    with app.app_context():
        users.reset_password(session=db.session, email=email, password="another-password-1")
        db.session.commit()
    lock_out_strangers(email)
    assert sign_in(with_mark(mark), email, "another-password-1").status_code == 401


def test_migration_0005_keeps_users_and_downgrades(empty_database_url):
    url = empty_database_url
    upgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, role, active, failed_logins,"
                " session_epoch, created_at, updated_at) VALUES ('u1', 'ana@example.org', 'x',"
                " 'coordinator', :yes, 2, 0, :now, :now)"
            ),
            {"yes": True, "now": "2026-11-30 12:00:00+00:00"},
        )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT failed_logins, known_browser_failed_logins, known_browser_locked_until"
                " FROM users"
            )
        ).one()
        assert tuple(row) == (2, 0, None)
    engine.dispose()
    command.downgrade(alembic_config(url), "0004")
    engine = make_engine(url)
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("users")}
        assert "known_browser_failed_logins" not in columns and "failed_logins" in columns
        assert connection.execute(text("SELECT email FROM users")).scalar() == "ana@example.org"
    engine.dispose()
