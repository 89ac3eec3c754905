"""REST endpoint for the audit trail (read-only)."""

from flask.views import MethodView

from registry.api import Blueprint, paginate, requires_scope
from registry.audit import service
from registry.database import db
from schemas.audit import AuditEventSchema, AuditQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-events", description="Audit trail")


@blp.route("")
class AuditEvents(MethodView):
    @requires_scope("read")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """Who changed what, newest first (filter entity_type, entity_id, actor, since)."""
        return paginate(db.session, service.search_statement(**filters), pagination_parameters)
