"""Letter preflight: the real text positions in the PDF checked against the envelope."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pdfplumber
import pikepdf

from handouts.model.clinic import Mail, Window
from handouts.pdf.check import fonts_embedded

LETTER_SIZE = (612.0, 792.0)
Zone = tuple[float, float, float, float]


def zone(window: Window, inset: float = 0.0) -> Zone:
    """(x0, top, x1, bottom) in points from the top-left corner."""
    return (
        (window.left + inset) * 72,
        (window.top + inset) * 72,
        (window.left + window.width - inset) * 72,
        (window.top + window.height - inset) * 72,
    )


def _inside(word: dict[str, Any], zone: Zone) -> bool:
    x0, top, x1, bottom = zone
    return bool(
        word["x0"] >= x0 and word["x1"] <= x1 and word["top"] >= top and word["bottom"] <= bottom
    )


def _touches(word: dict[str, Any], zone: Zone) -> bool:
    x0, top, x1, bottom = zone
    return bool(
        word["x1"] > x0 and word["x0"] < x1 and word["bottom"] > top and word["top"] < bottom
    )


def preflight_letter(
    pdf: bytes, mail: Mail, address_lines: Iterable[str], return_lines: Iterable[str]
) -> list[str]:
    """What is wrong with a letter for a #10 double-window envelope (empty: ready).

    Checks the real text positions in the PDF: the whole address inside the recipient
    window less its safety margin, nothing else in either window, letter-size pages,
    and every font embedded. Messages never quote the address.
    """
    problems = []
    document = pikepdf.open(io.BytesIO(pdf))
    for number, page in enumerate(document.pages, start=1):
        size = tuple(round(float(v)) for v in page.MediaBox[2:])
        if size != (612, 792):
            problems.append(f"page {number} is {size[0]}x{size[1]} pt, not US letter")
    if not fonts_embedded(document):
        problems.append("a font is not embedded")
    with pdfplumber.open(io.BytesIO(pdf)) as plumber:
        words = plumber.pages[0].extract_words()
    recipient = zone(mail.recipient_window)
    safe = zone(mail.recipient_window, mail.safety_margin)
    upper = zone(mail.return_window)
    expected = Counter(" ".join(address_lines).split())
    in_window = Counter(w["text"] for w in words if _touches(w, recipient))
    placed = Counter(w["text"] for w in words if _inside(w, safe))
    if in_window != expected:
        problems.append("the recipient window shows text other than the address")
    if placed != expected:
        problems.append("the address is not fully inside the recipient window's safe zone")
    allowed = Counter(" ".join(return_lines).split())
    shown = Counter(w["text"] for w in words if _touches(w, upper))
    if shown - allowed:
        problems.append("the return-address window shows more than the clinic's address")
    return problems
