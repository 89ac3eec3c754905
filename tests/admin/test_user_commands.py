"""``registry users deactivate|activate|set-password``: each is audited with the CLI as the
actor, and takes effect on the admin UI at once (a deactivated user's open session ends)."""

from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.auth.models import User
from registry.database import db
from tests.admin.conftest import PASSWORD, sign_in

NEW_PASSWORD = "a new long passphrase"


def cli_events(app, email: str) -> list[AuditEvent]:
    """The updates of a user the CLI made (sign-ins also update a user: the last sign-in)."""
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        return list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_type == "user", AuditEvent.entity_id == user.id)
                .where(AuditEvent.action == "update", AuditEvent.actor.startswith("cli"))
                .order_by(AuditEvent.occurred_at)
            )
        )


def test_deactivate_ends_the_open_session_and_activate_lets_the_user_back(app, runner, ui):
    assert ui.get("/").status_code == 200
    result = runner.invoke(args=["users", "deactivate", ui.email.upper()])
    assert result.exit_code == 0, result.output
    assert f"deactivated {ui.email}" in result.output
    assert ui.get("/").status_code == 302  # the session already open stops working
    assert sign_in(app.test_client(), ui.email).status_code == 401
    (event,) = cli_events(app, ui.email)
    assert (event.before["active"], event.after["active"]) == (True, False)

    result = runner.invoke(args=["users", "activate", ui.email])
    assert result.exit_code == 0 and f"activated {ui.email}" in result.output
    assert sign_in(app.test_client(), ui.email).status_code == 302
    latest = cli_events(app, ui.email)[-1]
    assert (latest.before["active"], latest.after["active"]) == (False, True)


def test_an_unknown_user_is_a_usage_error(runner):
    for command in ("deactivate", "activate"):
        result = runner.invoke(args=["users", command, "nobody@example.org"])
        assert result.exit_code == 2 and "there is no user nobody@example.org" in result.output
    result = runner.invoke(
        args=["users", "set-password", "nobody@example.org", "--password", NEW_PASSWORD]
    )
    assert result.exit_code == 2 and "there is no user" in result.output


def test_set_password_replaces_the_password_and_is_audited_without_it(app, runner, make_user):
    email = make_user("viewer")
    result = runner.invoke(args=["users", "set-password", email, "--password", NEW_PASSWORD])
    assert result.exit_code == 0 and f"set a new password for {email}" in result.output
    assert sign_in(app.test_client(), email, PASSWORD).status_code == 401
    assert sign_in(app.test_client(), email, NEW_PASSWORD).status_code == 302
    (event,) = cli_events(app, email)
    assert (event.before["password_hash"], event.after["password_hash"]) == ("***", "*** (changed)")
    assert NEW_PASSWORD not in str(event.after)


def test_set_password_prompts_twice_and_validates_like_create(app, runner, make_user):
    email = make_user("viewer")
    short = runner.invoke(args=["users", "set-password", email, "--password", "short"])
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    mismatch = runner.invoke(
        args=["users", "set-password", email], input=f"{NEW_PASSWORD}\nsomething else\n"
    )
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output
    assert sign_in(app.test_client(), email, PASSWORD).status_code == 302  # unchanged so far
    prompted = runner.invoke(
        args=["users", "set-password", email], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert "Password:" in prompted.output and "Repeat for confirmation:" in prompted.output
    assert sign_in(app.test_client(), email, NEW_PASSWORD).status_code == 302


def test_set_password_lifts_a_lock_out(app, runner, make_user):
    email = make_user("coordinator")
    for _ in range(5):
        sign_in(app.test_client(), email, "wrong-password")
    assert sign_in(app.test_client(), email, PASSWORD).status_code == 401  # locked
    runner.invoke(args=["users", "set-password", email, "--password", NEW_PASSWORD])
    assert sign_in(app.test_client(), email, NEW_PASSWORD).status_code == 302


def test_a_session_ended_by_deactivation_stays_ended_when_the_user_is_let_back(app, runner, ui):
    assert ui.get("/").status_code == 200
    assert runner.invoke(args=["users", "deactivate", ui.email]).exit_code == 0
    assert runner.invoke(args=["users", "activate", ui.email]).exit_code == 0
    assert ui.get("/").status_code == 302  # the old session does not come back with the user
    assert sign_in(app.test_client(), ui.email).status_code == 302  # a new sign-in works


def test_a_new_password_ends_the_open_sessions(app, runner, ui):
    other = app.test_client()
    assert sign_in(other, ui.email).status_code == 302
    assert ui.get("/").status_code == 200 and other.get("/").status_code == 200
    result = runner.invoke(args=["users", "set-password", ui.email, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert ui.get("/").status_code == 302
    assert other.get("/").status_code == 302
    fresh = app.test_client()
    assert sign_in(fresh, ui.email, NEW_PASSWORD).status_code == 302
    assert fresh.get("/").status_code == 200
