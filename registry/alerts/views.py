"""REST endpoints for alerts: list them, and retry a failed delivery."""

from flask.views import MethodView

from registry.alerts import service
from registry.api import Blueprint, paginate, requires_scope
from registry.database import db
from schemas.alerts import AlertQuerySchema, AlertSchema

blp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts", description="Expiration alerts")


@blp.route("")
class Alerts(MethodView):
    @requires_scope("read")
    @blp.arguments(AlertQuerySchema, location="query")
    @blp.response(200, AlertSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """Alerts, newest first (filter status: pending, sent, failed, withdrawn)."""
        return paginate(db.session, service.search_statement(**filters), pagination_parameters)


@blp.route("/<alert_id>/retry")
class AlertRetry(MethodView):
    @requires_scope("write")
    @blp.response(200, AlertSchema)
    def post(self, alert_id):
        """Send a failed alert again now (409 unless it failed)."""
        alert = service.get(session=db.session, alert_id=alert_id)
        service.retry(session=db.session, alert=alert)
        db.session.commit()
        return alert
