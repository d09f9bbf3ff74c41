"""The nurse-station views: the form, the handout, and the form's own assets."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Blueprint, Response, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from handouts.engine.fonts import FACES
from handouts.engine.medicines import ENTRY_FIELDS
from handouts.engine.output import handout_file_name
from handouts.engine.request import (
    PHASES,
    PROCEDURES,
    REQUEST_FIELDS,
    HandoutRequest,
    parse_request,
)
from handouts.errors import HandoutError
from handouts.web.app import station

MAX_FIELD = 2000
log = logging.getLogger("handouts")
views = Blueprint("handouts", __name__)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'; form-action 'self'",
}


def page(values: Mapping[str, str], errors: Mapping[str, str], status: int = 200) -> Response:
    nurse = station()
    html = render_template(
        "form.html",
        clinic=nurse.workspace.clinic.config.clinic,
        has_logo=nurse.workspace.clinic.logo_path is not None,
        procedures=PROCEDURES,
        phases=PHASES,
        languages=nurse.language_names,
        handouts=nurse.handouts,
        values=values,
        errors=errors,
        medicine_rows=MEDICINE_ROWS,
        default_plan=nurse.workspace.clinic.config.medicines.default_plan,
    )
    return Response(html, status=status, mimetype="text/html")


def validate(values: Mapping[str, str]) -> tuple[HandoutRequest | None, dict[str, str]]:
    """A HandoutRequest, or one message per bad field: the same messages as the command
    line and the batch (engine/request.py), as a sentence; never the value."""
    errors: dict[str, str] = {
        name: f"This is too long (at most {MAX_FIELD} characters)."
        for name, value in values.items()
        if len(value) > MAX_FIELD
    }
    fields: dict[str, object] = {
        k: values[k] for k in REQUEST_FIELDS if k in values and k not in errors
    }
    fields["medicines"] = medicine_rows(values)
    # An unticked box sends nothing: here that means normal print, not the clinic default.
    fields.setdefault("large_print", "no")
    clinic = station().workspace.clinic.config
    parsed, problems = parse_request(
        fields, station().languages, default_plan=clinic.medicines.default_plan
    )
    for field, message in problems:
        errors.setdefault(field, sentence(message))
    if errors:
        return None, errors
    return parsed, {}


#: Rows of the web form's medicine table (a plan holds at most MAX_MEDICINES).
MEDICINE_ROWS = 6


def medicine_rows(values: Mapping[str, str]) -> list[dict[str, str]]:
    """The filled rows of the form's medicine table, as the JSON input writes them."""
    rows = []
    for row in range(1, MEDICINE_ROWS + 1):
        entry = {key: values.get(f"med-{row}-{key}", "").strip() for key in ENTRY_FIELDS}
        if any(entry.values()):
            rows.append(entry)
    return rows


def sentence(message: str) -> str:
    message = message[0].upper() + message[1:]
    return message if message.endswith(".") else message + "."


@views.get("/")
def form() -> Response:
    values = {"procedure": PROCEDURES[0], "phase": PHASES[0], "language": "en"}
    if station().workspace.clinic.config.options.large_print:
        values["large_print"] = "1"
    return page(values, {})


@views.post("/handout")
def handout() -> Response:
    values = {k: v for k, v in request.form.items() if isinstance(v, str)}
    parsed, errors = validate(values)
    if parsed is None:
        return page(values, errors, 400)
    try:
        pdf = station().pdf(parsed)
    except HandoutError:
        log.error("render failed for %s-%s-%s", parsed.procedure, parsed.phase, parsed.language)
        message = "The handout could not be made. Please tell the clinic's IT contact."
        return page(values, {"form": message}, 500)
    disposition = "attachment" if values.get("download") == "1" else "inline"
    response = Response(pdf, mimetype="application/pdf")
    name = handout_file_name(parsed)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


@views.get("/logo")
def logo() -> Response:
    path = station().workspace.clinic.logo_path
    if path is None:
        return Response(status=404)
    mimetype = "image/svg+xml" if path.suffix.lower() == ".svg" else "image/png"
    return Response(path.read_bytes(), mimetype=mimetype)


@views.get("/fonts/<name>")
def font(name: str) -> Response:
    for face in FACES:
        if face.file == name:
            return Response(face.path.read_bytes(), mimetype="font/ttf")
    return Response(status=404)


@views.get("/brand.css")
def brand() -> Response:
    b = station().workspace.clinic.config.brand
    css = f":root {{ --primary: {b.primary_color}; --accent: {b.accent_color}; }}\n"
    return Response(css, mimetype="text/css")


@views.app_errorhandler(RequestEntityTooLarge)
def too_large(_: Exception) -> Response:
    return page({}, {"form": "The form is too large. Please shorten the notes."}, 400)


@views.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    return Response(f"{exc.code} {exc.name}", status=exc.code or 500, mimetype="text/plain")


@views.after_app_request
def headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
