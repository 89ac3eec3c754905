"""Domain errors raised by services; the API and the UI each turn them into their own answer."""


class DomainError(Exception):
    """Base of every error a service raises on bad input; nothing was written."""

    status = 400

    def __init__(self, message: str, *, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class InvalidData(DomainError):
    """Field-level validation failure beyond what a schema alone can see (422)."""

    status = 422
    default_message = "Some fields are not valid."

    def __init__(self, errors: dict, message: str = default_message):
        super().__init__(message, errors=errors)
