"""Signing in and out: labelled fields, hashed passwords, lock-out, safe redirects, cookies."""

from registry.auth.models import User
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
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
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
