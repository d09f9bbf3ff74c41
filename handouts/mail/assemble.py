"""mailing.pdf for the mail room: a cover sheet, then every letter in ZIP order.

A letter rendered in full is copied from its file. A stamped letter's pages are its
layout's pages, written once per mailing, and on each page with values the content of
its letter file: the layout page's segments (shared) with the letter's value ops
between them (stamp/splice.py writes both), in the page fonts widened once per chunk
of letters (mail/files.py). So the mail room prints what the letter files show.

With duplex printing each letter starts on a front side: `duplex_blank` is the one rule
for when a blank back page follows a letter, used to count sheets and to assemble.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from handouts.engine.output import atomic_file
from handouts.mail.preflight import LETTER_SIZE
from handouts.pdf.stream import Copier, PdfStream, interleave, page_entries


@dataclass(frozen=True)
class MailLayout:
    """A layout class's static pages, shared by its letters in mailing.pdf: the PDF the
    letter files are made from, and each page with slots cut at them (stamp/splice.py)."""

    pdf: bytes
    segments: dict[int, tuple[bytes, ...]]


@dataclass(frozen=True)
class ChunkValues:
    """What mailing.pdf needs of a chunk of stamped letters, from the worker that wrote
    their files (mail/files.py): each letter's values, by file name, for each page
    that has any (the gaps between that page's segments, the bytes the file has); and,
    by layout, a PDF whose /PageFonts are the page fonts the chunk's glyphs widened or
    added, by page and resource name."""

    letters: dict[str, dict[int, tuple[bytes, ...]]]
    fonts: dict[int, bytes]


@dataclass(frozen=True, slots=True)
class StampedPages:
    """A stamped letter in mailing.pdf: its layout (an index into the mailing's
    layouts), and the chunk file that holds its values under its file name."""

    layout: int
    chunk: Path
    name: str


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


@dataclass(frozen=True, slots=True)
class MailPiece:
    """One letter ready for the mailing file: its letter file (a name in the folder of
    mailing.pdf), copied; or, stamped, its layout's shared pages with its own values
    between their segments. Held for every letter of a mailing: names, not paths."""

    record_id: str
    zip_code: str
    file: str
    stamped: StampedPages | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    first_page: int
    last_page: int
    padded: bool


@dataclass(frozen=True)
class _SharedPage:
    """A layout page, its objects written once: the page as it is (MediaBox, Resources,
    Contents), and for a page with slots its resources but the fonts, its fonts (by
    resource name) and its segments' streams."""

    static: bytes
    box: bytes
    resources: bytes
    fonts: dict[str, bytes]
    segments: tuple[int, ...]


class _Layouts:
    """The mailing's layouts: each page's objects written when first used, shared by
    every letter of the layout."""

    def __init__(self, stream: PdfStream, layouts: Sequence[MailLayout]) -> None:
        self.stream = stream
        self.layouts = layouts
        self._sources: dict[int, tuple[pikepdf.Pdf, Copier]] = {}
        self._pages: dict[tuple[int, int], _SharedPage] = {}

    def source(self, layout: int) -> tuple[pikepdf.Pdf, Copier]:
        if layout not in self._sources:
            pdf = pikepdf.open(io.BytesIO(self.layouts[layout].pdf))
            self._sources[layout] = (pdf, Copier(self.stream))
        return self._sources[layout]

    def page(self, layout: int, number: int) -> _SharedPage:
        if (layout, number) not in self._pages:
            self._pages[layout, number] = self._share(layout, number)
        return self._pages[layout, number]

    def _share(self, layout: int, number: int) -> _SharedPage:
        pdf, copier = self.source(layout)
        page = page_entries(pdf.pages[number].obj)
        box = copier.entries({"/MediaBox": page["/MediaBox"]})
        resources = page.get("/Resources", pikepdf.Dictionary())
        fonts = resources.get("/Font", pikepdf.Dictionary())
        others = {key: value for key, value in resources.items() if key != "/Font"}
        static = box + b"/Resources %d 0 R" % copier.share(resources)
        static += copier.entries({"/Contents": page["/Contents"]})
        segments = self.layouts[layout].segments.get(number, ())
        return _SharedPage(
            static,
            box,
            copier.entries(others),
            {str(name): b"%d 0 R" % copier.copy(font) for name, font in fonts.items()},
            tuple(self.stream.add_stream(segment + b"\n") for segment in segments),
        )

    def close(self) -> None:
        for source, _ in self._sources.values():
            source.close()


class _Chunk:
    """The open chunk of stamped letters: their values, and each layout page's
    resources with the chunk's widened fonts, written once for the chunk."""

    def __init__(self, stream: PdfStream, path: Path) -> None:
        self.stream = stream
        self.path = path
        self.values: ChunkValues = pickle.loads(path.read_bytes())  # noqa: S301 - our temp file
        self._fonts: dict[int, tuple[pikepdf.Pdf, Copier]] = {}
        self._resources: dict[tuple[int, int], int] = {}

    def resources(self, layout: int, number: int, page: _SharedPage) -> int:
        if (layout, number) not in self._resources:
            fonts = dict(page.fonts)
            if layout in self.values.fonts:
                if layout not in self._fonts:
                    pdf = pikepdf.open(io.BytesIO(self.values.fonts[layout]))
                    self._fonts[layout] = (pdf, Copier(self.stream))
                pdf, copier = self._fonts[layout]
                for name, font in pdf.Root.PageFonts[number].items():
                    fonts[str(name)] = b"%d 0 R" % copier.copy(font)
            names = b"".join(b"%s %s" % (name.encode(), ref) for name, ref in fonts.items())
            body = b"<<%s/Font<<%s>>>>" % (page.resources, names)
            self._resources[layout, number] = self.stream.add(body)
        return self._resources[layout, number]

    def close(self) -> None:
        for pdf, _ in self._fonts.values():
            pdf.close()


class _Assembly:
    """Writes mailing.pdf page by page. Each layout page's objects are written once; a
    stamped page's content is its layout page's segments with the letter's values
    between them (the content of its letter file), in fonts widened once per chunk.
    Only the open chunk is held, so memory does not grow with the mailing."""

    def __init__(self, stream: PdfStream, duplex: bool, layouts: Sequence[MailLayout]) -> None:
        self.stream = stream
        self.duplex = duplex
        self.layouts = _Layouts(stream, layouts)
        self._chunk: _Chunk | None = None

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

    def chunk(self, path: Path) -> _Chunk:
        if self._chunk is None or self._chunk.path != path:
            if self._chunk is not None:
                self._chunk.close()
            self._chunk = _Chunk(self.stream, path)
        return self._chunk

    def add_stamped(self, letter: StampedPages) -> Placement:
        first = len(self.stream.kids) + 1
        chunk = self.chunk(letter.chunk)
        values = chunk.values.letters[letter.name]
        count = len(self.layouts.source(letter.layout)[0].pages)
        for number in range(count):
            page = self.layouts.page(letter.layout, number)
            if number not in values:
                self.stream.add_page(page.static)
                continue
            gaps = [self.stream.add_stream(gap + b"\n") if gap else 0 for gap in values[number]]
            contents = b" ".join(b"%d 0 R" % n for n in interleave(page.segments, gaps) if n)
            resources = chunk.resources(letter.layout, number, page)
            self.stream.add_page(
                b"%s/Resources %d 0 R/Contents[%s]" % (page.box, resources, contents)
            )
        return Placement(first, first + count - 1, self._pad(count))

    def close(self) -> None:
        if self._chunk is not None:
            self._chunk.close()
        self.layouts.close()
        self.stream.close()


def assemble_mailing(
    pieces: list[MailPiece],
    cover: bytes,
    duplex: bool,
    target: Path,
    layouts: Sequence[MailLayout] = (),
) -> dict[str, Placement]:
    """The cover sheet, then every letter in ZIP order; with duplex, each starts on a front.

    Stamped letters reference their layout's shared pages, so the file grows by a few
    small value streams per letter instead of a whole handout; the file is written as
    it is made."""
    placements: dict[str, Placement] = {}
    with atomic_file(target) as handle:
        assembly = _Assembly(PdfStream(handle), duplex, layouts)
        with pikepdf.open(io.BytesIO(cover)) as source:
            assembly.add_file(source)
        for piece in sorted(pieces, key=lambda p: (p.zip_code, p.record_id)):
            if piece.stamped is not None:
                placements[piece.record_id] = assembly.add_stamped(piece.stamped)
            else:
                with pikepdf.open(target.parent / piece.file) as source:
                    placements[piece.record_id] = assembly.add_file(source)
        assembly.close()
    return placements
