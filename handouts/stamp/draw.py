"""Draws one record's patient values into overlay pages with ReportLab.

Fonts come from the one registry (engine/fonts.py) that WeasyPrint uses too, and the
IMb bars from mail/imb.py, so a stamped page prints what the full render prints.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from handouts.engine.fonts import BODY, reportlab_font, runs, runs_width
from handouts.mail import imb
from handouts.stamp.model import LEADING, Part, Slot, Stamp, bars_top, first_baseline


def fits(stamps: list[Stamp]) -> bool:
    """Every value has glyphs in a bundled font and fits on one line of its slot."""
    for stamp in stamps:
        size = stamp.size or stamp.slot.size
        for line in stamp.lines:
            found = runs(line, stamp.slot.bold)
            if found is None or runs_width(found, size) > stamp.slot.width + 0.5:
                return False
    return True


def _text(canvas: Canvas, line: str, slot: Slot, x: float, y: float, size: float) -> None:
    found = runs(line, slot.bold)
    assert found is not None, "call fits() first"
    canvas.setFillColorRGB(*slot.color)
    for font, text in found:
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        x += pdfmetrics.stringWidth(text, font, size)


def _draw_stamp(canvas: Canvas, stamp: Stamp, height: float, barcode: str | None) -> None:
    slot, size = stamp.slot, stamp.size or stamp.slot.size
    first = first_baseline(stamp, size)
    for i, line in enumerate(stamp.lines):
        _text(canvas, line, slot, slot.x, height - (first + i * size * LEADING), size)
    if barcode and slot.name == "address":
        draw_barcode(canvas, barcode, slot.x, height - bars_top(stamp, size, imb.GAP_POINTS))


def draw_pages(canvas: Canvas, part: Part, only_inked: bool = False) -> list[bool]:
    """Draws one part's overlay pages (check `fits` first); says which pages got ink,
    so pages without a slot need no overlay at all (`only_inked`: only those are drawn)."""
    inked = part.inked
    for number, (width, height) in enumerate(part.sizes):
        if only_inked and not inked[number]:
            continue
        canvas.setPageSize((width, height))
        for stamp in part.stamps:
            if stamp.slot.page == number:
                _draw_stamp(canvas, stamp, height, part.barcode)
        canvas.showPage()
    return inked


def draw_barcode(canvas: Canvas, bars: str, x: float, top: float) -> None:
    """The IMb bars with their top edge at `top` (points from the page bottom)."""
    canvas.setFillColorRGB(0, 0, 0)
    for box_x, box_y, width, height in imb.bar_boxes(bars, x, top):
        canvas.rect(box_x, box_y, width, height, stroke=0, fill=1)


def draw_parts(canvas: Canvas, parts: Sequence[Part], only_inked: bool = False) -> list[bool]:
    """A record's overlay pages, part after part; says which pages got ink."""
    inked: list[bool] = []
    for part in parts:
        inked += draw_pages(canvas, part, only_inked)
    return inked


def overlay_pdf(parts: Sequence[Part]) -> tuple[bytes, list[bool]]:
    """One record's overlay pages as a PDF of their own: its fonts hold only the glyphs
    this record's values use."""
    buffer = io.BytesIO()
    canvas = overlay_canvas(buffer)
    inked = draw_parts(canvas, parts)
    canvas.save()
    return buffer.getvalue(), inked


def overlay_canvas(buffer: io.BytesIO) -> Canvas:
    """A ReportLab canvas whose pages start in the body font (not Helvetica, which
    ReportLab would otherwise name on every page without embedding it)."""
    return Canvas(buffer, pageCompression=1, invariant=1, initialFontName=reportlab_font(BODY))
