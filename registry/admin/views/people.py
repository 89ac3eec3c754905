"""People: the searchable list, a person's page, and the add / edit / deactivate forms."""

from flask import flash, redirect, render_template, request, url_for

from registry.admin.blueprint import bp
from registry.admin.forms import Form, save_form, saved
from registry.admin.paging import page_number, page_of
from registry.admin.person_file import person_file
from registry.admin.standing import work_standings
from registry.database import db
from registry.facilities import service as facilities_service
from registry.people import service
from registry.people.models import PERSON_KINDS
from registry.transfer.flat import FlatField
from schemas.people import PersonSchema, PersonUpdateSchema

KIND_CHOICES = tuple((kind, kind.capitalize()) for kind in PERSON_KINDS)
PERSON_FIELDS = (
    FlatField("kind", "Kind", "select", choices=KIND_CHOICES),
    FlatField("given_name", "Given name", attrs={"autocomplete": "off"}),
    FlatField("family_name", "Family name", attrs={"autocomplete": "off"}),
    FlatField("email", "Email", "email", attrs={"autocomplete": "off"}),
    FlatField("phone", "Phone", "tel"),
    FlatField(
        "npi",
        "NPI",
        help="National Provider Identifier: 10 digits; the check digit is verified.",
        attrs={"inputmode": "numeric", "maxlength": "10"},
    ),
    FlatField("external_id", "External id", help="The id your HR or staffing system uses."),
    FlatField("active", "Active", "checkbox"),
)
PERSON_EDIT_FIELDS = tuple(f for f in PERSON_FIELDS if f.name != "kind")


@bp.get("/people")
def people():
    """People with search (name, NPI, external id, email) and filters."""
    q = request.args.get("q", "").strip()[:100]
    kind = request.args.get("kind") if request.args.get("kind") in PERSON_KINDS else None
    active = {"yes": True, "no": False}.get(request.args.get("active", "yes"))
    facility_id = request.args.get("facility_id") or None
    works_there = (
        facilities_service.appointed_people_statement(facility_id=facility_id)
        if facility_id
        else None
    )
    stmt = service.search_statement(kind=kind, active=active, q=q or None, ids=works_there)
    page = page_of(db.session, stmt, page_number(request.args.get("page")))
    # one answer per person on the page, from a few queries for the whole page
    standings = work_standings(db.session, page.items)
    facilities = facilities_service.by_name(session=db.session)
    return render_template(
        "admin/people/list.html",
        section="people",
        page=page,
        standings=standings,
        q=q,
        kind=kind or "",
        active=request.args.get("active", "yes"),
        facility_id=facility_id or "",
        facilities=facilities,
        kinds=KIND_CHOICES,
    )


@bp.route("/people/new", methods=["GET", "POST"])
def person_new():
    """Add a technologist or a physician."""
    schema = PersonSchema()
    if request.method == "GET":
        form = Form(PERSON_FIELDS, schema=schema)
        form.values["active"] = "on"
        form.values["kind"] = request.args.get("kind", "")
        return _person_form(form, "Add a person")
    return save_form(
        PERSON_FIELDS,
        schema=schema,
        page=lambda form, status: _person_form(form, "Add a person", status=status),
        save=lambda data: service.create(session=db.session, data=data),
        done=lambda person: saved(
            f"Added {person.name}.", url_for("admin.person", person_id=person.id)
        ),
    )


@bp.get("/people/<person_id>")
def person(person_id):
    """Everything about one person: credentials, appointments, scopes, agreements, bookings."""
    record = service.get(session=db.session, person_id=person_id)
    return render_template(
        "admin/people/detail.html",
        section="people",
        person=record,
        work=work_standings(db.session, [record])[record.id],
        **person_file(db.session, record),
    )


@bp.route("/people/<person_id>/edit", methods=["GET", "POST"])
def person_edit(person_id):
    """Change a person's details."""
    record = service.get(session=db.session, person_id=person_id)
    schema = PersonUpdateSchema()
    title = f"Edit {record.name}"
    if request.method == "GET":
        form = Form.from_record(
            PERSON_EDIT_FIELDS, schema=schema, record=record, hidden={"version": record.version}
        )
        return _person_form(form, title, record)
    return save_form(
        PERSON_EDIT_FIELDS,
        schema=schema,
        record=record,
        page=lambda form, status: _person_form(form, title, record, status=status),
        save=lambda data: service.update(session=db.session, person=record, data=data),
        done=lambda _: saved(f"Saved {record.name}.", url_for("admin.person", person_id=record.id)),
    )


@bp.post("/people/<person_id>/active")
def person_set_active(person_id):
    """Deactivate (or reactivate) a person: nobody is ever deleted."""
    record = service.get(session=db.session, person_id=person_id)
    active = request.form.get("active") == "true"
    data = PersonUpdateSchema().load({"active": active})
    service.update(session=db.session, person=record, data=data)
    db.session.commit()
    flash(f"{record.name} is now {'active' if active else 'inactive'}.", "success")
    return redirect(url_for("admin.person", person_id=record.id))


def _person_form(form: Form, title: str, record=None, *, status: int = 200):
    crumbs = [(url_for("admin.people"), "People")]
    if record is not None:
        crumbs.append((url_for("admin.person", person_id=record.id), record.name))
    return render_template(
        "admin/form.html",
        section="people",
        title=title,
        form=form,
        sections=[(None, form.fields)],
        choices={},
        crumbs=crumbs,
        cancel_url=crumbs[-1][0],
        submit="Save person" if record else "Add person",
    ), status
