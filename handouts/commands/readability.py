"""Reading level of a rendered handout, measured on the text a patient reads.

Each language's strings.yaml names its measure, limit and direction, so a new
language brings its own rule as data (e.g. Flesch-Kincaid grade <= 6 for English,
Fernandez-Huerta >= 70 for Spanish).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from textstat.textstat import textstatistics

from handouts.content.model import PATTERN_FIELDS, Handout
from handouts.errors import ContentError

#: textstat measures a strings.yaml may name; textstat 0.7.3 works offline (pyphen).
MEASURES = frozenset(
    {
        "flesch_kincaid_grade",
        "flesch_reading_ease",
        "fernandez_huerta",
        "szigriszt_pazos",
        "gutierrez_polini",
        "crawford",
        "wiener_sachtextformel",
        "gunning_fog",
        "smog_index",
    }
)
#: A language with no validated readability formula (Chinese, Vietnamese...) says so
#: with `readability.measure: none`; `check` then warns instead of passing it.
NO_MEASURE = "none"
_SENTENCE = re.compile(r"[^.!?]+[.!?]+")


@dataclass(frozen=True)
class ReadabilityRule:
    measure: str
    limit: float
    better: str  # "lower" or "higher"
    textstat_lang: str

    @classmethod
    def from_strings(cls, strings: Mapping[str, str], where: str) -> ReadabilityRule:
        try:
            rule = cls(
                strings["readability.measure"],
                float(strings["readability.limit"]),
                strings["readability.better"],
                strings["readability.textstat_lang"],
            )
        except (KeyError, ValueError) as exc:
            raise ContentError(f"{where}: readability settings are incomplete ({exc})") from None
        if rule.measure not in MEASURES | {NO_MEASURE}:
            raise ContentError(f"{where}: readability.measure: unknown measure '{rule.measure}'")
        if rule.better not in ("lower", "higher"):
            raise ContentError(f"{where}: readability.better: use 'lower' or 'higher'")
        return rule

    @property
    def measurable(self) -> bool:
        return self.measure != NO_MEASURE

    def score(self, text: str) -> float:
        return float(getattr(measurer(self.textstat_lang), self.measure)(text))

    def passes(self, score: float) -> bool:
        return score <= self.limit if self.better == "lower" else score >= self.limit

    def describe(self) -> str:
        sign = "<=" if self.better == "lower" else ">="
        return f"{self.measure} {sign} {self.limit:g}"

    def hardest_sentences(self, text: str, count: int = 5) -> list[str]:
        """The sentences that pull the score the wrong way, worst first."""
        sentences = {" ".join(s.split()) for s in _SENTENCE.findall(text) if len(s.split()) > 3}
        ranked = sorted(sentences, key=self.score, reverse=self.better == "lower")
        return ranked[:count]


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


def grade(text: str, lang: str = "en_US") -> float:
    """Flesch-Kincaid grade, the English measure."""
    return float(measurer(lang).flesch_kincaid_grade(text))


@cache
def measurer(lang: str) -> textstatistics:
    """A textstat measurer of its own per language: textstat.set_lang would switch the
    language of the whole process (and of every other thread measuring)."""
    found = textstatistics()
    found.set_lang(lang)
    return found
