"""Alert and webhook subscription schemas."""

from marshmallow import ValidationError, fields, validate, validates

from registry.alerts.models import ALERT_STATUSES, CHANNELS, WEBHOOK_EVENTS
from schemas.base import BaseSchema, text


class DeliverySchema(BaseSchema):
    """What every message in the outbox shows of its delivery (alerts and digests alike)."""

    subject = fields.Method("_subject", allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()

    def _subject(self, message):
        return (message.payload or {}).get("subject")


class AlertSchema(DeliverySchema):
    id = fields.String()
    item_type = fields.String()
    item_id = fields.String()
    person_id = fields.String(allow_none=True)
    facility_id = fields.String(allow_none=True)
    lapse_date = fields.Date(metadata={"description": "The item's expires_on when alerted."})
    threshold_days = fields.Integer(
        metadata={"description": "Days before the lapse date; -1 = the day after it lapsed."}
    )
    event = fields.String()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    recipient = fields.String(metadata={"description": "An email address, or a webhook id."})
    status = fields.String(metadata={"enum": list(ALERT_STATUSES)})


class AlertQuerySchema(BaseSchema):
    status = fields.String(validate=validate.OneOf(ALERT_STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    person_id = fields.String(validate=validate.Length(max=64))
    item_id = fields.String(validate=validate.Length(max=64))


class WebhookSchema(BaseSchema):
    id = fields.String(dump_only=True)
    url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=1000),
        metadata={"description": "An http(s) URL that receives signed POSTs."},
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)),
        load_default=lambda: list(WEBHOOK_EVENTS),
        validate=validate.Length(min=1),
        metadata={"description": "Events to receive (default: all)."},
    )
    description = text(200)
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)

    @validates("events")
    def _distinct_events(self, value, data_key):
        if len(set(value)) != len(value):
            raise ValidationError("List each event once.")


class WebhookCreateSchema(WebhookSchema):
    secret = fields.String(
        load_only=True,
        allow_none=True,
        validate=validate.Length(min=16, max=200),
        metadata={"description": "HMAC key for signatures, 16+ characters (generated if omitted)."},
    )


class WebhookCreatedSchema(WebhookSchema):
    """The answer to a subscription: the only time the secret is shown."""

    secret = fields.String(
        dump_only=True, metadata={"description": "Shown once: keep it to verify signatures."}
    )


class WebhookQuerySchema(BaseSchema):
    active = fields.Boolean()
