"""Mail: letter preflight, the mail-room mailing.pdf in ZIP order, and fold previews."""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pikepdf

from .clinic import Mail, Window
from .output import write_atomic
from .pdfcheck import fonts_embedded

LETTER_SIZE = (612.0, 792.0)


def _zone(window: Window, inset: float = 0.0) -> tuple[float, float, float, float]:
    """(x0, top, x1, bottom) in points from the top-left corner."""
    return (
        (window.left + inset) * 72,
        (window.top + inset) * 72,
        (window.left + window.width - inset) * 72,
        (window.top + window.height - inset) * 72,
    )


def _inside(word: dict, zone: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = zone
    return word["x0"] >= x0 and word["x1"] <= x1 and word["top"] >= top and word["bottom"] <= bottom


def _touches(word: dict, zone: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = zone
    return word["x1"] > x0 and word["x0"] < x1 and word["bottom"] > top and word["top"] < bottom


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
    recipient = _zone(mail.recipient_window)
    safe = _zone(mail.recipient_window, mail.safety_margin)
    upper = _zone(mail.return_window)
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


@dataclass(frozen=True)
class MailPiece:
    """One letter ready for the mailing file."""

    record_id: str
    zip_code: str
    path: Path


@dataclass(frozen=True)
class Placement:
    first_page: int
    last_page: int
    padded: bool


def assemble_mailing(
    pieces: list[MailPiece], cover: bytes, duplex: bool, target: Path
) -> dict[str, Placement]:
    """All letters in ZIP order after the cover sheet; with duplex, each starts on a front."""
    mailing = pikepdf.new()
    placements: dict[str, Placement] = {}

    def append(source: pikepdf.Pdf) -> tuple[int, int, bool]:
        first = len(mailing.pages) + 1
        mailing.pages.extend(source.pages)
        padded = duplex and len(source.pages) % 2 == 1
        if padded:
            mailing.add_blank_page(page_size=LETTER_SIZE)
        return first, first + len(source.pages) - 1, padded

    cover_pdf = pikepdf.open(io.BytesIO(cover))
    append(cover_pdf)
    for piece in sorted(pieces, key=lambda p: (p.zip_code, p.record_id)):
        with pikepdf.open(piece.path) as letter:
            first, last, padded = append(letter)
        placements[piece.record_id] = Placement(first, last, padded)
    buffer = io.BytesIO()
    mailing.save(buffer, deterministic_id=True)
    write_atomic(target, buffer.getvalue())
    return placements


def write_previews(
    letter_paths: list[Path], mail: Mail, out_dir: Path, count: int = 3
) -> list[Path]:
    """PNGs of the first page of the first letters with the window zones drawn on them."""
    from PIL import Image, ImageDraw

    written = []
    dpi = 72
    for index, path in enumerate(letter_paths[:count], start=1):
        with tempfile.TemporaryDirectory() as tmp:
            stem = Path(tmp) / "page"
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    str(dpi),
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(path),
                    str(stem),
                ],
                capture_output=True,
                check=True,
            )
            image = Image.open(stem.with_suffix(".png")).convert("RGB")
        draw = ImageDraw.Draw(image)
        for window, color in ((mail.return_window, "#1f77b4"), (mail.recipient_window, "#d62728")):
            draw.rectangle(_zone(window), outline=color, width=2)
            x0, top, x1, bottom = _zone(window, mail.safety_margin)
            draw.rectangle((x0, top, x1, bottom), outline=color, width=1)
        for fold in (11 / 3, 22 / 3):
            draw.line((0, fold * dpi, 8.5 * dpi, fold * dpi), fill="#999999", width=1)
        target = out_dir / f"preview-{index}.png"
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        write_atomic(target, buffer.getvalue())
        written.append(target)
    return written
