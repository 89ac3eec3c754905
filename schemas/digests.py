"""Daily digest schemas: the coordinators' digests in the outbox, delivered like alerts."""

from marshmallow import fields, validate

from registry.alerts.models import DIGEST_STATUSES
from schemas.alerts import DeliverySchema
from schemas.base import BaseSchema


class DigestSchema(DeliverySchema):
    id = fields.String()
    digest_date = fields.Date(metadata={"description": "The day (REGISTRY_TIMEZONE) it covers."})
    recipient = fields.String(metadata={"description": "A coordinator's email address."})
    status = fields.String(metadata={"enum": list(DIGEST_STATUSES)})


class DigestQuerySchema(BaseSchema):
    status = fields.String(validate=validate.OneOf(DIGEST_STATUSES))
