"""The one font registry: the bundled faces, for WeasyPrint (@font-face), the writer
and the widths measured here.

The full render (WeasyPrint), the stamping fast path (HarfBuzz, stamp/pagefonts.py) and
the widths measured here (address fitting, the widest date or time a slot must hold)
must use the same files, or a stamped value would not look like the rendered page and
an address measured here would not fit there. Each face is listed once, below. Widths
are the faces' own advance widths in thousandths of the size, as the writer's /W
entries and HarfBuzz give them (read with fontTools on first use: a stamped handout
from the layout cache needs none of it).
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
def coverage(family: str) -> frozenset[int]:
    """Code points the family's regular face has a glyph for."""
    return frozenset(_advances(family, False)[0])


@cache
def _advances(family: str, bold: bool) -> tuple[dict[int, int], int]:
    """Each code point's advance width in thousandths of the size (rounded, as a PDF
    /W and HarfBuzz give it), and the width of a character the face lacks (.notdef)."""
    from fontTools.ttLib import TTFont as FontFile

    with _lock, FontFile(str(face(family, bold).path), lazy=True) as font:
        scale = 1000 / font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        widths = {
            code: round(metrics[name][0] * scale) for code, name in font.getBestCmap().items()
        }
        missing = round(metrics[font.getGlyphOrder()[0]][0] * scale)
    return widths, missing


def width(text: str, family: str, bold: bool, size: float) -> float:
    """Width in points of `text` in one face, unshaped (a character it lacks: .notdef)."""
    widths, missing = _advances(family, bold)
    return sum(widths.get(ord(char), missing) for char in text) * size / 1000


#: A face of the registry: (family, bold).
FaceKey = tuple[str, bool]


def runs(text: str, bold: bool = False) -> list[tuple[FaceKey, str]] | None:
    """(face, text) runs: each character in the first family that has it, spaces in
    the body font; None when no bundled font has a character."""
    found: list[tuple[FaceKey, str]] = []
    for char in text:
        family = (
            BODY if char == " " else next((f for f in FAMILIES if ord(char) in coverage(f)), None)
        )
        if family is None:
            return None
        key = (family, bold)
        if found and found[-1][0] == key:
            found[-1] = (key, found[-1][1] + char)
        else:
            found.append((key, char))
    return found


def runs_width(found: list[tuple[FaceKey, str]], size: float) -> float:
    return sum(width(text, family, bold, size) for (family, bold), text in found)


def widest(text: str, size: float) -> float:
    """Width in points by the wider of the body font and its fallback: a safe bound."""
    return max(width(text, family, False, size) for family in FAMILIES)


def harfbuzz_subset_available() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def warn_if_slow_subsetting() -> None:
    """WeasyPrint falls back to fontTools (about 4x slower) without libharfbuzz-subset0."""
    if not harfbuzz_subset_available():
        log.warning(
            "warning: libharfbuzz-subset0 is not installed; fonts are subset with the "
            "slower fontTools fallback (apt-get install libharfbuzz-subset0)"
        )
