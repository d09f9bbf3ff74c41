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

from handouts.engine.output import atomic_file
from handouts.engine.pdfstream import Copier, PdfStream, pdf_number
from handouts.mail.preflight import LETTER_SIZE


class LayoutPages(Protocol):
    """A shared layout's static pages (stamp.layouts.Template)."""

    pdf: bytes
    sizes: list[tuple[float, float]]


class StampedPages(Protocol):
    """A stamped letter (stamp.fastpath.StampedLetter): its layout, and where its
    overlay pages are in its chunk's overlay PDF."""

    @property
    def layout(self) -> Any: ...
    @property
    def chunk(self) -> int: ...
    @property
    def overlay_first(self) -> int: ...
    @property
    def pages(self) -> int: ...
    @property
    def inked(self) -> tuple[bool, ...]: ...


Templates = Mapping[Any, Sequence[LayoutPages]]


#: How to print a mailing, duplex or not: the cover sheet says it, and so does the
#: message when the tool could not print it.
HOW_TO_PRINT = {
    True: "at actual size (100%), on both sides, long edge",
    False: "at actual size (100%), on one side of the paper",
}


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
    """Writes mailing.pdf page by page. Each static layout page is written once as a form
    XObject; a stamped page is that form plus the letter's overlay form. Only the open
    chunk's overlay PDF is held, so memory does not grow with the mailing."""

    def __init__(
        self, stream: PdfStream, duplex: bool, templates: Templates, overlays: Mapping[int, Path]
    ) -> None:
        self.stream = stream
        self.duplex = duplex
        self.templates = templates
        self.overlays = overlays
        self._statics: dict[tuple[Any, int], tuple[int, tuple[float, float]]] = {}
        self._sources: dict[int, tuple[pikepdf.Pdf, Copier]] = {}
        self._chunk: tuple[int, pikepdf.Pdf, Copier] | None = None
        self._contents = {
            inked: stream.add_stream(b"q /S Do Q q /O Do Q" if inked else b"q /S Do Q")
            for inked in (False, True)
        }

    def _pad(self, count: int) -> bool:
        padded = duplex_blank(count, self.duplex)
        if padded:
            width, height = LETTER_SIZE
            self.stream.add_page(b"/MediaBox[0 0 %d %d]/Resources<<>>" % (width, height))
        return padded

    def add_file(self, source: pikepdf.Pdf) -> Placement:
        first = len(self.stream.kids) + 1
        copier = Copier(self.stream)
        for page in source.pages:
            copier.copy_page(page.obj)
        count = len(source.pages)
        return Placement(first, first + count - 1, self._pad(count))

    def _static_form(self, layout: Any, index: int) -> tuple[int, tuple[float, float]]:
        key = (layout, index)
        if key not in self._statics:
            for template in self.templates[layout]:
                if index < len(template.sizes):
                    break
                index -= len(template.sizes)
            if id(template) not in self._sources:
                source = pikepdf.open(io.BytesIO(template.pdf))
                self._sources[id(template)] = (source, Copier(self.stream))
            source, copier = self._sources[id(template)]
            form = copier.copy(source.pages[index].as_form_xobject())
            self._statics[key] = (form, template.sizes[index])
        return self._statics[key]

    def _overlay_form(self, chunk: int, index: int) -> int:
        if self._chunk is None or self._chunk[0] != chunk:
            if self._chunk is not None:
                self._chunk[1].close()
            self._chunk = (chunk, pikepdf.open(self.overlays[chunk]), Copier(self.stream))
        _, source, copier = self._chunk
        return copier.copy(source.pages[index].as_form_xobject())

    def add_stamped(self, letter: StampedPages) -> Placement:
        first = len(self.stream.kids) + 1
        for i in range(letter.pages):
            static, (width, height) = self._static_form(letter.layout, i)
            forms = b"/S %d 0 R" % static
            if letter.inked[i]:
                inked_before = sum(letter.inked[:i])  # the overlay holds inked pages only
                overlay = self._overlay_form(letter.chunk, letter.overlay_first + inked_before)
                forms += b"/O %d 0 R" % overlay
            self.stream.add_page(
                b"/MediaBox[0 0 %s %s]/Resources<</XObject<<%s>>>>/Contents %d 0 R"
                % (pdf_number(width), pdf_number(height), forms, self._contents[letter.inked[i]])
            )
        return Placement(first, first + letter.pages - 1, self._pad(letter.pages))

    def close(self) -> None:
        if self._chunk is not None:
            self._chunk[1].close()
        for source, _ in self._sources.values():
            source.close()
        self.stream.close()


def assemble_mailing(
    pieces: list[MailPiece],
    cover: bytes,
    duplex: bool,
    target: Path,
    templates: Templates | None = None,
    overlays: Mapping[int, Path] | None = None,
) -> dict[str, Placement]:
    """The cover sheet, then every letter in ZIP order; with duplex, each starts on a front.

    Stamped letters reference their layout's shared pages, so the file grows by a small
    overlay per letter instead of a whole handout; the file is written as it is made."""
    placements: dict[str, Placement] = {}
    with atomic_file(target) as handle:
        assembly = _Assembly(PdfStream(handle), duplex, templates or {}, overlays or {})
        with pikepdf.open(io.BytesIO(cover)) as source:
            assembly.add_file(source)
        for piece in sorted(pieces, key=lambda p: (p.zip_code, p.record_id)):
            if piece.stamped is not None:
                placements[piece.record_id] = assembly.add_stamped(piece.stamped)
            else:
                assert piece.path is not None
                with pikepdf.open(piece.path) as source:
                    placements[piece.record_id] = assembly.add_file(source)
        assembly.close()
    return placements
