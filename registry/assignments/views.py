"""REST endpoints: book a person on a case (check + reserve in one step), list, cancel."""

from flask.views import MethodView
from flask_smorest import abort

from registry.api import (
    READ_ONE_DOC,
    UPDATE_DOC,
    Blueprint,
    check_if_match,
    paginate,
    requires_scope,
    set_etag,
    takes_write_lock_late,
)
from registry.assignments import service
from registry.audit.context import current_actor
from registry.database import db
from registry.qualification import service as qualification
from schemas.qualification import (
    AssignmentQuerySchema,
    AssignmentRequestSchema,
    AssignmentSchema,
    CancelRequestSchema,
    DecisionSchema,
    RefusedBookingSchema,
)

_decision_schema = DecisionSchema()

blp = Blueprint("assignments", __name__, url_prefix="/api/v1/assignments", description="Bookings")


@blp.route("")
class Assignments(MethodView):
    @requires_scope("check")
    @takes_write_lock_late
    @blp.arguments(AssignmentRequestSchema())
    @blp.response(201, AssignmentSchema)
    @blp.alt_response(
        409,
        schema=RefusedBookingSchema,
        description="Not qualified (or the slot was taken): nothing was booked; the body "
        "carries the decision with every reason",
    )
    def post(self, data):
        """Book a person on a case if, and only if, they are qualified (atomic)."""
        assignment, stored = service.book(
            session=db.session,
            person_id=data["person_id"],
            role=data["role"],
            case=data["case"],
            asked_by=current_actor(),
        )
        db.session.commit()
        if assignment is None:
            abort(
                409,
                message="Not qualified for this case; nothing was booked.",
                # dumped here: an error body is not run through the response schema
                decision=_decision_schema.dump(qualification.decision_of(stored)),
            )
        return service.as_dict(assignment, check=stored)

    # a staffing system with the check scope reads back what it booked
    @requires_scope("read", "check")
    @blp.arguments(AssignmentQuerySchema, location="query")
    @blp.response(200, AssignmentSchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """Bookings (filter person_id, facility_id, case_ref, status, from, to)."""
        rows = paginate(db.session, service.list_statement(**filters), pagination_parameters)
        return service.with_decisions(session=db.session, assignments=rows)


@blp.route("/<assignment_id>")
class AssignmentById(MethodView):
    @requires_scope("read", "check")
    @blp.response(200, AssignmentSchema)
    @blp.doc(**READ_ONE_DOC)
    def get(self, assignment_id):
        """One booking with the decision it was made on."""
        found = service.get(session=db.session, assignment_id=assignment_id)
        set_etag(found)
        return service.with_decisions(session=db.session, assignments=[found])[0]


@blp.route("/<assignment_id>/cancel")
class AssignmentCancel(MethodView):
    @requires_scope("check")
    @blp.arguments(CancelRequestSchema(), required=False)
    @blp.response(200, AssignmentSchema)
    @blp.doc(**UPDATE_DOC)
    def post(self, data, assignment_id):
        """Cancel a booking; its slot is free again. Nothing is deleted. Send If-Match with the
        ETag you read to cancel only the booking as you saw it (412 if it changed)."""
        found = service.get(session=db.session, assignment_id=assignment_id)
        check_if_match(found)
        service.cancel(
            session=db.session,
            assignment=found,
            actor=current_actor(),
            reason=(data or {}).get("reason"),
        )
        db.session.commit()
        set_etag(found)
        return service.with_decisions(session=db.session, assignments=[found])[0]
