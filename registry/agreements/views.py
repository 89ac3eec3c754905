"""REST endpoints: supervision agreements."""

from flask.views import MethodView

from registry.agreements import service
from registry.api import (
    READ_ONE_DOC,
    UPDATE_DOC,
    Blueprint,
    check_if_match,
    paginate,
    requires_scope,
    set_etag,
)
from registry.database import db
from schemas.agreements import (
    SupervisionAgreementQuerySchema,
    SupervisionAgreementSchema,
    SupervisionAgreementUpdateSchema,
)

blp = Blueprint(
    "supervision_agreements",
    __name__,
    url_prefix="/api/v1/supervision-agreements",
    description="Supervision agreements: which physician supervises which technologists where",
)


@blp.route("")
class SupervisionAgreements(MethodView):
    @requires_scope("read")
    @blp.arguments(SupervisionAgreementQuerySchema, location="query")
    @blp.response(200, SupervisionAgreementSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """List agreements (filter by facility_id, physician_id, technologist_id, active)."""
        return paginate(db.session, service.list_statement(**filters), pagination_parameters)

    @requires_scope("write")
    @blp.arguments(SupervisionAgreementSchema)
    @blp.response(201, SupervisionAgreementSchema)
    def post(self, data):
        """Record a supervision agreement at a facility."""
        agreement = service.create(session=db.session, data=data)
        db.session.commit()
        set_etag(agreement)
        return agreement


@blp.route("/<agreement_id>")
class SupervisionAgreementById(MethodView):
    @requires_scope("read")
    @blp.response(200, SupervisionAgreementSchema)
    @blp.doc(**READ_ONE_DOC)
    def get(self, agreement_id):
        """One supervision agreement."""
        agreement = service.get(session=db.session, agreement_id=agreement_id)
        set_etag(agreement)
        return agreement

    @requires_scope("write")
    @blp.arguments(SupervisionAgreementUpdateSchema)
    @blp.response(200, SupervisionAgreementSchema)
    @blp.doc(**UPDATE_DOC)
    def patch(self, data, agreement_id):
        """Change an agreement (end it with `active: false`). Send If-Match with the ETag."""
        agreement = service.get(session=db.session, agreement_id=agreement_id)
        check_if_match(agreement)
        service.update(session=db.session, agreement=agreement, data=data)
        db.session.commit()
        set_etag(agreement)
        return agreement
