"""Schemas of the qualification question, its answer, and bookings."""

from datetime import timedelta

from marshmallow import ValidationError, fields, validate, validates_schema

from registry.qualification.engine import ROLES
from schemas.base import BaseSchema, Instant, UsState, identifier, text

MAX_CASE_HOURS = 72
PAYERS = ("commercial", "medicare")


class CaseSchema(BaseSchema):
    """A surgical case window; never patient identifiers."""

    facility_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    starts_at = Instant(required=True, metadata={"description": "ISO 8601 with offset"})
    ends_at = Instant(required=True, metadata={"description": "ISO 8601 with offset"})
    modalities = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=validate.Length(min=1, max=20),
    )
    procedure = text(200, metadata={"description": "Free text, no patient data"})
    patient_state = UsState(allow_none=True, metadata={"description": "Defaults to the facility's"})
    remote = fields.Boolean(load_default=False)
    supervising_physician_id = fields.String(
        allow_none=True, validate=validate.Length(min=1, max=64)
    )
    payer = fields.String(load_default="commercial", validate=validate.OneOf(PAYERS))
    # blank is absent: "" must not make every unnamed case "the same case" as another
    case_ref = identifier(100, metadata={"description": "The caller's own case id"})

    @validates_schema
    def _window(self, data, **_kwargs):
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts is None or ends is None:
            return
        if ends <= starts:
            raise ValidationError({"ends_at": ["Must be after starts_at."]})
        if ends - starts > timedelta(hours=MAX_CASE_HOURS):
            raise ValidationError(
                {"ends_at": [f"A case window may be at most {MAX_CASE_HOURS} hours long."]}
            )


class QualificationCheckRequestSchema(BaseSchema):
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    case = fields.Nested(CaseSchema, required=True)


# a search's unqualified list pages like every list (flask-smorest's defaults)
SEARCH_PAGE_SIZE = 10
SEARCH_MAX_PAGE_SIZE = 100


class QualificationSearchRequestSchema(BaseSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    case = fields.Nested(CaseSchema, required=True)
    include_unqualified = fields.Boolean(load_default=False)
    page = fields.Integer(
        strict=True,
        validate=validate.Range(min=1),
        metadata={
            "description": "With include_unqualified: answer that page of the unqualified, in "
            "name order, with the X-Pagination header (qualified stays whole). A page past "
            "the last is an empty list. Without page the answer is whole."
        },
    )
    page_size = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=SEARCH_MAX_PAGE_SIZE),
        metadata={
            "description": f"With page: the unqualified per page (default {SEARCH_PAGE_SIZE})"
        },
    )

    @validates_schema
    def _paging(self, data, **_kwargs):
        if "page_size" in data and "page" not in data:
            raise ValidationError({"page_size": ["Only with page."]})
        if "page" in data and not data.get("include_unqualified"):
            raise ValidationError({"page": ["Only with include_unqualified: qualified is whole."]})


class ReasonSchema(BaseSchema):
    code = fields.String()
    message = fields.String()
    requirement = fields.String()
    evidence = fields.List(fields.String())


class DecisionSchema(BaseSchema):
    check_id = fields.String()
    qualified = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))
    warnings = fields.List(fields.Nested(ReasonSchema))
    evidence = fields.List(
        fields.Dict(),
        metadata={
            "description": "{requirement, kind, id, ...dates} for each satisfied requirement"
        },
    )
    checked_at = fields.DateTime()


class StoredCheckSchema(DecisionSchema):
    person_id = fields.String()
    role = fields.String()
    case = fields.Dict()
    asked_by = fields.String()
    purpose = fields.String(metadata={"description": "check, or booking for a booking attempt"})


class SearchHitSchema(BaseSchema):
    person_id = fields.String()
    name = fields.String()
    warnings = fields.List(fields.Nested(ReasonSchema))


class SearchMissSchema(BaseSchema):
    person_id = fields.String()
    name = fields.String()
    reasons = fields.List(fields.Nested(ReasonSchema))


class SearchResultSchema(BaseSchema):
    qualified = fields.List(fields.Nested(SearchHitSchema))
    unqualified = fields.List(fields.Nested(SearchMissSchema))


class AssignmentRequestSchema(QualificationCheckRequestSchema):
    """Book a person on a case: the same question as a check, answered and booked atomically."""


class AssignmentSchema(BaseSchema):
    id = fields.String()
    person_id = fields.String()
    role = fields.String()
    case = fields.Dict()
    status = fields.String()
    decision = fields.Nested(DecisionSchema, allow_none=True)
    booked_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class RefusedBookingSchema(BaseSchema):
    """The 409 of a refused booking: the API's error fields and the decision it was refused on."""

    code = fields.Integer(metadata={"example": 409})
    status = fields.String(metadata={"example": "Conflict"})
    message = fields.String()
    decision = fields.Nested(DecisionSchema)


class AssignmentQuerySchema(BaseSchema):
    person_id = fields.String(validate=validate.Length(max=64))
    facility_id = fields.String(validate=validate.Length(max=64))
    case_ref = fields.String(validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(("booked", "cancelled")))
    from_ = Instant(data_key="from", metadata={"description": "ends after this"})
    to = Instant(metadata={"description": "starts before this"})


class CancelRequestSchema(BaseSchema):
    reason = text(500)
