"""Every glyph a page shows maps to Unicode (PDF/UA-1 7.21.7), with the text it came from.

WeasyPrint 70 gives each glyph one ToUnicode entry: the text from its cluster's start to
the start of the next glyph's cluster, the first time it draws the glyph
(draw/text.py). When HarfBuzz shapes a cluster into several glyphs (a vowel sign drawn
before its consonant, a reph, a consonant under a reph), the last glyph gets the whole
cluster's text and the others get `<>`, no Unicode at all: a PDF/UA checker fails
every handout with the Hindi tagline, and a name in Hindi, Bengali, Gujarati or
Punjabi adds more.

Each such code gets an entry here, from the font and the text. The texts of the HTML
are shaped again with the file the font was made from (fonts/files.py, checked
against the subset's widths), as Pango shapes them. Where an unmapped glyph is drawn,
it gets the letters of its cluster that the entries of the cluster's other glyphs do
not already give: a glyph that is a cluster of its own (a consonant, a conjunct) maps to
the whole cluster, and one whose cluster another glyph already reads as maps to U+2060
WORD JOINER, an invisible character that adds nothing, so extracted text is not
garbled. A glyph drawn in several clusters takes the text most of them need (letters
win a tie). Without the file or the text, every unmapped glyph is taken to be of the
second kind: the only kind WeasyPrint leaves unmapped. One entry per glyph cannot give
a shaped script's words in order; /ActualText does (pdf/repair.py, which also gives
it to any element that reads a word joiner).
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

import pikepdf

from handouts.fonts.files import font_face
from handouts.fonts.harfbuzz import Face
from handouts.pdf.structure import cid_widths, page_fonts, to_unicode

#: The text of a glyph whose cluster another glyph already reads as.
WORD_JOINER = "\u2060"
#: Not Unicode values a PDF/UA checker accepts (veraPDF rule 7.21.7-1).
_INVALID = frozenset("\u0000\ufeff\ufffe")
#: Widths of the file and of the subset may differ by rounding (thousandths of an em).
_WIDTH_SLACK = 1


def complete_to_unicode(pdf: pikepdf.Pdf, texts: Sequence[str]) -> None:
    """Gives each code a Type0 font shows (its /W lists them) a ToUnicode entry, in
    place; `texts` are the texts the pages were made from."""
    for font in page_fonts(pdf):
        if font.get("/Subtype") != "/Type0" or not font.get("/DescendantFonts"):
            continue
        entries = {
            int.from_bytes(code, "big"): text
            for code, text in to_unicode(font).items()
            if text and _INVALID.isdisjoint(text)
        }
        shown = cid_widths(font.DescendantFonts[0].get("/W", pikepdf.Array()))
        missing = set(shown) - set(entries)
        if missing:
            votes = _votes(font, entries, missing, texts)
            entries.update((code, _choice(votes.get(code))) for code in missing)
            _write(pdf, font, entries)


def _choice(votes: Counter[str] | None) -> str:
    """The text most clusters need (letters before nothing), or the word joiner."""
    if not votes:
        return WORD_JOINER
    text = max(votes.items(), key=lambda item: (item[1], item[0] != "", item[0]))[0]
    return text or WORD_JOINER


def _votes(
    font: Any, entries: dict[int, str], missing: set[int], texts: Sequence[str]
) -> dict[int, Counter[str]]:
    """For each unmapped glyph, the text each cluster it is drawn in needs from it."""
    face = _source(font)
    if face is None:
        return {}
    letters = {c for text in entries.values() for c in text if unicodedata.category(c)[0] in "LM"}
    votes: dict[int, Counter[str]] = defaultdict(Counter)
    for text in texts:
        if letters.isdisjoint(text):
            continue  # not drawn in this font
        for glyphs, cluster in _clusters(text, face.shape(text)):
            unknown = [glyph for glyph in glyphs if glyph in missing]
            if not unknown:
                continue
            read = "".join(entries.get(glyph, "") for glyph in glyphs)
            votes[unknown[-1]][_unread(cluster, read)] += 1
            for glyph in unknown[:-1]:  # the last one takes what is left
                votes[glyph][""] += 1
    return votes


def _source(font: Any) -> Face | None:
    """The file the font was made from, if every width of the subset agrees with it."""
    descendant = font.DescendantFonts[0]
    family = str(descendant.get("/FontDescriptor", {}).get("/FontFamily", ""))
    name = str(font.get("/BaseFont", "")).lstrip("/").split("+", 1)[-1]
    face = font_face(family, name) if family else None
    widths = cid_widths(descendant.get("/W", pikepdf.Array()))
    if face is None or any(abs(face.width(g) - w) > _WIDTH_SLACK for g, w in widths.items()):
        return None
    return face


def _clusters(text: str, glyphs: list[tuple[int, int]]) -> Iterator[tuple[list[int], str]]:
    """(glyphs, text) of each cluster of a shaped text, in drawing order."""
    starts = sorted({cluster for _, cluster in glyphs})
    ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
    for start, group in groupby(glyphs, key=lambda glyph: glyph[1]):
        yield [glyph for glyph, _ in group], text[start : ends[start]]


def _unread(cluster: str, read: str) -> str:
    """The characters of `cluster` that `read` lacks, in order."""
    left = Counter(read)
    kept = []
    for char in cluster:
        if left[char] > 0:
            left[char] -= 1
        elif char not in _INVALID:
            kept.append(char)
    return "".join(kept)


def _write(pdf: pikepdf.Pdf, font: Any, entries: dict[int, str]) -> None:
    data = cmap(entries)
    if "/ToUnicode" in font:
        font.ToUnicode.write(data)
    else:
        font.ToUnicode = pdf.make_stream(data)


def bfchar(entries: dict[int, str]) -> bytes:
    """`beginbfchar` blocks (100 entries at most each) for two-byte codes."""
    items = sorted(entries.items())
    blocks = []
    for i in range(0, len(items), 100):
        chunk = items[i : i + 100]
        lines = b"\n".join(
            b"<%04x> <%s>" % (code, text.encode("utf-16-be").hex().encode()) for code, text in chunk
        )
        blocks.append(b"%d beginbfchar\n%s\nendbfchar\n" % (len(chunk), lines))
    return b"".join(blocks)


def with_entries(data: bytes, entries: dict[int, str]) -> bytes:
    """A ToUnicode CMap with entries for new two-byte codes."""
    head, _, tail = data.rpartition(b"endcmap")
    return head + bfchar(entries) + b"endcmap" + tail


def cmap(entries: dict[int, str]) -> bytes:
    """A ToUnicode CMap for two-byte codes, as WeasyPrint writes one."""
    return (
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n"
        + bfchar(entries)
        + b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
