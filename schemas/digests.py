"""Daily digest schemas: the coordinators' digests in the outbox, like alerts."""

from marshmallow import fields, validate

from registry.alerts.models import DIGEST_STATUSES
from schemas.base import BaseSchema


class DigestSchema(BaseSchema):
    id = fields.String()
    digest_date = fields.Date(metadata={"description": "The day (REGISTRY_TIMEZONE) it covers."})
    recipient = fields.String(metadata={"description": "A coordinator's email address."})
    subject = fields.Method("_subject", allow_none=True)
    status = fields.String(metadata={"enum": list(DIGEST_STATUSES)})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()

    def _subject(self, digest):
        return (digest.payload or {}).get("subject")


class DigestQuerySchema(BaseSchema):
    status = fields.String(validate=validate.OneOf(DIGEST_STATUSES))
