"""What stamping knows of a layout class and of one record's values; plain data only.

A `Layout` is one layout class rendered once: its PDF (the static pages, without the
probes: stamp/probe.py), page sizes, slots measured on the probe render's PDF
(stamp/measure.py) and each page cut at its slots' marked content (stamp/splice.py);
stamping widens the page fonts with the values' glyphs (stamp/pagefonts.py). It is what
the layout cache keeps on disk (stamp/cache.py), so nothing here imports WeasyPrint or
fontTools.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Matrix = tuple[float, float, float, float, float, float]
LEADING = 1.2  # line height of multi-line values (the address), as in letter.css


@dataclass(frozen=True)
class Slot:
    """Where one patient value goes, measured on the probe render (points, from the top)."""

    name: str
    index: int  # occurrence of this name (recovery-log dates repeat)
    page: int
    x: float
    baseline: float
    width: float  # room from x to the right edge of the slot's box
    size: float
    color: tuple[float, float, float]
    bold: bool
    ratio: float  # baseline offset / font size, for blocks of several lines
    mcid: int | None = None  # its marked-content sequence on the page (the probe's)


@dataclass(frozen=True)
class Stamp:
    """One value to draw: a slot and its text (or lines, for the address)."""

    slot: Slot
    lines: list[str]
    size: float | None = None  # the address uses its fitted size
    #: The notes: its lines are paragraphs, wrapped to the slot's width as the page wraps
    #: them, in at most this many lines (0: each line as it is).
    wrap: int = 0
    leading: float = LEADING  # line height of several lines, in font sizes
    #: Content ops drawn after the text, in the page's coordinates (points from the
    #: bottom): the IMb bars under a mail address (mail/fastpath.py).
    after: bytes = b""


def first_baseline(stamp: Stamp, size: float) -> float:
    """The first line's baseline (points from the top) at the size the value is set in."""
    slot = stamp.slot
    if stamp.size is None:
        return slot.baseline
    return slot.baseline - slot.ratio * slot.size + slot.ratio * size


@dataclass(frozen=True)
class Part:
    """One layout's pages of a record (a letter's cover letter, or its handout): their
    sizes and the values drawn on them."""

    sizes: tuple[tuple[float, float], ...]
    stamps: tuple[Stamp, ...]


@dataclass(frozen=True)
class PageFont:
    """A body font the page embeds (a WeasyPrint subset, two-byte codes that are glyph
    numbers): its object, resource name and face, and each character's code and width
    (thousandths of the font size)."""

    ref: tuple[int, int]  # object number and generation of its Type0 font dictionary
    resource: str
    bold: bool
    codes: dict[str, bytes]
    widths: dict[bytes, float]


@dataclass(frozen=True)
class PageSplice:
    """One page's content cut at the end of its slots' marked-content sequences."""

    segments: tuple[bytes, ...]  # one more than points
    points: tuple[tuple[int, Matrix], ...]  # (MCID, inverse of the CTM there)
    fonts: dict[tuple[str, bool], PageFont]  # the bundled faces on the page, by family, bold


@dataclass
class Layout:
    """One layout class: its static pages, its slots, and its pages cut for splicing."""

    pdf: bytes
    sizes: list[tuple[float, float]]
    slots: list[Slot]
    pages: dict[int, PageSplice] = field(default_factory=dict)
