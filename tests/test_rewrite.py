"""pdf/rewrite.py: a handout written again with some objects replaced, as stamping
writes every record's file. Checked on a real handout: what pikepdf reads back."""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pikepdf
import pytest
from helpers import decoded_payloads, keep, pdf_text, qpdf_problems

from handouts.model.request import HandoutRequest, PatientDetails
from handouts.options import LayoutCacheOptions
from handouts.pdf.rewrite import Rewrite, stream
from handouts.pdf.stream import PdfStream
from handouts.stamp.handout import stamper_for
from handouts.workspace import Workspace


@pytest.fixture(scope="module")
def handout(render: Callable[..., bytes]) -> bytes:
    return render("kyphoplasty", "post")


def _objects(data: bytes) -> dict[int, bytes]:
    """Every object but the containers, serialized by QPDF, by number."""
    found = {}
    with pikepdf.open(io.BytesIO(data)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Stream):
                if obj.stream_dict.get("/Type") in ("/ObjStm", "/XRef"):
                    continue
                head = {k: v for k, v in obj.stream_dict.items() if k != "/Length"}
                found[obj.objgen[0]] = repr(head).encode() + obj.read_bytes()
            elif isinstance(obj, pikepdf.Object):
                found[obj.objgen[0]] = bytes(obj.unparse(resolved=True))
    return found


def _content_number(data: bytes, page: int) -> int:
    with pikepdf.open(io.BytesIO(data)) as document:
        return int(document.pages[page].obj.Contents.objgen[0])


def test_unchanged_it_is_the_same_document(handout: bytes, tmp_path: Path) -> None:
    number = _content_number(handout, 0)
    with pikepdf.open(io.BytesIO(handout)) as document:
        written = keep(Rewrite(document, [number]).write({}))
    assert _objects(written) == _objects(handout)
    assert pdf_text(written) == pdf_text(handout)
    (tmp_path / "same.pdf").write_bytes(written)
    assert qpdf_problems(tmp_path / "same.pdf") is None
    # the shared objects are packed as QPDF packs them: the file is no larger
    assert len(written) <= len(handout) * 1.01


def test_a_replaced_object_and_added_ones(handout: bytes, tmp_path: Path) -> None:
    number = _content_number(handout, 0)
    with pikepdf.open(io.BytesIO(handout)) as document:
        rewrite = Rewrite(document, [number])
        first = rewrite.next_number
        content = b"q 1 0 0 1 0 0 cm Q"
        form = stream({"/Type": b"/XObject", "/Subtype": b"/Form", "/BBox": b"[ 0 0 1 1 ]"}, b"")
        written = keep(rewrite.write({number: stream({}, content)}, [form, b"(added)"]))
    (tmp_path / "replaced.pdf").write_bytes(written)
    assert qpdf_problems(tmp_path / "replaced.pdf") is None
    with pikepdf.open(io.BytesIO(written)) as document:
        assert document.pages[0].obj.Contents.read_bytes() == content
        assert document.get_object(first, 0).Subtype == "/Form"
        assert str(document.get_object(first + 1, 0)) == "added"
        assert len(document.pages) == len(pikepdf.open(io.BytesIO(handout)).pages)
    before, after = _objects(handout), _objects(written)
    assert {n: v for n, v in after.items() if n != number and n < first} == {
        n: v for n, v in before.items() if n != number
    }


def test_the_same_values_write_the_same_file(handout: bytes) -> None:
    number = _content_number(handout, 1)
    with pikepdf.open(io.BytesIO(handout)) as document:
        rewrite = Rewrite(document, [number])
        one = rewrite.write({number: stream({}, b"0 g")})
        again = rewrite.write({number: stream({}, b"0 g")})
        other = rewrite.write({number: stream({}, b"1 g")})
    assert one == again
    ids = [pikepdf.open(io.BytesIO(d)).trailer.ID[0] for d in (one, other)]
    assert ids[0] != ids[1]


def test_the_cross_reference_rows_are_predicted(handout: bytes) -> None:
    """The rows are written with the PNG Up predictor, each row less the one above: read
    back through it, every object's row is where the object is."""
    with pikepdf.open(io.BytesIO(handout)) as document:
        written = Rewrite(document, [_content_number(handout, 0)]).write({})
    head, _, rest = written[written.rindex(b"obj\n<< /Type /XRef") :].partition(b"stream\n")
    assert b"/Predictor 12" in head and b"/Columns 7" in head
    raw = zlib.decompress(rest[: rest.rindex(b"\nendstream")])
    rows, above = [], bytes(7)
    for i in range(0, len(raw), 8):
        assert raw[i] == 2  # Up
        row = bytes((a + b) & 0xFF for a, b in zip(raw[i + 1 : i + 8], above, strict=True))
        rows.append(row)
        above = row
    with pikepdf.open(io.BytesIO(written)) as document:
        pages = [p.obj.objgen[0] for p in document.pages]
    for number in pages:  # pages are packed: type 2, in an object stream, at their index
        kind, stream_number, index = rows[number][0], *_fields(rows[number])
        assert kind == 2
        head, _, body = written[_offset(rows, stream_number) :].partition(b"stream\n")
        assert b"/Type /ObjStm" in head
        first = int(re.search(rb"/First (\d+)", head).group(1))  # type: ignore[union-attr]
        numbers = zlib.decompress(body[: body.index(b"\nendstream")])[:first].split()
        assert int(numbers[2 * index]) == number
    written_at = [(n, _offset(rows, n)) for n, row in enumerate(rows) if row[0] == 1]
    assert len(written_at) > 10
    for number, offset in written_at:  # each row points at its own object
        assert written[offset:].split(b" ", 2)[:2] == [b"%d" % number, b"0"]


def _fields(row: bytes) -> tuple[int, int]:
    return int.from_bytes(row[1:5], "big"), int.from_bytes(row[5:7], "big")


def _offset(rows: list[bytes], number: int) -> int:
    assert rows[number][0] == 1
    return _fields(rows[number])[0]


def test_no_glyph_of_one_record_reaches_the_next(workspace: Workspace) -> None:
    """A process writes every record from the same serialized layout: a name whose
    letters the layout lacks widens that record's fonts only. The record after it is
    byte for byte what it is when written first, and has no such glyph."""
    stamper = stamper_for(workspace, LayoutCacheOptions(enabled=False))

    def stamped(name: str) -> bytes:
        patient = PatientDetails(patient_name=name, procedure_date=dt.date(2027, 3, 3))
        made = stamper.pdf(HandoutRequest("vertebroplasty", "pre", "en", False, patient))
        assert made is not None, "stamped"
        return keep(made.data)

    first = stamped("Ann Lee")
    other = stamped("Øyvind Ærø")
    again = stamped("Ann Lee")
    assert again == first
    assert "Øyvind Ærø" in pdf_text(other)
    for data, has in ((other, True), (again, False)):
        with pikepdf.open(io.BytesIO(data)) as document:
            cmaps = b"".join(p for p in decoded_payloads(document) if b"begincmap" in p)
        # a code that reads as "Ø": a glyph some font was widened with
        assert bool(re.search(rb"<[0-9a-f]{4}> <00d8>\n", cmaps.lower())) is has


def test_records_stamped_at_once_in_threads_are_each_their_own(workspace: Workspace) -> None:
    """The web server's threads share one stamper and its serialized layouts: records
    written at the same time are the files each one makes alone."""
    stamper = stamper_for(workspace, LayoutCacheOptions(enabled=False))
    names = ["Ann Lee", "Øyvind Ærø", "José Núñez", "Zoë Brontë", "Li Wei", "Ada Ng"]

    def stamped(name: str) -> bytes:
        patient = PatientDetails(patient_name=name, procedure_date=dt.date(2027, 3, 3))
        made = stamper.pdf(HandoutRequest("kyphoplasty", "post", "en", False, patient))
        assert made is not None, "stamped"
        return made.data

    alone = {name: stamped(name) for name in names}
    with ThreadPoolExecutor(max_workers=6) as threads:
        together = list(threads.map(stamped, names * 4))
    mixed = [n for n, data in zip(names * 4, together, strict=True) if data != alone[n]]
    assert mixed == []


def test_a_streamed_file_of_many_pages_has_every_page_and_object(tmp_path: Path) -> None:
    """PdfStream writes the page tree and the xref table a block at a time (4,096
    entries): a file of more than two blocks reads back whole."""
    target = tmp_path / "many.pdf"
    with open(target, "wb") as handle:
        pdf = PdfStream(handle)
        content = pdf.add_stream(b"BT /F1 12 Tf 72 720 Td (page) Tj ET")
        font = pdf.add(b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")
        resources = b"/Resources<</Font<</F1 %d 0 R>>>>" % font
        for number in range(9000):
            if number % 3 == 0:
                pdf.reserve()  # a number never written: a free row
            pdf.add_page(
                b"/MediaBox[0 0 200 %d]%s/Contents %d 0 R" % (100 + number, resources, content)
            )
        pdf.close()
    assert qpdf_problems(target) is None
    with pikepdf.open(target) as document:
        assert len(document.pages) == 9000
        heights = [int(page.MediaBox[3]) for page in document.pages]
        assert heights == [100 + number for number in range(9000)]
