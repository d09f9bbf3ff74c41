"""Smaller embedded CJK fonts: WeasyPrint's subsets keep every glyph slot.

WeasyPrint subsets each font but keeps the glyph numbering of the whole font (its
content streams name glyphs by their number in the original font). For the Latin
fonts that costs nothing; for a Noto CJK face it keeps about 63,000 glyph slots and two
metrics tables of 250 KB each, so one Chinese word on a page added 100-200 KB per face
to every PDF, and a few taglines in Chinese, Japanese and Korean tripled the size of an
English handout.

Noto CJK fonts are CID-keyed CFF: the PDF's character codes are CIDs, and the font maps
each CID to its outline through its charset, not through the glyph's position. So the
font can be subset again without the empty slots: the glyphs keep their CIDs, the page
contents and the /W widths stay exactly as they are, and only the font program shrinks.
Any other font, or a font whose used CIDs do not match its glyph names, is left alone.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import pikepdf
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont

from handouts.pdf.structure import page_fonts, used_cids

#: Re-subset only fonts with this many more glyph slots than glyphs used.
_WASTE = 4


def shrink_cid_fonts(pdf: pikepdf.Pdf) -> None:
    """Re-subsets, in place, every CID-keyed OpenType CFF font program with empty slots."""
    for cid_font in _cid_type0_fonts(pdf):
        descriptor = cid_font.get("/FontDescriptor")
        if descriptor is None or "/FontFile3" not in descriptor:
            continue
        stream = descriptor.FontFile3
        if stream.get("/Subtype") != "/OpenType":
            continue
        used = used_cids(cid_font.get("/W", pikepdf.Array()))
        data = stream.read_bytes()
        smaller = _subset_cached(hashlib.sha256(data).digest(), frozenset(used), data)
        if smaller is not None:
            stream.write(smaller)
            stream.Subtype = pikepdf.Name.CIDFontType0C


def _cid_type0_fonts(pdf: pikepdf.Pdf) -> Iterator[Any]:
    for font in page_fonts(pdf):
        for descendant in font.get("/DescendantFonts", []):
            if descendant.get("/Subtype") == "/CIDFontType0":
                yield descendant


_cache_lock = threading.Lock()
_CACHE: OrderedDict[tuple[bytes, frozenset[int]], bytes | None] = OrderedDict()
#: Subsets kept per process: the taglines of every handout use the same glyphs.
_CACHE_SIZE = 32


def _subset_cached(digest: bytes, used: frozenset[int], data: bytes) -> bytes | None:
    key = (digest, used)
    with _cache_lock:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    result = _subset(data, used)
    with _cache_lock:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def _subset(data: bytes, used: frozenset[int]) -> bytes | None:
    font = TTFont(io.BytesIO(data))
    if "CFF " not in font:
        return None
    cff = font["CFF "].cff
    if not hasattr(cff[cff.fontNames[0]], "ROS"):
        return None  # not CID-keyed: codes are glyph positions, which must stay
    order = font.getGlyphOrder()
    if len(order) < _WASTE * (len(used) + 1):
        return None
    names = {f"cid{cid:05d}" for cid in used}
    if not names <= set(order):
        return None
    options = Options(
        retain_gids=False,
        notdef_outline=True,
        name_IDs=["*"],
        name_languages=["*"],
        glyph_names=True,
        ignore_missing_glyphs=True,
        passthrough_tables=True,
        layout_features=[],
        drop_tables=["vmtx", "vhea", "VORG", "GSUB", "GPOS", "BASE"],
    )
    subsetter = Subsetter(options)
    subsetter.populate(glyphs=sorted(names))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return bytes(TTFont(io.BytesIO(buffer.getvalue())).reader["CFF "])
