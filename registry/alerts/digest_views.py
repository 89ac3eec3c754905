"""REST endpoints for the coordinators' daily digests: list them, and retry a failed one."""

from flask.views import MethodView

from registry.alerts import service
from registry.api import Blueprint, paginate, requires_scope
from registry.database import db
from schemas.digests import DigestQuerySchema, DigestSchema

blp = Blueprint(
    "digests",
    __name__,
    url_prefix="/api/v1/digests",
    description="The coordinators' daily digests (emails in the same outbox as alerts)",
)


@blp.route("")
class Digests(MethodView):
    @requires_scope("read")
    @blp.arguments(DigestQuerySchema, location="query")
    @blp.response(200, DigestSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """Digests, newest first (filter status: pending, sent, failed)."""
        return paginate(db.session, service.digests_statement(**filters), pagination_parameters)


@blp.route("/<digest_id>/retry")
class DigestRetry(MethodView):
    @requires_scope("write")
    @blp.response(200, DigestSchema)
    def post(self, digest_id):
        """Send a failed digest again now (409 unless it failed)."""
        digest = service.get_digest(session=db.session, digest_id=digest_id)
        service.retry_digest(session=db.session, digest=digest)
        db.session.commit()
        return digest
