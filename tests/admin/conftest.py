"""Admin UI fixtures: users of each role, a signed-in test client, and CSRF tokens from pages."""

import re

import pytest

from registry.audit.context import acting_as
from registry.auth import users
from registry.database import db

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page of the admin UI hands this client."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} (status {page.status_code})"
    return found.group(1)


@pytest.fixture
def make_user(app):
    """Create an admin UI user with a role; returns the email."""

    def _make(role: str = "coordinator", email: str | None = None) -> str:
        email = email or f"{role}@example.org"
        with app.app_context(), acting_as("test"):
            users.create(session=db.session, email=email, role=role, password=PASSWORD)
            db.session.commit()
        return email

    return _make


def sign_in(client, email: str, password: str = PASSWORD):
    """Post the sign-in form as a browser would (with its CSRF token)."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def ui(app, make_user):
    """A test client signed in as a coordinator, with ``ui.post_form(url, data)``."""
    return SignedInClient(app, make_user("coordinator"))


@pytest.fixture
def viewer(app, make_user):
    """A test client signed in as a viewer."""
    return SignedInClient(app, make_user("viewer"))


class SignedInClient:
    """A Flask test client signed in as one user; forms are posted with a fresh CSRF token."""

    def __init__(self, app, email: str):
        self.email = email
        self.client = app.test_client()
        response = sign_in(self.client, email)
        assert response.status_code == 302, response.get_data(as_text=True)

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post_form(self, url, data=None, *, token_from: str = "/", **kwargs):
        data = dict(data or {})
        data["csrf_token"] = csrf_token(self.client, token_from)
        return self.client.post(url, data=data, **kwargs)

    def post(self, url, **kwargs):
        return self.client.post(url, **kwargs)
