"""Scopes of practice and supervision agreements: what a person may do, and under whom."""

from flask import render_template, request, url_for

from registry.admin.blueprint import bp
from registry.admin.forms import Form, save_form, saved
from registry.admin.paging import page_number, page_of
from registry.agreements import service as agreements_service
from registry.agreements.models import MODES
from registry.credentials import service as credentials_service
from registry.database import db
from registry.facilities import service as facilities_service
from registry.people import service as people_service
from registry.scopes import service as scopes_service
from registry.scopes.models import ACTIVITIES
from registry.transfer.flat import FlatField
from schemas.agreements import SupervisionAgreementSchema, SupervisionAgreementUpdateSchema
from schemas.scopes import ScopeSchema, ScopeUpdateSchema

ACTIVITY_WORDS = {
    "perform": "Perform (technical work in the room)",
    "interpret": "Interpret (professional interpretation)",
}
SCOPE_FIELDS = (
    FlatField(
        "activity", "Activity", "select", choices=tuple((a, ACTIVITY_WORDS[a]) for a in ACTIVITIES)
    ),
    FlatField("modalities", "Modalities", "choices"),
    FlatField("facility_id", "Facility", "select", help="Leave empty for everywhere."),
    FlatField("effective_from", "Effective from", "date"),
    FlatField("effective_to", "Effective to", "date", help="Leave empty while it is open."),
)
MODE_WORDS = {"in_person": "In person", "remote": "Remote"}
AGREEMENT_FIELDS = (
    FlatField("facility_id", "Facility", "select"),
    FlatField("physician_id", "Supervising physician", "select"),
    FlatField(
        "technologist_ids",
        "Technologists covered",
        "choices",
        help="Tick none to cover every technologist with an active appointment at the facility.",
    ),
    FlatField("modes", "Modes", "choices", choices=tuple((m, MODE_WORDS[m]) for m in MODES)),
    FlatField(
        "max_concurrent_cases",
        "Most concurrent remote cases",
        "number",
        attrs={"min": "1", "max": "20"},
    ),
    FlatField("effective_from", "Effective from", "date"),
    FlatField("effective_to", "Effective to", "date"),
    FlatField("document_ref", "Document reference", help="Where the signed agreement is kept."),
    FlatField("active", "Active", "checkbox"),
)


def _modality_choices():
    return [
        (m.code, f"{m.code} · {m.name}")
        for m in db.session.scalars(credentials_service.modalities_statement())
    ]


def _facility_choices():
    return [(f.id, f.name) for f in facilities_service.by_name(session=db.session)]


def _page(form, title, *, back, section="people", choices=None, status=200, submit="Save"):
    return render_template(
        "admin/form.html",
        section=section,
        title=title,
        form=form,
        sections=[(None, form.fields)],
        choices=choices or {},
        crumbs=[],
        cancel_url=back,
        submit=submit,
    ), status


# --- scopes ---------------------------------------------------------------------------------


def _scope_choices():
    return {"modalities": _modality_choices(), "facility_id": _facility_choices()}


@bp.route("/people/<person_id>/scopes/new", methods=["GET", "POST"])
def scope_new(person_id):
    """Record which modalities a person may perform or interpret, and where."""
    person = people_service.get(session=db.session, person_id=person_id)
    back = url_for("admin.person", person_id=person.id)
    title = f"Add a scope of practice for {person.name}"
    schema = ScopeSchema()

    def page(form, status=200):
        choices = _scope_choices()
        return _page(form, title, back=back, choices=choices, status=status, submit="Add scope")

    if request.method == "GET":
        form = Form(SCOPE_FIELDS, schema=schema)
        form.values["activity"] = "interpret" if person.kind == "physician" else "perform"
        return page(form)
    return save_form(
        SCOPE_FIELDS,
        schema=schema,
        page=page,
        save=lambda data: scopes_service.create(session=db.session, person_id=person.id, data=data),
        done=lambda _: saved(f"Added a scope of practice for {person.name}.", back),
    )


@bp.route("/scopes/<scope_id>/edit", methods=["GET", "POST"])
def scope_edit(scope_id):
    """Change or close a scope of practice."""
    record = scopes_service.get(session=db.session, scope_id=scope_id)
    person = people_service.get(session=db.session, person_id=record.person_id)
    back = url_for("admin.person", person_id=person.id)
    title = f"Scope of practice of {person.name}"
    schema = ScopeUpdateSchema()

    def page(form, status=200):
        return _page(form, title, back=back, choices=_scope_choices(), status=status)

    if request.method == "GET":
        hidden = {"version": record.version}
        return page(Form.from_record(SCOPE_FIELDS, schema=schema, record=record, hidden=hidden))
    return save_form(
        SCOPE_FIELDS,
        schema=schema,
        record=record,
        page=page,
        save=lambda data: scopes_service.update(session=db.session, scope=record, data=data),
        done=lambda _: saved("Saved the scope of practice.", back),
    )


# --- supervision agreements -----------------------------------------------------------------


def _agreement_choices(facility_id: str | None, listed: list[str]):
    physicians = db.session.scalars(people_service.search_statement(kind="physician", active=True))
    if facility_id:
        # the technologists who work there, and anyone already listed
        works_there = facilities_service.appointed_people_statement(facility_id=facility_id)
        technologists = people_service.search_statement(
            kind="technologist", ids=works_there, also_ids=listed
        )
    else:
        technologists = people_service.search_statement(
            kind="technologist", active=True, also_ids=listed
        )
    return {
        "facility_id": _facility_choices(),
        "physician_id": [(p.id, p.name) for p in physicians],
        "technologist_ids": [(p.id, p.name) for p in db.session.scalars(technologists)],
    }


@bp.get("/agreements")
def agreements():
    """Every supervision agreement, a page at a time (a network has hundreds)."""
    page = page_of(
        db.session, agreements_service.list_statement(), page_number(request.args.get("page"))
    )
    records = page.items
    return render_template(
        "admin/agreements/list.html",
        section="facilities",
        page=page,
        agreements=records,
        facility_names=facilities_service.names(
            session=db.session, ids={a.facility_id for a in records}
        ),
        people_names=people_service.names(
            session=db.session, ids={a.physician_id for a in records}
        ),
    )


@bp.route("/agreements/new", methods=["GET", "POST"])
def agreement_new():
    """Record a supervision agreement between a facility, a physician and technologists."""
    schema = SupervisionAgreementSchema()
    facility_id = request.values.get("facility_id", "")
    physician_id = request.values.get("physician_id", "")
    back = (
        url_for("admin.facility", facility_id=facility_id)
        if facility_id
        else url_for("admin.person", person_id=physician_id)
        if physician_id
        else url_for("admin.agreements")
    )
    title = "Add a supervision agreement"

    def page(form, status=200):
        choices = _agreement_choices(facility_id, form.selected("technologist_ids"))
        return _page(
            form,
            title,
            back=back,
            section="facilities",
            choices=choices,
            status=status,
            submit="Add agreement",
        )

    if request.method == "GET":
        form = Form(AGREEMENT_FIELDS, schema=schema)
        for name, value in (
            ("facility_id", facility_id),
            ("physician_id", physician_id),
            ("max_concurrent_cases", "3"),
            ("active", "on"),
        ):
            form.values[name] = value
        for mode in MODES:
            form.values.add("modes", mode)
        return page(form)
    return save_form(
        AGREEMENT_FIELDS,
        schema=schema,
        page=page,
        save=lambda data: agreements_service.create(session=db.session, data=data),
        done=lambda agreement: saved(
            "Added the supervision agreement.",
            url_for("admin.facility", facility_id=agreement.facility_id),
        ),
    )


@bp.route("/agreements/<agreement_id>/edit", methods=["GET", "POST"])
def agreement_edit(agreement_id):
    """Change, extend or end a supervision agreement."""
    record = agreements_service.get(session=db.session, agreement_id=agreement_id)
    back = url_for("admin.facility", facility_id=record.facility_id)
    title = "Edit the supervision agreement"
    schema = SupervisionAgreementUpdateSchema()
    fields = tuple(f for f in AGREEMENT_FIELDS if f.name in schema.fields)

    def page(form, status=200):
        choices = _agreement_choices(record.facility_id, form.selected("technologist_ids"))
        return _page(form, title, back=back, section="facilities", choices=choices, status=status)

    if request.method == "GET":
        hidden = {"version": record.version}
        return page(Form.from_record(fields, schema=schema, record=record, hidden=hidden))
    return save_form(
        fields,
        schema=schema,
        record=record,
        page=page,
        save=lambda data: agreements_service.update(
            session=db.session, agreement=record, data=data
        ),
        done=lambda _: saved("Saved the supervision agreement.", back),
    )
