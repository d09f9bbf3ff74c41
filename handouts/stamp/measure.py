"""Slot positions read from WeasyPrint's laid-out boxes.

This is the only module that touches WeasyPrint's private layout objects
(`Page._page_box`, the box classes of `weasyprint.formatting_structure.boxes` and their
`style`, `position_x`, `position_y`, `baseline` attributes): they are the one source
of where a slot's text sits, in which font, size and color, without hand-measured
coordinates. It also listens to `weasyprint.pdf.stream.Stream.marked`, which gives each
text box its marked-content id (MCID) as the page is drawn: a slot's hidden probe text
leaves an empty marked-content sequence that is already in the structure tree, in
reading order, and tagged stamping (stamp/splice.py) writes the value into it. These
are private, so pyproject pins WeasyPrint to the range tested (>=70,<71), and
tests/test_fastpath.py (slot boxes, pixel equivalence, structure) breaks when they
change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from weasyprint.document import Document
from weasyprint.formatting_structure import boxes
from weasyprint.pdf.stream import Stream

from handouts.stamp.model import Slot

PX = 0.75  # CSS px to PDF points
#: Slot elements that are containers of other slots, not values of their own.
CONTAINERS = frozenset({"address-window"})


_marks = threading.local()
_draw_marked = Stream.marked


def _marked(stream: Any, box: Any, tag: str) -> Any:
    """Stream.marked, noting each box's MCID while `recording_marks` is on."""
    found = getattr(_marks, "mcids", None)
    if found is not None and stream._tags is not None:
        found[id(box)] = len(stream._tags)  # the MCID WeasyPrint is about to give it
    return _draw_marked(stream, box, tag)


Stream.marked = _marked


@contextmanager
def recording_marks() -> Iterator[dict[int, int]]:
    """While on, every box drawn in this thread gets its MCID noted (id(box) -> MCID);
    the boxes must be kept alive (the Document) until `measure_slots` reads them."""
    _marks.mcids = {}
    try:
        yield _marks.mcids
    finally:
        _marks.mcids = None


def page_sizes(document: Document) -> list[tuple[float, float]]:
    return [(page.width * PX, page.height * PX) for page in document.pages]


def _walk(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _walk(child)


def _first(box: Any, kind: type) -> Any:
    return next((b for b in _walk(box) if isinstance(b, kind)), None)


def _rgb(color: Any) -> tuple[float, float, float]:
    if hasattr(color, "red"):
        return (color.red, color.green, color.blue)
    red, green, blue = color.to("srgb").coordinates[:3]
    return (red, green, blue)


def _slot(name: str, index: int, page: int, box: Any, mcids: dict[int, int]) -> Slot | None:
    line, text = _first(box, boxes.LineBox), _first(box, boxes.TextBox)
    if line is None or text is None:
        return None
    style = text.style
    size = style["font_size"]
    right = box.content_box_x() + box.width
    return Slot(
        name=name,
        index=index,
        page=page,
        x=text.position_x * PX,
        baseline=(line.position_y + line.baseline) * PX,
        width=(right - text.position_x) * PX,
        size=size * PX,
        color=_rgb(style["color"]),
        bold=style["font_weight"] >= 600,
        ratio=line.baseline / size,
        mcid=mcids.get(id(text)),
    )


def measure_slots(document: Document, mcids: dict[int, int] | None = None) -> list[Slot]:
    """Every `data-slot` element with text, in document order, on the page it fell on
    (with its MCID, when the render was recorded)."""
    slots: list[Slot] = []
    counts: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        seen: set[int] = set()
        for box in _walk(page._page_box):
            element = getattr(box, "element", None)
            name = element.get("data-slot") if element is not None else None
            if not name or id(element) in seen or name in CONTAINERS:
                continue
            seen.add(id(element))
            slot = _slot(name, counts.get(name, 0), number, box, mcids or {})
            if slot is not None:
                slots.append(slot)
                counts[name] = counts.get(name, 0) + 1
    return slots
