"""Supervision agreement schemas."""

from marshmallow import ValidationError, fields, validate, validates_schema

from registry.agreements.models import MODES
from schemas.base import BaseSchema, require_order, text

MAX_TECHNOLOGISTS = 500
MAX_CONCURRENT_CASES = 20


def _id_field(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


def _technologist_ids(**kwargs):
    return fields.List(
        _id_field(),
        validate=validate.Length(max=MAX_TECHNOLOGISTS),
        metadata={
            "description": "Technologists covered; empty = every technologist with an active "
            "appointment at the facility"
        },
        **kwargs,
    )


def _modes(**kwargs):
    return fields.List(
        fields.String(validate=validate.OneOf(MODES)),
        validate=validate.Length(min=1, max=len(MODES)),
        metadata={"description": "in_person and/or remote", "example": ["remote", "in_person"]},
        **kwargs,
    )


def _max_concurrent_cases(**kwargs):
    return fields.Integer(
        validate=validate.Range(min=1, max=MAX_CONCURRENT_CASES),
        metadata={"description": "Remote cases the physician may oversee at once"},
        **kwargs,
    )


class SupervisionAgreementSchema(BaseSchema):
    id = fields.String(dump_only=True)
    facility_id = _id_field(required=True)
    physician_id = _id_field(
        required=True, metadata={"description": "The supervising / interpreting physician"}
    )
    technologist_ids = _technologist_ids(load_default=list)
    modes = _modes(required=True)
    max_concurrent_cases = _max_concurrent_cases(load_default=3)
    effective_from = fields.Date(required=True, metadata={"example": "2025-01-01"})
    effective_to = fields.Date(
        allow_none=True, metadata={"description": "null = open-ended", "example": "2027-12-31"}
    )
    document_ref = text(500, metadata={"description": "Where the signed agreement is kept"})
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _valid(self, data, **_kwargs):
        for name, label in (("modes", "mode"), ("technologist_ids", "technologist")):
            items = data.get(name)
            if items and len(set(items)) != len(items):
                raise ValidationError({name: [f"List each {label} once."]})
        require_order(data, "effective_from", "effective_to")


class SupervisionAgreementUpdateSchema(SupervisionAgreementSchema):
    """Partial update; the facility and physician are fixed (end it with `active: false`)."""

    class Meta(BaseSchema.Meta):
        exclude = ("facility_id", "physician_id")

    technologist_ids = _technologist_ids()
    modes = _modes()
    max_concurrent_cases = _max_concurrent_cases()
    effective_from = fields.Date()
    active = fields.Boolean()


class SupervisionAgreementQuerySchema(BaseSchema):
    facility_id = _id_field()
    physician_id = _id_field()
    technologist_id = _id_field(
        metadata={
            "description": "Agreements that cover this technologist: listed by name, or with "
            "an empty list at a facility where the technologist has an active appointment"
        }
    )
    active = fields.Boolean()
