"""Facilities with their appointments and agreements; the appointment (privileges) forms."""

from flask import render_template, request, url_for

from registry.admin.blueprint import bp
from registry.admin.forms import Form, save_form, saved
from registry.agreements import service as agreements_service
from registry.credentials import service as credentials_service
from registry.database import db
from registry.facilities import service
from registry.facilities.models import APPOINTMENT_STATUSES
from registry.people import service as people_service
from registry.transfer.flat import FlatField
from schemas.facilities import (
    AppointmentSchema,
    AppointmentUpdateSchema,
    FacilitySchema,
    FacilityUpdateSchema,
)

US_TIMEZONES = (
    "America/New_York",
    "America/Detroit",
    "America/Indiana/Indianapolis",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Boise",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)
FACILITY_FIELDS = (
    FlatField("name", "Name"),
    FlatField(
        "state",
        "State",
        help="Two letters, e.g. KS: the patient's state unless a case says otherwise.",
        attrs={"maxlength": "2", "autocomplete": "off"},
    ),
    FlatField("timezone", "Time zone", "select", help="Expiry dates are read in this zone."),
    FlatField(
        "required_credentials",
        "Credentials everyone working here must hold",
        "choices",
    ),
    FlatField("external_id", "External id", help="The id your other systems use."),
    FlatField("active", "Active", "checkbox"),
)
APPOINTMENT_FIELDS = (
    FlatField("person_id", "Person", "select"),
    FlatField("facility_id", "Facility", "select"),
    FlatField(
        "status",
        "Status",
        "select",
        choices=tuple((s, s.capitalize()) for s in APPOINTMENT_STATUSES),
    ),
    FlatField("starts_on", "Starts on", "date"),
    FlatField("expires_on", "Expires on", "date", help="The last day of the term (2 or 3 years)."),
)


def _facility_choices():
    return {
        "timezone": [(z, z) for z in US_TIMEZONES],
        "required_credentials": [
            (t.code, t.code) for t in db.session.scalars(credentials_service.types_statement())
        ],
    }


def _facility_form(form, title, record=None, status=200):
    choices = _facility_choices()
    current = form.value("timezone")
    if current and current not in US_TIMEZONES:
        choices["timezone"].append((current, current))
    crumbs = [(url_for("admin.facilities"), "Facilities")]
    if record is not None:
        crumbs.append((url_for("admin.facility", facility_id=record.id), record.name))
    return render_template(
        "admin/form.html",
        section="facilities",
        title=title,
        form=form,
        sections=[(None, form.fields)],
        choices=choices,
        crumbs=crumbs,
        cancel_url=crumbs[-1][0],
        submit="Save facility" if record else "Add facility",
    ), status


@bp.get("/facilities")
def facilities():
    """Every facility."""
    show = request.args.get("active", "yes")
    active = {"yes": True, "no": False}.get(show)
    records = list(db.session.scalars(service.list_statement(active=active)))
    return render_template(
        "admin/facilities/list.html", section="facilities", facilities=records, active=show
    )


@bp.route("/facilities/new", methods=["GET", "POST"])
def facility_new():
    """Add a facility."""
    schema = FacilitySchema()
    if request.method == "GET":
        form = Form(FACILITY_FIELDS, schema=schema)
        form.values["active"] = "on"
        form.values["timezone"] = "America/Chicago"
        form.values.add("required_credentials", "BLS")
        return _facility_form(form, "Add a facility")
    return save_form(
        FACILITY_FIELDS,
        schema=schema,
        page=lambda form, status: _facility_form(form, "Add a facility", status=status),
        save=lambda data: service.create(session=db.session, data=data),
        done=lambda facility: saved(
            f"Added {facility.name}.", url_for("admin.facility", facility_id=facility.id)
        ),
    )


@bp.get("/facilities/<facility_id>")
def facility(facility_id):
    """A facility: its details, appointments and supervision agreements."""
    record = service.get(session=db.session, facility_id=facility_id)
    appointments = list(db.session.scalars(service.appointments_statement(facility_id=record.id)))
    agreements = list(db.session.scalars(agreements_service.list_statement(facility_id=record.id)))
    ids = {a.person_id for a in appointments} | {a.physician_id for a in agreements}
    return render_template(
        "admin/facilities/detail.html",
        section="facilities",
        facility=record,
        appointments=appointments,
        agreements=agreements,
        people_names=people_service.names(session=db.session, ids=ids),
        facility_names={record.id: record.name},
        type_names=credentials_service.type_names(session=db.session),
    )


@bp.route("/facilities/<facility_id>/edit", methods=["GET", "POST"])
def facility_edit(facility_id):
    """Change a facility."""
    record = service.get(session=db.session, facility_id=facility_id)
    schema = FacilityUpdateSchema()
    title = f"Edit {record.name}"
    if request.method == "GET":
        hidden = {"version": record.version}
        form = Form.from_record(FACILITY_FIELDS, schema=schema, record=record, hidden=hidden)
        return _facility_form(form, title, record)
    return save_form(
        FACILITY_FIELDS,
        schema=schema,
        record=record,
        page=lambda form, status: _facility_form(form, title, record, status=status),
        save=lambda data: service.update(session=db.session, facility=record, data=data),
        done=lambda _: saved(
            f"Saved {record.name}.", url_for("admin.facility", facility_id=record.id)
        ),
    )


# --- appointments ---------------------------------------------------------------------------


def _appointment_choices():
    people = db.session.scalars(people_service.search_statement(active=True))
    places = service.by_name(session=db.session)
    return {
        "person_id": [(p.id, f"{p.family_name}, {p.given_name} ({p.kind})") for p in people],
        "facility_id": [(f.id, f.name) for f in places],
    }


def _appointment_form(form, title, *, back, status=200):
    return render_template(
        "admin/form.html",
        section="people",
        title=title,
        form=form,
        sections=[(None, form.fields)],
        choices=_appointment_choices(),
        crumbs=[],
        cancel_url=back,
        submit="Save appointment",
    ), status


@bp.route("/appointments/new", methods=["GET", "POST"])
def appointment_new():
    """Record a facility appointment (privileges) for a person."""
    schema = AppointmentSchema()
    person_id = request.values.get("person_id", "")
    facility_id = request.values.get("facility_id", "")
    back = (
        url_for("admin.person", person_id=person_id)
        if person_id and request.args.get("from") != "facility"
        else url_for("admin.facility", facility_id=facility_id)
        if facility_id
        else url_for("admin.people")
    )
    title = "Add a facility appointment"
    if request.method == "GET":
        form = Form(APPOINTMENT_FIELDS, schema=schema)
        for name, value in (
            ("person_id", person_id),
            ("facility_id", facility_id),
            ("status", "active"),
        ):
            form.values[name] = value
        return _appointment_form(form, title, back=back)

    def facility_given(form):
        # the facility is part of the address in the API (/facilities/{id}/appointments)
        if not facility_id:
            form.errors.setdefault("facility_id", []).append("Required.")

    return save_form(
        APPOINTMENT_FIELDS,
        schema=schema,
        check=facility_given,
        page=lambda form, status: _appointment_form(form, title, back=back, status=status),
        save=lambda data: service.create_appointment(
            session=db.session, facility_id=facility_id, data=data
        ),
        done=lambda appointment: saved(
            "Added the appointment.", url_for("admin.person", person_id=appointment.person_id)
        ),
    )


@bp.route("/appointments/<appointment_id>/edit", methods=["GET", "POST"])
def appointment_edit(appointment_id):
    """Renew, suspend or end an appointment by changing its dates or status."""
    record = service.get_appointment(session=db.session, appointment_id=appointment_id)
    person = people_service.get(session=db.session, person_id=record.person_id)
    fields = tuple(f for f in APPOINTMENT_FIELDS if f.name not in ("person_id", "facility_id"))
    schema = AppointmentUpdateSchema()
    names = service.names(session=db.session, ids=[record.facility_id])
    title = f"Appointment of {person.name} at {names.get(record.facility_id, '')}"
    back = url_for("admin.person", person_id=person.id)
    if request.method == "GET":
        hidden = {"version": record.version}
        form = Form.from_record(fields, schema=schema, record=record, hidden=hidden)
        return _appointment_form(form, title, back=back)
    return save_form(
        fields,
        schema=schema,
        record=record,
        page=lambda form, status: _appointment_form(form, title, back=back, status=status),
        save=lambda data: service.update_appointment(
            session=db.session, appointment=record, data=data
        ),
        done=lambda _: saved("Saved the appointment.", back),
    )
