"""The nurse-station views: the form, the handout, and the form's own assets."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from handouts.commands.printing import (
    WEB_TIMEOUT,
    PrintError,
    desk_queue,
    handout_settings,
    send_to_printer,
)
from handouts.engine.output import handout_file_name
from handouts.errors import HandoutError
from handouts.fonts.registry import FACES
from handouts.model.medicines import ENTRY_FIELDS
from handouts.model.request import (
    PHASES,
    PROCEDURES,
    REQUEST_FIELDS,
    HandoutRequest,
    parse_request,
)
from handouts.web.app import station

MAX_FIELD = 2000
log = logging.getLogger("handouts")
views = Blueprint("handouts", __name__)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with
    # the form's own POSTs, and same_origin_only could not tell them from a forgery.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'; form-action 'self'",
}


def page(
    values: Mapping[str, str], errors: Mapping[str, str], status: int = 200, notice: str = ""
) -> Response:
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
        desk_queues=nurse.desk_queues,
        form_token=nurse.form_token,
        notice=notice,
    )
    return Response(html, status=status, mimetype="text/html")


def validate(values: Mapping[str, str]) -> tuple[HandoutRequest | None, dict[str, str]]:
    """A HandoutRequest, or one message per bad field: the same messages as the command
    line and the batch (model/request.py), as a sentence; never the value."""
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
    return page(blank_values(), {})


def blank_values() -> dict[str, str]:
    """The form as a new patient finds it."""
    values = {"procedure": PROCEDURES[0], "phase": PHASES[0], "language": "en"}
    if station().workspace.clinic.config.options.large_print:
        values["large_print"] = "1"
    return values


@views.get("/printed")
def printed() -> Response:
    """Where a server-side print leads (303): an empty form and "Sent to Q, job N", so
    reloading it prints nothing again. Only a desk queue's name and a number are shown."""
    queue, job = request.args.get("queue", ""), request.args.get("job", "")
    listed = {name.lower() for name in station().desk_queues}
    if queue.lower() not in listed or not re.fullmatch(r"[0-9]{1,10}", job):
        return Response(status=404)
    return page(blank_values(), {}, notice=f"Sent to {queue}, job {job}.")


@views.post("/handout")
def handout() -> Response:
    values = {k: v for k, v in request.form.items() if isinstance(v, str)}
    queue = chosen_queue(values)
    if queue and not station().token_matches(values.get("token", "")):
        log.warning("refused a print without this server's form token (another page sent it?)")
        return Response("403 Forbidden: not sent by this form", 403, mimetype="text/plain")
    parsed, errors = validate(values)
    if queue == "":
        errors["printer"] = "Choose one of the clinic's printers."
    if parsed is None or errors:
        return page(values, errors, 400)
    try:
        pdf = station().pdf(parsed)
    except HandoutError:
        log.error("render failed for %s-%s-%s", parsed.procedure, parsed.phase, parsed.language)
        message = "The handout could not be made. Please tell the clinic's IT contact."
        return page(values, {"form": message}, 500)
    if queue:
        return print_on_desk(values, pdf, queue)
    disposition = "attachment" if values.get("download") == "1" else "inline"
    response = Response(pdf, mimetype="application/pdf")
    name = handout_file_name(parsed)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


def chosen_queue(values: Mapping[str, str]) -> str | None:
    """The queue a Print asks for: None when the server does not print (no Print, or no
    desk queue: the browser prints), "" when the form names a queue the clinic does not
    list (the form never prints to any other)."""
    queues = station().desk_queues
    if values.get("print") != "1" or not queues:
        return None
    chosen = desk_queue(station().workspace.clinic.config, values.get("printer"))
    return chosen if chosen in queues else ""


def print_on_desk(values: Mapping[str, str], pdf: bytes, queue: str) -> Response:
    """Sends the handout to the desk queue within WEB_TIMEOUT seconds and says what
    happened: on to /printed (job and queue), or the print server's trouble in one line
    (which names the queue, never the patient) on the filled form."""
    settings = handout_settings(station().workspace.clinic.config)
    try:
        job = send_to_printer(pdf, queue, settings, WEB_TIMEOUT)
    except PrintError as exc:
        log.error("%s", exc.message)
        return page(values, {"form": f"Not printed: {exc.message}."}, 503)
    log.info("sent a handout to %s, job %s", job.queue, job.id)
    where = urlencode({"queue": job.queue, "job": job.number})
    return Response(status=303, headers={"Location": f"/printed?{where}"})


@views.before_app_request
def same_origin_only() -> Response | None:
    """Refuses (403) a request for a host name that is not this server's (DNS rebinding)
    and a POST sent by another site's page (cross-site request forgery): the server
    renders patient data and can print."""
    if host_name(request.host) not in station().hosts:
        log.warning(
            "refused a request for host %r: not one of this server's names "
            "(if browsers reach it by that name, start serve with --allow-host)",
            request.host[:200],
        )
        return Response("403 Forbidden: not this server's address", 403, mimetype="text/plain")
    if request.method == "POST" and not from_own_page():
        return Response("403 Forbidden: not sent by this form", 403, mimetype="text/plain")
    return None


def host_name(host: str) -> str:
    """The name of a Host header without its port: `[::1]:8080` -> `::1`."""
    if host.startswith("["):
        return host[1 : host.find("]")].lower()
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def from_own_page() -> bool:
    """Whether the browser says the request came from this server's own page: its
    Sec-Fetch-Site, then the host and port of Origin (of Referer when Origin is absent)
    against the Host header, which same_origin_only has checked. The scheme is not
    compared, so a TLS proxy in front that passes the browser's Host on still works. A
    client that sends none of them is no browser: no other site's page sent it."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    sender = request.headers.get("Origin", request.headers.get("Referer"))
    if sender is None:
        return True
    return urlsplit(sender).netloc.lower() == request.host.lower()


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
