"""Scope of practice schemas."""

from marshmallow import ValidationError, fields, validate, validates_schema

from registry.scopes.models import ACTIVITIES
from schemas.base import BaseSchema, require_order

MAX_MODALITIES = 20


def _modalities(**kwargs):
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(min=1, max=MAX_MODALITIES),
        metadata={"description": "Codes from GET /modalities", "example": ["SSEP", "TCMEP"]},
        **kwargs,
    )


class ScopeSchema(BaseSchema):
    id = fields.String(dump_only=True)
    person_id = fields.String(dump_only=True)
    activity = fields.String(
        required=True,
        validate=validate.OneOf(ACTIVITIES),
        metadata={"description": "perform = technical work in the room; interpret = reading"},
    )
    modalities = _modalities(required=True)
    facility_id = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "null = everywhere"},
    )
    effective_from = fields.Date(required=True, metadata={"example": "2025-01-01"})
    effective_to = fields.Date(
        allow_none=True, metadata={"description": "null = open-ended", "example": "2027-12-31"}
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _valid(self, data, **_kwargs):
        modalities = data.get("modalities")
        if modalities and len(set(modalities)) != len(modalities):
            raise ValidationError({"modalities": ["List each modality once."]})
        require_order(data, "effective_from", "effective_to")


class ScopeUpdateSchema(ScopeSchema):
    """Partial update; the person is fixed (end a scope with `effective_to`)."""

    activity = fields.String(validate=validate.OneOf(ACTIVITIES))
    modalities = _modalities()
    effective_from = fields.Date()
