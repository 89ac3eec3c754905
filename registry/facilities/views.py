"""REST endpoints: facilities and the appointments (privileges) people hold there."""

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
from registry.facilities import service
from registry.people import service as people
from schemas.facilities import (
    AppointmentQuerySchema,
    AppointmentSchema,
    AppointmentUpdateSchema,
    FacilityQuerySchema,
    FacilitySchema,
    FacilityUpdateSchema,
)

blp = Blueprint("facilities", __name__, url_prefix="/api/v1", description="Facilities")
appointments_blp = Blueprint(
    "appointments",
    __name__,
    url_prefix="/api/v1",
    description="Appointments: a facility's credentialing file and privileges",
)


@blp.route("/facilities")
class Facilities(MethodView):
    @requires_scope("read")
    @blp.arguments(FacilityQuerySchema, location="query")
    @blp.response(200, FacilitySchema(many=True))
    @blp.paginate()
    def get(self, filters, pagination_parameters):
        """List facilities by name (filter by active, state, q, external_id)."""
        return paginate(db.session, service.list_statement(**filters), pagination_parameters)

    @requires_scope("write")
    @blp.arguments(FacilitySchema)
    @blp.response(201, FacilitySchema)
    def post(self, data):
        """Add a facility."""
        facility = service.create(session=db.session, data=data)
        db.session.commit()
        set_etag(facility)
        return facility


@blp.route("/facilities/<facility_id>")
class FacilityById(MethodView):
    @requires_scope("read")
    @blp.response(200, FacilitySchema)
    @blp.doc(**READ_ONE_DOC)
    def get(self, facility_id):
        """One facility."""
        facility = service.get(session=db.session, facility_id=facility_id)
        set_etag(facility)
        return facility

    @requires_scope("write")
    @blp.arguments(FacilityUpdateSchema)
    @blp.response(200, FacilitySchema)
    @blp.doc(**UPDATE_DOC)
    def patch(self, data, facility_id):
        """Change a facility (deactivate with `active: false`). Send If-Match with the ETag."""
        facility = service.get(session=db.session, facility_id=facility_id)
        check_if_match(facility)
        service.update(session=db.session, facility=facility, data=data)
        db.session.commit()
        set_etag(facility)
        return facility


@appointments_blp.route("/facilities/<facility_id>/appointments")
class FacilityAppointments(MethodView):
    @requires_scope("read")
    @appointments_blp.arguments(AppointmentQuerySchema, location="query")
    @appointments_blp.response(200, AppointmentSchema(many=True))
    @appointments_blp.paginate()
    def get(self, filters, pagination_parameters, facility_id):
        """The appointments at a facility, soonest expiry first (filter by status)."""
        facility = service.get(session=db.session, facility_id=facility_id)
        stmt = service.appointments_statement(facility_id=facility.id, **filters)
        return paginate(db.session, stmt, pagination_parameters)

    @requires_scope("write")
    @appointments_blp.arguments(AppointmentSchema)
    @appointments_blp.response(201, AppointmentSchema)
    def post(self, data, facility_id):
        """Record a person's appointment (privileges) at this facility."""
        appointment = service.create_appointment(
            session=db.session, facility_id=facility_id, data=data
        )
        db.session.commit()
        set_etag(appointment)
        return appointment


@appointments_blp.route("/people/<person_id>/appointments")
class PersonAppointments(MethodView):
    @requires_scope("read")
    @appointments_blp.arguments(AppointmentQuerySchema, location="query")
    @appointments_blp.response(200, AppointmentSchema(many=True))
    @appointments_blp.paginate()
    def get(self, filters, pagination_parameters, person_id):
        """A person's appointments at every facility, soonest expiry first (filter by status)."""
        person = people.get(session=db.session, person_id=person_id)
        stmt = service.appointments_statement(person_id=person.id, **filters)
        return paginate(db.session, stmt, pagination_parameters)


@appointments_blp.route("/appointments/<appointment_id>")
class AppointmentById(MethodView):
    @requires_scope("read")
    @appointments_blp.response(200, AppointmentSchema)
    @appointments_blp.doc(**READ_ONE_DOC)
    def get(self, appointment_id):
        """One appointment."""
        appointment = service.get_appointment(session=db.session, appointment_id=appointment_id)
        set_etag(appointment)
        return appointment

    @requires_scope("write")
    @appointments_blp.arguments(AppointmentUpdateSchema)
    @appointments_blp.response(200, AppointmentSchema)
    @appointments_blp.doc(**UPDATE_DOC)
    def patch(self, data, appointment_id):
        """Renew, suspend or end an appointment (`status: ended`; nothing is deleted).
        Send If-Match with the ETag."""
        appointment = service.get_appointment(session=db.session, appointment_id=appointment_id)
        check_if_match(appointment)
        service.update_appointment(session=db.session, appointment=appointment, data=data)
        db.session.commit()
        set_etag(appointment)
        return appointment
