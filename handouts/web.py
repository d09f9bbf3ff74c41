"""`make-handouts serve`: the nurse-station web form (Flask app, served by waitress).

Stateless: nothing about a patient is stored or logged; every PDF is made in memory.
Each server thread has its own Workspace (fonts, CSS, templates), so concurrent
requests share no mutable rendering state.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from pathlib import Path

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import PHASES, PROCEDURES
from .build import Workspace, default_file_name, list_rows
from .context import HandoutRequest
from .errors import HandoutError
from .locate import data_dir
from .patients import validate_patient

PATIENT_FIELDS = ("patient_name", "procedure_date", "arrival_time", "physician", "levels", "notes")
MAX_FIELD = 2000
MAX_BODY = 64 * 1024
log = logging.getLogger("handouts")

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'; form-action 'self'",
}


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def create_app(clinic_dir: Path | None = None) -> Flask:
    """The web app; the clinic is validated now, so a bad config fails at start-up."""
    first = Workspace.open(clinic_dir)
    clinic_root = first.clinic.root
    local = threading.local()

    def workspace() -> Workspace:
        if not hasattr(local, "workspace"):
            local.workspace = Workspace.open(clinic_root)
        return local.workspace

    app = Flask(
        __name__,
        template_folder=str(data_dir("templates") / "web"),
        static_folder=str(data_dir("styles") / "web"),
        static_url_path="/static",
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    languages = first.library.languages()
    handouts = list_rows(first)

    def page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
        html = render_template(
            "form.html",
            clinic=first.clinic.config.clinic,
            has_logo=first.clinic.logo_path is not None,
            procedures=PROCEDURES,
            phases=PHASES,
            languages=[(lang, first.library.strings(lang)["language.name"]) for lang in languages],
            handouts=handouts,
            values=values,
            errors=errors,
        )
        return Response(html, status=status, mimetype="text/html")

    @app.get("/")
    def form() -> Response:
        return page({"procedure": PROCEDURES[0], "phase": PHASES[0], "language": "en"}, {})

    @app.post("/handout")
    def handout() -> Response:
        values = {k: v for k, v in request.form.items() if isinstance(v, str)}
        parsed, errors = _validate(values, languages)
        if parsed is None:
            return page(values, errors, 400)
        try:
            pdf = workspace().renderer.pdf(parsed)
        except HandoutError:
            log.error("render failed for %s-%s-%s", parsed.procedure, parsed.phase, parsed.language)
            return page(
                values,
                {"form": "The handout could not be made. Please tell the clinic's IT contact."},
                500,
            )
        disposition = "attachment" if values.get("download") == "1" else "inline"
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'{disposition}; filename="{default_file_name(parsed)}"'
        )
        return response

    @app.get("/logo")
    def logo() -> Response:
        path = first.clinic.logo_path
        if path is None:
            return Response(status=404)
        mimetype = "image/svg+xml" if path.suffix.lower() == ".svg" else "image/png"
        return Response(path.read_bytes(), mimetype=mimetype)

    fonts = data_dir("styles") / "fonts"
    font_files = {p.name for p in fonts.glob("*.ttf")}

    @app.get("/fonts/<name>")
    def font(name: str) -> Response:
        if name not in font_files:
            return Response(status=404)
        return Response((fonts / name).read_bytes(), mimetype="font/ttf")

    @app.get("/brand.css")
    def brand() -> Response:
        b = first.clinic.config.brand
        css = f":root {{ --primary: {b.primary_color}; --accent: {b.accent_color}; }}\n"
        return Response(css, mimetype="text/css")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_: Exception) -> Response:
        return page({}, {"form": "The form is too large. Please shorten the notes."}, 400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return Response(f"{exc.code} {exc.name}", status=exc.code or 500, mimetype="text/plain")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def _validate(
    values: dict[str, str], languages: list[str]
) -> tuple[HandoutRequest | None, dict[str, str]]:
    """A HandoutRequest, or one plain-words message per bad field (never the value)."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if len(value) > MAX_FIELD:
            errors[name] = f"This is too long (at most {MAX_FIELD} characters)."
    procedure = values.get("procedure", "")
    if procedure not in PROCEDURES:
        errors["procedure"] = "Choose vertebroplasty or kyphoplasty."
    phase = values.get("phase", "")
    if phase not in PHASES:
        errors["phase"] = "Choose before (pre) or after (post) the procedure."
    language = values.get("language", "en")
    if language not in languages:
        errors["language"] = "Choose one of the languages in the list."
    patient, problems = validate_patient(
        {k: values[k] for k in PATIENT_FIELDS if k in values and k not in errors}
    )
    for field, message in problems:
        errors.setdefault(field, _plain(message))
    if errors or patient is None:
        return None, errors
    large = values.get("large_print") in ("1", "on", "yes", "true")
    return HandoutRequest(procedure, phase, language, large, patient), {}


def _plain(message: str) -> str:
    message = message[0].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def serve(clinic_dir: Path | None, host: str, port: int, threads: int) -> None:
    import waitress

    app = create_app(clinic_dir)
    log.info("nurse station on http://%s:%d/ (Ctrl-C to stop)", host, port)
    waitress.serve(app, host=host, port=port, threads=threads, ident="handouts")


def warning_for(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"WARNING: listening on {host}, not on this computer only. Patient data typed into "
        "the form will cross the network. Put the server behind the clinic's own "
        "authentication and TLS (HTTPS) before anyone uses it."
    )
