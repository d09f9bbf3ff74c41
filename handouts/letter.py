"""The cover letter of a mailed handout: addresses placed for a #10 double-window envelope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup
from reportlab.graphics.barcode.usps4s import USPS_4State

from .address import FittedAddress, MailAddress, fit_address
from .clinic import Mail, Window
from .context import HandoutRequest, TextFormatter, patient_slots
from .errors import RecordError
from .formats import long_date
from .render import Rendered, Renderer
from .vocabulary import text_values

POINTS_PER_INCH = 72
IMB_HEIGHT = 0.145 * POINTS_PER_INCH  # full bar height
IMB_GAP = 3.0
LETTER_SIZES = [round(11 - 0.5 * i, 1) for i in range(8)]  # 11 pt down to 7.5 pt


@dataclass(frozen=True)
class LetterJob:
    """One letter: the handout it covers, the recipient and the mailing details."""

    request: HandoutRequest
    address: MailAddress
    letter_date: dt.date
    serial: int  # unique within the mailing, for the IMb


#: USPS-B-3200 bar geometry, in inches: about 22 bars per inch.
_PITCH, _BAR, _FULL, _TRACK = 1 / 22, 0.02, 0.145, 0.05


def imb_bars(mail: Mail, address: MailAddress, serial: int) -> str | None:
    """The 65 IMb bar states (A, D, F, T) from ReportLab's encoder; None without a Mailer ID."""
    if not mail.mailer_id:
        return None
    serial_digits = 15 - len(mail.mailer_id)  # 6-digit IDs get 9-digit serials, 9 get 6
    serial_text = f"{serial % 10**serial_digits:0{serial_digits}d}"
    tracking = f"00{mail.service_type}{mail.mailer_id}{serial_text}"
    return str(USPS_4State(value=tracking, routing=address.routing).barcodes)


def imb_svg(bars: str | None) -> Markup | None:
    """USPS Intelligent Mail barcode as inline SVG (None without bars).

    ReportLab encodes the 65 bars (A ascender, D descender, F full, T tracker); the SVG
    is drawn here so it carries no styles that WeasyPrint would warn about.
    """
    if bars is None:
        return None
    middle_top, middle_bottom = (_FULL - _TRACK) / 2, (_FULL + _TRACK) / 2
    spans = {
        "F": (0, _FULL),
        "A": (0, middle_bottom),
        "D": (middle_top, _FULL),
        "T": (middle_top, middle_bottom),
    }
    rects = "".join(
        f'<rect x="{i * _PITCH:.4f}" y="{spans[b][0]:.4f}" width="{_BAR}" '
        f'height="{spans[b][1] - spans[b][0]:.4f}"/>'
        for i, b in enumerate(bars)
    )
    width = (len(bars) - 1) * _PITCH + _BAR
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.4f}in" height="{_FULL}in" '
        f'viewBox="0 0 {width:.4f} {_FULL}">{rects}</svg>'
    )


def geometry_css(mail: Mail) -> str:
    """Window positions from the clinic config, plus one class per address size."""

    def box(window: Window, selector: str) -> str:
        inset = mail.safety_margin
        return (
            f"{selector} {{ left: {window.left + inset}in; top: {window.top + inset}in; "
            f"width: {window.width - 2 * inset}in; height: {window.height - 2 * inset}in; }}"
        )

    sizes = " ".join(
        f".addr-{int(size * 10)} {{ font-size: {size}pt; line-height: {size * 1.2:.2f}pt; }}"
        for size in LETTER_SIZES
    )
    return "\n".join(
        (
            box(mail.return_window, ".window-return"),
            box(mail.recipient_window, ".window-recipient"),
            sizes,
        )
    )


def fit_recipient(mail: Mail, address: MailAddress, barcode: bool) -> FittedAddress:
    window = mail.recipient_window
    width = (window.width - 2 * mail.safety_margin) * POINTS_PER_INCH
    height = (window.height - 2 * mail.safety_margin) * POINTS_PER_INCH
    reserved = IMB_HEIGHT + IMB_GAP if barcode else 0.0
    fitted = fit_address(
        address.lines, width, height, reserved, largest=LETTER_SIZES[0], smallest=LETTER_SIZES[-1]
    )
    if fitted is None:
        raise RecordError("the address does not fit the envelope window, even in small print")
    return fitted


def letter_context(renderer: Renderer, job: LetterJob, slot_text: str | None = None) -> dict:
    """Template context of a cover letter; `slot_text` stands in for every patient value
    (the stamping fast path renders "" for the layout and a probe to measure it)."""
    clinic, request = renderer.clinic, job.request
    mail = clinic.config.mail
    strings = renderer.library.strings(request.language)
    bars = imb_bars(mail, job.address, job.serial)
    barcode = imb_svg(bars)
    fitted = fit_recipient(mail, job.address, barcode is not None)
    slots = patient_slots(request.patient, strings)
    values = text_values(clinic, request.procedure, strings) | {
        "clinic_address": ", ".join(clinic.config.clinic.address)
    }
    fmt = TextFormatter(values)
    call_you = strings["letter.call_you"]
    fields = [
        (strings["letter.name"], job.address.name, "name"),
        (strings["letter.date"], slots["procedure_date"] or call_you, "date"),
    ]
    if request.phase == "pre":
        fields.append((strings["letter.time"], slots["arrival_time"] or call_you, "time"))
    lines = fitted.lines
    if slot_text is not None:
        fields = [(label, slot_text, slot) for label, _, slot in fields]
        lines = [slot_text] if slot_text else []
        barcode = None
    logo = clinic.logo_path
    return {
        "lang": request.language,
        "title": strings["letter.title"],
        "clinic": clinic.config.clinic,
        "logo_url": logo.resolve().as_uri() if logo else None,
        "logo_alt": fmt(strings["logo.alt"]),
        "address_lines": lines,
        "address_size": fitted.size,
        "address_class": f"addr-{int(fitted.size * 10)}",
        "imb": barcode,
        "imb_bars": bars,  # the fast path draws the same bars itself
        "letter_date": long_date(job.letter_date, strings, "short"),
        "greeting": fmt(strings["letter.greeting"]),
        "intro": fmt(strings[f"letter.{request.phase}.intro"]),
        "fields": fields,
        "paragraphs": [
            fmt(strings["letter.where"]),
            fmt(strings[f"letter.{request.phase}.enclosed"]),
            fmt(strings["letter.questions"]),
        ],
        "closing": fmt(strings["letter.closing"]),
    }


def letter_html(renderer: Renderer, job: LetterJob, slot_text: str | None = None) -> str:
    return renderer.env.get_template("letter.html").render(letter_context(renderer, job, slot_text))


def letter_styles(renderer: Renderer) -> list:
    mail = renderer.clinic.config.mail
    return [
        renderer.stylesheet("base.css"),
        renderer.stylesheet("letter.css"),
        renderer.brand_css,
        renderer.stylesheet(string=geometry_css(mail)),
    ]


def render_letter(renderer: Renderer, job: LetterJob) -> Rendered:
    """The cover letter page, in the record's language."""
    html = letter_html(renderer, job)
    return renderer.render_html(html, letter_styles(renderer), f"letter:{job.request.language}")
