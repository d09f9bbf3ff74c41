"""mailing.pdf for the mail room: a cover sheet, then every letter in ZIP order.

With duplex printing each letter starts on a front side: `duplex_blank` is the one rule
for when a blank back page follows a letter, used to count sheets and to assemble.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pikepdf

from handouts.engine.output import write_atomic
from handouts.mail.preflight import LETTER_SIZE


class LayoutPages(Protocol):
    """A shared layout's static pages (stamp.layouts.Template)."""

    pdf: bytes
    sizes: list[tuple[float, float]]


class StampedPages(Protocol):
    """A stamped letter (stamp.fastpath.StampedLetter): its layout and overlay pages."""

    layout: Any
    overlay_first: int
    pages: int
    inked: tuple[bool, ...]


Templates = Mapping[Any, Sequence[LayoutPages]]


def duplex_blank(pages: int, duplex: bool) -> bool:
    """A blank back page follows a letter with an odd page count when printing duplex."""
    return duplex and pages % 2 == 1


def printed_pages(letter_pages: list[int], duplex: bool) -> int:
    """Pages of a mailing: the cover sheet (with its blank back) and every letter, padded."""
    return sum(p + duplex_blank(p, duplex) for p in [1, *letter_pages])


@dataclass(frozen=True)
class MailPiece:
    """One letter ready for the mailing file: a PDF file, or a stamped letter whose
    pages are its layout class's shared pages plus its own overlay."""

    record_id: str
    zip_code: str
    path: Path | None = None
    stamped: StampedPages | None = None


@dataclass(frozen=True)
class Placement:
    first_page: int
    last_page: int
    padded: bool


class _Assembly:
    """Builds mailing.pdf; each static layout page is stored once as a form XObject."""

    def __init__(self, duplex: bool, templates: Templates, overlay: bytes) -> None:
        self.pdf = pikepdf.new()
        self.duplex = duplex
        self.templates = templates
        self.overlay = pikepdf.open(io.BytesIO(overlay)) if overlay else None
        self._sources: dict[int, pikepdf.Pdf] = {}
        self._forms: dict[tuple[Any, int], Any] = {}

    def _pad(self, count: int) -> bool:
        padded = duplex_blank(count, self.duplex)
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

    def _static_form(self, layout: Any, index: int) -> Any:
        key = (layout, index)
        if key not in self._forms:
            for template in self.templates[layout]:
                if index < len(template.sizes):
                    break
                index -= len(template.sizes)
            source = self._sources.setdefault(id(template), pikepdf.open(io.BytesIO(template.pdf)))
            self._forms[key] = self.pdf.copy_foreign(source.pages[index].as_form_xobject())
        return self._forms[key]

    def add_stamped(self, letter: StampedPages) -> Placement:
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
    templates: Templates | None = None,
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
