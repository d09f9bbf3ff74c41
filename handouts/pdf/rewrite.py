"""One PDF written again and again, each time with a few of its objects replaced.

A stamped handout is its layout's PDF with new page content and widened fonts: a few
objects of a thousand (the rest is the structure tree, the images, the other pages).
Opening the layout with pikepdf and saving it for every record parses and writes all of
them each time. `Rewrite` serializes the shared objects once: streams as they are, the
other objects packed into compressed object streams. A record's file is then those
bytes, the objects the record may change (`open_`: as given, or as in the layout),
the objects it adds, and a cross-reference stream with a /ID made from the file's bytes,
so the same values write the same file. Objects are serialized by QPDF (`unparse`), so
what is written is what pikepdf would write.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pikepdf

#: Objects in one object stream (ISO 32000-1, 7.5.7; QPDF, too, packs a handout in one).
PER_OBJECT_STREAM = 2000
#: Cross-reference stream rows: type (1 byte), offset or object stream (4), index or
#: generation (2).
_ROW = struct.Struct(">BIH")
_CONTAINERS = ("/ObjStm", "/XRef")


@lru_cache(maxsize=512)
def name(key: str) -> bytes:
    """A dictionary key as PDF syntax (special characters escaped)."""
    return bytes(pikepdf.Name(key).unparse())


def dictionary(entries: Mapping[str, bytes]) -> bytes:
    """A dictionary of serialized values."""
    return b"<< " + b" ".join(name(k) + b" " + v for k, v in entries.items()) + b" >>"


def entries(obj: Any) -> dict[str, bytes]:
    """A dictionary's entries serialized (an indirect value as its reference)."""
    return {key: value_bytes(value) for key, value in obj.items()}


def value_bytes(value: Any) -> bytes:
    """A value as PDF syntax; pikepdf gives numbers and booleans as Python's."""
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal | float):
        return format(Decimal(value).normalize(), "f").encode()
    return bytes(value.unparse())


def stream(head: Mapping[str, bytes], data: bytes) -> bytes:
    """A Flate-compressed stream of `data` with the other entries `head`."""
    packed = zlib.compress(data)
    return raw_stream({**head, "/Filter": b"/FlateDecode"}, packed)


def raw_stream(head: Mapping[str, bytes], raw: bytes) -> bytes:
    """A stream of bytes as they are (encoded as `head` says), its /Length set."""
    return dictionary({**head, "/Length": b"%d" % len(raw)}) + b"\nstream\n" + raw + b"\nendstream"


def reference(number: int) -> bytes:
    return b"%d 0 R" % number


def _object(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n%s\nendobj\n" % (number, body)


class Added:
    """Objects a file adds to a `Rewrite`, numbered on from its `next_number` (for
    `Rewrite.write`); pdf/stream.Copier writes into it as into a PdfStream."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.bodies: list[bytes] = []

    def reserve(self) -> int:
        self.bodies.append(b"null")
        return self.first + len(self.bodies) - 1

    def write(self, number: int, body: bytes) -> int:
        self.bodies[number - self.first] = body
        return number

    def add(self, body: bytes) -> int:
        return self.write(self.reserve(), body)


class Rewrite:
    """`document` serialized once; `write` makes a file of it with the `open_` objects
    (object numbers) as given and new objects added. Raises ValueError for a document
    it cannot write (an object with a generation other than 0, or an open one that is
    not in it)."""

    def __init__(self, document: pikepdf.Pdf, open_: Iterable[int]) -> None:
        self.open = sorted(set(open_))
        self.defaults: dict[int, bytes] = {}  # the open objects as the document has them
        self._open_streams: set[int] = set()
        packable: list[tuple[int, bytes]] = []
        top: list[tuple[int, bytes]] = []
        numbers = []
        for obj in document.objects:
            if not isinstance(obj, pikepdf.Object):  # pikepdf gives an indirect number as int
                raise ValueError("an indirect number, boolean or null")
            number, generation = obj.objgen
            if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Type") in _CONTAINERS:
                continue  # written anew: the packed objects' streams and the xref
            if generation != 0:
                raise ValueError("an object with a generation other than 0")
            numbers.append(number)
            body = _body(obj)
            if number in self.open:
                self.defaults[number] = body
                if isinstance(obj, pikepdf.Stream):
                    self._open_streams.add(number)
            elif isinstance(obj, pikepdf.Stream):
                top.append((number, body))
            else:
                packable.append((number, body))
        if set(self.open) - set(self.defaults):
            raise ValueError("an open object the document does not have")
        self.next_number = max(numbers, default=0) + 1
        version = max(document.pdf_version, "1.5").encode()  # object and xref streams
        trailer = document.trailer
        self._trailer = {k: v for k, v in entries(trailer).items() if k in ("/Root", "/Info")}
        self._prefix, self._rows = self._serialize(version, top, packable)
        self._predicted = _predicted(self._rows, range(len(self._rows) // _ROW.size))

    def _serialize(
        self, version: bytes, top: list[tuple[int, bytes]], packable: list[tuple[int, bytes]]
    ) -> tuple[bytes, bytearray]:
        """The shared objects' bytes and the cross-reference rows of every number below
        `next_number` (the open ones' offsets filled in by `write`)."""
        out = bytearray(b"%PDF-" + version + b"\n%\xbf\xf7\xa2\xfe\n")
        rows = bytearray(_ROW.pack(0, 0, 65535) * self.next_number)
        for number, body in top:
            _ROW.pack_into(rows, number * _ROW.size, 1, len(out), 0)
            out += _object(number, body)
        for start in range(0, len(packable), PER_OBJECT_STREAM):
            chunk = packable[start : start + PER_OBJECT_STREAM]
            number = self.next_number
            self.next_number += 1
            rows += _ROW.pack(1, len(out), 0)
            out += _object(number, _object_stream(chunk))
            for index, (packed, _) in enumerate(chunk):
                _ROW.pack_into(rows, packed * _ROW.size, 2, number, index)
        return bytes(out), rows

    def write(self, replaced: Mapping[int, bytes], added: Iterable[bytes] = ()) -> bytes:
        """The file with each open object as `replaced` has it (else as the document
        has it) and `added` numbered from `next_number` on."""
        assert set(replaced) <= set(self.defaults), "only open objects are replaced"
        out = bytearray(self._prefix)
        rows = bytearray(self._rows)
        packed: list[tuple[int, bytes]] = []
        for number in self.open:
            body = replaced.get(number, self.defaults[number])
            if number in self._open_streams:
                _ROW.pack_into(rows, number * _ROW.size, 1, len(out), 0)
                out += _object(number, body)
            else:
                packed.append((number, body))
        number = self.next_number
        for body in added:
            rows += _ROW.pack(1, len(out), 0)
            out += _object(number, body)
            number += 1
        if packed:  # the open objects that are not streams, in an object stream of their own
            rows += _ROW.pack(1, len(out), 0)
            out += _object(number, _object_stream(packed))
            for index, (inside, _) in enumerate(packed):
                _ROW.pack_into(rows, inside * _ROW.size, 2, number, index)
            number += 1
        identifier = hashlib.md5(out, usedforsecurity=False).hexdigest().encode()
        rows += _ROW.pack(1, len(out), 0)  # the xref stream itself
        head = {
            "/Type": b"/XRef",
            "/Size": b"%d" % (number + 1),
            "/W": b"[ 1 4 2 ]",
            **self._trailer,
            "/ID": b"[ <%s> <%s> ]" % (identifier, identifier),
            "/DecodeParms": b"<< /Columns %d /Predictor 12 >>" % _ROW.size,
        }
        shared = len(self._rows) // _ROW.size
        changed = {n + d for n in self.open for d in (0, 1)} | set(range(shared, number + 1))
        predicted = _predicted(rows, sorted(n for n in changed if n <= number), self._predicted)
        start = len(out)
        out += _object(number, stream(head, predicted))
        out += b"startxref\n%d\n%%%%EOF\n" % start
        return bytes(out)


def _predicted(rows: bytes | bytearray, indices: Iterable[int], base: bytes = b"") -> bytes:
    """Cross-reference rows with the PNG Up predictor (each row less the one before,
    byte by byte), which Flate then packs far smaller: `base` with the rows at
    `indices` made again."""
    width = _ROW.size
    out = bytearray(base)
    for index in indices:
        start = index * width
        row = rows[start : start + width]
        above = rows[start - width : start] if index else bytes(width)
        at = index * (width + 1)
        if len(out) < at + width + 1:
            out.extend(bytes(at + width + 1 - len(out)))
        out[at] = 2
        out[at + 1 : at + width + 1] = bytes(
            (a - b) & 0xFF for a, b in zip(row, above, strict=True)
        )
    return bytes(out)


def _body(obj: Any) -> bytes:
    if isinstance(obj, pikepdf.Stream):
        head = {k: v for k, v in entries(obj.stream_dict).items() if k != "/Length"}
        return raw_stream(head, obj.read_raw_bytes())
    return bytes(obj.unparse(resolved=True))


def _object_stream(objects: list[tuple[int, bytes]]) -> bytes:
    """Objects packed in one compressed object stream."""
    offsets, bodies, position = [], [], 0
    for number, body in objects:
        offsets.append(b"%d %d" % (number, position))
        bodies.append(body)
        position += len(body) + 1
    index = b" ".join(offsets) + b"\n"
    data = index + b"\n".join(bodies) + b"\n"
    head = {"/Type": b"/ObjStm", "/N": b"%d" % len(objects), "/First": b"%d" % len(index)}
    return stream(head, data)
