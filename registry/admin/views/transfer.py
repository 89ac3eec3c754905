"""Import (upload, dry-run preview with every row's errors, all-or-nothing commit) and export."""

import io

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from registry import clock
from registry.admin.blueprint import bp
from registry.database import db
from registry.expirations.csv import write_csv as write_expirations
from registry.expirations.service import expiring_within
from registry.transfer import csv_export
from registry.transfer.csv_import import KINDS, NotUtf8, columns, decode, import_csv, template

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
KIND_WORDS = {"people": "people", "credentials": "credentials"}


def make_room_for_an_import() -> None:
    """Let an import's confirmation carry its whole file in a form field (Flask's limit: 500 kB)."""
    if request.endpoint == "admin.import_file":
        request.max_form_memory_size = MAX_UPLOAD_BYTES + 64 * 1024


@bp.get("/transfer")
def transfer():
    """Import and export: templates, the upload form and the downloads."""
    return render_template("admin/transfer.html", section="transfer", kinds=KINDS, columns=columns)


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    """Upload a CSV file: preview every row first; write all rows or none."""
    if request.method == "GET":
        return render_template(
            "admin/import.html", section="transfer", kinds=KINDS, kind=request.args.get("kind")
        )
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        return _upload_again(kind, "Choose what the file holds: people or credentials.")
    commit = request.form.get("action") == "import"
    if commit:
        text = request.form.get("csv_text", "")
    else:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return _upload_again(kind, "Choose a CSV file to upload.")
        raw = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            return _upload_again(kind, "The file is larger than 5 MB: split it.")
        try:
            text = decode(raw)
        except NotUtf8 as exc:
            return _upload_again(kind, str(exc))
    report = import_csv(session=db.session, kind=kind, text=text, dry_run=not commit)
    if report.committed:
        flash(f"Imported {len(report.rows)} {KIND_WORDS[kind]}.", "success")
        return redirect(url_for("admin.people"))
    return render_template(
        "admin/import_preview.html",
        section="transfer",
        report=report,
        kind=kind,
        csv_text=text,
        filename=(request.files.get("file").filename if request.files.get("file") else ""),
    ), (200 if report.ok else 422)


def _upload_again(kind: str, message: str):
    return render_template(
        "admin/import.html", section="transfer", kinds=KINDS, kind=kind, error=message
    ), 422


@bp.get("/import/template/<kind>.csv")
def import_template(kind):
    """An empty import file (the header row) for people or credentials."""
    if kind not in KINDS:
        return redirect(url_for("admin.transfer"))
    return _csv(template(kind), f"{kind}-template.csv")


@bp.get("/export/people.csv")
def export_people():
    """Every person as CSV."""
    return _csv(_written(csv_export.export_people), "people.csv")


@bp.get("/export/credentials.csv")
def export_credentials():
    """Every credential as CSV."""
    return _csv(_written(csv_export.export_credentials), "credentials.csv")


@bp.get("/export/expirations.csv")
def export_expirations():
    """What lapses within 90 days and what has lapsed, soonest first, as CSV."""
    items = expiring_within(
        session=db.session,
        within_days=90,
        include_expired=True,
        today=clock.now(),
        timezone=current_app.config["REGISTRY_TIMEZONE"],
    )
    stream = io.StringIO()
    write_expirations(items, stream)
    return _csv(stream.getvalue(), "expirations.csv")


def _written(write) -> str:
    stream = io.StringIO()
    write(session=db.session, stream=stream)
    return stream.getvalue()


def _csv(text: str, filename: str) -> Response:
    """A CSV download, encoded like every exported file (a byte order mark first, for Excel)."""
    stamp = clock.today(current_app.config["REGISTRY_TIMEZONE"]).isoformat()
    name = filename if "template" in filename else filename.replace(".csv", f"-{stamp}.csv")
    return Response(
        text.encode(csv_export.FILE_ENCODING),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
