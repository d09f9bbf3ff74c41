"""Slot positions read from the probe render's output: its PDF and its page anchors.

The probe render (stamp/probe.py) prints a distinct probe text in every slot
occurrence. Each probe is found in the PDF as a reader finds it: the marked-content
sequence whose text is that probe (pdf/shown.py reads the content stream and decodes
it with the fonts' ToUnicode maps). The sequence gives the slot's MCID, where its first
glyph sits (x and baseline), its size (the Tf size times the text's scale), its colour
and its face (stamp/pagefonts.py names the bundled one, and its weight). Two empty
markers in each slot element, at the right edge of its content box and at its top,
come back as `Page.anchors` (WeasyPrint's documented API): the room the slot gives a
value, and its first baseline's offset from the top, for blocks of several lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pikepdf

from handouts.errors import LayoutError
from handouts.pdf.shown import Show
from handouts.stamp.model import Slot
from handouts.stamp.pagefonts import face_of

PX = 0.75  # CSS px to PDF points
#: The weight part of a bold face's PostScript name (Noto-Sans-Bold, X-SemiBold).
_BOLD_NAME = re.compile(r"-(Semi|Demi|Extra|Ultra)?(Bold|Black|Heavy)")
#: An anchor: (x, y) in CSS px from the page's top left (more items may follow).
Anchor = Sequence[float]


@dataclass(frozen=True)
class Probe:
    """One slot occurrence of the probe render: its slot, the text it prints and the
    ids of its two markers."""

    name: str
    index: int  # occurrence of this name
    text: str
    top: str  # anchor at the top of the slot's content box
    right: str  # anchor at the right edge of the slot's content box


@dataclass(frozen=True)
class Found:
    page: int
    show: Show
    bold: bool


def page_sizes(pdf: pikepdf.Pdf) -> list[tuple[float, float]]:
    """Each page's width and height in points."""
    boxes = [page.mediabox for page in pdf.pages]
    return [(float(b[2] - b[0]), float(b[3] - b[1])) for b in boxes]


def _bold(page: Any, resource: str) -> bool:
    """Whether a page font is a bold face: the bundled face it is, else its PostScript
    name's weight (a system face, such as Noto Sans for Vietnamese)."""
    font = (page.get("/Resources", {}).get("/Font") or {}).get(resource)
    name = str(font.get("/BaseFont", "")) if font is not None else ""
    face = face_of(name)
    return face[1] if face is not None else _BOLD_NAME.search(name) is not None


def find_texts(pdf: pikepdf.Pdf, texts: set[str], shows: list[list[Show]]) -> dict[str, Found]:
    """Each of `texts` that is the whole text of a marked-content sequence with an MCID:
    the page and first show of that sequence (the first such sequence, if several).
    `shows`: each page's (pdf/shown.py `page_shows`)."""
    found: dict[str, Found] = {}
    for number, page in enumerate(pdf.pages):
        sequences: dict[int, list[Show]] = {}
        for show in shows[number]:
            if show.mcid is not None:
                sequences.setdefault(show.mcid, []).append(show)
        for sequence in sequences.values():
            text = "".join(show.text for show in sequence)
            if text in texts and text not in found:
                found[text] = Found(number, sequence[0], _bold(page, sequence[0].font))
    return found


def measure_slots(
    pdf: pikepdf.Pdf,
    anchors: Sequence[Mapping[str, Anchor]],
    probes: Sequence[Probe],
    shows: list[list[Show]],
) -> list[Slot]:
    """The slot of each probe printed in `pdf`, in the order of `probes`; `anchors` are
    each page's anchors of the same render, `shows` each page's text shows."""
    found = find_texts(pdf, {probe.text for probe in probes}, shows)
    tops = [float(page.mediabox[3]) for page in pdf.pages]
    slots = []
    for probe in probes:
        where = found.get(probe.text)
        page = anchors[where.page] if where is not None else {}
        if where is None:
            continue  # not printed (no text to measure), as a blank slot
        if probe.top not in page or probe.right not in page:
            # printed but not measurable: its probe would stay on the static page
            raise LayoutError("the probe render printed a slot it cannot measure")
        show = where.show
        baseline = tops[where.page] - show.y
        slots.append(
            Slot(
                name=probe.name,
                index=probe.index,
                page=where.page,
                x=show.x,
                baseline=baseline,
                width=page[probe.right][0] * PX - show.x,
                size=show.size,
                color=show.color,
                bold=where.bold,
                ratio=(baseline - page[probe.top][1] * PX) / show.size,
                mcid=show.mcid,
            )
        )
    return slots
