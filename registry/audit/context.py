"""Who is acting and under which request id, for the audit trail and the logs."""

from contextlib import contextmanager
from contextvars import ContextVar

_actor: ContextVar[str] = ContextVar("actor", default="system")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_actor() -> str:
    """The actor recorded on audit events (e.g. ``api-key:staffing``, ``user:a@b.org``)."""
    return _actor.get()


def current_request_id() -> str | None:
    """The request id of the current HTTP request or job run."""
    return _request_id.get()


def set_actor(actor: str) -> None:
    """Set the actor for the rest of the current context."""
    _actor.set(actor)


def set_request_id(request_id: str | None) -> None:
    """Set the request id for the rest of the current context."""
    _request_id.set(request_id)


@contextmanager
def acting_as(actor: str, request_id: str | None = None):
    """Run a block (a CLI command, a job) as the given actor."""
    actor_token = _actor.set(actor)
    request_token = _request_id.set(request_id)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _request_id.reset(request_token)
