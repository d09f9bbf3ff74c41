"""Builds the Jinja context for one handout: content, clinic values, patient slots."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from babel import Locale
from markupsafe import Markup, escape

from handouts.content.approvals import Standing
from handouts.content.model import PATTERN_FIELDS, Block, Handout, Section, Tagline
from handouts.content.vocabulary import (
    ACTION_NAMES,
    PLACEHOLDER,
    PROTOCOL_NUMBERS,
    WRITE_LINE,
    fill,
)
from handouts.engine.formats import (
    clock_time,
    day_date,
    day_label,
    locale_of,
    long_date,
    medium_date,
    number,
    text_direction,
)
from handouts.engine.levels import level_slots
from handouts.engine.schedule import computed_slots, widest_values
from handouts.errors import RecordError
from handouts.model.clinic import Clinic, Medicines, Options, Protocol
from handouts.model.medicines import PlanView
from handouts.model.request import HandoutRequest, PatientDetails

_BOLD = re.compile(r"\*\*(.+?)\*\*")


#: Values printed on one line: a phone number broken after "(555)" is hard to dial. They
#: are isolated left to right, so "(555) 010-4400" keeps its order in Arabic text.
UNBROKEN = frozenset({"main_phone", "after_hours_phone", "phone", "tty"})


def left_to_right(value: object) -> Markup:
    """A value written left to right (a phone number, an address) kept in its order in
    right-to-left text: LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE. WeasyPrint
    ignores `dir` and unicode-bidi on inline elements; Pango (FriBidi) honours these."""
    return Markup("\u2066") + escape(value) + Markup("\u2069")


_TAG = re.compile(r"(<[^>]*>)")
#: A number and the word after it ("5 pounds", "8 libras"): joined by a no-break space.
_NUMBER_WORD = re.compile(r"(?<=\d) (?=[^\W\d_])")
#: A number (or a range, 2到3) and the Chinese or Japanese unit after it (8磅, 24小时):
#: never split at a line end (translator's review ZH-20, VI-14).
_NUMBER_UNIT = re.compile(r"\d+(?:[.,]\d+)?(?:[到至~\-–]\d+(?:[.,]\d+)?)?[\u3400-\u9fff]{1,2}")


def bind_numbers(markup: str) -> str:
    """Keeps each number with its unit on one line, in the text between tags."""
    parts = _TAG.split(markup)
    for index in range(0, len(parts), 2):  # the even parts are text, the odd ones tags
        text = _NUMBER_WORD.sub("\u00a0", parts[index])
        parts[index] = _NUMBER_UNIT.sub(lambda m: f'<span class="nowrap">{m.group()}</span>', text)
    return "".join(parts)


class TextFormatter:
    """Turns content text into safe markup: escaped, placeholders filled, **bold** kept."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def _value(self, name: str) -> str:
        value = str(escape(self.values[name]))
        if name not in UNBROKEN:
            return value
        return f'<span class="nowrap">{left_to_right(Markup(value))}</span>'

    def __call__(self, text: str) -> Markup:
        filled = PLACEHOLDER.sub(lambda m: self._value(m.group(1)), str(escape(text)))
        return Markup(bind_numbers(_BOLD.sub(r"<strong>\1</strong>", filled)))

    def plain(self, text: str) -> str:
        return _BOLD.sub(r"\1", PLACEHOLDER.sub(lambda m: self.values[m.group(1)], text))


class ActionFormatter(TextFormatter):
    """An action of the "What to do" box: clinic values filled in, and each computed
    time or date ({stop_eating_time}...) a patient slot: the value, or a line to write on."""

    def __init__(
        self,
        values: Mapping[str, str],
        slots: Mapping[str, str],
        filled: Mapping[str, bool],
        widest: Mapping[str, float],
    ) -> None:
        super().__init__(values)
        self.slots, self.filled, self.widest = slots, filled, widest

    def _value(self, name: str) -> str:
        if name == WRITE_LINE:  # a line to write on, never a slot
            width = min(self.widest["day"], BLANK_EM)
            return f'<span class="write-inline" style="padding-right: {width}em">\u00a0</span>'
        if name not in ACTION_NAMES:
            return super()._value(name)
        kind = "time" if name.endswith("_time") else "day"
        return self.slot(name, self.slots.get(name, "") if self.filled.get(name) else "", kind)

    def slot(self, name: str, value: str, kind: str) -> str:
        """A patient slot inside a sentence: the value, or a line to write on ("")."""
        state = "filled" if value else "blank"
        # A blank keeps one line's height (a no-break space), so its write-on line sits
        # under the words, not at their top. The box is as wide as the language's widest
        # value (engine/schedule.widest_values), a medicine name NAME_EM wide.
        shown = escape(value) if value else "\u00a0"
        width = NAME_EM if kind == "name" else self.widest[kind]
        # A filled value is an inline-block that wide; a blank is an inline line that
        # wide (no inline-block: WeasyPrint then moves a "What to do" box that does not
        # fit to the next page instead of pushing page 1's whole text after it).
        # A line to write on needs room for a short date by hand ("Thu 12/3"), not for
        # the longest printed one: at most BLANK_EM.
        size = f"min-width: {width}em" if value else f"padding-right: {min(width, BLANK_EM)}em"
        return (
            f'<span class="slot inline slot-{kind} {state}" data-slot="{name}" '
            f'style="{size}"><span class="v">{shown}</span></span>'
        )

    def plan_line(self, pattern: str, **slots: tuple[str, str, str]) -> Markup:
        """A line of the medicine plan (strings.yaml `plan.*`): its {name} and {date} are
        patient slots, given as (slot name, value, kind); clinic values filled."""

        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in slots:
                return self.slot(*slots[key])
            return TextFormatter._value(self, key)  # noqa: SLF001 - its own base class

        filled = PLACEHOLDER.sub(value, str(escape(pattern)))
        return Markup(_BOLD.sub(r"<strong>\1</strong>", filled))


#: Width of a line to write a date or time on by hand (em).
BLANK_EM = 7

#: Line height of the care-team notes box (templates/_notes.html), and so the distance
#: of its ruled lines: room to write by hand (about 8 mm in normal print). The stamping
#: path writes typed notes this far apart (stamp/layouts.plan_handout): set here, once.
NOTES_LEADING = 1.9

#: Width of a medicine name's slot in a sentence (em of the bold body font): a longer
#: name grows its box, and the stamping path hands that record to the full render.
NAME_EM = 11


FULL_WIDTH_PUNCTUATION = ("zh", "ja")
KG_PER_LB = 0.45359237  # the international pound
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
        "recovery_log_days": number(clinic.config.options.recovery_log_days, locale),
        # For readers who think in kilograms: the clinic's pounds, converted, 1 decimal.
        "lifting_limit_kg": number(round(protocol.lifting_limit_lb * KG_PER_LB, 1), locale),
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
    sedation = getattr(protocol.sedation, procedure)
    general = sedation == "general"
    return {
        "clear_liquids_allowed": protocol.clear_liquid_hours < protocol.fasting_hours,
        "no_clear_liquids": protocol.clear_liquid_hours >= protocol.fasting_hours,
        "water_sips_with_medicines": protocol.water_sips_with_medicines,
        "no_water_sips": not protocol.water_sips_with_medicines,
        "general_anesthesia": general,
        "awake": not general,
        "sedation_local": sedation == "local",
        "sedation_iv": sedation == "sedation",
        "escort_stays": protocol.escort_hours > 0,
        "no_escort": protocol.escort_hours == 0,
        "sedated": sedation != "local",
        "teach_back": clinic.config.options.teach_back,
        "recovery_log": clinic.config.options.recovery_log,
    }


def visible_sections(handout: Handout, active: Mapping[str, bool]) -> list[Section]:
    """Sections and blocks whose `when:` flag holds for this clinic and procedure."""
    result = []
    for section in handout.resolved_sections():
        if section.when and not active[section.when]:
            continue
        blocks: list[Block] = [
            _visible_actions(b, active) for b in section.blocks if not b.when or active[b.when]
        ]
        result.append(section.model_copy(update={"blocks": _one_glossary(blocks)}))
    return result


def _one_glossary(blocks: list[Block]) -> list[Block]:
    """Consecutive `terms:` blocks (a clinic's optional terms follow the shared ones) as
    one list, so the glossary is one list: its columns balance, and it is read and kept
    on a page as one."""
    merged: list[Block] = []
    for block in blocks:
        if block.terms and merged and merged[-1].terms:
            terms = {**(merged[-1].terms or {}), **block.terms}
            merged[-1] = merged[-1].model_copy(update={"terms": terms, "when": None})
        else:
            merged.append(block)
    return merged


def _visible_actions(block: Block, active: Mapping[str, bool]) -> Block:
    if not block.actions:
        return block
    actions = [a for a in block.actions if not a.when or active[a.when]]
    return block.model_copy(update={"actions": actions})


def lead_sections(sections: Sequence[Section], phase: str) -> tuple[list[Section], list[Section]]:
    """The sections printed before the appointment card, and those printed right after it.

    After the procedure the warning signs come first (both red-flag boxes on page 1),
    then "What to do". Before it, "What to do" (with the main message) comes first, and
    the emergency boxes right after the card, so the card stays on page 1."""
    lead = [s for s in sections if s.lead]
    if phase == "post":
        return sorted(lead, key=lambda s: not _has_red_flags(s)), []
    return [s for s in lead if not _has_red_flags(s)], [s for s in lead if _has_red_flags(s)]


def _has_red_flags(section: Section) -> bool:
    return any(b.red_flags for b in section.blocks)


def plan_view(
    patient: PatientDetails, settings: Medicines, locale: Locale, strings: Mapping[str, str]
) -> PlanView:
    """The medicine plan's printed values (model/medicines.py). Dates in sentences are
    written out ("Saturday, November 28"), in the table short ("Sat, Nov 28"); a date in
    another year than the procedure's carries its year."""
    meds, date = patient.medicines, patient.procedure_date
    year = date.year if date else None

    def day(value: dt.date | None) -> str:
        return day_date(value, locale, year) if value else ""

    def cell(value: dt.date | None) -> str:
        return day_label(value, locale, year) if value else ""

    def morning(value: bool | None) -> str:
        return "" if value is None else strings["medicines.yes" if value else "medicines.no"]

    waits = tuple(m.name for m in meds if m.last_dose and not m.restart)
    status = patient.medicine_plan
    return PlanView(
        status=status,
        rows=tuple((m.name, morning(m.morning), cell(m.last_dose), cell(m.restart)) for m in meds),
        stops=tuple((m.name, day(m.last_dose)) for m in meds if m.last_dose),
        morning=tuple(m.name for m in meds if m.morning),
        morning_said=any(m.morning is not None for m in meds),
        restarts=tuple((m.name, day(m.restart)) for m in meds if m.restart),
        waits=waits,
        diabetes=patient.diabetes_plan or "",
        call_by=day(date - dt.timedelta(days=settings.call_days_before))
        if status == "call" and date
        else "",
        restart_call_by=day(date + dt.timedelta(days=settings.restart_call_days_after))
        if waits and date
        else "",
    )


def settled(request: HandoutRequest, settings: Medicines) -> PatientDetails:
    """The patient with the plan's status settled, for a request made in code (the
    inputs settle it when they parse the record, model/request.py): a personalized
    handout without one takes the clinic's default; before the procedure, with no
    default, it is an error rather than a handout that says nothing of medicines."""
    patient = request.patient
    if patient.medicine_plan is not None or not patient.personalized:
        return patient
    status = "listed" if patient.medicines else settings.default_plan
    if status is None and request.phase == "pre":
        raise RecordError(
            "medicine_plan: required for a personalized handout before the procedure "
            "(listed, none or call); this clinic sets no [medicines] default_plan"
        )
    return patient.model_copy(update={"medicine_plan": status})


def plan_context(
    request: HandoutRequest,
    clinic: Clinic,
    locale: Locale,
    strings: Mapping[str, str],
    phase: str,
    slot_text: str | None,
) -> dict[str, Any]:
    """The template's medicine plan (probed for a layout), whether it is shown, the
    patterns of its lines."""
    medicines = clinic.config.medicines
    plan = plan_view(settled(request, medicines), medicines, locale, strings)
    if slot_text is not None:
        plan = plan.probed(slot_text)
    return {
        "plan": plan,
        "plan_shown": plan_shown(plan, phase),
        "plan_text": {k: v for k, v in strings.items() if k.startswith("plan.")},
    }


def plan_shown(plan: PlanView, phase: str) -> bool:
    """Whether the plan's lines replace the medicines action's text: before the procedure
    whenever the plan has a status; after it when a medicine was stopped."""
    if phase == "pre":
        return plan.status is not None
    return bool(plan.restarts or plan.waits)


def patient_slots(patient: PatientDetails, protocol: Protocol, locale: Locale) -> dict[str, str]:
    """The printed form of each patient value and of each date and time computed from
    them (engine/schedule.py); empty string for a blank line."""
    date, time = patient.procedure_date, patient.arrival_time
    return computed_slots(patient, protocol, locale) | {
        "patient_name": patient.patient_name or "",
        "procedure_date": long_date(date, locale) if date else "",
        "arrival_time": clock_time(time, locale) if time else "",
        "physician": patient.physician or "",
        "levels": patient.levels or "",
        "notes": patient.notes or "",
    }


def probed_slots(slots: Mapping[str, str], probe: str, options: Options) -> dict[str, str]:
    """The probe in every filled slot, and in the ruled notes box even when blank (one
    layout, blank or typed)."""
    shown = options.blank_slots
    return {name: probe if value or name in shown else "" for name, value in slots.items()}


def options_context(options: Options) -> dict[str, Any]:
    """The clinic's options, and the notes box's style: its line height (the distance of
    its ruled lines), `notes_lines` lines tall at least (0: as tall as the notes)."""
    lines, leading = options.notes_lines, NOTES_LEADING
    tall = f"; --notes-floor: {round(lines * leading, 3)}em" if lines else ""
    # a rule just under each line's descenders (0.3em above the line box's bottom)
    rules = f"; background-size: 100% {leading}em; background-position: 0 -0.3em"
    return {"options": options, "notes_style": f"line-height: {leading}{tall}{rules}"}


def labels(strings: Mapping[str, str], fmt: TextFormatter) -> dict[str, Markup]:
    """The fixed labels, clinic values filled (not the patterns with fields of their own,
    the letter's strings or the medicine plan's lines)."""
    return {
        k: fmt(v)
        for k, v in strings.items()
        if k not in PATTERN_FIELDS and not k.startswith(("letter.", "plan."))
    }


def build_context(
    clinic: Clinic,
    handout: Handout,
    strings: Mapping[str, str],
    request: HandoutRequest,
    logo_url: str | None,
    notice: Notice | None = None,
    slot_text: str | None = None,
    english: Mapping[str, str] | None = None,
    figure_url: Callable[[str], str] = str,
    review: str = "",
) -> dict[str, Any]:
    """`slot_text` replaces every filled patient value, and fills the ruled notes box
    even when blank (the stamping path measures each slot of a layout with a probe); None
    prints the real values. `review`: the footer's word on approval (approval_note)."""
    locale = locale_of(handout.language, strings)
    values = text_values(clinic, handout.procedure, strings, locale)
    fmt = TextFormatter(values)
    slots = patient_slots(request.patient, clinic.config.protocol, locale) | level_slots(
        request.patient.levels, handout.procedure, handout.phase, locale, strings
    )
    filled = {name: bool(value) for name, value in slots.items()}
    days = recovery_days(request.patient, locale, clinic.config.options.recovery_log_days)
    plan = plan_context(request, clinic, locale, strings, handout.phase, slot_text)
    if slot_text is not None:
        slots = probed_slots(slots, slot_text, clinic.config.options)
        days = [slot_text if day else "" for day in days]
    sections = visible_sections(handout, flags(clinic, handout.procedure))
    lead, after_card = lead_sections(sections, handout.phase)
    return {
        "lang": handout.language,
        "handout": handout,
        "title": fmt.plain(handout.title),
        "lead_sections": lead,
        # The recovery log repeats the warning signs of page 1, as lists.
        "log_flags": next((b.red_flags for s in lead for b in s.blocks if b.red_flags), None),
        "after_card_sections": after_card,
        "sections": [s for s in sections if not s.lead],
        "action": ActionFormatter(values, slots, filled, widest_values(locale)),
        "figure_url": figure_url,
        # A lifting limit under a gallon of milk: the jug is drawn crossed out.
        "too_heavy": clinic.config.protocol.lifting_limit_lb < GALLON_OF_MILK_LB,
        "clinic": clinic.config.clinic,
        "logo_url": logo_url,
        "labels": labels(strings, fmt),
        "text": fmt,
        "slots": slots,
        "filled": filled,
        "large_print": request.large_print,
        "footer_content": strings["footer.content"].format(
            id=handout.id, version=handout.version, review=review
        ),
        "footer_page": page_label(strings["footer.page"]),
        "notice": notice,
        "dir": text_direction(handout.language),
        **punctuation(handout.language),
        **options_context(clinic.config.options),
        "recovery_days": days,
        **plan,
    }


_HANGUL_PAIR = re.compile("(?<=[\uac00-\ud7a3])(?=[\uac00-\ud7a3])")


def keep_words(text: str, lang: str) -> str:
    """Korean breaks lines between words, not inside them (CSS word-break: keep-all,
    which WeasyPrint lacks): WORD JOINERs between the syllables of a word."""
    return _HANGUL_PAIR.sub("\u2060", text) if lang.split("-")[0] == "ko" else text


@dataclass(frozen=True)
class NoticeLine:
    lang: str
    dir: str  # "ltr" or "rtl", from CLDR
    text: Markup


@dataclass(frozen=True)
class Notice:
    """ "Help in your language": the notice in the handout's language (and in English),
    then one tagline per clinic language, each in its own language and direction."""

    heading: str
    main: list[NoticeLine]
    taglines: list[NoticeLine]


def language_notice(
    clinic: Clinic,
    phase: str,
    lang: str,
    strings: Mapping[str, str],
    english: Mapping[str, str],
    taglines: Sequence[Tagline],
) -> Notice | None:
    """The notice this clinic prints on this phase's handouts, or None (switched off)."""
    settings = clinic.config.language_help
    if settings.show == "off" or (settings.show == "post" and phase != "post"):
        return None
    fmt = TextFormatter(
        {"phone": settings.phone or clinic.config.clinic.main_phone, "tty": settings.tty}
    )
    main = [NoticeLine(lang, text_direction(lang), fmt(strings["notice.main"]))]
    if english["notice.main"] != strings["notice.main"]:
        main.append(NoticeLine("en", "ltr", fmt(english["notice.main"])))
    shown = {line.lang for line in main}
    return Notice(
        heading=strings["notice.heading"],
        main=main,
        taglines=[
            NoticeLine(
                t.language, text_direction(t.language), fmt(keep_words(t.tagline, t.language))
            )
            for t in taglines
            if t.language not in shown
        ],
    )


def punctuation(language: str) -> dict[str, str]:
    """Chinese and Japanese write a full-width colon and no space between sentences
    (translator's review ZH-13, ZH-23)."""
    full_width = language.split("-")[0] in FULL_WIDTH_PUNCTUATION
    return {"colon": "：" if full_width else ": ", "sentence_gap": "" if full_width else " "}


def approval_note(
    standing: Standing,
    language: str,
    strings: Mapping[str, str],
    english: Mapping[str, str],
    months: int,
) -> str:
    """The footer's word on approval: who approved the text (and reviewed the
    translation) and the next review, only while the approved text is the text printed;
    otherwise what is missing, in the handout's language and, for another language, in
    English too. Dates with the month shortened: a translation's note runs to three
    lines of a large-print footer as it is."""
    locale = locale_of(language, strings)
    clinician, translator = standing.clinician, standing.translator
    next_review = standing.next_review(months)
    if clinician is not None and next_review is not None:
        approved = strings["footer.approved"]
        parts = [approved.format(name=clinician.by, date=medium_date(clinician.on, locale))]
        if translator is not None:
            parts.append(
                strings["footer.translation_reviewed"].format(
                    name=translator.by, date=medium_date(translator.on, locale)
                )
            )
        parts.append(strings["footer.next_review"].format(date=medium_date(next_review, locale)))
        return " · ".join(parts)
    key = "footer.status." + ("draft" if clinician is None else "translation-pending")
    if english is strings or english[key] == strings[key]:
        return strings[key]
    return f"{strings[key]} ({english[key]})"


def recovery_days(patient: PatientDetails, locale: Locale, count: int) -> list[str]:
    """Dates for the recovery log's `count` days, from the day after the procedure ('' when
    unknown); a day in the next year is printed with its year."""
    if not patient.procedure_date:
        return [""] * count
    start = patient.procedure_date
    return [
        day_label(start + dt.timedelta(days=n), locale, start.year) for n in range(1, count + 1)
    ]


def page_label(pattern: str) -> Markup:
    """'Page {page} of {pages}' with the numbers left to CSS page counters."""
    return Markup(
        str(escape(pattern))
        .replace("{page}", '<span class="page-number"></span>')
        .replace("{pages}", '<span class="page-count"></span>')
    )
