"""Every glyph shown maps to Unicode (PDF/UA-1 7.21.7, veraPDF rule 7.21.7-1): each code a
page shows, in any font, has a ToUnicode entry with real text (not empty, not U+0000,
U+FEFF or U+FFFE).

The PDF is read here on its own terms (pikepdf objects, this module's own CMap parser),
never through the package's ToUnicode code: codes come from the Tj/TJ operands of every
page and of the Form XObjects they draw, two bytes a code for Type0 fonts (Identity-H),
one byte for simple fonts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from helpers import open_pdf, run_cli, text_of

from handouts.model.request import PatientDetails

#: Patient names in scripts whose vowel signs are drawn before their consonant, with
#: conjuncts and a reph: shaped into clusters of several glyphs.
NAMES = {
    "hi": "प्रिया शर्मा",
    "gu": "કિરણ પટેલ",
    "bn": "প্রিয়াঙ্কা চক্রবর্তী",
    "pa": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
}
#: A name the body font's template subset lacks glyphs for: stamped with widened fonts.
STAMPED_NAME = "Łukasz Żółć"
_HEX = rb"<([0-9A-Fa-f]*)>"
_BFCHAR = re.compile(_HEX + rb"\s*" + _HEX)
_BFRANGE = re.compile(_HEX + rb"\s*" + _HEX + rb"\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])")
#: Not Unicode values a checker accepts (veraPDF 7.21.7-1).
_INVALID = {"\u0000", "\ufeff", "\ufffe"}


def cmap_entries(font: Any) -> dict[int, str]:
    """Code -> text of a font's ToUnicode CMap; a code mapped to nothing is left out."""
    if "/ToUnicode" not in font:
        return {}
    data = font.ToUnicode.read_bytes()
    found: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in _BFCHAR.findall(block):
            found[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, target in _BFRANGE.findall(block):
            first, last = int(low, 16), int(high, 16)
            if target.startswith(b"["):
                texts = re.findall(_HEX, target)
                for n, text in enumerate(texts[: last - first + 1]):
                    found[first + n] = bytes.fromhex(text.decode()).decode("utf-16-be")
                continue
            raw = bytes.fromhex(target[1:-1].decode())
            for n in range(last - first + 1):
                end = (int.from_bytes(raw[-2:], "big") + n).to_bytes(2, "big")
                found[first + n] = (raw[:-2] + end).decode("utf-16-be")
    return {code: text for code, text in found.items() if text}


def _code_length(font: Any) -> int:
    if font.get("/Subtype") == "/Type0":
        assert str(font.get("/Encoding")) in ("/Identity-H", "/Identity-V"), font.get("/BaseFont")
        return 2
    return 1


def _strings(operator: str, operands: list[Any]) -> Iterator[bytes]:
    if operator == "TJ":
        yield from (bytes(part) for part in operands[0] if isinstance(part, pikepdf.String))
    elif operator in ("Tj", "'", '"'):
        yield bytes(operands[-1])


def shown_codes(pdf: pikepdf.Pdf) -> dict[tuple[int, int], tuple[Any, set[int]]]:
    """Every font that shows text (by object), with the codes it shows."""
    shown: dict[tuple[int, int], tuple[Any, set[int]]] = {}

    def walk(content: Any, resources: Any, seen: frozenset[tuple[int, int]]) -> None:
        fonts = resources.get("/Font", {}) if resources is not None else {}
        xobjects = resources.get("/XObject", {}) if resources is not None else {}
        font = None
        for instruction in pikepdf.parse_content_stream(content):
            operator, operands = str(instruction.operator), list(instruction.operands)
            if operator == "Tf":
                font = fonts[str(operands[0])]
            elif operator == "Do":
                form = xobjects[str(operands[0])]
                if form.get("/Subtype") == "/Form" and form.objgen not in seen:
                    walk(form, form.get("/Resources", resources), seen | {form.objgen})
            for data in _strings(operator, operands):
                assert font is not None, "text shown before any Tf"
                width = _code_length(font)
                codes = shown.setdefault(font.objgen, (font, set()))[1]
                codes.update(
                    int.from_bytes(data[i : i + width], "big") for i in range(0, len(data), width)
                )

    for page in pdf.pages:
        walk(page, page.obj.get("/Resources"), frozenset())
        for annotation in page.obj.get("/Annots", []):
            appearance = annotation.get("/AP", {}).get("/N")
            if isinstance(appearance, pikepdf.Stream):
                walk(appearance, appearance.get("/Resources"), frozenset())
    return shown


def unmapped(pdf: bytes) -> str:
    """'font: codes' for each font that shows a code without a valid ToUnicode entry."""
    problems = []
    document = open_pdf(pdf)  # kept open while its objects are read
    for font, codes in shown_codes(document).values():
        entries = cmap_entries(font)
        bad = sorted(
            code
            for code in codes
            if code not in entries or any(c in _INVALID for c in entries[code])
        )
        if bad:
            listed = " ".join(f"<{code:04x}>" for code in bad)
            problems.append(
                f"{font.get('/BaseFont')}: {len(bad)} of the {len(codes)} codes shown have "
                f"no Unicode: {listed}"
            )
    return "\n".join(problems)


def _built(tmp_path: Path, name: str) -> tuple[bytes, str]:
    """`build` from the command line with the layout cache on (conftest's folder): the
    PDF, and which path made it."""
    out = tmp_path / "handout.pdf"
    done = run_cli(
        "-v", "build", "kyphoplasty", "pre", "--patient-name", name,
        "--procedure-date", "2026-11-12", "--arrival-time", "07:30", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = "stamping" if "made by the stamping path" in done.stderr else "full render"
    return out.read_bytes(), engine


def test_the_check_sees_the_fonts_and_their_codes(render):
    """The walk finds the tagline fonts and many codes (so an empty walk cannot pass)."""
    document = open_pdf(render("kyphoplasty", "post"))
    shown = shown_codes(document)
    names = {str(font.get("/BaseFont")) for font, _ in shown.values()}
    assert any("Devanagari" in name for name in names), names
    assert any("Atkinson" in name for name in names), names
    assert sum(len(codes) for _, codes in shown.values()) > 300


def test_a_code_mapped_to_nothing_counts_as_unmapped():
    """`<0003> <>` is no mapping (WeasyPrint writes such entries)."""
    pdf = pikepdf.new()
    cmap = b"1 beginbfchar\n<0003> <>\nendbfchar\n1 beginbfrange\n<0004> <0005> <0041>\nendbfrange"
    font = pikepdf.Dictionary(ToUnicode=pdf.make_stream(cmap))
    assert cmap_entries(font) == {4: "A", 5: "B"}


@pytest.mark.parametrize("phase", ["pre", "post"])
def test_every_code_of_a_handout_with_the_language_notice_is_mapped(render, phase):
    problems = unmapped(render("kyphoplasty", phase))
    assert not problems, problems


@pytest.mark.parametrize("language", sorted(NAMES))
def test_every_code_of_a_name_in_a_shaped_script_is_mapped(render, language):
    """The full render: the name in the card and the taglines, each font's codes mapped,
    and the name still reads as written (pdftotext, through /ActualText)."""
    pdf = render("kyphoplasty", "pre", PatientDetails(patient_name=NAMES[language]))
    problems = unmapped(pdf)
    assert not problems, problems
    assert NAMES[language] in text_of(pdf)


@pytest.mark.parametrize("language", sorted(NAMES))
def test_every_code_of_a_built_handout_is_mapped(tmp_path, language):
    """`build` with the layout cache: the stamping path, or the full render it takes."""
    pdf, engine = _built(tmp_path, NAMES[language])
    problems = unmapped(pdf)
    assert not problems, f"{engine}: {problems}"


def test_every_code_of_a_stamped_name_with_new_glyphs_is_mapped(tmp_path):
    """A name the template's subsets lack glyphs for, stamped (the fonts are widened)."""
    pdf, engine = _built(tmp_path, STAMPED_NAME)
    assert engine == "stamping"
    problems = unmapped(pdf)
    assert not problems, problems
    assert STAMPED_NAME in text_of(pdf)
    document = open_pdf(pdf)
    read: set[str] = set()
    for font, codes in shown_codes(document).values():
        entries = cmap_entries(font)
        read.update(entries.get(code, "") for code in codes)
    assert set(STAMPED_NAME) - {" "} <= read  # the added glyphs read as their letters
