"""Credentials: add, edit (with verification), renew, and suspend / revoke / mark in error."""

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from registry.admin.blueprint import bp
from registry.admin.forms import Form, save_form, saved
from registry.admin.standing import credential_standings
from registry.audit import service as audit_service
from registry.credentials import service
from registry.credentials.models import CREDENTIAL_STATUSES, VERIFICATION_METHODS
from registry.database import db
from registry.errors import DomainError, InvalidData
from registry.people import service as people_service
from registry.transfer.flat import FlatField
from schemas.credentials import (
    CredentialRenewalSchema,
    CredentialSchema,
    CredentialUpdateSchema,
)

METHOD_CHOICES = (
    ("primary_source", "Primary source (the issuer's own register)"),
    ("document", "Document (a copy of the certificate or card)"),
    ("attestation", "Attestation (the holder's signed statement)"),
)
assert {m for m, _ in METHOD_CHOICES} == set(VERIFICATION_METHODS)
STATUS_ACTIONS = {
    "suspended": ("Suspend", "suspended"),
    "revoked": ("Revoke", "revoked"),
    "entered_in_error": ("Mark entered in error", "marked entered in error"),
    "active": ("Reinstate", "reinstated"),
}
assert set(STATUS_ACTIONS) == set(CREDENTIAL_STATUSES)

VERIFICATION_FIELDS = (
    FlatField(
        "verification_method",
        "Verified by way of",
        "select",
        path=("verification", "method"),
        choices=METHOD_CHOICES,
        help="Leave empty while the credential is unverified (it then does not qualify).",
    ),
    FlatField(
        "verified_on",
        "Verified on",
        "date",
        path=("verification", "verified_on"),
        help="Needed with the way it was verified.",
    ),
    FlatField("verified_by", "Verified by", path=("verification", "verified_by")),
    FlatField(
        "verification_source",
        "Source",
        path=("verification", "source"),
        help="Where it was checked, e.g. the issuer's verification page.",
    ),
)
DETAIL_FIELDS = (
    FlatField("type", "Credential type", "select"),
    FlatField("number", "Number"),
    FlatField("issuer", "Issuer", help="Leave empty for the type's usual issuer."),
    FlatField(
        "jurisdiction",
        "State (licenses)",
        help="Two letters, e.g. KS. Required for a license.",
        attrs={"maxlength": "2", "autocomplete": "off"},
    ),
    FlatField("issued_on", "Issued on", "date"),
    # as in the API and the CSV import: left empty, the type's usual term applies
    FlatField(
        "expires_on",
        "Expires on",
        help="The last valid day (YYYY-MM-DD). Leave empty for the type's usual term from the "
        "issue date (none if the type has none); write never if it does not expire.",
        attrs={"placeholder": "YYYY-MM-DD or never", "autocomplete": "off"},
        null_word="never",
    ),
)
EDIT_DETAIL_FIELDS = (
    *(f for f in DETAIL_FIELDS if f.name not in ("type", "expires_on")),
    FlatField(
        "expires_on",
        "Expires on",
        "date",
        help="The last valid day. Leave empty if it does not expire.",
    ),
)
RENEW_FIELDS = (
    FlatField(
        "expires_on",
        "New expiry",
        "date",
        help="The last valid day of the new term (empty only if it no longer expires).",
    ),
    FlatField(
        "issued_on", "Issued on", "date", help="Leave as it is unless a new card was issued."
    ),
    FlatField("number", "Number", help="Only if the number changed."),
)


def _type_choices() -> list[tuple[str, str]]:
    types = db.session.scalars(service.types_statement())
    return [(t.code, f"{t.code} · {t.name}") for t in types]


def _form_page(form, title, person, *, sections, submit, cancel_url, status=200, intro=None):
    return render_template(
        "admin/form.html",
        section="people",
        title=title,
        intro=intro,
        form=form,
        sections=sections,
        choices={"type": _type_choices()},
        crumbs=[
            (url_for("admin.people"), "People"),
            (url_for("admin.person", person_id=person.id), person.name),
        ],
        cancel_url=cancel_url,
        submit=submit,
    ), status


@bp.route("/people/<person_id>/credentials/new", methods=["GET", "POST"])
def credential_new(person_id):
    """Add a certification, license or other credential to a person, with its verification."""
    person = people_service.get(session=db.session, person_id=person_id)
    fields = DETAIL_FIELDS + VERIFICATION_FIELDS
    back = url_for("admin.person", person_id=person.id)
    schema = CredentialSchema()
    page = {
        "sections": [(None, DETAIL_FIELDS), ("Verification", VERIFICATION_FIELDS)],
        "submit": "Add credential",
        "cancel_url": back,
    }
    title = f"Add a credential for {person.name}"
    if request.method == "GET":
        form = Form(fields, schema=schema)
        form.values["type"] = request.args.get("type", "")
        return _form_page(form, title, person, **page)
    return save_form(
        fields,
        schema=schema,
        page=lambda form, status: _form_page(form, title, person, status=status, **page),
        save=lambda data: service.create(session=db.session, person_id=person.id, data=data),
        done=lambda credential: saved(f"Added {credential.type} for {person.name}.", back),
    )


@bp.get("/credentials/<credential_id>")
def credential(credential_id):
    """One credential: its details, verification, status actions and its history."""
    record = service.get(session=db.session, credential_id=credential_id)
    person = people_service.get(session=db.session, person_id=record.person_id)
    history = list(
        db.session.scalars(
            audit_service.search_statement(entity_type="credential", entity_id=record.id)
        )
    )
    from registry.admin.views.audit import changes

    theirs = list(db.session.scalars(service.list_statement(person_id=record.person_id)))
    standings = credential_standings(db.session, theirs)
    return render_template(
        "admin/credential.html",
        section="people",
        credential=record,
        person=person,
        credential_type=service.get_type(session=db.session, code=record.type),
        history=history,
        changes=changes,
        status_actions=STATUS_ACTIONS,
        standing=standings[record.id],
        credentials_by_id={c.id: c for c in theirs},
        # a revoked credential: from which day a verification of it counts again
        counts_again_from=service.reverification_from(record)
        if record.revoked_until_reinstated
        else None,
    )


@bp.route("/credentials/<credential_id>/edit", methods=["GET", "POST"])
def credential_edit(credential_id):
    """Correct a credential's details or record its verification."""
    record = service.get(session=db.session, credential_id=credential_id)
    person = people_service.get(session=db.session, person_id=record.person_id)
    fields = EDIT_DETAIL_FIELDS + VERIFICATION_FIELDS
    title = f"Edit {record.type} of {person.name}"
    schema = CredentialUpdateSchema()
    page = {
        "sections": [(None, EDIT_DETAIL_FIELDS), ("Verification", VERIFICATION_FIELDS)],
        "submit": "Save credential",
        "cancel_url": url_for("admin.credential", credential_id=record.id),
    }
    if request.method == "GET":
        hidden = {"version": record.version}
        form = Form.from_record(fields, schema=schema, record=record, hidden=hidden)
        return _form_page(form, title, person, **page)
    return save_form(
        fields,
        schema=schema,
        record=record,
        page=lambda form, status: _form_page(form, title, person, status=status, **page),
        save=lambda data: service.update(session=db.session, credential=record, data=data),
        done=lambda _: saved(
            f"Saved {record.type} of {person.name}.",
            url_for("admin.person", person_id=person.id),
        ),
    )


@bp.route("/credentials/<credential_id>/renew", methods=["GET", "POST"])
def credential_renew(credential_id):
    """Renew: a new expiry, its verification (and optionally issue date, number) on the same
    record.

    The audit trail keeps every earlier term.
    """
    record = service.get(session=db.session, credential_id=credential_id)
    person = people_service.get(session=db.session, person_id=record.person_id)
    fields = RENEW_FIELDS + VERIFICATION_FIELDS
    title = f"Renew {record.type} of {person.name}"
    back = url_for("admin.person", person_id=person.id)
    page = {
        "sections": [(None, RENEW_FIELDS), ("Verification of the renewal", VERIFICATION_FIELDS)],
        "submit": "Renew",
        "cancel_url": back,
        "intro": (
            "Currently valid until "
            f"{record.expires_on.isoformat() if record.expires_on else 'no end'}. "
            "The new expiry below is the next term; change it if the issuer says otherwise. "
            "The old verification vouched for the old dates, so record the renewal once you "
            "have verified it; until then the current term stays in force."
        ),
    }
    schema = CredentialRenewalSchema()
    if request.method == "GET":
        # the verification is asked anew: the old one vouched for the old term
        hidden = {"version": record.version}
        form = Form.from_record(RENEW_FIELDS, schema=schema, record=record, hidden=hidden)
        form.fields = list(fields)
        suggestion = service.term_end(
            service.get_type(session=db.session, code=record.type),
            counted_from=record.expires_on,
        )
        form.values["expires_on"] = suggestion.isoformat() if suggestion else ""
        return _form_page(form, title, person, **page)

    def renewed(_):
        until = record.expires_on.isoformat() if record.expires_on else "no expiry"
        return saved(f"Renewed {record.type} of {person.name} until {until}.", back)

    return save_form(
        fields,
        schema=schema,
        record=record,
        page=lambda form, status: _form_page(form, title, person, status=status, **page),
        save=lambda data: service.renew(
            session=db.session,
            credential=record,
            expires_on=data["expires_on"],
            issued_on=data.get("issued_on"),
            number=data.get("number"),
            verification=data.get("verification"),
        ),
        done=renewed,
    )


@bp.post("/credentials/<credential_id>/status")
def credential_status(credential_id):
    """One click: suspend, revoke, mark entered in error, or reinstate a credential."""
    record = service.get(session=db.session, credential_id=credential_id)
    status = request.form.get("status", "")
    if status not in STATUS_ACTIONS:
        flash("Choose suspend, revoke, entered in error or reinstate.", "error")
        return redirect(url_for("admin.credential", credential_id=record.id))
    posted = request.form.get("version")
    if posted is not None and posted != str(record.version):
        # the page was opened before someone else changed the credential: show it as it is now
        flash("Someone else changed this credential meanwhile; nothing was changed.", "error")
        return redirect(url_for("admin.credential", credential_id=record.id))
    issuer_date = request.form.get("revoked_on", "").strip()
    try:
        if status == "revoked" and issuer_date:
            service.update(
                session=db.session,
                credential=record,
                data={"status": status, "revoked_on": _form_date(issuer_date, "revoked_on")},
            )
        else:
            service.set_status(session=db.session, credential=record, status=status)
    except DomainError as exc:
        db.session.rollback()
        if status == "active":
            # a revoked credential: reinstated with the verification of its reinstatement
            return redirect(url_for("admin.credential_reinstate", credential_id=record.id))
        errors = exc.errors or {}
        flash((errors.get("status") or errors.get("revoked_on") or [exc.message])[0], "error")
        return redirect(url_for("admin.credential", credential_id=record.id))
    db.session.commit()
    flash(f"{record.type} {STATUS_ACTIONS[status][1]}.", "success")
    return redirect(url_for("admin.credential", credential_id=record.id))


def _form_date(text: str, field: str) -> date:
    """A date typed in a form (YYYY-MM-DD, what a date input sends), or InvalidData."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidData({field: [f"Not a date: {text!r}; give it as YYYY-MM-DD."]}) from None


@bp.route("/credentials/<credential_id>/reinstate", methods=["GET", "POST"])
def credential_reinstate(credential_id):
    """Reinstate a revoked credential with the verification of its reinstatement (the one on
    file predates the revocation)."""
    record = service.get(session=db.session, credential_id=credential_id)
    person = people_service.get(session=db.session, person_id=record.person_id)
    back = url_for("admin.credential", credential_id=record.id)
    if not record.revoked_until_reinstated:
        flash(f"This {record.type} is not revoked: change its status on its page.", "error")
        return redirect(back)
    title = f"Reinstate {record.type} of {person.name}"
    page = {
        "sections": [("Verification of the reinstatement", VERIFICATION_FIELDS)],
        "submit": "Reinstate",
        "cancel_url": back,
        "intro": (
            "This credential was revoked. Record how its reinstatement was verified with the "
            "issuer; the verification on file predates the revocation."
        ),
    }
    schema = CredentialUpdateSchema(only=("verification",))
    if request.method == "GET":
        form = Form(VERIFICATION_FIELDS, schema=schema, hidden={"version": record.version})
        return _form_page(form, title, person, **page)

    def reinstate(data):
        change = {"status": "active"}
        if data.get("verification"):  # none given: the service says what is missing
            change["verification"] = data["verification"]
        try:
            return service.update(session=db.session, credential=record, data=change)
        except DomainError as exc:
            if exc.errors and "status" in exc.errors:
                # on this form the status is the point: the verification is what is missing
                exc.errors = {"verification": {"method": exc.errors.pop("status")}}
            raise

    return save_form(
        VERIFICATION_FIELDS,
        schema=schema,
        record=record,
        page=lambda form, status: _form_page(form, title, person, status=status, **page),
        save=reinstate,
        done=lambda _: saved(f"{record.type} reinstated.", back),
    )
