"""Facility and appointment schemas."""

from marshmallow import fields, validate, validates_schema

from registry.facilities.models import APPOINTMENT_STATUSES
from schemas.base import (
    US_STATES,
    BaseSchema,
    TimeZone,
    UsState,
    identifier,
    require_order,
    text,
)

MAX_REQUIRED_CREDENTIALS = 30
STATE_DOC = {"description": "Two-letter US state", "enum": sorted(US_STATES), "example": "KS"}
TIMEZONE_DOC = {"description": "IANA time zone name", "example": "America/Chicago"}


class FacilitySchema(BaseSchema):
    id = fields.String(dump_only=True)
    name = text(200, required=True, metadata={"example": "Overland Park Spine Center"})
    state = UsState(required=True, metadata=STATE_DOC)
    timezone = TimeZone(required=True, metadata=TIMEZONE_DOC)
    required_credentials = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=MAX_REQUIRED_CREDENTIALS),
        metadata={
            "description": "Credential type codes everyone working here must hold",
            "example": ["BLS"],
        },
    )
    external_id = identifier(
        100, metadata={"description": "The caller's own id (unique when present; blank = none)"}
    )
    active = fields.Boolean(load_default=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class FacilityUpdateSchema(FacilitySchema):
    """Partial update: every field optional (deactivate with `active: false`)."""

    name = text(200, allow_none=False)
    state = UsState(metadata=STATE_DOC)
    timezone = TimeZone(metadata=TIMEZONE_DOC)
    required_credentials = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(max=MAX_REQUIRED_CREDENTIALS),
    )
    active = fields.Boolean()


class FacilityQuerySchema(BaseSchema):
    active = fields.Boolean()
    state = UsState(metadata=STATE_DOC)
    q = fields.String(
        validate=validate.Length(max=100), metadata={"description": "Part of the name"}
    )
    external_id = fields.String(validate=validate.Length(max=100))


class AppointmentSchema(BaseSchema):
    id = fields.String(dump_only=True)
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    facility_id = fields.String(dump_only=True)
    status = fields.String(load_default="active", validate=validate.OneOf(APPOINTMENT_STATUSES))
    starts_on = fields.Date(required=True, metadata={"example": "2025-01-01"})
    expires_on = fields.Date(
        allow_none=True,
        metadata={"description": "Inclusive; null = open-ended", "example": "2027-12-31"},
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        require_order(data, "starts_on", "expires_on")


class AppointmentUpdateSchema(AppointmentSchema):
    """Partial update; the person and facility are fixed (end it with `status: ended`)."""

    class Meta(BaseSchema.Meta):
        exclude = ("person_id",)

    status = fields.String(validate=validate.OneOf(APPOINTMENT_STATUSES))
    starts_on = fields.Date()


class AppointmentQuerySchema(BaseSchema):
    status = fields.String(validate=validate.OneOf(APPOINTMENT_STATUSES))
