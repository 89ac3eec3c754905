"""REST endpoints: the credential type catalogue, modalities, and the credentials people hold."""

from flask.views import MethodView

from registry.api import (
    READ_ONE_DOC,
    UPDATE_DOC,
    Blueprint,
    check_if_match,
    paginate,
    requires_scope,
    set_etag,
)
from registry.credentials import service
from registry.database import db
from registry.people import service as people
from schemas.credentials import (
    CredentialQuerySchema,
    CredentialSchema,
    CredentialTypeSchema,
    CredentialTypeUpdateSchema,
    CredentialUpdateSchema,
    ModalitySchema,
    PersonCredentialQuerySchema,
)

catalogue_blp = Blueprint(
    "catalogue",
    __name__,
    url_prefix="/api/v1",
    description="Credential types and modalities (the catalogue)",
)
blp = Blueprint(
    "credentials", __name__, url_prefix="/api/v1", description="Credentials people hold"
)


@catalogue_blp.route("/credential-types")
class CredentialTypes(MethodView):
    @requires_scope("read")
    @catalogue_blp.response(200, CredentialTypeSchema(many=True))
    @catalogue_blp.paginate()
    def get(self, pagination_parameters):
        """List the credential types, by code."""
        return paginate(db.session, service.types_statement(), pagination_parameters)

    @requires_scope("admin")
    @catalogue_blp.arguments(CredentialTypeSchema)
    @catalogue_blp.response(201, CredentialTypeSchema)
    def post(self, data):
        """Add a credential type (admin)."""
        credential_type = service.create_type(session=db.session, data=data)
        db.session.commit()
        set_etag(credential_type)
        return credential_type


@catalogue_blp.route("/credential-types/<code>")
class CredentialTypeByCode(MethodView):
    @requires_scope("read")
    @catalogue_blp.response(200, CredentialTypeSchema)
    @catalogue_blp.doc(**READ_ONE_DOC)
    def get(self, code):
        """One credential type."""
        credential_type = service.get_type(session=db.session, code=code)
        set_etag(credential_type)
        return credential_type

    @requires_scope("admin")
    @catalogue_blp.arguments(CredentialTypeUpdateSchema)
    @catalogue_blp.response(200, CredentialTypeSchema)
    @catalogue_blp.doc(**UPDATE_DOC)
    def patch(self, data, code):
        """Change a credential type (admin; send If-Match with the ETag)."""
        credential_type = service.get_type(session=db.session, code=code)
        check_if_match(credential_type)
        service.update_type(session=db.session, credential_type=credential_type, data=data)
        db.session.commit()
        set_etag(credential_type)
        return credential_type


@catalogue_blp.route("/modalities")
class Modalities(MethodView):
    @requires_scope("read")
    @catalogue_blp.response(200, ModalitySchema(many=True))
    @catalogue_blp.paginate()
    def get(self, pagination_parameters):
        """List the monitoring modalities a scope of practice may name."""
        return paginate(db.session, service.modalities_statement(), pagination_parameters)


@blp.route("/people/<person_id>/credentials")
class PersonCredentials(MethodView):
    @requires_scope("read")
    @blp.arguments(PersonCredentialQuerySchema, location="query")
    @blp.response(200, CredentialSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters, person_id):
        """A person's credentials, soonest expiry first (filter by type, status, expires_before)."""
        person = people.get(session=db.session, person_id=person_id)
        stmt = service.list_statement(person_id=person.id, **filters)
        return paginate(db.session, stmt, pagination_parameters)

    @requires_scope("write")
    @blp.arguments(CredentialSchema)
    @blp.response(201, CredentialSchema)
    def post(self, data, person_id):
        """Record a certification, license, training or insurance a person holds."""
        credential = service.create(session=db.session, person_id=person_id, data=data)
        db.session.commit()
        set_etag(credential)
        return credential


@blp.route("/credentials")
class Credentials(MethodView):
    @requires_scope("read")
    @blp.arguments(CredentialQuerySchema, location="query")
    @blp.response(200, CredentialSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """All credentials, soonest expiry first (filter by type, status, expires_before,
        person_id)."""
        return paginate(db.session, service.list_statement(**filters), pagination_parameters)


@blp.route("/credentials/<credential_id>")
class CredentialById(MethodView):
    @requires_scope("read")
    @blp.response(200, CredentialSchema)
    @blp.doc(**READ_ONE_DOC)
    def get(self, credential_id):
        """One credential."""
        credential = service.get(session=db.session, credential_id=credential_id)
        set_etag(credential)
        return credential

    @requires_scope("write")
    @blp.arguments(CredentialUpdateSchema)
    @blp.response(200, CredentialSchema)
    @blp.doc(**UPDATE_DOC)
    def patch(self, data, credential_id):
        """Change, renew, verify, suspend or revoke a credential (status `revoked` or
        `entered_in_error`; nothing is deleted). Send If-Match with the ETag.

        A later or no expiry, an earlier or no issue date, another jurisdiction, or
        reinstating (`status` `active`) a revoked credential, on a verified credential, needs a
        new `verification` in the same request (422 otherwise), unless the registry counts
        unverified credentials."""
        credential = service.get(session=db.session, credential_id=credential_id)
        check_if_match(credential)
        service.update(
            session=db.session,
            credential=credential,
            data=data,
        )
        db.session.commit()
        set_etag(credential)
        return credential
