"""The fonts a stamped value is written in: the page's own, as a full render has them.

A page made by WeasyPrint embeds a subset of each bundled face it uses (a Type0 font
with two-byte codes that are glyph numbers). A value is split into runs the way the
full render splits it (each character in the first family that has it, a space in the
family of the script before it), and each run is written in the page's font for that
family and weight. A glyph the subset lacks is added by making the subset again from
the bundled file (fonts/harfbuzz.py, as WeasyPrint makes it); a face the page does not
use yet gets a font object of its own, built as WeasyPrint builds one. So a stamped
PDF carries the glyphs its values use, and no others. Each glyph written reads as its
character: an added glyph gets that ToUnicode entry (pdf/tounicode.py writes them),
and a glyph the page has is used only when its entry is that character.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import pikepdf

from handouts.fonts import harfbuzz
from handouts.fonts.registry import BODY, FAMILIES, FaceKey, face
from handouts.pdf.rewrite import Added, dictionary, entries, reference, stream
from handouts.pdf.stream import Copier, pdf_number
from handouts.pdf.structure import cid_widths, page_fonts, to_unicode
from handouts.pdf.tounicode import cmap, with_entries
from handouts.stamp.model import PageFont

Run = tuple[str, bytes]  # (font resource name, codes)


def face_of(base_font: str) -> FaceKey | None:
    """The bundled family and weight of a WeasyPrint font (BaseFont such as
    /ABCDEF+Atkinson-Hyperlegible-Next-Bold), or None for any other font."""
    base = base_font.lstrip("/").split("+", 1)[-1]
    for family in FAMILIES:
        name = family.replace(" ", "-")
        if base in (name, name + "-Bold"):
            return family, base.endswith("-Bold")
    return None


def read_fonts(page: Any) -> dict[FaceKey, PageFont]:
    """The bundled faces a page's resources name, each once."""
    found: dict[FaceKey, PageFont] = {}
    fonts = page.get("/Resources", {}).get("/Font") or {}
    for resource, font in fonts.items():
        key = face_of(str(font.get("/BaseFont", "")))
        if key is None or key in found or "/DescendantFonts" not in font:
            continue
        codes: dict[str, bytes] = {}
        for code, text in to_unicode(font).items():
            if len(text) == 1:
                codes.setdefault(text, code)
        widths = cid_widths(font.DescendantFonts[0].get("/W", pikepdf.Array()))
        found[key] = PageFont(
            font.objgen,
            str(resource),
            key[1],
            codes,
            {cid.to_bytes(2, "big"): w for cid, w in widths.items()},
        )
    return found


#: Scripts whose letters print one glyph per character, left to right, with no shaping.
_SIMPLE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def _simple(char: str) -> bool:
    """Whether a full render would draw this character as its own glyph in text order:
    not a combining mark (HarfBuzz composes or positions it), not right-to-left, not a
    script that HarfBuzz shapes (Arabic, Devanagari...): those take the full render."""
    if unicodedata.combining(char) or unicodedata.bidirectional(char) in ("R", "AL", "AN"):
        return False
    return not char.isalpha() or unicodedata.name(char, "").startswith(_SIMPLE_SCRIPTS)


def _latin(char: str) -> bool:
    return not char.isalpha() or unicodedata.name(char, "").startswith("LATIN")


@cache
def _face(key: FaceKey) -> harfbuzz.Face | None:
    return harfbuzz.face(face(*key).path)


@lru_cache(maxsize=4096)  # a record's values repeat the same letters and digits
def _char(char: str, bold: bool, previous: str) -> tuple[FaceKey, int, float, str] | None:
    """The face a full render takes a character from (the first family that has it),
    its glyph and advance, and the family of the run it continues; None when it needs
    shaping (`_simple`) or no bundled face has it. A space after a letter of another
    script (Greek, Cyrillic) stays in that run's family, as Pango itemizes it; after
    Latin text it is the body font's."""
    if not _simple(char):
        return None
    families = (previous,) if char == " " else FAMILIES
    for family in families:
        hb = _face((family, bold))
        gid = hb.glyph(char) if hb is not None else None
        if hb is not None and gid is not None:
            following = BODY if _latin(char) else family
            return (family, bold), gid, hb.width(gid), following
    return None


@dataclass(frozen=True)
class FontHolder:
    """The object a page's font dictionary is written in (the dictionary itself, or the
    resources or page holding it directly), as written: a new face is named in it."""

    number: int
    outer: tuple[tuple[dict[str, bytes], str], ...]  # enclosing entries, key of the next
    fonts: dict[str, bytes]  # the font dictionary's entries

    def body(self, extra: Mapping[str, bytes]) -> bytes:
        body = dictionary({**self.fonts, **extra})
        for outer, key in reversed(self.outer):
            body = dictionary({**outer, key: body})
        return body


def font_holder(page: Any) -> FontHolder | None:
    """Where new faces are named for `page` (None: its resources are inherited)."""
    resources = page.get("/Resources")
    if resources is None:
        return None
    fonts = resources.get("/Font")
    if fonts is not None and fonts.is_indirect:
        return FontHolder(fonts.objgen[0], (), entries(fonts))
    inner = entries(fonts) if fonts is not None else {}
    if resources.is_indirect:
        return FontHolder(resources.objgen[0], ((entries(resources), "/Font"),), inner)
    outer = ((entries(page), "/Resources"), (entries(resources), "/Font"))
    return FontHolder(page.objgen[0], outer, inner)


class RecordFonts:
    """The glyphs one record's values add to a layout's fonts, and the faces they add."""

    def __init__(self) -> None:
        self.added: dict[tuple[int, int], dict[int, str]] = {}  # font object -> glyphs
        self.new: dict[FaceKey, dict[int, str]] = {}  # faces no page font has yet
        self.pages: dict[int, set[FaceKey]] = {}  # page -> the new faces it uses

    def runs(
        self, page: int, fonts: dict[FaceKey, PageFont], text: str, bold: bool, size: float
    ) -> tuple[list[Run], float] | None:
        """`text` as (font resource, codes) runs and its width in points; None when no
        bundled face has one of its characters, one needs shaping (see `_simple`), a
        glyph the page already has reads as other text in its ToUnicode map (the text
        of a cluster WeasyPrint drew it in: the value would not read as written), or
        HarfBuzz is missing."""
        runs: list[Run] = []
        width, family = 0.0, BODY
        for char in text:
            found = _char(char, bold, family)
            if found is None:
                return None
            key, gid, advance, family = found
            code = gid.to_bytes(2, "big")
            font = fonts.get(key)
            if font is None:
                self.new.setdefault(key, {})[gid] = char
                self.pages.setdefault(page, set()).add(key)
                resource = _new_resource(key)
            else:
                if code not in font.widths:
                    self.added.setdefault(font.ref, {})[gid] = char
                elif font.codes.get(char) != code:
                    return None  # the page's ToUnicode reads this glyph as other text
                resource = font.resource
            width += advance
            if runs and runs[-1][0] == resource:
                runs[-1] = (resource, runs[-1][1] + code)
            else:
                runs.append((resource, code))
        return runs, width * size / 1000

    def objects(
        self,
        fonts: Mapping[tuple[int, int], WidenableFont],
        holders: Mapping[int, FontHolder],
        first: int,
    ) -> tuple[dict[int, bytes], list[bytes]] | None:
        """What `embed` makes, as objects for pdf/rewrite.py, without changing any
        document: each widened font's objects by number (`fonts`: the layout's page
        fonts), then the new faces' objects numbered on from `first`, and the font
        dictionaries (`holders`, by page) that name them. None: a font cannot be made."""
        replaced: dict[int, bytes] = {}
        for ref, glyphs in self.added.items():
            font = fonts.get(ref)
            made = font.objects(glyphs) if font is not None else None
            if made is None:
                return None
            replaced.update(made)
        added = Added(first)
        numbers: dict[FaceKey, int] = {}
        if self.new:
            with pikepdf.new() as scratch:
                copier = Copier(added)
                for key, glyphs in self.new.items():
                    font = _new_font(scratch, key, glyphs)
                    if font is None:
                        return None
                    numbers[key] = copier.copy(font)
        named: dict[int, tuple[FontHolder, dict[str, bytes]]] = {}
        for page, keys in self.pages.items():
            holder = holders.get(page)
            if holder is None:
                return None
            _, extra = named.setdefault(holder.number, (holder, {}))
            extra.update({_new_resource(key): reference(numbers[key]) for key in keys})
        for holder, extra in named.values():
            replaced[holder.number] = holder.body(extra)
        return replaced, added.bodies

    def merge(self, other: RecordFonts) -> None:
        """Adds another record's glyphs: the letters of a chunk share one widening of
        each layout's fonts in mailing.pdf."""
        for ref, glyphs in other.added.items():
            self.added.setdefault(ref, {}).update(glyphs)
        for key, glyphs in other.new.items():
            self.new.setdefault(key, {}).update(glyphs)
        for page, keys in other.pages.items():
            self.pages.setdefault(page, set()).update(keys)

    def changed(self, document: pikepdf.Pdf, number: int) -> dict[str, Any]:
        """The fonts of page `number` (by resource name) that `embed` widened or added."""
        added = {_new_resource(key) for key in self.pages.get(number, ())}
        fonts: Any = document.pages[number].obj.Resources.get("/Font", {})
        return {
            str(name): font
            for name, font in fonts.items()
            if str(name) in added or font.objgen in self.added
        }

    def embed(self, document: pikepdf.Pdf) -> bool:
        """Widens each page font that gained glyphs and adds the new faces, in
        `document` (mailing.pdf's fonts for a chunk of letters, mail/files.py). The same
        subsets, widths and ToUnicode entries as `objects` writes into each letter file:
        `_subset`, `_new_font`, `with_entries`; test_fastpath compares mailing.pdf's
        pages with the letter files."""
        for ref, glyphs in self.added.items():
            if not _widen(document.get_object(ref), glyphs):
                return False
        made = {key: _new_font(document, key, glyphs) for key, glyphs in self.new.items()}
        if any(font is None for font in made.values()):
            return False
        for number, keys in self.pages.items():
            resources = document.pages[number].obj.Resources
            if "/Font" not in resources:
                resources.Font = pikepdf.Dictionary()
            for key in keys:
                resources.Font[_new_resource(key)] = made[key]
        return True


@lru_cache(maxsize=256)  # letters of a mailing add the same date glyphs again and again
def _subset(key: FaceKey, gids: frozenset[int]) -> bytes | None:
    hb = _face(key)
    return hb.subset(gids) if hb is not None else None


def _new_resource(key: FaceKey) -> str:
    family, bold = key
    return f"/Stamp{FAMILIES.index(family)}{'B' if bold else 'R'}"


@dataclass(frozen=True)
class WidenableFont:
    """A page font as `RecordFonts.objects` widens it without its document: the face,
    the glyphs its subset has, and its objects (numbers, entries as written)."""

    key: FaceKey
    gids: frozenset[int]
    descendant: int  # object number of the CIDFont, whose /W gains the new widths
    descendant_entries: dict[str, bytes]
    file: int  # its FontFile2 stream: the subset made again
    file_entries: dict[str, bytes]
    unicode: int  # its ToUnicode stream: entries added
    unicode_entries: dict[str, bytes]
    unicode_data: bytes

    def objects(self, glyphs: dict[int, str]) -> dict[int, bytes] | None:
        """The font's objects with `glyphs` added (None: no subset can be made)."""
        made = _widened(self.key, self.gids, glyphs)
        if made is None:
            return None
        data, added = made
        widths = b" ".join(b"%d [ %s ]" % (g, pdf_number(width)) for g, width in added)
        old = self.descendant_entries["/W"]
        return {
            self.descendant: dictionary(
                {**self.descendant_entries, "/W": old[:-1] + widths + b" ]"}
            ),
            self.file: stream({**self.file_entries, "/Length1": b"%d" % len(data)}, data),
            self.unicode: stream(self.unicode_entries, with_entries(self.unicode_data, glyphs)),
        }


_REWRITTEN = ("/Length", "/Filter", "/DecodeParms")


def widenable(font: Any) -> WidenableFont | None:
    """What widening `font` (a bundled face WeasyPrint embeds) needs, read once; None for
    a font whose objects are not each their own (then nothing is stamped in it)."""
    key = face_of(str(font.get("/BaseFont", "")))
    descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else None
    if key is None or descendant is None:
        return None
    file = descendant.FontDescriptor.get("/FontFile2")
    unicode = font.get("/ToUnicode")
    widths = descendant.get("/W")
    parts = (descendant, file, unicode)
    if widths is None or widths.is_indirect or any(p is None or not p.is_indirect for p in parts):
        return None

    def kept(obj: Any) -> dict[str, bytes]:
        return {k: v for k, v in entries(obj.stream_dict).items() if k not in _REWRITTEN}

    return WidenableFont(
        key,
        frozenset(cid_widths(widths)),
        descendant.objgen[0],
        entries(descendant),
        file.objgen[0],
        kept(file),
        unicode.objgen[0],
        kept(unicode),
        unicode.read_bytes(),
    )


def _widened(
    key: FaceKey | None, gids: frozenset[int], glyphs: dict[int, str]
) -> tuple[bytes, list[tuple[int, float]]] | None:
    """A page font's subset (of glyphs `gids`) made again with `glyphs` added, and the
    added glyphs' widths in glyph order; one computation for both ways of writing a
    widened font (`_widen` in a document, `WidenableFont.objects` as bytes)."""
    hb = _face(key) if key else None
    data = _subset(key, gids | set(glyphs)) if key else None
    if hb is None or data is None:
        return None
    return data, [(gid, hb.width(gid)) for gid in sorted(glyphs)]


def _widen(font: Any, glyphs: dict[int, str]) -> bool:
    """Makes a page font's subset again with `glyphs` added (numbers kept)."""
    descendant = font.DescendantFonts[0]
    made = _widened(face_of(str(font.BaseFont)), frozenset(cid_widths(descendant.W)), glyphs)
    if made is None:
        return False
    data, added = made
    descendant.FontDescriptor.FontFile2.write(data)
    descendant.FontDescriptor.FontFile2.Length1 = len(data)
    for gid, width in added:
        descendant.W.extend(pikepdf.Array([gid, [width]]))
    font.ToUnicode.write(with_entries(font.ToUnicode.read_bytes(), glyphs))
    return True


def _new_font(document: pikepdf.Pdf, key: FaceKey, glyphs: dict[int, str]) -> Any:
    """A Type0 font of a bundled face with only `glyphs`, built as WeasyPrint builds
    one (same subset, descriptor entries and naming)."""
    hb = _face(key)
    data = _subset(key, frozenset(glyphs))
    if hb is None or data is None:
        return None
    family, bold = key
    tag = "".join(
        chr(65 + b % 26) for b in hashlib.sha256(repr(sorted(glyphs)).encode()).digest()[:6]
    )
    name = pikepdf.Name(f"/{tag}+{family.replace(' ', '-')}{'-Bold' if bold else ''}")
    ascent, descent = hb.extents()
    widths = {gid: hb.width(gid) for gid in glyphs}
    file = document.make_stream(data)
    file.Length1 = len(data)
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor,
        FontName=name,
        FontFamily=pikepdf.String(family),
        Flags=4,
        FontBBox=[0, descent, max(widths.values()), ascent],
        ItalicAngle=0,
        Ascent=ascent,
        Descent=descent,
        CapHeight=ascent,
        StemV=80,
        StemH=80,
        FontFile2=file,
    )
    descendant = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.CIDFontType2,
        BaseFont=name,
        CIDSystemInfo=pikepdf.Dictionary(
            Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0
        ),
        FontDescriptor=document.make_indirect(descriptor),
        W=pikepdf.Array([item for gid in sorted(widths) for item in (gid, [widths[gid]])]),
        CIDToGIDMap=pikepdf.Name.Identity,
    )
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type0,
        BaseFont=name,
        Encoding=pikepdf.Name("/Identity-H"),
        DescendantFonts=[document.make_indirect(descendant)],
        ToUnicode=document.make_stream(cmap(glyphs)),
    )
    return document.make_indirect(font)


def narrow(document: pikepdf.Pdf, dropped: dict[tuple[int, int], set[int]]) -> None:
    """Makes each bundled font's subset again without the glyphs in `dropped` (by font
    object: the probe render's probes, which a full render's subsets do not have)."""
    for font in page_fonts(document):
        gone = dropped.get(font.objgen, set())
        key = face_of(str(font.get("/BaseFont", "")))
        if not gone or key is None or "/DescendantFonts" not in font:
            continue
        descendant = font.DescendantFonts[0]
        widths = cid_widths(descendant.get("/W", pikepdf.Array()))
        kept = {gid: width for gid, width in widths.items() if gid not in gone}
        data = _subset(key, frozenset(kept))
        if data is None:
            continue  # without HarfBuzz the subset keeps them (nothing is stamped then)
        descendant.FontDescriptor.FontFile2.write(data)
        descendant.FontDescriptor.FontFile2.Length1 = len(data)
        descendant.W = pikepdf.Array([item for gid in sorted(kept) for item in (gid, [kept[gid]])])
        entries = {int.from_bytes(code, "big"): text for code, text in to_unicode(font).items()}
        font.ToUnicode.write(cmap({code: t for code, t in entries.items() if code not in gone}))
