"""Record ids: which values could be one, and a lookup that sends no other to the database."""

MAX_ID_LENGTH = 64


def is_valid_id(ident) -> bool:
    """Whether a value could be a stored id: 1 to 64 characters and no NUL (PostgreSQL refuses)."""
    if ident is None:
        return False
    text = str(ident)
    return 0 < len(text) <= MAX_ID_LENGTH and "\x00" not in text


def find(session, model, ident):
    """The record of this model with this primary key, or None (also for an impossible id)."""
    return session.get(model, ident) if is_valid_id(ident) else None
