"""REST endpoints for people."""

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
from registry.people import service
from schemas.people import PersonQuerySchema, PersonSchema, PersonUpdateSchema

blp = Blueprint("people", __name__, url_prefix="/api/v1/people", description="People")


@blp.route("")
class People(MethodView):
    @requires_scope("read")
    @blp.arguments(PersonQuerySchema, location="query")
    @blp.response(200, PersonSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """List people (filter by kind, active, q, external_id, npi)."""
        return paginate(db.session, service.search_statement(**filters), pagination_parameters)

    @requires_scope("write")
    @blp.arguments(PersonSchema)
    @blp.response(201, PersonSchema)
    def post(self, data):
        """Add a technologist or physician."""
        person = service.create(session=db.session, data=data)
        db.session.commit()
        set_etag(person)
        return person


@blp.route("/<person_id>")
class PersonById(MethodView):
    @requires_scope("read")
    @blp.response(200, PersonSchema)
    @blp.doc(**READ_ONE_DOC)
    def get(self, person_id):
        """One person."""
        person = service.get(session=db.session, person_id=person_id)
        set_etag(person)
        return person

    @requires_scope("write")
    @blp.arguments(PersonUpdateSchema)
    @blp.response(200, PersonSchema)
    @blp.doc(**UPDATE_DOC)
    def patch(self, data, person_id):
        """Change a person (send If-Match with the ETag to avoid overwriting someone else)."""
        person = service.get(session=db.session, person_id=person_id)
        check_if_match(person)
        service.update(session=db.session, person=person, data=data)
        db.session.commit()
        set_etag(person)
        return person
