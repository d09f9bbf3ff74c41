"""Layout classes: which records share every page but their slots, and each class's
static pages and measured slots.

Records that differ only in their slot values share a layout class. Each class is
rendered once by WeasyPrint with a probe text in every slot, laid out but not drawn
(`visibility: hidden` keeps the layout), which gives both the static pages and, from
the layout itself, where each slot is. Per record, `plan_*` pairs each slot with the
value to draw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale
from weasyprint import CSS

from handouts.engine.clinic import Protocol
from handouts.engine.context import patient_slots, recovery_days
from handouts.engine.fonts import BODY, coverage
from handouts.engine.formats import clock_time, day_date, day_label, long_date
from handouts.engine.render import Renderer
from handouts.engine.request import HandoutRequest
from handouts.mail.letter import (
    LetterJob,
    LetterSlots,
    letter_html,
    letter_layout_name,
    letter_styles,
)
from handouts.stamp.draw import Stamp
from handouts.stamp.measure import Slot, measure_slots, page_sizes

PROBE = "Xg"
HandoutClass = tuple[Any, ...]
LetterClass = tuple[str, str, bool, bool]


@dataclass
class Template:
    """One layout class: its static pages and its slots."""

    pdf: bytes
    sizes: list[tuple[float, float]]
    slots: list[Slot]


def _template(renderer: Renderer, probe_html: str, styles: list[CSS], layout: str) -> Template:
    hidden = renderer.stylesheet(string=".v { visibility: hidden; }")
    rendered = renderer.render_html(probe_html, [*styles, hidden], layout)
    assert rendered.document is not None
    return Template(rendered.data, page_sizes(rendered.document), measure_slots(rendered.document))


def handout_template(renderer: Renderer, request: HandoutRequest) -> Template:
    return _template(
        renderer,
        renderer.html(request, slot_text=PROBE),
        renderer.styles(request.large_print),
        repr(request.layout_key),
    )


def letter_template(renderer: Renderer, job: LetterJob) -> Template:
    return _template(
        renderer,
        letter_html(renderer, job, PROBE),
        letter_styles(renderer),
        letter_layout_name(job),
    )


def handout_class(
    request: HandoutRequest, protocol: Protocol, locale: Locale
) -> HandoutClass | None:
    """Records with the same key share every page but their slots; None: full render."""
    if not body_font_prints(str(locale)):
        return None  # the page is set in another font (styles/base.css, per language)
    slots = patient_slots(request.patient, protocol, locale)
    if slots["notes"]:
        return None  # free text changes the flow of the page
    filled = tuple(sorted(name for name, value in slots.items() if value))
    return (*request.layout_key, filled)


@cache
def body_font_prints(locale_tag: str) -> bool:
    """Whether the body font alone prints every date, weekday and time of a locale.

    Stamping draws values in the bundled fonts. A language whose dates need another
    font (Chinese, Arabic) or a fallback for half its letters (Vietnamese: its pages are
    set in Noto Sans) is rendered in full, so a value looks like the page around it."""
    locale = Locale.parse(locale_tag)
    start = dt.date(2026, 1, 1)
    days = [start + dt.timedelta(days=n) for n in range(0, 366, 1)]
    samples = [day_date(d, locale) + long_date(d, locale) + day_label(d, locale) for d in days]
    samples += [clock_time(dt.time(h, 30), locale) for h in range(24)]
    has = coverage(BODY)
    return all(ord(c) in has or c.isspace() for text in samples for c in text)


def letter_class(job: LetterJob) -> LetterClass:
    patient = job.request.patient
    return (
        job.request.language,
        job.request.phase,
        bool(patient.procedure_date),
        bool(patient.arrival_time),
    )


def plan_handout(
    template: Template, request: HandoutRequest, protocol: Protocol, locale: Locale
) -> list[Stamp]:
    slots = patient_slots(request.patient, protocol, locale)
    days = recovery_days(request.patient, locale)
    stamps = []
    for slot in template.slots:
        value = days[slot.index] if slot.name == "recovery_date" else slots.get(slot.name, "")
        if value:
            stamps.append(Stamp(slot, [value]))
    return stamps


def plan_letter(template: Template, values: LetterSlots) -> list[Stamp]:
    fields = {slot: value for _, value, slot in values.fields}
    stamps = []
    for slot in template.slots:
        if slot.name == "address":
            stamps.append(Stamp(slot, list(values.address.lines), values.address.size))
        elif slot.name in fields:
            stamps.append(Stamp(slot, [fields[slot.name]]))
    return stamps
