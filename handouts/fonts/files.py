"""The file a font WeasyPrint embeds was made from, loaded in HarfBuzz.

WeasyPrint names an embedded font after Pango's description of it (`/ABCDEF+Noto-Sans-
Devanagari-Bold`, with the family in the descriptor's /FontFamily). A bundled family is
one of fonts/registry.py's files; any other Pango found through fontconfig, and asking
fontconfig for that family and style gives the same file. Callers check the file
against the subset (its widths) before trusting it. libfontconfig is loaded with ctypes
(Pango needs it anyway).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import cache
from pathlib import Path
from typing import Any

from handouts.fonts import harfbuzz
from handouts.fonts.registry import FAMILIES, face

_MATCH_PATTERN = 0  # FcMatchPattern
_RESULT_MATCH = 0  # FcResultMatch
#: Pango style words (split at their hyphens in a PDF font name) that are two words long.
_PREFIXES = ("Semi", "Demi", "Extra", "Ultra", "Small")
_lock = threading.Lock()


class _Fontconfig:
    def __init__(self, path: str) -> None:
        self.fc = fc = ctypes.CDLL(path)
        p, string = ctypes.c_void_p, ctypes.c_char_p
        self._sign(fc.FcNameParse, p, [string])
        self._sign(fc.FcConfigSubstitute, ctypes.c_int, [p, p, ctypes.c_int])
        self._sign(fc.FcDefaultSubstitute, None, [p])
        self._sign(fc.FcFontMatch, p, [p, p, ctypes.POINTER(ctypes.c_int)])
        self._sign(fc.FcPatternGetString, ctypes.c_int, [p, string, ctypes.c_int, p])
        self._sign(fc.FcPatternGetInteger, ctypes.c_int, [p, string, ctypes.c_int, p])
        self._sign(fc.FcPatternDestroy, None, [p])

    @staticmethod
    def _sign(function: Any, restype: Any, argtypes: list[Any]) -> None:
        function.restype = restype
        function.argtypes = argtypes

    def match(self, name: str) -> tuple[Path, int] | None:
        """The file and face index fontconfig matches a font name with."""
        fc = self.fc
        pattern = fc.FcNameParse(name.encode())
        if not pattern:
            return None
        fc.FcConfigSubstitute(None, pattern, _MATCH_PATTERN)
        fc.FcDefaultSubstitute(pattern)
        result = ctypes.c_int()
        matched = fc.FcFontMatch(None, pattern, ctypes.byref(result))
        fc.FcPatternDestroy(pattern)
        if not matched:
            return None
        file, index = ctypes.c_char_p(), ctypes.c_int()
        found = fc.FcPatternGetString(matched, b"file", 0, ctypes.byref(file))
        fc.FcPatternGetInteger(matched, b"index", 0, ctypes.byref(index))
        path = file.value if found == _RESULT_MATCH else None  # owned by `matched`
        fc.FcPatternDestroy(matched)
        return (Path(path.decode()), index.value) if path else None


@cache
def _fontconfig() -> _Fontconfig | None:
    path = ctypes.util.find_library("fontconfig")
    return _Fontconfig(path) if path else None


def fontconfig_name(family: str, base_font: str) -> str:
    """The fontconfig pattern of a PDF font: its family, and the style words Pango's
    description adds after it ("Bold", "Semi-Bold Italic") as fontconfig constants."""
    name = base_font.lstrip("/").split("+", 1)[-1]
    words = name.removeprefix(family.replace(" ", "-")).strip("-").split("-")
    styles: list[str] = []
    for word in filter(None, words):
        if styles and styles[-1].title() in _PREFIXES:
            styles[-1] += word.lower()
        else:
            styles.append(word.lower())
    escaped = "".join("\\" + c if c in "\\-:," else c for c in family)
    return ":".join([escaped, *styles])


@cache
def font_face(family: str, base_font: str) -> harfbuzz.Face | None:
    """The HarfBuzz face of the file a PDF font was made from (None: no HarfBuzz or
    fontconfig, or no file)."""
    if family in FAMILIES:
        return harfbuzz.face(face(family, base_font.endswith("-Bold")).path)
    fontconfig = _fontconfig()
    if fontconfig is None or not harfbuzz.available():
        return None
    with _lock:
        found = fontconfig.match(fontconfig_name(family, base_font))
    if found is None or not found[0].is_file():
        return None
    return harfbuzz.face(*found)
