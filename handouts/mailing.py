"""Mail: letter preflight, the mail-room mailing.pdf in ZIP order, and fold previews."""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    """One letter ready for the mailing file: a PDF file, or a stamped letter whose
    pages are its layout class's shared pages plus its own overlay."""

    record_id: str
    zip_code: str
    path: Path | None = None
    stamped: Any = None  # fastpath.StampedLetter


@dataclass(frozen=True)
class Placement:
    first_page: int
    last_page: int
    padded: bool


class _Assembly:
    """Builds mailing.pdf; each static layout page is stored once as a form XObject."""

    def __init__(self, duplex: bool, templates: dict, overlay: bytes) -> None:
        self.pdf = pikepdf.new()
        self.duplex = duplex
        self.templates = templates
        self.overlay = pikepdf.open(io.BytesIO(overlay)) if overlay else None
        self._sources: dict[int, pikepdf.Pdf] = {}
        self._forms: dict[tuple, Any] = {}

    def _pad(self, count: int) -> bool:
        padded = self.duplex and count % 2 == 1
        if padded:
            self.pdf.add_blank_page(page_size=LETTER_SIZE)
        return padded

    def keep(self, path: Path) -> pikepdf.Pdf:
        source = pikepdf.open(path)
        self._sources[id(source)] = source
        return source

    def add_file(self, source: pikepdf.Pdf) -> Placement:
        first = len(self.pdf.pages) + 1
        self.pdf.pages.extend(source.pages)
        return Placement(first, first + len(source.pages) - 1, self._pad(len(source.pages)))

    def _static_form(self, layout: tuple, index: int) -> Any:
        key = (layout, index)
        if key not in self._forms:
            for template in self.templates[layout]:
                if index < len(template.sizes):
                    break
                index -= len(template.sizes)
            source = self._sources.setdefault(id(template), pikepdf.open(io.BytesIO(template.pdf)))
            self._forms[key] = self.pdf.copy_foreign(source.pages[index].as_form_xobject())
        return self._forms[key]

    def add_stamped(self, letter: Any) -> Placement:
        assert self.overlay is not None
        first = len(self.pdf.pages) + 1
        for i in range(letter.pages):
            static = self._static_form(letter.layout, i)
            forms = pikepdf.Dictionary(S=static)
            content = b"q /S Do Q"
            if letter.inked[i]:
                forms.O = self.pdf.copy_foreign(
                    self.overlay.pages[letter.overlay_first + i].as_form_xobject()
                )
                content += b" q /O Do Q"
            box = static.BBox
            page = pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=pikepdf.Array([0, 0, box[2], box[3]]),
                Resources=pikepdf.Dictionary(XObject=forms),
                Contents=self.pdf.make_stream(content),
            )
            self.pdf.pages.append(pikepdf.Page(page))
        return Placement(first, first + letter.pages - 1, self._pad(letter.pages))


def assemble_mailing(
    pieces: list[MailPiece],
    cover: bytes,
    duplex: bool,
    target: Path,
    templates: dict | None = None,
    overlay: bytes = b"",
) -> dict[str, Placement]:
    """The cover sheet, then every letter in ZIP order; with duplex, each starts on a front.

    Stamped letters reference their layout's shared pages, so the file grows by a small
    overlay per letter instead of a whole handout."""
    assembly = _Assembly(duplex, templates or {}, overlay)
    assembly.add_file(pikepdf.open(io.BytesIO(cover)))
    placements: dict[str, Placement] = {}
    for piece in sorted(pieces, key=lambda p: (p.zip_code, p.record_id)):
        if piece.stamped is not None:
            placements[piece.record_id] = assembly.add_stamped(piece.stamped)
        else:
            assert piece.path is not None
            # The source stays open until the save: page contents are copied then.
            placements[piece.record_id] = assembly.add_file(assembly.keep(piece.path))
    buffer = io.BytesIO()
    assembly.pdf.save(
        buffer, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate
    )
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
