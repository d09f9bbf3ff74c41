"""Missing glyphs are found in the PDF (glyph 0 shown by any font, on a page or in a form
it draws), not in WeasyPrint's log: the render fails naming language and script, and
neither the error nor the warnings quote the character."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pikepdf
import pytest
from helpers import keep
from weasyprint import HTML

from handouts.engine.render import _no_notdef
from handouts.errors import RenderError
from handouts.pdf.glyphs import missing_glyph_error, missing_glyphs
from handouts.workspace import Workspace

#: Private-use characters: no font has a glyph for them, and they belong to no script.
NO_FONT = "\U0010fffd\U000f0001"
PAGE = '<html lang="{lang}"><body><p>Hello {text} world</p></body></html>'


def _missing(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return missing_glyphs(pdf)


def pdf_of(text: str) -> bytes:
    return keep(HTML(string=PAGE.format(lang="en", text=text)).write_pdf())


@pytest.fixture
def weasyprint_log() -> Iterator[list[str]]:
    """What WeasyPrint logs while the test runs, as any handler would receive it."""
    said: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("weasyprint")
    level = logger.level  # the command line sets ERROR when not verbose: let warnings through
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield said
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_glyph_zero_is_read_in_the_pdf_with_the_characters_it_stands_for():
    found = _missing(pdf_of(f"a{NO_FONT[0]}b {NO_FONT[1]}"))
    assert sorted(found) == sorted(NO_FONT)  # from the fonts' ToUnicode maps


def test_a_pdf_without_missing_glyphs_has_none():
    assert _missing(pdf_of("Ελένη Дмитрий Łukasz")) == []


def _show_code_zero(pdf: bytes) -> bytes:
    """The page's text shown with code 0000 of its first font (Identity-H: glyph 0, with no
    ToUnicode entry), as HarfBuzz does for a character a font lacks."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        name = next(iter(page.Resources.Font.keys()))
        assert page.Resources.Font[name].Encoding == "/Identity-H"
        page.obj.Contents = document.make_stream(f"BT {name} 12 Tf <00240000> Tj ET".encode())
        return _saved(document)


def _saved(document: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return keep(out.getvalue())


def test_code_zero_of_an_identity_font_is_found_and_still_fails_without_its_character():
    found = _missing(_show_code_zero(pdf_of("Hello")))
    assert found == [""]
    message = str(missing_glyph_error(found, "en"))
    assert "no installed font has some characters of this English (en) handout" in message
    assert "fonts-noto-cjk fonts-noto-core" in message


def test_glyph_zero_in_a_form_xobject_is_found():
    with pikepdf.open(io.BytesIO(pdf_of(NO_FONT))) as document:
        page = document.pages[0]
        form = document.make_stream(
            page.Contents.read_bytes(),
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Form,
            BBox=page.MediaBox,
            Resources=page.Resources,
        )
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(F0=form))
        page.obj.Contents = document.make_stream(b"q /F0 Do Q")
        data = _saved(document)
    assert sorted(_missing(data)) == sorted(NO_FONT)


def test_the_render_fails_with_weasyprint_log_silenced(workspace: Workspace):
    renderer = workspace.renderer
    logger = logging.getLogger("weasyprint")
    logger.disabled = True
    try:
        with pytest.raises(RenderError) as raised:
            html = PAGE.format(lang="fr", text=f"Zoë {NO_FONT}")
            renderer.render_html(html, renderer.styles(False), "glyph-test")
    finally:
        logger.disabled = False
    message = str(raised.value)
    assert "no installed font has some characters of this French (fr) handout" in message
    assert not set(NO_FONT) & set(message) and "U+" not in message


def test_no_handler_ever_sees_a_notdef_warning(workspace: Workspace, weasyprint_log):
    """WeasyPrint's .notdef warnings quote the character (maybe a patient's): dropped."""
    renderer = workspace.renderer
    html = PAGE.format(lang="en", text=NO_FONT)
    with pytest.raises(RenderError):
        renderer.render_html(html, renderer.styles(False), "glyph-test")
    assert not [said for said in weasyprint_log if ".notdef" in said or set(NO_FONT) & set(said)]


def test_without_the_filter_a_handler_would_see_the_character(workspace, weasyprint_log):
    """The check above can fail: with the filter taken off, WeasyPrint's warning quotes
    the character."""
    renderer = workspace.renderer
    html = PAGE.format(lang="en", text=NO_FONT)
    logger = logging.getLogger("weasyprint")
    logger.removeFilter(_no_notdef)
    try:
        with pytest.raises(RenderError):
            renderer.render_html(html, renderer.styles(False), "glyph-test")
    finally:
        logger.addFilter(_no_notdef)
    assert [said for said in weasyprint_log if ".notdef" in said and set(NO_FONT) & set(said)]


def test_the_error_names_each_script_once_and_never_quotes_the_text():
    message = str(missing_glyph_error(["王", "小明", "", "ア", " "], "zh-Hans"))
    assert "Han (Chinese characters), Japanese kana characters" in message
    assert "Chinese (Simplified) (zh-Hans)" in message and "fonts-noto-cjk;" in message
    assert not {"王", "小", "明", "ア"} & set(message)
