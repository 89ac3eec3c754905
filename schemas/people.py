"""Person schemas."""

from marshmallow import fields, validate

from registry.people.models import PERSON_KINDS
from schemas.base import BaseSchema, Npi, identifier, text


class PersonSchema(BaseSchema):
    id = fields.String(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(PERSON_KINDS))
    given_name = text(100, required=True)
    family_name = text(100, required=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = text(40)
    npi = Npi(
        allow_none=True,
        metadata={
            "description": "10 digits with a valid check digit; unique when present; blank = none"
        },
    )
    external_id = identifier(
        100, metadata={"description": "The caller's own id (unique when present; blank = none)"}
    )
    active = fields.Boolean(load_default=True)
    name = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PersonUpdateSchema(PersonSchema):
    """Partial update: every field optional, kind fixed at creation."""

    class Meta(BaseSchema.Meta):
        exclude = ("kind",)

    given_name = text(100, allow_none=False)
    family_name = text(100, allow_none=False)
    active = fields.Boolean()


class PersonQuerySchema(BaseSchema):
    kind = fields.String(validate=validate.OneOf(PERSON_KINDS))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=100))
    external_id = fields.String(validate=validate.Length(max=100))
    npi = fields.String(validate=validate.Length(max=10))
