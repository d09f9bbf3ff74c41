"""Missing glyphs: a clear error naming the language and the script, never empty boxes.

Where no installed font has a character, the PDF shows glyph 0 (.notdef, an empty box)
for it. A handout with boxes instead of words is worse than none, so a render whose PDF
shows glyph 0 anywhere fails with an error that names the language of the handout and
the script it could not print, and the Debian package that has a font for it. The
error never quotes the character: it may come from a patient's name.

The check reads the PDF, not WeasyPrint's log (which the command line silences, and
which quotes the character). WeasyPrint 70 writes Type0 fonts with two-byte codes and
CIDToGIDMap /Identity: a font that draws a glyph it does not have gets an embedded
encoding CMap (/WP-Encod-0) that sends a code of its own for each such character to CID
0, and the ToUnicode map sends that code to the character; a font without one is
/Identity-H, where glyph 0 is code 0000 (HarfBuzz's glyph for a character the font
lacks). Either way the font's ToUnicode map tells which character it was, and from it
the script.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pikepdf
from babel import Locale, UnknownLocaleError

from handouts.errors import RenderError
from handouts.pdf.structure import to_unicode

#: First word of a Unicode character name -> the script name users know.
_SCRIPT_NAMES = {
    "CJK": "Han (Chinese characters)",
    "IDEOGRAPHIC": "Han (Chinese characters)",
    "HIRAGANA": "Japanese kana",
    "KATAKANA": "Japanese kana",
    "HANGUL": "Hangul (Korean)",
    "FULLWIDTH": "full-width (East Asian) punctuation",
    "HALFWIDTH": "half-width (East Asian) forms",
}
#: Scripts whose Noto fonts are in fonts-noto-cjk; every other script is in fonts-noto-core.
_CJK_SCRIPTS = {"CJK", "IDEOGRAPHIC", "HIRAGANA", "KATAKANA", "HANGUL", "FULLWIDTH", "HALFWIDTH"}
#: Where the PDF does not say which characters were missing: every package of fonts.
_ANY_PACKAGE = "fonts-noto-cjk fonts-noto-core"
#: The operators that show text (the string is the last operand; TJ's is an array),
#: and those that change which font shows it or draw a Form XObject.
_OPERATORS = "Tf Tj TJ ' \" Do q Q"
#: A hex string that has four zeros in a row or white space (the digits: group 1).
_HEX_SUSPECT = re.compile(rb"<(?=[0-9A-Fa-f\s\x00]*?(?:0000|[\s\x00]))([0-9A-Fa-f\s\x00]*)>")
_SPACED_HEX = re.compile(rb"<[0-9A-Fa-f]*[\s\x00]")
_PDF_SPACE = re.compile(rb"[\s\x00]+")
_CIDCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*(\d+)")
_CIDRANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\d+)")


def script_of(char: str) -> tuple[str, str]:
    """(the script's name, the Debian package with a font for it) of one character."""
    first = unicodedata.name(char, "UNKNOWN CHARACTER").split()[0]
    name = _SCRIPT_NAMES.get(first, first.title())
    package = "fonts-noto-cjk" if first in _CJK_SCRIPTS else "fonts-noto-core"
    return name, package


def language_name(code: str) -> str:
    """'Chinese (zh-Hans)': the English name CLDR gives a language code, and the code."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name("en")
    except (UnknownLocaleError, ValueError):
        return code
    return f"{name} ({code})" if name else code


def missing_glyph_error(shown: Iterable[str], language: str) -> RenderError:
    """The error for a PDF that shows glyph 0; `shown`: what those glyphs stand for (from
    missing_glyphs; "" where unknown). Names the scripts, never quotes the text; where
    no character is known (or none has a script), says "some characters"."""
    scripts = sorted(
        {script_of(c) for text in shown for c in text if c.isprintable() and not c.isspace()}
    )
    names = ", ".join(name for name, _ in scripts)
    packages = " ".join(sorted({package for _, package in scripts})) or _ANY_PACKAGE
    return RenderError(
        f"no installed font has {f'the {names}' if names else 'some'} characters of this "
        f"{language_name(language)} handout: it would print empty boxes. Install the fonts "
        f"(apt-get install {packages}; `make setup` does) and render again."
    )


def missing_glyphs(pdf: pikepdf.Pdf) -> list[str]:
    """What each code a PDF shows as glyph 0 stands for (its ToUnicode text, "" where
    there is none), once per font and code: empty when every glyph shown is a real one.

    Reads every text-showing operator of every page and of the Form XObjects they draw
    (each form once), with the font it shows in; changes nothing."""
    scan = _Scan()
    for page in pdf.pages:
        scan.content(page, page.get("/Resources"))
    return scan.texts()


@dataclass(frozen=True)
class _Codes:
    """Which two-byte codes of a Type0 font show glyph 0."""

    cids: dict[bytes, int] | None  # its embedded encoding CMap; None: /Identity-H
    gids: bytes | None  # its CIDToGIDMap stream; None: /Identity

    def notdef(self, data: bytes) -> set[bytes]:
        """The codes of a shown string that are glyph 0."""
        if self.cids is None and self.gids is None and b"\0\0" not in data:
            return set()  # the usual font and string: no code 0000, no glyph 0
        codes = {data[i : i + 2] for i in range(0, len(data) - 1, 2)}
        return {code for code in codes if self._glyph(code) == 0}

    def _glyph(self, code: bytes) -> int:
        cid = int.from_bytes(code, "big") if self.cids is None else self.cids.get(code, 0)
        if self.gids is None:
            return cid
        return int.from_bytes(self.gids[2 * cid : 2 * cid + 2] or b"\0", "big")


def _codes(font: Any) -> _Codes | None:
    """How a font's codes reach glyph 0; None for a font no code of which can be read
    that way (not Type0 with two-byte codes: WeasyPrint writes none such for text)."""
    if font.get("/Subtype") != "/Type0" or "/DescendantFonts" not in font:
        return None
    encoding = font.get("/Encoding")
    if isinstance(encoding, pikepdf.Stream):
        cids: dict[bytes, int] | None = _cmap_cids(encoding.read_bytes())
    elif encoding == "/Identity-H":
        cids = None
    else:
        return None
    gid_map = font.DescendantFonts[0].get("/CIDToGIDMap", pikepdf.Name.Identity)
    gids = gid_map.read_bytes() if isinstance(gid_map, pikepdf.Stream) else None
    return _Codes(cids, gids)


def _cmap_cids(data: bytes) -> dict[bytes, int]:
    """code -> CID of an encoding CMap (cidchar and cidrange); unlisted codes are CID 0."""
    found: dict[bytes, int] = {}
    for block in re.findall(rb"begincidrange(.*?)endcidrange", data, re.S):
        for low, high, start in _CIDRANGE.findall(block):
            first, width = int(low, 16), len(low) // 2
            for offset in range(int(high, 16) - first + 1):
                found[(first + offset).to_bytes(width, "big")] = int(start) + offset
    for block in re.findall(rb"begincidchar(.*?)endcidchar", data, re.S):
        for code, cid in _CIDCHAR.findall(block):
            found[bytes.fromhex(code.decode())] = int(cid)
    return found


def _has_code_zero(digits: bytes) -> bool:
    """Whether a hex string's two-byte codes include 0000."""
    digits = _PDF_SPACE.sub(b"", digits)
    start = digits.find(b"0000")
    while start >= 0 and start % 4:
        start = digits.find(b"0000", start + 1)
    return start >= 0


class _Scan:
    """Walks content streams; keeps each (font, code) shown as glyph 0."""

    def __init__(self) -> None:
        self.fonts: dict[tuple[int, int], _Codes | None] = {}  # read once per font
        self.forms: set[tuple[int, int]] = set()
        self.found: dict[tuple[tuple[int, int], bytes], Any] = {}  # -> the font

    def _font(self, font: Any) -> _Codes | None:
        if font.objgen not in self.fonts:
            self.fonts[font.objgen] = _codes(font)
        return self.fonts[font.objgen]

    def content(self, owner: Any, resources: Any) -> None:
        """Scans one page's or form's content with its resources, and the forms it draws
        (all the forms of its resources where the content need not be parsed)."""
        resources = resources if resources is not None else pikepdf.Dictionary()
        fonts, xobjects = resources.get("/Font", {}), resources.get("/XObject", {})
        if self._plain(owner, fonts.values()):
            for xobject in xobjects.values():
                self._form(xobject, resources)
            return
        font: Any = None
        stack: list[Any] = []
        for instruction in pikepdf.parse_content_stream(owner, _OPERATORS):
            operands: list[Any] = list(instruction.operands)
            op = str(instruction.operator)
            if op == "Tf":
                font = fonts.get(str(operands[0]))
            elif op == "q":
                stack.append(font)
            elif op == "Q":
                font = stack.pop() if stack else font
            elif op == "Do":
                self._form(xobjects.get(str(operands[0])), resources)
            elif font is not None and operands:
                self._show(font, operands[-1])

    def _plain(self, owner: Any, fonts: Iterable[Any]) -> bool:
        """True when a content stream shows no glyph 0, told without parsing it: each of
        its fonts is /Identity-H on /Identity (glyph 0 is code 0000, a Type0 font's codes
        being two bytes), it has no literal string, and no hex string with code 0000.
        (WeasyPrint writes hex strings only: this skips every page without a missing
        glyph for the cost of reading it.)"""
        for font in fonts:
            codes = self._font(font)
            if codes is not None and (codes.cids is not None or codes.gids is not None):
                return False
        contents = owner.obj.get("/Contents") if isinstance(owner, pikepdf.Page) else owner
        streams = contents if isinstance(contents, pikepdf.Array) else [contents]
        data = b"\n".join(s.read_bytes() for s in streams if isinstance(s, pikepdf.Stream))
        if b"(" in data:
            return False
        if b"0000" not in data and not _SPACED_HEX.search(data):
            return True
        return not any(_has_code_zero(match.group(1)) for match in _HEX_SUSPECT.finditer(data))

    def _form(self, xobject: Any, resources: Any) -> None:
        if (
            isinstance(xobject, pikepdf.Stream)
            and xobject.get("/Subtype") == "/Form"
            and xobject.objgen not in self.forms
        ):
            self.forms.add(xobject.objgen)
            self.content(xobject, xobject.get("/Resources", resources))

    def _show(self, font: Any, shown: Any) -> None:
        codes = self._font(font)
        if codes is None:
            return
        parts = shown if isinstance(shown, pikepdf.Array) else [shown]
        data = b"".join(bytes(part) for part in parts if isinstance(part, pikepdf.String))
        for code in codes.notdef(data):
            self.found.setdefault((font.objgen, code), font)

    def texts(self) -> list[str]:
        maps: dict[tuple[int, int], dict[bytes, str]] = {}
        for (objgen, _), font in self.found.items():
            if objgen not in maps:
                maps[objgen] = to_unicode(font)
        return [maps[objgen].get(code, "") for objgen, code in self.found]
