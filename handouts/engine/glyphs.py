"""Missing glyphs: a clear error naming the language and the script, never empty boxes.

WeasyPrint draws a .notdef box (and logs the character) when no installed font has a
glyph. A handout with boxes instead of words is worse than none, so a render that logs
one fails with an error that names the language of the handout and the script it
could not print, and the Debian package that has a font for it. The error never quotes
the character: it may come from a patient's name.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable

import pikepdf
from babel import Locale, UnknownLocaleError

from handouts.engine.fonts import FAMILIES, coverage
from handouts.engine.structure import page_fonts, to_unicode
from handouts.errors import RenderError

_NOTDEF = re.compile(r"^\.notdef glyph rendered .*\(U\+([0-9A-Fa-f]{4,6})\)$")

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


def script_of(char: str) -> tuple[str, str]:
    """(the script's name, the Debian package with a font for it) of one character."""
    first = unicodedata.name(char, "UNKNOWN CHARACTER").split()[0]
    name = _SCRIPT_NAMES.get(first, first.title())
    package = "fonts-noto-cjk" if first in _CJK_SCRIPTS else "fonts-noto-core"
    return name, package


def missing_codepoints(warnings: Iterable[str]) -> list[int]:
    """The code points WeasyPrint drew as .notdef, from its warnings, in order."""
    found = []
    for message in warnings:
        if match := _NOTDEF.match(message):
            found.append(int(match.group(1), 16))
    return found


def language_name(code: str) -> str:
    """'Chinese (zh-Hans)': the English name CLDR gives a language code, and the code."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name("en")
    except (UnknownLocaleError, ValueError):
        return code
    return f"{name} ({code})" if name else code


def missing_glyph_error(codepoints: list[int], language: str) -> RenderError:
    """The error for a text with characters no installed font has (none quoted)."""
    scripts = sorted({script_of(chr(cp)) for cp in codepoints})
    names = ", ".join(name for name, _ in scripts)
    packages = " ".join(sorted({package for _, package in scripts}))
    return RenderError(
        f"no installed font has the {names} characters of this {language_name(language)} "
        f"handout: it would print empty boxes. Install the fonts "
        f"(apt-get install {packages}; `make setup` does) and render again."
    )


def strip_missing(warnings: Iterable[str]) -> tuple[str, ...]:
    """Warnings without the .notdef ones (they quote the character, maybe patient data)."""
    return tuple(w for w in warnings if not _NOTDEF.match(w))


def drawn_without_glyph(data: bytes) -> list[int]:
    """Code points drawn with a bundled font that has no glyph for them.

    When fontconfig knows no font for a script (none installed, or no fonts at all),
    Pango draws the text with the first font of the stack, a bundled one, as empty
    boxes, and WeasyPrint logs nothing. The PDF's ToUnicode maps tell which characters
    each font drew; the bundled fonts' own character maps tell which they have.
    """
    found: set[int] = set()
    for font in page_fonts(pikepdf.open(io.BytesIO(data))):
        family = _bundled_family(str(font.get("/BaseFont", "")))
        if family is None:
            continue
        has = coverage(family)
        for text in to_unicode(font).values():
            found.update(
                ord(c)
                for c in text
                if ord(c) not in has and not c.isspace() and unicodedata.category(c) != "Cf"
            )
    return sorted(found)


def _bundled_family(base_font: str) -> str | None:
    """The bundled family of a PDF font name ("ABCDEF+Atkinson-Hyperlegible-Next-Bold")."""
    name = base_font.lstrip("/").split("+", 1)[-1]
    for family in FAMILIES:
        if name.startswith(family.replace(" ", "-")):
            return family
    return None
