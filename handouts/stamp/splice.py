"""Tagged stamping: each value written as real text into its slot's own marked content.

A layout class is rendered with a probe text in every slot (stamp/probe.py),
each in its own marked-content sequence (`BDC ... EMC` with an MCID) with its structure
element, in reading order (stamp/measure.py notes which MCID is which slot). `cut_page`
replaces each slot sequence's text objects (BT..ET) with the state they leave behind
(font, colour: what later text relies on) and cuts the page's content at the end of
the sequence, noting the transformation in force there and the page's own body fonts;
the segments joined with nothing between them are the page without the probes.
`stamp` then writes each value inside its sequence, in the slot's font, size and
color, with glyphs of the font the page already embeds (widened by
stamp/pagefonts.py): no new font, no change to the structure tree, and the value
reads in order with the text around it, so the PDF stays as conformant as the
layout.

This is the only way a value reaches a page: a letter file is `stamp`'s output, and
mailing.pdf's pages are the same segments and the same value ops (`value_ops`,
`interleave`; mail/files.py, mail/assemble.py). A value with a character no bundled
face can write, or too wide for its slot, cannot be written this way: `fits` is the one
rule, with the writer's own metrics, and such a record takes the full render.
"""

from __future__ import annotations

import io
import re
import threading
import weakref
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf

from handouts.pdf.rewrite import Rewrite
from handouts.pdf.rewrite import stream as pdf_stream
from handouts.pdf.shown import TEXT_OBJECT_ONLY, marked_mcid
from handouts.pdf.stream import interleave, pdf_number
from handouts.stamp.model import (
    Layout,
    Matrix,
    PageSplice,
    Slot,
    Stamp,
    first_baseline,
)
from handouts.stamp.pagefonts import (
    FontHolder,
    RecordFonts,
    WidenableFont,
    font_holder,
    read_fonts,
    widenable,
)

#: Slack for rounding when a value is measured against its slot (points).
FIT_SLACK = 0.5


def _slot_sequences(
    instructions: list[Any], mcids: Container[int]
) -> Iterator[tuple[int, int, int, pikepdf.Matrix]]:
    """(index of the BDC, of its EMC, MCID, CTM at the EMC) of each marked-content
    sequence with one of `mcids` that starts outside a text object."""
    ctm, saved, in_text = pikepdf.Matrix(), [], False
    open_: list[tuple[int, int | None]] = []  # (BDC index, MCID) of each open sequence
    for i, (operands, operator) in enumerate(instructions):
        op = str(operator)
        if op == "q":
            saved.append(ctm)
        elif op == "Q":
            ctm = saved.pop() if saved else pikepdf.Matrix()
        elif op == "cm":
            ctm = pikepdf.Matrix(*(float(v) for v in operands)) @ ctm
        elif op in ("BT", "ET"):
            in_text = op == "BT"
        elif op in ("BDC", "BMC"):
            mcid = marked_mcid(operands, op)
            open_.append((i, mcid if mcid in mcids and not in_text else None))
        elif op == "EMC" and open_:
            start, mcid = open_.pop()
            if mcid is not None:
                yield start, i, mcid, ctm


def _without_text(instructions: list[Any]) -> list[Any]:
    """The instructions with their text objects (BT..ET) taken out, keeping what those
    leave behind for the text after them (Tf, colours, other state)."""
    return [(o, op) for o, op in instructions if str(op) not in TEXT_OBJECT_ONLY]


def cut_page(page: Any, mcids: Container[int]) -> PageSplice:
    """A page's content with the text of its slot sequences (`mcids`) taken out, cut
    before each one's EMC."""
    instructions = [(list(i.operands), i.operator) for i in pikepdf.parse_content_stream(page)]
    segments, points, start = [], [], 0
    for begin, end, mcid, ctm in _slot_sequences(instructions, mcids):
        if begin < start:
            continue  # nested in a slot sequence cut already (probes never nest)
        kept = instructions[start:begin] + _without_text(instructions[begin:end])
        segments.append(pikepdf.unparse_content_stream(kept))
        a, b, c, d, e, f = ctm.inverse().shorthand
        points.append((mcid, (a, b, c, d, e, f)))
        start = end
    segments.append(pikepdf.unparse_content_stream(instructions[start:]))
    return PageSplice(tuple(segments), tuple(points), read_fonts(page))


def cut_pages(pdf: bytes, slots: Iterable[Slot]) -> dict[int, PageSplice]:
    """Each page with a slot, cut at its slots' sequences."""
    mcids: dict[int, set[int]] = {}
    for slot in slots:
        found = mcids.setdefault(slot.page, set())
        if slot.mcid is not None:
            found.add(slot.mcid)
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return {n: cut_page(document.pages[n], mcids[n]) for n in sorted(mcids)}


def stamp(layout: Layout, stamps: list[Stamp]) -> bytes | None:
    """The layout with every value written in its slot; None when a value cannot be
    (see `fits`)."""
    values = value_ops(layout, stamps)
    return None if values is None else write(layout, values)


def write(layout: Layout, values: Values) -> bytes | None:
    """The layout's PDF with `values` spliced in and its fonts widened with their
    glyphs, written by pdf/rewrite.py: the layout's other objects are serialized once
    per process, not parsed and saved for every record. None: a font cannot be widened,
    or the layout's pages are not as WeasyPrint writes them (a page without its own
    content stream)."""
    writer = _writer(layout)
    if writer is None:
        return None
    made = values.glyphs.objects(writer.fonts, writer.holders, writer.rewrite.next_number)
    if made is None:
        return None
    replaced, added = made
    for number, ops in values.pages.items():
        splice = layout.pages[number]
        content = b"\n".join(interleave(splice.segments, gaps(splice, ops)))
        replaced[writer.contents[number]] = pdf_stream({}, content)
    return writer.rewrite.write(replaced, added)


@dataclass(frozen=True)
class _Writer:
    """A layout as its records' files are written (pdf/rewrite.py): its objects
    serialized once, and the ones a record replaces: each page's content, the page
    fonts and the font dictionaries."""

    rewrite: Rewrite
    contents: dict[int, int]  # page -> object number of its content stream
    fonts: dict[tuple[int, int], WidenableFont]  # the page fonts values are written in
    holders: dict[int, FontHolder]  # page -> where a new face is named


#: Each layout's writer in this process (by the layout object, while it lives).
_writers: dict[int, tuple[weakref.ref[Layout], _Writer | None]] = {}
_writers_lock = threading.Lock()


def _writer(layout: Layout) -> _Writer | None:
    """The layout's writer, made on first use (None: its pages are not as WeasyPrint
    writes them, so values cannot be written into them)."""
    with _writers_lock:
        found = _writers.get(id(layout))
        if found is not None and found[0]() is layout:
            return found[1]
    writer = _make_writer(layout)  # not under the lock: threads stamping others go on
    with _writers_lock:
        for key in [k for k, (ref, _) in _writers.items() if ref() is None]:
            del _writers[key]
        _writers[id(layout)] = (weakref.ref(layout), writer)
    return writer


def _make_writer(layout: Layout) -> _Writer | None:
    with pikepdf.open(io.BytesIO(layout.pdf)) as document:
        contents: dict[int, int] = {}
        fonts: dict[tuple[int, int], WidenableFont] = {}
        holders: dict[int, FontHolder] = {}
        for number, splice in layout.pages.items():
            page = document.pages[number].obj
            content = page.get("/Contents")
            if not isinstance(content, pikepdf.Stream) or not content.is_indirect:
                return None
            contents[number] = content.objgen[0]
            if (holder := font_holder(page)) is not None:
                holders[number] = holder
            for font in splice.fonts.values():
                made = widenable(document.get_object(font.ref))
                if made is not None:
                    fonts[font.ref] = made
        open_ = {*contents.values(), *(h.number for h in holders.values())}
        open_ |= {n for f in fonts.values() for n in (f.descendant, f.file, f.unicode)}
        try:
            return _Writer(Rewrite(document, open_), contents, fonts, holders)
        except ValueError:
            return None


def fits(layout: Layout, stamps: Iterable[Stamp]) -> bool:
    """The one fit rule, the writer's own: every value can be written into its slot's
    marked content with the page's fonts (glyphs, HarfBuzz advances, `FIT_SLACK`). Not:
    a character no bundled face has or one that needs shaping, a value too wide for its
    slot, a slot without marked content to fill."""
    return value_ops(layout, stamps) is not None


@dataclass
class Values:
    """One record's values as content: each page's value ops by slot MCID, and the
    glyphs they add to the page fonts."""

    pages: dict[int, dict[int, bytes]]
    glyphs: RecordFonts


def value_ops(layout: Layout, stamps: Iterable[Stamp]) -> Values | None:
    """Each value's content ops (None: one cannot be written, see `fits`)."""
    values = Values({}, RecordFonts())
    for value in stamps:
        splice = layout.pages.get(value.slot.page)
        height = layout.sizes[value.slot.page][1]
        ops = _value_ops(splice, height, value, values.glyphs) if splice else None
        if ops is None or value.slot.mcid is None:
            return None
        page = values.pages.setdefault(value.slot.page, {})
        page[value.slot.mcid] = b"\n".join(filter(None, (page.get(value.slot.mcid), ops)))
    return values


def gaps(splice: PageSplice, ops: dict[int, bytes]) -> tuple[bytes, ...]:
    """Each slot's ops in the order of the page's cuts (b"" for a slot without a value):
    what goes between `splice.segments` (mail/assemble.py `interleave`)."""
    return tuple(ops.get(mcid, b"") for mcid, _ in splice.points)


def _value_ops(
    splice: PageSplice, height: float, value: Stamp, glyphs: RecordFonts
) -> bytes | None:
    slot = value.slot
    inverse = dict(splice.points).get(slot.mcid) if slot.mcid is not None else None
    if inverse is None:
        return None
    size = value.size or slot.size
    first = first_baseline(value, size)
    color = b" ".join(pdf_number(c) for c in slot.color)
    ops = [b"q %s cm BT 0 Tc 0 Tw 100 Tz 0 Ts 0 Tr %s rg" % (_matrix(inverse), color)]
    lines: list[str] | None = value.lines
    if value.wrap:
        lines = _wrapped(value, lambda text: _width(glyphs, splice, slot, text, size))
    if lines is None:
        return None
    for i, line in enumerate(lines):
        if not line:
            continue  # an empty line of the notes: only its height
        found = glyphs.runs(slot.page, splice.fonts, line, slot.bold, size)
        if found is None or found[1] > slot.width + FIT_SLACK:
            return None
        y = height - (first + i * size * value.leading)
        ops.append(b"1 0 0 1 %s %s Tm" % (pdf_number(slot.x), pdf_number(y)))
        ops += [
            b"%s %s Tf <%s> Tj" % (resource.encode(), pdf_number(size), codes.hex().encode())
            for resource, codes in found[0]
        ]
    ops.append(b"ET")
    if value.after:
        ops.append(value.after)
    ops.append(b"Q")
    return b"\n".join(ops)


def _width(
    glyphs: RecordFonts, splice: PageSplice, slot: Slot, text: str, size: float
) -> float | None:
    found = glyphs.runs(slot.page, splice.fonts, text, slot.bold, size)
    return None if found is None else found[1]


#: Where `white-space: pre-line` text may break: at spaces and tabs (collapsed; a
#: no-break space is not one), and after a hyphen that a letter follows ("follow-|up").
_SPACES = re.compile(r"[ \t]+")
_AFTER_HYPHEN = re.compile(r"(?<=[-\u2010])(?=[^\W\d_])")


def _wrapped(value: Stamp, width: Callable[[str], float | None]) -> list[str] | None:
    """The notes' paragraphs broken into lines where the page may break them, each as
    long as fits the slot's width (the page's own rule for `white-space: pre-line`
    text: spaces collapsed, a line break kept); None when a piece cannot be written or
    the lines are more than `value.wrap`. The writer then checks each line as any
    other value."""
    room = value.slot.width
    lines: list[str] = []
    for paragraph in value.lines:
        line, words = "", paragraph.strip(" \t")
        if not words:
            lines.append("")  # an empty line keeps its height
            continue
        for word in _SPACES.split(words):
            for p, piece in enumerate(_AFTER_HYPHEN.split(word)):
                joined = piece if not line else line + (" " if p == 0 else "") + piece
                wide = width(joined)
                if wide is None:
                    return None
                if wide <= room or not line:
                    line = joined
                else:
                    lines.append(line)
                    line = piece
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines if len(lines) <= value.wrap else None


def _matrix(m: Matrix) -> bytes:
    return b" ".join(pdf_number(v) for v in m)
