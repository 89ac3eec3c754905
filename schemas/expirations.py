"""Expiration list schemas."""

from marshmallow import fields, validate

from registry.expiration_kinds import ITEM_TYPES, KINDS
from schemas.base import BaseSchema


class ExpirationQuerySchema(BaseSchema):
    within_days = fields.Integer(
        load_default=90,
        validate=validate.Range(min=0, max=3660),
        metadata={"description": "Lapsing within this many days (0 = today)."},
    )
    include_expired = fields.Boolean(
        load_default=True, metadata={"description": "Also list what has already lapsed."}
    )
    kind = fields.String(
        validate=validate.OneOf(KINDS),
        metadata={
            "description": "An item type (credential, appointment, agreement) "
            "or a person kind (technologist, physician)."
        },
    )
    facility_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "That facility's appointments and agreements, and the credentials "
            "of people with an active appointment there."
        },
    )


class ExpirationSchema(BaseSchema):
    item_type = fields.String(metadata={"enum": list(ITEM_TYPES)})
    item_id = fields.String()
    person_id = fields.String()
    facility_id = fields.String(allow_none=True)
    type = fields.String(
        metadata={"description": "Credential type code, 'appointment' or 'supervision_agreement'."}
    )
    expires_on = fields.Date(metadata={"description": "The last valid day (inclusive)."})
    days_left = fields.Integer(
        metadata={"description": "Days from the local date to expires_on; negative once lapsed."}
    )
    person_name = fields.String()
    facility_name = fields.String(allow_none=True)
    type_name = fields.String()
    jurisdiction = fields.String(allow_none=True, metadata={"description": "Licenses: the state."})
