"""The spine levels the nurse typed ("T12, L1"): what their letters mean, and how many.

Read from the letters and numbers typed, never guessed: a level is a letter C, T, L or S
with its number; anything else in the text (a range "T11-L2", a word) leaves the count
unknown, and the handout prints a line to write on instead of a time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from babel import Locale

from handouts.engine.formats import number

_LEVEL = re.compile(r"(?<![A-Za-z])([CTLSctls])\s?(\d{1,2})(?!\d)")
#: What may stand between two levels of a list: commas, semicolons, "and", "&", "/".
_SEPARATOR = re.compile(r"^(?:[\s,;/&+]|and|y|e|và|和|、|，)*$", re.IGNORECASE)
SPINE_ORDER = "CTLS"


def parse_levels(text: str) -> tuple[str, int | None]:
    """(the letters used, in spine order; the number of levels, or None when the text is
    more than a list of levels)."""
    found = list(_LEVEL.finditer(text))
    letters = "".join(c for c in SPINE_ORDER if any(m[1].upper() == c for m in found))
    if not found:
        return "", None
    gaps = [text[: found[0].start()], text[found[-1].end() :]]
    gaps += [text[a.end() : b.start()] for a, b in zip(found, found[1:], strict=False)]
    listed = all(_SEPARATOR.match(gap.strip()) for gap in gaps)
    count = len({(m[1].upper(), int(m[2])) for m in found})
    return letters, count if listed else None


def level_lines(levels: str | None, strings: Mapping[str, str]) -> list[str]:
    """What each letter typed means, a sentence each ("T means the middle of the back.")."""
    letters, _ = parse_levels(levels or "")
    return [strings[f"levels.{letter}"] for letter in letters]


#: Sentence ends after which the next sentence follows without a space (Chinese), and
#: closing marks that may follow them.
_WIDE_STOPS = "。！？"
_WIDE_CLOSERS = "）」』"


def level_meaning(levels: str | None, strings: Mapping[str, str]) -> str:
    """What the letters typed mean, their sentences in one paragraph ("T means the middle
    of the back. L means the lower back."): one slot, whatever the number of letters."""
    text = ""
    for sentence in level_lines(levels, strings):
        end = text.rstrip(_WIDE_CLOSERS)[-1:]
        gap = "" if not text or end in _WIDE_STOPS else " "
        text += gap + sentence
    return text


def level_slots(
    levels: str | None, procedure: str, phase: str, locale: Locale, strings: Mapping[str, str]
) -> dict[str, str]:
    """The card's derived slots: what the letters mean (level_meaning), and before a
    kyphoplasty its time for that many levels (1 to 2 hours each, CLINICAL-FACTS.md);
    "" when unknown."""
    _, count = parse_levels(levels or "")
    meaning = level_meaning(levels, strings)
    time = ""
    if procedure == "kyphoplasty" and phase == "pre" and count:
        key = "duration.one" if count == 1 else "duration.other"
        time = (
            strings[key]
            .replace("{count}", number(count, locale))
            .replace("{low}", number(count, locale))
            .replace("{high}", number(2 * count, locale))
        )
    return {"levels_meaning": meaning, "procedure_time": time}
