"""REST endpoints for webhook subscriptions (scope admin); deliveries are signed."""

from flask.views import MethodView

from registry.alerts import service
from registry.api import Blueprint, paginate, requires_scope
from registry.database import db
from schemas.alerts import (
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookQuerySchema,
    WebhookSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Webhook subscriptions: signed POSTs for credential, appointment and agreement "
    "events, <type>.expiring before the item lapses and <type>.expired the day after. Each "
    "delivery carries X-Registry-Event, "
    "X-Registry-Delivery (the same id on every retry) and X-Registry-Signature: "
    "sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>.",
)


@blp.route("")
class Webhooks(MethodView):
    @requires_scope("admin")
    @blp.arguments(WebhookQuerySchema, location="query")
    @blp.response(200, WebhookSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """Subscriptions (never their secrets)."""
        return paginate(db.session, service.webhooks_statement(**filters), pagination_parameters)

    @requires_scope("admin")
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, data):
        """Subscribe a URL; the answer shows the signing secret, once."""
        webhook = service.create_webhook(session=db.session, data=data)
        db.session.commit()
        return webhook


@blp.route("/<webhook_id>")
class WebhookById(MethodView):
    @requires_scope("admin")
    @blp.response(204)
    def delete(self, webhook_id):
        """Stop deliveries to a subscription (it is deactivated, not erased)."""
        webhook = service.get_webhook(session=db.session, webhook_id=webhook_id)
        service.deactivate_webhook(session=db.session, webhook=webhook)
        db.session.commit()
