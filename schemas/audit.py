"""Audit event schemas."""

from marshmallow import fields, validate

from schemas.base import BaseSchema, Instant


class AuditEventSchema(BaseSchema):
    id = fields.String()
    occurred_at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditQuerySchema(BaseSchema):
    entity_type = fields.String(validate=validate.Length(max=40))
    entity_id = fields.String(validate=validate.Length(max=64))
    actor = fields.String(validate=validate.Length(max=200))
    since = Instant(metadata={"description": "ISO 8601 with offset"})
