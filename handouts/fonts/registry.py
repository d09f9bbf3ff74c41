"""The one font registry: the bundled faces, for WeasyPrint (@font-face) and ReportLab.

The full render (WeasyPrint), the stamping fast path (HarfBuzz, stamp/pagefonts.py) and
the widths measured here with ReportLab (address fitting, the widest date or time a slot
must hold) must use the same files, or a stamped value would not look like the rendered
page and an address measured here would not fit there. Each face is listed once, below.
ReportLab and fontTools load on first use: a stamped handout from the layout cache needs
neither.
"""

from __future__ import annotations

import ctypes.util
import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from handouts.locate import data_dir

log = logging.getLogger("handouts")

BODY = "Atkinson Hyperlegible Next"
FALLBACK = "Handout Fallback"


@dataclass(frozen=True)
class Face:
    family: str  # the CSS family name
    bold: bool
    file: str  # in styles/fonts/

    @property
    def path(self) -> Path:
        return data_dir("styles") / "fonts" / self.file

    @property
    def reportlab_name(self) -> str:
        short = "".join(word[0] for word in self.family.split())
        return f"handouts-{short}-{'bold' if self.bold else 'regular'}"


#: In order of preference: the body font, then the fallback for what it lacks.
FACES = (
    Face(BODY, False, "AtkinsonHyperlegibleNext-Regular.ttf"),
    Face(BODY, True, "AtkinsonHyperlegibleNext-Bold.ttf"),
    Face(FALLBACK, False, "DejaVuSans.ttf"),
    Face(FALLBACK, True, "DejaVuSans-Bold.ttf"),
)
FAMILIES = (BODY, FALLBACK)
_lock = threading.Lock()


def font_face_css() -> str:
    """@font-face rules for every bundled face (URLs relative to styles/)."""
    return "\n".join(
        f'@font-face {{ font-family: "{face.family}"; src: url("fonts/{face.file}"); '
        f"font-weight: {700 if face.bold else 400}; }}"
        for face in FACES
    )


def face(family: str, bold: bool) -> Face:
    return next(f for f in FACES if f.family == family and f.bold == bold)


@cache
def reportlab_font(family: str, bold: bool = False) -> str:
    """The ReportLab name of a face, registered on first use (once per process)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    chosen = face(family, bold)
    with _lock:
        if chosen.reportlab_name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(chosen.reportlab_name, str(chosen.path)))
    return chosen.reportlab_name


@cache
def coverage(family: str) -> frozenset[int]:
    """Code points the family's regular face has a glyph for."""
    from fontTools.ttLib import TTFont as FontFile

    return frozenset(FontFile(str(face(family, False).path)).getBestCmap())


def runs(text: str, bold: bool = False) -> list[tuple[str, str]] | None:
    """(ReportLab font, text) runs: each character in the first family that has it,
    spaces in the body font; None when no bundled font has a character."""
    found: list[tuple[str, str]] = []
    for char in text:
        family = (
            BODY if char == " " else next((f for f in FAMILIES if ord(char) in coverage(f)), None)
        )
        if family is None:
            return None
        font = reportlab_font(family, bold)
        if found and found[-1][0] == font:
            found[-1] = (font, found[-1][1] + char)
        else:
            found.append((font, char))
    return found


def runs_width(found: list[tuple[str, str]], size: float) -> float:
    from reportlab.pdfbase import pdfmetrics

    return float(sum(pdfmetrics.stringWidth(text, font, size) for font, text in found))


def widest(text: str, size: float) -> float:
    """Width in points by the wider of the body font and its fallback: a safe bound."""
    from reportlab.pdfbase import pdfmetrics

    return float(max(pdfmetrics.stringWidth(text, reportlab_font(f), size) for f in FAMILIES))


def harfbuzz_subset_available() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def warn_if_slow_subsetting() -> None:
    """WeasyPrint falls back to fontTools (about 4x slower) without libharfbuzz-subset0."""
    if not harfbuzz_subset_available():
        log.warning(
            "warning: libharfbuzz-subset0 is not installed; fonts are subset with the "
            "slower fontTools fallback (apt-get install libharfbuzz-subset0)"
        )
