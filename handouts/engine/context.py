"""Builds the Jinja context for one handout: content, clinic values, patient slots."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from babel import Locale
from markupsafe import Markup, escape

from handouts.content.model import PATTERN_FIELDS, Block, Handout, Section
from handouts.content.vocabulary import PLACEHOLDER, PROTOCOL_NUMBERS, fill
from handouts.engine.clinic import Clinic
from handouts.engine.formats import clock_time, day_label, locale_of, long_date, number, short_date
from handouts.engine.request import HandoutRequest, PatientDetails

_BOLD = re.compile(r"\*\*(.+?)\*\*")


class TextFormatter:
    """Turns content text into safe markup: escaped, placeholders filled, **bold** kept."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def __call__(self, text: str) -> Markup:
        escaped = str(escape(text))
        filled = PLACEHOLDER.sub(lambda m: str(escape(self.values[m.group(1)])), escaped)
        return Markup(_BOLD.sub(r"<strong>\1</strong>", filled))

    def plain(self, text: str) -> str:
        return _BOLD.sub(r"\1", PLACEHOLDER.sub(lambda m: self.values[m.group(1)], text))


GALLON_OF_MILK_LB = 8


def text_values(
    clinic: Clinic, procedure: str, strings: Mapping[str, str], locale: Locale
) -> dict[str, str]:
    """Every placeholder's printed value for one clinic, procedure and language."""
    ident, protocol = clinic.config.clinic, clinic.config.protocol
    values = {name: number(getattr(protocol, name), locale) for name in PROTOCOL_NUMBERS}
    sedation = getattr(protocol.sedation, procedure)
    values |= {
        "clinic_name": ident.name,
        "main_phone": ident.main_phone,
        "after_hours_phone": ident.after_hours_phone,
        "website": ident.website,
        "procedure_name": strings[f"procedure.{procedure}"],
        "sedation": strings[f"sedation.{sedation}"],
        "fever_threshold_f": number(protocol.fever_threshold_f, locale),
        "fever_threshold_c": number(protocol.fever_threshold_c, locale),
    }
    limit = protocol.lifting_limit_lb
    size = (
        "lighter"
        if limit < GALLON_OF_MILK_LB
        else "same"
        if limit == GALLON_OF_MILK_LB
        else "heavier"
    )
    values["lifting_comparison"] = fill(strings[f"lifting.{size}"], values)
    return values


def flags(clinic: Clinic, procedure: str) -> dict[str, bool]:
    protocol = clinic.config.protocol
    general = getattr(protocol.sedation, procedure) == "general"
    return {
        "clear_liquids_allowed": protocol.clear_liquid_hours < protocol.fasting_hours,
        "no_clear_liquids": protocol.clear_liquid_hours >= protocol.fasting_hours,
        "water_sips_with_medicines": protocol.water_sips_with_medicines,
        "general_anesthesia": general,
        "awake": not general,
        "escort_stays": protocol.escort_hours > 0,
        "teach_back": clinic.config.options.teach_back,
        "recovery_log": clinic.config.options.recovery_log,
    }


def visible_sections(handout: Handout, active: Mapping[str, bool]) -> list[Section]:
    """Sections and blocks whose `when:` flag holds for this clinic and procedure."""
    result = []
    for section in handout.resolved_sections():
        if section.when and not active[section.when]:
            continue
        blocks: list[Block] = [b for b in section.blocks if not b.when or active[b.when]]
        result.append(section.model_copy(update={"blocks": blocks}))
    return result


def patient_slots(patient: PatientDetails, locale: Locale) -> dict[str, str]:
    """The printed form of each patient value; empty string for a blank line."""
    date, time = patient.procedure_date, patient.arrival_time
    return {
        "patient_name": patient.patient_name or "",
        "procedure_date": long_date(date, locale) if date else "",
        "arrival_time": clock_time(time, locale) if time else "",
        "physician": patient.physician or "",
        "levels": patient.levels or "",
        "notes": patient.notes or "",
    }


def build_context(
    clinic: Clinic,
    handout: Handout,
    strings: Mapping[str, str],
    request: HandoutRequest,
    logo_url: str | None,
    assist_lines: Sequence[tuple[str, str]] = (),
    slot_text: str | None = None,
    english: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`slot_text` replaces every filled patient value (the stamping fast path renders the
    layout with "" and measures it with a probe); None prints the real values."""
    locale = locale_of(handout.language, strings)
    values = text_values(clinic, handout.procedure, strings, locale)
    fmt = TextFormatter(values)
    slots = patient_slots(request.patient, locale)
    filled = {name: bool(value) for name, value in slots.items()}
    days = recovery_days(request.patient, locale)
    if slot_text is not None:
        slots = {name: slot_text if value else "" for name, value in slots.items()}
        days = [slot_text if day else "" for day in days]
    return {
        "lang": handout.language,
        "handout": handout,
        "title": fmt.plain(handout.title),
        "sections": visible_sections(handout, flags(clinic, handout.procedure)),
        "clinic": clinic.config.clinic,
        "logo_url": logo_url,
        "labels": {
            k: fmt(v)
            for k, v in strings.items()
            if k not in PATTERN_FIELDS and not k.startswith("letter.")
        },
        "text": fmt,
        "slots": slots,
        "filled": filled,
        "large_print": request.large_print,
        "footer_content": strings["footer.content"].format(
            id=handout.id,
            version=handout.version,
            review=review_note(handout, strings, english or strings, locale),
        ),
        "footer_page": page_label(strings["footer.page"]),
        "assist_lines": [(lang, fmt(line)) for lang, line in assist_lines],
        "options": clinic.config.options,
        "recovery_days": days,
    }


def review_note(
    handout: Handout, strings: Mapping[str, str], english: Mapping[str, str], locale: Locale
) -> str:
    """ "reviewed <date>" only for an approved handout; otherwise what is missing, in the
    handout's language and, for other languages, in English too."""
    if handout.approved and handout.reviewed_on is not None:
        return strings["footer.reviewed"].format(date=short_date(handout.reviewed_on, locale))
    key = f"footer.status.{handout.pending_note}"
    if english is strings or english[key] == strings[key]:
        return strings[key]
    return f"{strings[key]} ({english[key]})"


RECOVERY_LOG_DAYS = 14


def recovery_days(patient: PatientDetails, locale: Locale) -> list[str]:
    """Dates for the recovery log, starting the day after the procedure ('' when unknown)."""
    if not patient.procedure_date:
        return [""] * RECOVERY_LOG_DAYS
    start = patient.procedure_date
    return [
        day_label(start + dt.timedelta(days=n), locale) for n in range(1, RECOVERY_LOG_DAYS + 1)
    ]


def page_label(pattern: str) -> Markup:
    """'Page {page} of {pages}' with the numbers left to CSS page counters."""
    return Markup(
        str(escape(pattern))
        .replace("{page}", '<span class="page-number"></span>')
        .replace("{pages}", '<span class="page-count"></span>')
    )
