"""Font subsets made the way WeasyPrint makes them, in about a millisecond: HarfBuzz.

Also shapes text as Pango shapes it (pdf/tounicode.py reads which text each glyph
of a page came from).

Stamping writes a value with the glyphs of the font its page already embeds. When the
value needs a glyph the page's subset lacks, the subset is made again from the bundled
font file with that glyph added, exactly as WeasyPrint 70 makes it (pdf/fonts.py: glyph
numbers kept, the same tables dropped, then cut after the last glyph used), so a
stamped PDF carries the same font a full render of the record would. libharfbuzz and
libharfbuzz-subset are loaded with ctypes (WeasyPrint needs both anyway), so this works
without importing WeasyPrint.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

_RETAIN_GIDS = 0x2
_DESUBROUTINIZE = 0x4
_PASSTHROUGH_UNRECOGNIZED = 0x20
_NO_HINTING = 0x1
_DROP_TABLE_TAG = 3  # HB_SUBSET_SETS_DROP_TABLE_TAG
#: The tables WeasyPrint drops from every subset.
_DROPPED = b"BASE DSIG EBDT EBLC EBSC GPOS GSUB JSTF LTSH PCLT SVG_".replace(b"_", b" ").split()
_MODE_DUPLICATE = 0
#: Pango's cluster level: a mark keeps a cluster of its own unless shaping moves or
#: merges it (HB_BUFFER_CLUSTER_LEVEL_MONOTONE_CHARACTERS).
_MONOTONE_CHARACTERS = 1
_BEGINNING_AND_END_OF_TEXT = 0x1 | 0x2  # HB_BUFFER_FLAG_BOT | HB_BUFFER_FLAG_EOT


class _Extents(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in ("ascender", "descender", "line_gap")] + [
        (f"reserved{n}", ctypes.c_int32) for n in range(9)
    ]


class _GlyphInfo(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint32) for name in ("codepoint", "mask", "cluster", "var1", "var2")
    ]


class _Libraries:
    def __init__(self) -> None:
        main = ctypes.util.find_library("harfbuzz")
        subset = ctypes.util.find_library("harfbuzz-subset")
        if main is None or subset is None:
            raise OSError("libharfbuzz-subset0 is not installed")
        self.hb = ctypes.CDLL(main)
        self.sub = ctypes.CDLL(subset)
        p, u = ctypes.c_void_p, ctypes.c_uint
        self._sign(self.hb.hb_blob_create, p, [ctypes.c_char_p, u, ctypes.c_int, p, p])
        self._sign(self.hb.hb_blob_destroy, None, [p])
        self._sign(self.hb.hb_blob_get_data, ctypes.POINTER(ctypes.c_char), [p, ctypes.POINTER(u)])
        self._sign(self.hb.hb_face_create, p, [p, u])
        self._sign(self.hb.hb_face_destroy, None, [p])
        self._sign(self.hb.hb_face_reference_blob, p, [p])
        self._sign(self.hb.hb_face_get_upem, u, [p])
        self._sign(self.hb.hb_font_create, p, [p])
        self._sign(self.hb.hb_font_get_nominal_glyph, ctypes.c_int, [p, u, ctypes.POINTER(u)])
        self._sign(self.hb.hb_font_get_glyph_h_advance, ctypes.c_int32, [p, u])
        self._sign(self.hb.hb_font_get_h_extents, ctypes.c_int, [p, ctypes.POINTER(_Extents)])
        self._sign(self.hb.hb_set_add, None, [p, u])
        self._sign(self.hb.hb_tag_from_string, ctypes.c_uint32, [ctypes.c_char_p, ctypes.c_int])
        self._sign_shaping(p, u)
        self._sign(self.sub.hb_subset_input_create_or_fail, p, [])
        self._sign(self.sub.hb_subset_input_destroy, None, [p])
        self._sign(self.sub.hb_subset_input_glyph_set, p, [p])
        self._sign(self.sub.hb_subset_input_set, p, [p, ctypes.c_int])
        self._sign(self.sub.hb_subset_input_set_flags, None, [p, u])
        self._sign(self.sub.hb_subset_or_fail, p, [p, p])

    def _sign_shaping(self, p: Any, u: Any) -> None:
        hb, codes = self.hb, ctypes.POINTER(ctypes.c_uint32)
        self._sign(hb.hb_buffer_create, p, [])
        self._sign(hb.hb_buffer_destroy, None, [p])
        self._sign(hb.hb_buffer_add_utf32, None, [p, codes, ctypes.c_int, u, ctypes.c_int])
        self._sign(hb.hb_buffer_guess_segment_properties, None, [p])
        self._sign(hb.hb_buffer_set_cluster_level, None, [p, ctypes.c_int])
        self._sign(hb.hb_buffer_set_flags, None, [p, u])
        self._sign(hb.hb_shape, None, [p, p, p, u])
        self._sign(hb.hb_buffer_get_glyph_infos, ctypes.POINTER(_GlyphInfo), [p, ctypes.POINTER(u)])

    @staticmethod
    def _sign(function: Any, restype: Any, argtypes: list[Any]) -> None:
        function.restype = restype
        function.argtypes = argtypes


@cache
def _libraries() -> _Libraries | None:
    try:
        return _Libraries()
    except OSError:
        return None


def available() -> bool:
    return _libraries() is not None


class Face:
    """A font file (face `index` of a collection) loaded in HarfBuzz: its glyphs,
    advances and subsets, and text shaped with it."""

    def __init__(self, path: Path, index: int = 0) -> None:
        libs = _libraries()
        if libs is None:
            raise OSError("libharfbuzz-subset0 is not installed")
        self.libs = libs
        data = path.read_bytes()
        blob = libs.hb.hb_blob_create(data, len(data), _MODE_DUPLICATE, None, None)
        self.face = libs.hb.hb_face_create(blob, index)
        libs.hb.hb_blob_destroy(blob)
        self.font = libs.hb.hb_font_create(self.face)
        self.scale = 1000 / libs.hb.hb_face_get_upem(self.face)
        self._lock = threading.Lock()

    def glyph(self, char: str) -> int | None:
        """The glyph number of a character, or None when the font has none."""
        found = ctypes.c_uint()
        if not self.libs.hb.hb_font_get_nominal_glyph(self.font, ord(char), ctypes.byref(found)):
            return None
        return found.value

    def width(self, gid: int) -> float:
        """Advance width in thousandths of the font size (as a PDF /W gives it)."""
        return float(round(self.libs.hb.hb_font_get_glyph_h_advance(self.font, gid) * self.scale))

    def extents(self) -> tuple[float, float]:
        """Ascender and descender in thousandths of the font size."""
        found = _Extents()
        self.libs.hb.hb_font_get_h_extents(self.font, ctypes.byref(found))
        return round(found.ascender * self.scale), round(found.descender * self.scale)

    def shape(self, text: str) -> list[tuple[int, int]]:
        """(glyph, cluster) of each glyph HarfBuzz draws `text` with, in drawing order,
        shaped as Pango shapes a run; a cluster is the index of its first character."""
        hb = self.libs.hb
        codes = (ctypes.c_uint32 * len(text))(*map(ord, text))
        count = ctypes.c_uint()
        with self._lock:
            buffer = hb.hb_buffer_create()
            hb.hb_buffer_add_utf32(buffer, codes, len(text), 0, len(text))
            hb.hb_buffer_guess_segment_properties(buffer)
            hb.hb_buffer_set_cluster_level(buffer, _MONOTONE_CHARACTERS)
            hb.hb_buffer_set_flags(buffer, _BEGINNING_AND_END_OF_TEXT)
            hb.hb_shape(self.font, buffer, None, 0)
            infos = hb.hb_buffer_get_glyph_infos(buffer, ctypes.byref(count))
            found = [(infos[i].codepoint, infos[i].cluster) for i in range(count.value)]
            hb.hb_buffer_destroy(buffer)
        return found

    def subset(self, gids: Iterable[int]) -> bytes | None:
        """The font with only `gids`, numbers kept, as WeasyPrint subsets it."""
        keep = sorted(set(gids) | {0})
        with self._lock:
            first = self._subset(self.face, keep, _RETAIN_GIDS)
            if first is None:
                return None
            second = self._subset(first, range(keep[-1] + 1), _NO_HINTING)
            self.libs.hb.hb_face_destroy(first)
            if second is None:
                return None
            blob = self.libs.hb.hb_face_reference_blob(second)
            size = ctypes.c_uint()
            data = self.libs.hb.hb_blob_get_data(blob, ctypes.byref(size))
            result = ctypes.string_at(data, size.value)
            self.libs.hb.hb_blob_destroy(blob)
            self.libs.hb.hb_face_destroy(second)
        return result

    def _subset(self, face: Any, gids: Iterable[int], flags: int) -> Any:
        hb, sub = self.libs.hb, self.libs.sub
        request = sub.hb_subset_input_create_or_fail()
        if not request:
            return None
        glyphs = sub.hb_subset_input_glyph_set(request)
        for gid in gids:
            hb.hb_set_add(glyphs, gid)
        sub.hb_subset_input_set_flags(request, flags | _DESUBROUTINIZE | _PASSTHROUGH_UNRECOGNIZED)
        dropped = sub.hb_subset_input_set(request, _DROP_TABLE_TAG)
        for tag in _DROPPED:
            hb.hb_set_add(dropped, hb.hb_tag_from_string(tag, -1))
        result = sub.hb_subset_or_fail(face, request)
        sub.hb_subset_input_destroy(request)
        return result or None


@cache
def face(path: Path, index: int = 0) -> Face | None:
    """The HarfBuzz face of a font file, loaded once (None without libharfbuzz-subset)."""
    return Face(path, index) if available() else None
