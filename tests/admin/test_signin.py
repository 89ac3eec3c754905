"""Signing in and out: labelled fields, hashed passwords, lock-out, safe redirects, cookies."""

import time
from datetime import timedelta

from registry.auth import users
from registry.auth.models import User
from registry.auth.users import SIGN_IN_REFUSED
from registry.database import db
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
