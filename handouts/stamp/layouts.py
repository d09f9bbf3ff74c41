"""Layout classes: which records share every page but their slots; and per record,
which value goes in which slot.

Records that differ only in their slot values share a layout class, rendered once
(stamp/probe.py) or read from the layout cache (stamp/cache.py). Per record,
`plan_handout` pairs each slot of the class's layout with the value to draw. Nothing here
renders, so a warm cache stamps without loading WeasyPrint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any

from babel import Locale

from handouts.engine.context import (
    NOTES_LEADING,
    patient_slots,
    plan_view,
    recovery_days,
    settled,
)
from handouts.engine.formats import clock_time, day_date, day_label, long_date, short_date
from handouts.engine.levels import level_slots
from handouts.fonts import harfbuzz
from handouts.fonts.registry import BODY, coverage, face
from handouts.model.clinic import ClinicConfig, Protocol
from handouts.model.medicines import PlanShape
from handouts.model.request import HandoutRequest
from handouts.stamp.model import Layout, Stamp

HandoutClass = tuple[Any, ...]
#: Medicines a stamped handout holds: the rows of the content's medicine table (4). A
#: plan with more continues on a second table, which the full render lays out.
STAMPED_MEDICINES = 4


def record_slots(
    request: HandoutRequest, protocol: Protocol, locale: Locale, strings: Mapping[str, str]
) -> dict[str, str]:
    """The record's single slots, as engine/context.build_context prints them."""
    patient = request.patient
    return patient_slots(patient, protocol, locale) | level_slots(
        patient.levels, request.procedure, request.phase, locale, strings
    )


def handout_class(
    request: HandoutRequest, clinic: ClinicConfig, locale: Locale, strings: Mapping[str, str]
) -> HandoutClass | None:
    """Records with the same key share every page but their slots; None: full render."""
    if not body_font_prints(str(locale)):
        return None  # the page is set in another font (styles/base.css, per language)
    patient = settled(request, clinic.medicines)
    slots = record_slots(request, clinic.protocol, locale, strings)
    if slots["notes"] and not notes_may_fit(slots["notes"], clinic.options.notes_lines):
        return None  # the box grows with the notes: they change the flow of the page
    if len(patient.medicines) > STAMPED_MEDICINES:
        return None  # the second medicine table: the full render
    # the ruled notes box has one layout, blank or with notes that fit
    shown = clinic.options.blank_slots
    filled = tuple(sorted(name for name, value in slots.items() if value and name not in shown))
    shape = PlanShape.of(patient.medicines, patient.medicine_plan, bool(patient.diabetes_plan))
    return (*request.layout_key, filled, shape)


#: More characters than any line of the notes box holds (its width in the narrowest
#: letters): notes longer than this many a line cannot fit, whatever they say.
NOTES_LINE_CHARS = 160


def notes_may_fit(notes: str, lines: int) -> bool:
    """Whether notes might fit the notes box's `lines` (the stamping path decides,
    against the box's measured width): not with more paragraphs or characters than the
    box can hold, so such records need no layout of their own."""
    return 0 < len(notes.splitlines()) <= lines and len(notes) <= lines * NOTES_LINE_CHARS


@cache
def body_font_prints(locale_tag: str) -> bool:
    """Whether the body font alone prints every date, weekday and time of a locale.

    Stamping draws values in the bundled fonts. A language whose dates need another
    font (Chinese, Arabic) or a fallback for half its letters (Vietnamese: its pages are
    set in Noto Sans) is rendered in full, so a value looks like the page around it."""
    chars = [c for c in date_characters(locale_tag) if not c.isspace()]
    body = harfbuzz.face(face(BODY, False).path)
    if body is not None:  # HarfBuzz answers without loading fontTools
        return all(body.glyph(c) is not None for c in chars)
    has = coverage(BODY)
    return all(ord(c) in has for c in chars)


def date_samples(locale: Locale) -> list[str]:
    """Date, weekday and time texts with every month and weekday name a slot of this
    locale can hold (a week in each month; the digits are checked on their own)."""
    days = [dt.date(2026, month, day) for month in range(1, 13) for day in range(1, 8)]
    samples = [
        day_date(d, locale) + long_date(d, locale) + short_date(d, locale) + day_label(d, locale)
        for d in days
    ]
    return samples + [clock_time(dt.time(h, m), locale) for h in range(24) for m in (0, 30)]


@cache
def date_characters(locale_tag: str) -> str:
    """Every character the dates and times of a locale use, and the digits."""
    chars = set("0123456789")
    chars |= {c for text in date_samples(Locale.parse(locale_tag)) for c in text}
    return "".join(sorted(chars))


def plan_handout(
    layout: Layout,
    request: HandoutRequest,
    clinic: ClinicConfig,
    locale: Locale,
    strings: Mapping[str, str],
) -> list[Stamp] | None:
    """Each slot of the layout with its value: single slots by name, repeated ones
    (recovery log dates, the medicine plan's names and dates) by name and index. None:
    the record has notes and the layout no notes box (the full render)."""
    slots = record_slots(request, clinic.protocol, locale, strings)
    log_days = sum(1 for slot in layout.slots if slot.name == "recovery_date")
    plan = plan_view(settled(request, clinic.medicines), clinic.medicines, locale, strings)
    repeated = plan.slot_values
    repeated["recovery_date"] = recovery_days(request.patient, locale, log_days)
    if slots["notes"] and not any(slot.name == "notes" for slot in layout.slots):
        return None  # never stamped without them: the full render prints them
    stamps = []
    for slot in layout.slots:
        if slot.name in repeated:
            values = repeated[slot.name]
            value = values[slot.index] if slot.index < len(values) else ""
        else:
            value = slots.get(slot.name, "")
        if value and slot.name == "notes":  # wrapped as the page does, or no fit
            lines, wrap = value.splitlines(), clinic.options.notes_lines
            stamps.append(Stamp(slot, lines, wrap=wrap, leading=NOTES_LEADING))
        elif value:
            stamps.append(Stamp(slot, [value]))
    return stamps
