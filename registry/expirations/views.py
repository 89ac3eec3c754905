"""REST endpoint: what lapses soon, soonest first."""

from flask import current_app
from flask.views import MethodView

from registry import clock
from registry.api import Blueprint, paginate, requires_scope
from registry.database import db
from registry.expirations.service import expiration_item, expirations_statement
from schemas.expirations import ExpirationQuerySchema, ExpirationSchema

blp = Blueprint(
    "expirations", __name__, url_prefix="/api/v1/expirations", description="What lapses soon"
)


@blp.route("")
class Expirations(MethodView):
    @requires_scope("read")
    @blp.arguments(ExpirationQuerySchema, location="query")
    @blp.response(200, ExpirationSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """Credentials, appointments and agreements that lapse within `within_days`, soonest
        first, with `days_left` counted from the local date (negative once lapsed)."""
        now = clock.now()
        zone = current_app.config["REGISTRY_TIMEZONE"]
        statement = expirations_statement(session=db.session, today=now, timezone=zone, **filters)
        rows = paginate(db.session, statement, pagination_parameters, scalars=False)
        return [expiration_item(row, today=now, timezone=zone) for row in rows]
