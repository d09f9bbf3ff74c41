"""Reading level of a rendered handout, measured on the text a patient reads."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping

import textstat

from .content import PATTERN_FIELDS, Handout

GRADE_LIMIT = {"en": 6.0}


def pdf_text(pdf: bytes) -> str:
    """Text of a PDF in reading order, as poppler's pdftotext extracts it."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def _line_pattern(template: str) -> re.Pattern[str]:
    """A template line ('Call us at {main_phone}') as a regex matching its printed form."""
    literal_parts = re.split(r"\{[a-z_]+\}", template.strip())
    return re.compile("^" + ".+".join(re.escape(p) for p in literal_parts) + ":?$")


def body_text(
    text: str, handout: Handout, strings: Mapping[str, str], clinic_lines: Iterable[str] = ()
) -> str:
    """Drops what is not body text: masthead, title, headings, labels, appointment card,
    footer and the source list (pass the clinic's name, address and phone lines)."""
    sources_at = text.find(strings["sources.heading"])
    if sources_at != -1:
        text = text[:sources_at]
    templates = [handout.title, *(s.heading for s in handout.resolved_sections())]
    templates += [v for k, v in strings.items() if k not in PATTERN_FIELDS]
    templates.append(strings["footer.page"])
    patterns = [_line_pattern(t) for t in templates]
    card_labels = tuple(f"{v} " for k, v in strings.items() if k.startswith("card."))
    clinic = [c for c in clinic_lines if c]
    kept = []
    for raw in text.splitlines():
        line = raw.strip()
        if (
            not line
            or handout.id in line
            or line.startswith(card_labels)
            or any(c in line for c in clinic)
            or any(p.match(line) for p in patterns)
        ):
            continue
        kept.append(line)
    return "\n".join(kept)


def grade(text: str, lang: str = "en") -> float:
    textstat.set_lang(lang)
    return float(textstat.flesch_kincaid_grade(text))
