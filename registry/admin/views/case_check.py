"""Check a case: who is qualified, and for everyone else every reason, from the API's engine."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from werkzeug.datastructures import MultiDict

from registry import clock
from registry.admin.blueprint import bp
from registry.admin.forms import Form
from registry.credentials import service as credentials_service
from registry.credentials.catalogue import MODALITIES
from registry.database import db
from registry.errors import DomainError
from registry.facilities import service as facilities_service
from registry.people import service as people_service
from registry.qualification import service
from registry.transfer.flat import FlatField
from schemas.qualification import PAYERS, QualificationSearchRequestSchema

ROLE_CHOICES = (
    ("technologist", "Technologist"),
    ("interpreting_physician", "Interpreting physician"),
)
WINDOW_FIELDS = ("starts_at", "ends_at")
CASE_FIELDS = (
    FlatField("role", "Role", "select", choices=ROLE_CHOICES),
    FlatField("facility_id", "Facility", "select", path=("case", "facility_id")),
    FlatField(
        "starts_at",
        "Starts",
        "datetime",
        path=("case", "starts_at"),
        help="Facility's local time.",
    ),
    FlatField(
        "ends_at", "Ends", "datetime", path=("case", "ends_at"), help="Facility's local time."
    ),
    FlatField("modalities", "Modalities", "choices", path=("case", "modalities")),
    FlatField(
        "patient_state",
        "Patient's state",
        path=("case", "patient_state"),
        help="Two letters, e.g. MO. Leave empty for the facility's state.",
        attrs={"maxlength": "2", "autocomplete": "off"},
    ),
    FlatField("remote", "Remote interpretation (physicians)", "checkbox", path=("case", "remote")),
    FlatField(
        "payer",
        "Payer",
        "select",
        path=("case", "payer"),
        choices=tuple((p, p.capitalize()) for p in PAYERS),
    ),
    FlatField(
        "supervising_physician_id",
        "Supervising physician (technologists)",
        "select",
        path=("case", "supervising_physician_id"),
        help="Optional: only this physician's agreement counts.",
    ),
    FlatField(
        "procedure",
        "Procedure",
        path=("case", "procedure"),
        help="Free text, never patient details.",
    ),
    FlatField("case_ref", "Case reference", path=("case", "case_ref")),
)


def _with_facility_zone(values: MultiDict) -> MultiDict:
    """Read the window's local times in the chosen facility's zone (the schema wants offsets)."""
    facility = facilities_service.find_facility(
        session=db.session, facility_id=values.get("facility_id")
    )
    converted = values.copy()
    if facility is None:
        return converted
    zone = ZoneInfo(facility.timezone)
    for name in WINDOW_FIELDS:
        try:
            local = datetime.fromisoformat(values.get(name, "").strip())
        except ValueError:
            continue
        if local.tzinfo is None:
            converted[name] = local.replace(tzinfo=zone).isoformat()
    return converted


def _default_values() -> MultiDict:
    zone = ZoneInfo(current_app.config["REGISTRY_TIMEZONE"])
    tomorrow = clock.now().astimezone(zone).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, datetime.min.time()).replace(hour=7, minute=30)
    values = MultiDict(
        {
            "role": "technologist",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            "payer": "commercial",
        }
    )
    for code in ("SSEP", "TCMEP", "EMG"):
        values.add("modalities", code)
    return values


@bp.get("/check")
def check_case():
    """The case form; once a facility is chosen, who is qualified and why the others are not."""
    schema = QualificationSearchRequestSchema()
    asked = "facility_id" in request.args
    form = Form(CASE_FIELDS, schema=schema, values=request.args.copy() if asked else None)
    if not asked:
        form.values = _default_values()
    result = None
    if asked:
        data = form.load(
            values=_with_facility_zone(form.values), extra={"include_unqualified": True}
        )
        if data is not None:
            try:
                result = service.search(
                    session=db.session,
                    role=data["role"],
                    case=data["case"],
                    include_unqualified=True,
                )
            except DomainError as exc:
                db.session.rollback()
                form.fail(exc)
            else:
                db.session.commit()
    facilities = facilities_service.by_name(session=db.session, active=True)
    physicians = db.session.scalars(people_service.search_statement(kind="physician", active=True))
    modality_names = credentials_service.modality_names(session=db.session)
    modalities = [(code, f"{code} · {modality_names.get(code, name)}") for code, name in MODALITIES]
    modalities += [
        (c, f"{c} · {n}") for c, n in modality_names.items() if c not in dict(MODALITIES)
    ]
    return render_template(
        "admin/check.html",
        section="check",
        form=form,
        result=result,
        choices={
            "facility_id": [(f.id, f"{f.name} ({f.state})") for f in facilities],
            "supervising_physician_id": [(p.id, p.name) for p in physicians],
            "modalities": modalities,
        },
    ), (422 if form.errors else 200)
