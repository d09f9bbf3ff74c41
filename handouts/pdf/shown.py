"""What a page's content stream shows: each run of text with the state it is drawn in.

The probe render's slots are found in its PDF, not in WeasyPrint's layout objects, so
the content is read here as a viewer reads it (pikepdf parses the operators): the
transformation (q/Q/cm), the text state (BT/ET, Tm/Td/TD/T*, TL, Tf), the fill colour
(rg, g, k, sc/scn) and the marked-content sequences (BDC/BMC ... EMC). Each text show
is decoded with its font's ToUnicode map (pdf/structure.py reads them). Form
XObjects are read too, for the glyphs they show (`form_glyphs`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf

from handouts.pdf.structure import to_unicode

RGB = tuple[float, float, float]
#: Operators whose effect ends with the text object (the rest of a BT..ET outlives it).
TEXT_OBJECT_ONLY = frozenset({"BT", "ET", "Tm", "Td", "TD", "T*", "Tj", "TJ", "'", '"'})
_SHOW = frozenset({"Tj", "TJ", "'", '"'})


@dataclass(frozen=True)
class Show:
    """One text-showing operator: where its first glyph sits and how it is drawn."""

    index: int  # of the instruction in the content stream
    mcid: int | None  # of the innermost marked content with one (None: outside any)
    font: str  # resource name
    codes: bytes
    text: str
    x: float  # the first glyph's origin, in default user space (points)
    y: float
    size: float  # points
    color: RGB


@dataclass
class _Graphics:
    """The part of the graphics state a text show needs (saved by q, restored by Q)."""

    ctm: pikepdf.Matrix = dataclasses.field(default_factory=pikepdf.Matrix)
    color: RGB = (0.0, 0.0, 0.0)
    font: str = ""
    size: float = 0.0
    leading: float = 0.0


def _color(operands: list[Any]) -> RGB | None:
    """An RGB fill colour from rg/g/k/sc/scn operands (None: a pattern or other space)."""
    if any(isinstance(v, pikepdf.Name) for v in operands):
        return None  # a pattern
    values = [float(v) for v in operands]
    if len(values) == 1:
        return (values[0], values[0], values[0])
    if len(values) == 3:
        return (values[0], values[1], values[2])
    if len(values) == 4:
        c, m, y, k = values
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    return None


def marked_mcid(operands: list[Any], op: str) -> int | None:
    """The MCID a BDC gives its sequence (None: none, or a BMC)."""
    properties = operands[1] if op == "BDC" and len(operands) > 1 else None
    if not isinstance(properties, pikepdf.Dictionary) or "/MCID" not in properties:
        return None
    return int(properties.MCID)


class _Reader:
    """Reads one content stream's instructions in order, keeping the state above."""

    def __init__(self, fonts: dict[str, Any]) -> None:
        self.maps = {name: to_unicode(font) for name, font in fonts.items()}
        self.two_byte = {name for name, font in fonts.items() if font.get("/Subtype") == "/Type0"}
        self.graphics = _Graphics()
        self.saved: list[_Graphics] = []
        self.line = self.text = pikepdf.Matrix()
        self.marks: list[int | None] = []

    def read(self, instructions: list[Any]) -> Iterator[Show]:
        for index, instruction in enumerate(instructions):
            operands, op = list(instruction.operands), str(instruction.operator)
            if op in _SHOW:
                yield self._show(index, operands, op)
            else:
                self._state(operands, op)

    def _state(self, operands: list[Any], op: str) -> None:
        g = self.graphics
        if op == "q":
            self.saved.append(dataclasses.replace(g))
        elif op == "Q":
            self.graphics = self.saved.pop() if self.saved else _Graphics()
        elif op == "cm":
            g.ctm = pikepdf.Matrix(*(float(v) for v in operands)) @ g.ctm
        elif op in ("rg", "g", "k", "sc", "scn"):
            g.color = _color(operands) or g.color
        elif op == "Tf":
            g.font, g.size = str(operands[0]), float(operands[1])
        elif op == "TL":
            g.leading = float(operands[0])
        elif op in ("BDC", "BMC", "EMC"):
            self._mark(operands, op)
        else:
            self._position(operands, op)

    def _position(self, operands: list[Any], op: str) -> None:
        if op == "BT":
            self.line = self.text = pikepdf.Matrix()
        elif op == "Tm":
            self.line = self.text = pikepdf.Matrix(*(float(v) for v in operands))
        elif op in ("Td", "TD"):
            tx, ty = (float(v) for v in operands)
            if op == "TD":
                self.graphics.leading = -ty
            self.line = self.text = pikepdf.Matrix(1, 0, 0, 1, tx, ty) @ self.line
        elif op == "T*":
            self._position([0, -self.graphics.leading], "Td")

    def _mark(self, operands: list[Any], op: str) -> None:
        if op == "EMC":
            if self.marks:
                self.marks.pop()
            return
        self.marks.append(marked_mcid(operands, op))

    def _show(self, index: int, operands: list[Any], op: str) -> Show:
        if op in ("'", '"'):
            self._position([], "T*")
        if op == "TJ":
            codes = b"".join(bytes(p) for p in operands[0] if isinstance(p, pikepdf.String))
        else:
            codes = bytes(operands[-1])
        g = self.graphics
        placed = self.text @ g.ctm
        mcid = next((m for m in reversed(self.marks) if m is not None), None)
        return Show(
            index, mcid, g.font, codes, self._decode(codes), placed.e, placed.f,
            g.size * math.hypot(placed.c, placed.d), g.color,
        )  # fmt: skip

    def _decode(self, codes: bytes) -> str:
        font = self.maps.get(self.graphics.font, {})
        step = 2 if self.graphics.font in self.two_byte else 1
        return "".join(font.get(codes[i : i + step], "") for i in range(0, len(codes), step))


def _fonts(resources: Any) -> dict[str, Any]:
    return {str(name): font for name, font in (resources.get("/Font") or {}).items()}


def page_shows(page: Any) -> list[Show]:
    """Every text show of a page's own content stream, in order."""
    instructions = pikepdf.parse_content_stream(page)
    return list(_Reader(_fonts(page.get("/Resources", {}))).read(instructions))


def _forms(resources: Any, seen: set[tuple[int, int]]) -> Iterator[Any]:
    """The Form XObjects `resources` names, and theirs, each once."""
    for _, xobject in (resources.get("/XObject") or {}).items():
        if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            yield xobject
            yield from _forms(xobject.get("/Resources", {}), seen)


Glyphs = dict[tuple[int, int], set[int]]  # Type0 font object -> two-byte codes shown


def page_glyphs(page: Any, shows: list[Show] | None = None) -> Glyphs:
    """The two-byte codes (glyph numbers, for WeasyPrint's fonts) each Type0 font object
    shows in a page's own content (`shows`, when read already)."""
    found: Glyphs = {}
    _add(found, _fonts(page.get("/Resources", {})), page_shows(page) if shows is None else shows)
    return found


def form_glyphs(pdf: pikepdf.Pdf) -> Glyphs:
    """The same for the Form XObjects the pages draw (and theirs), each read once."""
    found: Glyphs = {}
    seen: set[tuple[int, int]] = set()
    for page in pdf.pages:
        resources: Any = page.get("/Resources", {})
        for form in _forms(resources, seen):
            own = _fonts(form.get("/Resources", resources))
            _add(found, own, _Reader(own).read(pikepdf.parse_content_stream(form)))
    return found


def _add(found: Glyphs, fonts: dict[str, Any], shows: Iterable[Show]) -> None:
    for show in shows:
        font = fonts.get(show.font)
        if font is not None and font.get("/Subtype") == "/Type0":
            codes = show.codes
            glyphs = found.setdefault(font.objgen, set())
            glyphs.update(int.from_bytes(codes[i : i + 2]) for i in range(0, len(codes), 2))


def merged(pages: Iterable[Glyphs]) -> Glyphs:
    """The glyphs of several pages together."""
    found: Glyphs = {}
    for glyphs in pages:
        for font, codes in glyphs.items():
            found.setdefault(font, set()).update(codes)
    return found
