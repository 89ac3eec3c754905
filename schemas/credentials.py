"""Credential, credential type and modality schemas."""

from marshmallow import ValidationError, fields, validate, validates_schema

from registry.credentials.models import CATEGORIES, CREDENTIAL_STATUSES, VERIFICATION_METHODS
from registry.dates import days_left
from registry.people.models import PERSON_KINDS
from schemas.base import US_STATES, BaseSchema, UsState, require_order, text

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,39}$"


def _code_field(**kwargs):
    return fields.String(
        validate=[
            validate.Length(min=1, max=40),
            validate.Regexp(
                CODE_PATTERN,
                error="Use 1-40 capital letters, digits, '-' or '_', starting with a letter "
                "or digit (e.g. MEDICAL_LICENSE).",
            ),
        ],
        **kwargs,
    )


def _reference(**kwargs):
    """A credential type code given by reference (existence is checked by the service)."""
    return fields.String(validate=validate.Length(min=1, max=40), **kwargs)


class DaysLeft(fields.Integer):
    """Days from today (the organisation's zone) to ``expires_on``; null when it never expires."""

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, allow_none=True, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=None):
        return days_left(getattr(obj, "expires_on", None))


class VerificationSchema(BaseSchema):
    """How the credential was checked; without it a credential is unverified."""

    method = fields.String(required=True, validate=validate.OneOf(VERIFICATION_METHODS))
    verified_on = fields.Date(required=True, metadata={"example": "2026-01-10"})
    verified_by = text(200)
    source = text(500, metadata={"description": "Where it was checked, e.g. a URL"})


class CredentialSchema(BaseSchema):
    id = fields.String(dump_only=True)
    person_id = fields.String(dump_only=True)
    type = _reference(
        required=True, metadata={"description": "A credential type code", "example": "CNIM"}
    )
    number = text(100)
    issuer = text(200)
    jurisdiction = UsState(
        allow_none=True,
        metadata={
            "description": "Two-letter US state; required when the type requires it",
            "enum": sorted(US_STATES),
            "example": "KS",
        },
    )
    issued_on = fields.Date(allow_none=True, metadata={"example": "2022-01-01"})
    expires_on = fields.Date(
        allow_none=True,
        metadata={
            "description": "Inclusive; null = does not expire. Left out of a new credential: "
            "the type's validity_months counted from issued_on (the same day that many months "
            "later; ABRET types: 31 December of that year), or null when the type has no "
            "validity_months or issued_on is not given.",
            "example": "2026-12-31",
        },
    )
    status = fields.String(load_default="active", validate=validate.OneOf(CREDENTIAL_STATUSES))
    revoked_on = fields.Date(
        allow_none=True,
        metadata={
            "description": "When the issuer revoked it (status revoked only; by default the day "
            "the status becomes revoked). A verification made before this date does not vouch "
            "for a credential of the same type and jurisdiction: such a credential does not "
            "count (CREDENTIAL_UNVERIFIED) until verified again.",
            "example": "2026-11-20",
        },
    )
    verification = fields.Nested(VerificationSchema, allow_none=True)
    verified = fields.Boolean(dump_only=True)
    days_left = DaysLeft(
        metadata={"description": "Days until expires_on (negative once lapsed); null if never"}
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        require_order(data, "issued_on", "expires_on")


class CredentialUpdateSchema(CredentialSchema):
    """Partial update; the type is fixed (mark a wrong record entered_in_error instead)."""

    class Meta(BaseSchema.Meta):
        exclude = ("type",)

    expires_on = fields.Date(
        allow_none=True,
        metadata={"description": "Inclusive; null = does not expire", "example": "2026-12-31"},
    )
    status = fields.String(validate=validate.OneOf(CREDENTIAL_STATUSES))


class CredentialRenewalSchema(BaseSchema):
    """A renewal of the same record: new dates, perhaps a new number, and its verification."""

    expires_on = fields.Date(required=True, allow_none=True)
    issued_on = fields.Date(allow_none=True)
    number = text(100)
    verification = fields.Nested(VerificationSchema, allow_none=True)

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        require_order(data, "issued_on", "expires_on")


class PersonCredentialQuerySchema(BaseSchema):
    type = _reference()
    status = fields.String(validate=validate.OneOf(CREDENTIAL_STATUSES))
    expires_before = fields.Date(
        metadata={"description": "Only credentials whose expires_on is before this date"}
    )


class CredentialQuerySchema(PersonCredentialQuerySchema):
    person_id = fields.String(validate=validate.Length(min=1, max=64))


class CredentialTypeSchema(BaseSchema):
    code = _code_field(required=True, metadata={"example": "PALS"})
    name = text(200, required=True, metadata={"example": "Pediatric Advanced Life Support"})
    issuer = text(200)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    kinds = fields.List(
        fields.String(validate=validate.OneOf(PERSON_KINDS)),
        required=True,
        validate=validate.Length(min=1, max=len(PERSON_KINDS)),
        metadata={
            "description": "The person kinds this credential applies to",
            "example": ["physician"],
        },
    )
    requires_jurisdiction = fields.Boolean(load_default=False)
    depends_on = _reference(
        allow_none=True, metadata={"description": "Another code that must also be valid"}
    )
    validity_months = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=600),
        metadata={"description": "Default validity of new records"},
    )
    grace_days = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=366),
        metadata={"description": "Late-renewal window (informational, used in alert text)"},
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates_schema
    def _distinct_kinds(self, data, **_kwargs):
        kinds = data.get("kinds")
        if kinds and len(set(kinds)) != len(kinds):
            raise ValidationError({"kinds": ["List each kind once."]})


class CredentialTypeUpdateSchema(CredentialTypeSchema):
    """Partial update; the code is the record's key and never changes."""

    class Meta(BaseSchema.Meta):
        exclude = ("code",)

    name = text(200, allow_none=False)
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    kinds = fields.List(
        fields.String(validate=validate.OneOf(PERSON_KINDS)),
        validate=validate.Length(min=1, max=len(PERSON_KINDS)),
    )
    requires_jurisdiction = fields.Boolean()


class ModalitySchema(BaseSchema):
    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
