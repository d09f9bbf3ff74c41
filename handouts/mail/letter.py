"""The cover letter of a mailed handout: addresses placed for a #10 double-window envelope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handouts.content.library import ContentLibrary
from handouts.engine.context import TextFormatter, patient_slots, text_values
from handouts.engine.formats import locale_of, short_date, text_direction
from handouts.errors import RecordError
from handouts.mail import imb
from handouts.mail.address import FittedAddress, MailAddress, fit_address
from handouts.model.clinic import Clinic, Mail, Window
from handouts.model.request import HandoutRequest

if TYPE_CHECKING:  # rendering loads WeasyPrint; planning a stamped letter does not
    from weasyprint import CSS

    from handouts.engine.render import Rendered, Renderer

LETTER_SIZES = [round(11 - 0.5 * i, 1) for i in range(8)]  # 11 pt down to 7.5 pt


@dataclass(frozen=True)
class LetterJob:
    """One letter: the handout it covers, the recipient and the mailing details."""

    request: HandoutRequest
    address: MailAddress
    letter_date: dt.date
    serial: int  # unique within the mailing, for the IMb


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
    width = (window.width - 2 * mail.safety_margin) * imb.POINTS_PER_INCH
    height = (window.height - 2 * mail.safety_margin) * imb.POINTS_PER_INCH
    reserved = imb.HEIGHT_POINTS + imb.GAP_POINTS if barcode else 0.0
    fitted = fit_address(
        address.lines, width, height, reserved, largest=LETTER_SIZES[0], smallest=LETTER_SIZES[-1]
    )
    if fitted is None:
        raise RecordError("the address does not fit the envelope window, even in small print")
    return fitted


@dataclass(frozen=True)
class LetterSlots:
    """The patient values of one letter, as printed: what the full render puts in the
    template and the stamping fast path draws on the shared layout."""

    fields: list[tuple[str, str, str]]  # (label, value, slot name) in the boxed table
    address: FittedAddress
    bars: str | None  # IMb bar states, None without a Mailer ID


def letter_slots(clinic: Clinic, library: ContentLibrary, job: LetterJob) -> LetterSlots:
    request, mail = job.request, clinic.config.mail
    strings = library.strings(request.language)
    bars = imb.imb_bars(mail, job.address, job.serial)
    slots = patient_slots(
        request.patient, clinic.config.protocol, locale_of(request.language, strings)
    )
    call_you = strings["letter.call_you"]
    fields = [
        (strings["letter.name"], job.address.name, "name"),
        (strings["letter.date"], slots["procedure_date"] or call_you, "date"),
    ]
    if request.phase == "pre":
        fields.append((strings["letter.time"], slots["arrival_time"] or call_you, "time"))
    return LetterSlots(fields, fit_recipient(mail, job.address, bars is not None), bars)


def letter_context(
    renderer: Renderer, job: LetterJob, slot_text: str | None = None
) -> dict[str, Any]:
    """Template context of a cover letter; `slot_text` stands in for every patient value
    (the stamping fast path renders a probe to measure the layout)."""
    clinic, request = renderer.clinic, job.request
    strings = renderer.library.strings(request.language)
    values = letter_slots(renderer.clinic, renderer.library, job)
    locale = locale_of(request.language, strings)
    fmt = TextFormatter(
        text_values(clinic, request.procedure, strings, locale)
        | {"clinic_address": ", ".join(clinic.config.clinic.address)}
    )
    fields, lines, barcode = values.fields, values.address.lines, imb.imb_svg(values.bars)
    if slot_text is not None:
        fields = [(label, slot_text, slot) for label, _, slot in fields]
        lines = [slot_text] if slot_text else []
        barcode = None
    return {
        "lang": request.language,
        "dir": text_direction(request.language),
        "title": strings["letter.title"],
        "clinic": clinic.config.clinic,
        "logo_url": renderer.logo_url(),
        "logo_alt": fmt(strings["logo.alt"]),
        "address_lines": lines,
        "address_class": f"addr-{int(values.address.size * 10)}",
        "imb": barcode,
        "letter_date": short_date(job.letter_date, locale),
        "greeting": fmt(strings["letter.greeting"]),
        "intro": fmt(strings[f"letter.{request.phase}.intro"]),
        "fields": fields,
        "paragraphs": [
            fmt(strings["letter.where"]),
            fmt(strings[f"letter.{request.phase}.enclosed"]),
            fmt(strings["letter.questions"]),
        ],
        "closing": fmt(strings["letter.closing"]),
        # The notice's own lines (this language and English); the taglines of every
        # clinic language are in the enclosed handout.
        "notice": renderer.notice(request),
    }


def letter_html(renderer: Renderer, job: LetterJob, slot_text: str | None = None) -> str:
    return renderer.template("letter.html", letter_context(renderer, job, slot_text))


def letter_styles(renderer: Renderer) -> list[CSS]:
    mail = renderer.clinic.config.mail
    return [
        renderer.font_css,
        renderer.stylesheet("base.css"),
        renderer.stylesheet("letter.css"),
        renderer.brand_css,
        renderer.stylesheet(string=geometry_css(mail)),
    ]


def letter_layout_name(job: LetterJob) -> str:
    """Seeds the letter PDF's /ID: the layout, never the patient."""
    return f"letter:{job.request.language}"


def render_letter(renderer: Renderer, job: LetterJob) -> Rendered:
    """The cover letter page, in the record's language."""
    html = letter_html(renderer, job)
    return renderer.render_html(html, letter_styles(renderer), letter_layout_name(job))
