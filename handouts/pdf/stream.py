"""A PDF written while it is made: each object goes to the file as soon as it is whole.

pikepdf (QPDF) keeps every object of a document in memory until it saves, so a mailing
of 10,000 letters would be held whole. `PdfStream` writes objects one by one and keeps
only their offsets and the list of pages; `Copier` brings objects over from a source PDF
opened with pikepdf, each one once (its fonts and images are shared by every page that
uses them). The file is a classic PDF 1.7 with an xref table and a /ID made from its
bytes, so the same input writes the same file.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO, Protocol, TypeVar

import pikepdf

from handouts.pdf.rewrite import raw_stream, stream, value_bytes

#: Page attributes a page may inherit from its ancestors (ISO 32000-1, 7.7.3.4).
INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
T = TypeVar("T")


def pdf_number(value: float) -> bytes:
    """A real number as PDF content writes it: six decimals at most, no trailing zeros."""
    return (b"%.6f" % value).rstrip(b"0").rstrip(b".") or b"0"


class PdfStream:
    """Objects are numbered by `reserve` and written by `write`; `close` writes the page
    tree, the catalog and the cross-reference table."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.position = 0
        self.digest = hashlib.sha256()
        self.offsets = array("q", [0])  # object number -> file offset (0: none yet)
        self.kids = array("q")
        self._emit(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.pages = self.reserve()

    def _emit(self, data: bytes) -> None:
        self.handle.write(data)
        self.position += len(data)
        self.digest.update(data)

    def reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def write(self, number: int, body: bytes) -> int:
        self.offsets[number] = self.position
        self._emit(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        return number

    def add(self, body: bytes) -> int:
        return self.write(self.reserve(), body)

    def add_stream(self, data: bytes) -> int:
        """A Flate-compressed stream of `data`."""
        return self.add(stream({}, data))

    def add_page(self, entries: bytes) -> int:
        """A page whose dictionary holds `entries` (all but /Type and /Parent)."""
        number = self.add(b"<</Type/Page/Parent %d 0 R%s>>" % (self.pages, entries))
        self.kids.append(number)
        return number

    def close(self) -> None:
        """The page tree, the catalog and the xref table, written a block at a time: a
        mailing of 100,000 letters has millions of objects, never held as text at once."""
        self.offsets[self.pages] = self.position
        self._emit(b"%d 0 obj\n<</Type/Pages/Count %d/Kids[" % (self.pages, len(self.kids)))
        for start, block in _blocks(self.kids):
            self._emit(b" " * bool(start) + b" ".join(b"%d 0 R" % kid for kid in block))
        self._emit(b"]>>\nendobj\n")
        catalog = self.add(b"<</Type/Catalog/Pages %d 0 R>>" % self.pages)
        identifier = self.digest.hexdigest()[:32].encode()
        start = self.position
        self._emit(b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets))
        for _, block in _blocks(self.offsets, first=1):
            self._emit(
                b"".join(
                    b"%010d 00000 n \n" % offset if offset else b"0000000000 65535 f \n"
                    for offset in block
                )
            )
        self._emit(
            b"trailer\n<</Size %d/Root %d 0 R/ID[<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.offsets), catalog, identifier, identifier, start)
        )


def _blocks(
    values: array[int], first: int = 0, size: int = 4096
) -> Iterator[tuple[int, array[int]]]:
    """(index, values) a block at a time, from `first`."""
    for start in range(first, len(values), size):
        yield start - first, values[start : start + size]


class Sink(Protocol):
    """Where a Copier writes: a PdfStream, or a rewrite's added objects (pdf/rewrite.py)."""

    def reserve(self) -> int: ...
    def write(self, number: int, body: bytes) -> int: ...
    def add(self, body: bytes) -> int: ...


class Copier:
    """Copies objects of one source PDF into a PdfStream (or a rewrite's added
    objects), each indirect object once."""

    def __init__(self, stream: Sink) -> None:
        self.stream = stream
        self._numbers: dict[tuple[int, int], int] = {}
        self._queue: list[tuple[int, Any]] = []

    def copy(self, obj: Any) -> int:
        """The new number of an indirect object, written with all it refers to."""
        number = self._number(obj)
        self._drain()
        return number

    def copy_page(self, page: Any) -> int:
        """A page of the source as a page of the stream (inherited attributes copied onto
        it; its structure-tree link dropped: the stream has no structure tree)."""
        assert isinstance(self.stream, PdfStream)  # pages are a PdfStream's
        return self.stream.add_page(self.entries(page_entries(page)))

    def share(self, obj: Any) -> int:
        """An object's number in the stream: its copy, or a direct value written as an
        object of its own, so that many pages can refer to it."""
        if obj.is_indirect:
            return self.copy(obj)
        number = self.stream.add(self.value(obj, direct=True))
        self._drain()
        return number

    def entries(self, entries: Mapping[str, Any]) -> bytes:
        """Dictionary entries as PDF syntax, every indirect object they refer to copied."""
        data = b"".join(
            b"%s %s" % (key.encode(), self.value(value)) for key, value in entries.items()
        )
        self._drain()
        return data

    def _drain(self) -> None:
        while self._queue:
            number, obj = self._queue.pop()
            self.stream.write(number, self._body(obj))

    def _number(self, obj: Any) -> int:
        key = obj.objgen
        if key not in self._numbers:
            self._numbers[key] = self.stream.reserve()
            self._queue.append((self._numbers[key], obj))
        return self._numbers[key]

    def _body(self, obj: Any) -> bytes:
        if isinstance(obj, pikepdf.Stream):
            raw = obj.read_raw_bytes()
            head = {k: self.value(v) for k, v in obj.stream_dict.items() if k != "/Length"}
            if "/Filter" not in obj.stream_dict:  # e.g. a page turned into a form
                return stream(head, raw)
            return raw_stream(head, raw)
        return self.value(obj, direct=True)

    def value(self, obj: Any, direct: bool = False) -> bytes:
        """A value as PDF syntax; indirect objects become references to their copies."""
        if not isinstance(obj, pikepdf.Object):
            return value_bytes(obj)  # pikepdf gives numbers and booleans as Python's
        if not direct and obj.is_indirect:
            return b"%d 0 R" % self._number(obj)
        if isinstance(obj, pikepdf.Dictionary):
            items = b"".join(b"%s %s" % (k.encode(), self.value(v)) for k, v in obj.items())
            return b"<<" + items + b">>"
        if isinstance(obj, pikepdf.Array):
            return b"[" + b" ".join(self.value(v) for v in obj) + b"]"
        return bytes(obj.unparse())


def page_entries(page: Any) -> dict[str, Any]:
    """A page's entries with those it inherits, but its place in the page and structure
    trees."""
    entries = {
        key: value
        for key, value in page.items()
        if key not in ("/Type", "/Parent", "/StructParents")
    }
    parent = page.get("/Parent")
    while parent is not None:
        for key in INHERITED:
            if key not in entries and key in parent:
                entries[key] = parent[key]
        parent = parent.get("/Parent")
    return entries


def interleave(segments: Sequence[T], gaps: Sequence[T]) -> list[T]:
    """A stamped page's content in order: its layout's segments with a gap between each
    two (a slot's value, stamp/splice.py); the letter file and mailing.pdf both build
    their pages this way."""
    parts = [segments[0]]
    for gap, segment in zip(gaps, segments[1:], strict=True):
        parts += [gap, segment]
    return parts
