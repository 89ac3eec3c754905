"""REST endpoints: scopes of practice."""

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
from registry.database import db
from registry.people import service as people
from registry.scopes import service
from schemas.scopes import ScopeSchema, ScopeUpdateSchema

blp = Blueprint(
    "scopes",
    __name__,
    url_prefix="/api/v1",
    description="Scopes of practice: which modalities a person may perform or interpret",
)


@blp.route("/people/<person_id>/scopes")
class PersonScopes(MethodView):
    @requires_scope("read")
    @blp.response(200, ScopeSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters, person_id):
        """A person's scopes of practice."""
        person = people.get(session=db.session, person_id=person_id)
        stmt = service.list_statement(person_id=person.id)
        return paginate(db.session, stmt, pagination_parameters)

    @requires_scope("write")
    @blp.arguments(ScopeSchema)
    @blp.response(201, ScopeSchema)
    def post(self, data, person_id):
        """Grant a scope: an activity over modalities, at one facility or everywhere."""
        scope = service.create(session=db.session, person_id=person_id, data=data)
        db.session.commit()
        set_etag(scope)
        return scope


@blp.route("/scopes/<scope_id>")
class ScopeById(MethodView):
    @requires_scope("read")
    @blp.response(200, ScopeSchema)
    @blp.doc(**READ_ONE_DOC)
    def get(self, scope_id):
        """One scope of practice."""
        scope = service.get(session=db.session, scope_id=scope_id)
        set_etag(scope)
        return scope

    @requires_scope("write")
    @blp.arguments(ScopeUpdateSchema)
    @blp.response(200, ScopeSchema)
    @blp.doc(**UPDATE_DOC)
    def patch(self, data, scope_id):
        """Change a scope (end it with `effective_to`). Send If-Match with the ETag."""
        scope = service.get(session=db.session, scope_id=scope_id)
        check_if_match(scope)
        service.update(session=db.session, scope=scope, data=data)
        db.session.commit()
        set_etag(scope)
        return scope
