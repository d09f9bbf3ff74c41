"""`make-handouts check`: lint content, templates and clinic config for editors and admins."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from handouts.commands.readability import ReadabilityRule, body_text, pdf_text
from handouts.content.model import Handout
from handouts.engine.render import notice_list
from handouts.errors import HandoutError
from handouts.model.request import PHASES, PROCEDURES, HandoutRequest
from handouts.pdf.rules import check_pdfua
from handouts.workspace import Workspace

#: Section ids each phase must have, so no handout loses its safety content.
REQUIRED_SECTIONS = {
    "pre": (
        "what-to-do-pre",
        "about-fracture",
        "about-procedure",
        "benefits-risks",
        "medicines-before",
        "eating-drinking",
        "bring-and-wear",
        "ride-home",
        "procedure-day",
        "questions",
        "red-flags-pre",
    ),
    "post": (
        "what-to-do-post",
        "first-day",
        "red-flags",
        "pain-and-medicines",
        "bandage-and-bathing",
        "next-weeks",
        "follow-up",
        "bone-health",
    ),
}
WCAG_AA_TEXT = 4.5
_PHONE = re.compile(r"^\+?[\d\s().\-]{7,25}$")


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class Score:
    """A handout's reading-level score, for the report."""

    handout: str
    language: str
    rule: str
    value: float
    passed: bool


def contrast_ratio(color: str) -> float:
    """WCAG contrast ratio of a #rgb/#rrggbb color against white."""
    hex_digits = color.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def check_clinic(workspace: Workspace) -> Iterator[Finding]:
    config = workspace.clinic.config
    where = str(workspace.clinic.root / "clinic.toml")
    for key in ("primary_color", "accent_color"):
        color = getattr(config.brand, key)
        ratio = contrast_ratio(color)
        if ratio < WCAG_AA_TEXT:
            yield Finding(
                "error",
                f"{where}: brand.{key}",
                f"{color} has contrast {ratio:.2f}:1 on white; text needs {WCAG_AA_TEXT}:1 "
                "(WCAG AA): choose a darker color",
            )
    for key in ("main_phone", "after_hours_phone"):
        phone = getattr(config.clinic, key)
        if not _PHONE.match(phone) or len(re.sub(r"\D", "", phone)) < 7:
            yield Finding("error", f"{where}: clinic.{key}", "does not look like a phone number")


#: The longest stop time before the procedure in CLINICAL-FACTS.md (aspirin, NSAIDs and
#: clopidogrel: up to 7 days): a call about medicines must come before it.
LONGEST_STOP_DAYS = 7


def check_medicines(workspace: Workspace) -> Iterator[Finding]:
    """The [medicines] settings: no default plan, or a call that comes too late."""
    settings = workspace.clinic.config.medicines
    where = f"{workspace.clinic.root / 'clinic.toml'}: medicines"
    if settings.default_plan is None:
        yield Finding(
            "warning",
            f"{where}.default_plan",
            "not set: every personalized pre-procedure record must give its medicine_plan "
            "(listed, none or call), or it fails",
        )
    if settings.call_days_before <= LONGEST_STOP_DAYS:
        yield Finding(
            "warning",
            f"{where}.call_days_before",
            f"{settings.call_days_before} days: a patient may need to stop a medicine up to "
            f"{LONGEST_STOP_DAYS} days before the procedure, before your call",
        )


#: 45 CFR 92.11: English and at least the 15 languages most common in the state.
NOTICE_LANGUAGES = 15


def check_language_help(workspace: Workspace) -> Iterator[Finding]:
    """The "Help in your language" notice: the list, and each tagline's review status."""
    settings = workspace.clinic.config.language_help
    where = f"{workspace.clinic.root / 'clinic.toml'}: language_help"
    if settings.show == "off":
        yield Finding("warning", where, "the language-assistance notice is off (45 CFR 92.11)")
        return
    library = workspace.library
    if settings.languages is not None:
        codes = settings.languages
    else:
        shipped = notice_list(workspace.clinic, library)
        codes = shipped.languages
    if settings.languages is None and settings.state is None:
        yield Finding(
            "warning",
            f"{where}.languages",
            f"not set: the national list is used ({shipped.source}); 92.11 asks for the 15 "
            "languages most common in your state: set language_help.state",
        )
    elif settings.languages is None:
        yield Finding(
            "warning",
            f"{where}.state",
            f"the {settings.state} list is ranked from {shipped.source}: check it against "
            "the current table for your state",
        )
    spoken = {code.split("-")[0] for code in codes if code != "en"}
    if len(spoken) < NOTICE_LANGUAGES:
        yield Finding(
            "warning",
            f"{where}.languages",
            f"{len(spoken)} languages besides English; 92.11 asks for at least {NOTICE_LANGUAGES}",
        )
    for tagline in workspace.renderer.taglines:
        if not tagline.approved:
            yield Finding(
                "warning",
                f"language-help/{tagline.language}.yaml",
                f"review status is '{tagline.review_status}': a qualified translator must "
                "review the tagline",
            )


def check_handout(
    workspace: Workspace, lang: str, procedure: str, phase: str, today: dt.date
) -> Iterator[Finding | Score]:
    library = workspace.library
    handout = library.handout(lang, procedure, phase)
    where = f"{lang}/{procedure}-{phase}.yaml"
    present = {s.id for s in handout.resolved_sections()}
    for missing in (s for s in REQUIRED_SECTIONS[phase] if s not in present):
        yield Finding("error", where, f"required section '{missing}' is missing")
    yield from check_review(workspace, handout, where, today)
    strings = library.strings(lang)
    rule = ReadabilityRule.from_strings(strings, f"{lang}/strings.yaml")
    pdf = workspace.renderer.pdf(HandoutRequest(procedure, phase, lang))
    for problem in check_pdfua(pdf):
        yield Finding("error", where, f"PDF/UA structure {problem}")
    ident = workspace.clinic.config.clinic
    text = body_text(
        pdf_text(pdf), handout, strings, [ident.name, *ident.address, ident.main_phone]
    )
    if not rule.measurable:
        yield Finding(
            "warning",
            where,
            "no validated readability measure for this language (readability.measure: "
            "none): have a qualified reviewer judge the reading level",
        )
        return
    score = rule.score(text)
    yield Score(handout.id, lang, rule.describe(), score, rule.passes(score))
    if not rule.passes(score):
        hardest = " | ".join(rule.hardest_sentences(text))
        yield Finding(
            "error",
            where,
            f"reading level {score:.1f}, needs {rule.describe()}; "
            f"simplify the hardest sentences: {hardest}",
        )


#: `check` warns this many days before a handout's next review is due.
REVIEW_DUE_WARNING = dt.timedelta(days=60)


def check_review(
    workspace: Workspace, handout: Handout, where: str, today: dt.date
) -> Iterator[Finding]:
    """Approvals (approvals.py): an approved text that changed since is an error; a
    review due within 60 days or overdue, or no approval, is a warning."""
    renderer = workspace.renderer
    standing = renderer.standing(handout.procedure, handout.phase, handout.language)
    for approval in standing.stale:
        yield Finding(
            "error",
            where,
            f"the text changed since the {approval.role} approval of {approval.on} "
            f"({approval.by}): run `make-handouts review` to see what changed, then "
            "`make-handouts approve` the new text",
        )
    months = workspace.clinic.config.approvals.review_interval_months
    due = standing.next_review(months)
    if due is None:
        if not standing.stale:
            missing = (
                "a clinician's approval" if standing.clinician is None else "a translator's review"
            )
            yield Finding("warning", where, f"not approved for patients: needs {missing}")
    elif due < today:
        yield Finding("warning", where, f"review overdue since {due}: review and approve again")
    elif due - today <= REVIEW_DUE_WARNING:
        yield Finding("warning", where, f"review due on {due} ({(due - today).days} days)")


def handout_names(workspace: Workspace) -> list[str]:
    """Every handout `check` renders, named as its content file: `en/kyphoplasty-pre`."""
    return [
        f"{lang}/{procedure}-{phase}"
        for lang in workspace.library.languages()
        for procedure in PROCEDURES
        for phase in PHASES
    ]


def run_checks(
    workspace: Workspace, today: dt.date | None = None, only: Collection[str] = ()
) -> list[Finding | Score]:
    """Every finding for the clinic's content, templates and config; renders each handout
    (`only`: just these handouts, named as by handout_names; the clinic is always checked)."""
    today = today or dt.date.today()
    results: list[Finding | Score] = list(check_clinic(workspace))
    results += check_medicines(workspace)
    try:
        results += check_language_help(workspace)
    except HandoutError as exc:
        results.append(Finding("error", "language-help", exc.message))
    for lang in workspace.library.languages():
        for procedure in PROCEDURES:
            for phase in PHASES:
                if only and f"{lang}/{procedure}-{phase}" not in only:
                    continue
                try:
                    results += check_handout(workspace, lang, procedure, phase, today)
                except HandoutError as exc:
                    lines = exc.problems or [exc.message]
                    results += [Finding("error", f"{lang}/{procedure}-{phase}", p) for p in lines]
    return results
