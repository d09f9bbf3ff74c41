"""The "Help in your language" notice (45 CFR 92.11): taglines in every script, each with
its own /Lang, right to left where the language is, clinic settings, and the mailing."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pikepdf
import pytest
import yaml
from helpers import (
    REPO,
    append_clinic_toml,
    open_pdf,
    page_texts,
    pdf_text,
    run_cli,
    text_of,
)

from handouts.model.request import HandoutRequest
from handouts.pdf.structure import element_text, mcid_texts, painted, structure
from handouts.workspace import Workspace

TAGLINES = REPO / "content" / "language-help"
PHONE = "(555) 010-4400"
#: The default list, read from its data file (the test does not ask the code).
DEFAULT = yaml.safe_load((TAGLINES / "defaults.yaml").read_text())["languages"]
#: Bidi controls poppler writes around right-to-left runs, and the isolates around phones.
_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def tagline(code: str) -> str:
    text = yaml.safe_load((TAGLINES / f"{code}.yaml").read_text())["tagline"]
    return str(text).replace("{phone}", PHONE)


def squeeze(text: str) -> str:
    """Text without whitespace, bidi controls or ZWNJ, in NFC: what a reader compares."""
    text = unicodedata.normalize("NFC", _CONTROLS.sub("", text)).replace("\u200c", "")
    return "".join(text.split())


def _unmarked(text: str) -> str:
    """Without combining marks (Arabic tanween and vowel signs come back in either order)."""
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def marked_languages(pdf: bytes) -> list[tuple[str, str]]:
    """(/Lang, text) of every structure element with a /Lang of its own, in order."""
    document = open_pdf(pdf)
    root = structure(document)
    assert root is not None
    texts = mcid_texts(painted(document))
    return [
        (str(e.obj.Lang), " ".join(element_text(e, texts).split()))
        for e in root.walk()
        if isinstance(e.obj, pikepdf.Dictionary) and "/Lang" in e.obj
    ]


def test_every_tagline_is_its_own_element_with_its_own_lang(render):
    """English handout: the taglines of the default list, in its order, one element each."""
    marked = marked_languages(render("kyphoplasty", "post"))
    assert [lang for lang, _ in marked] == [c for c in DEFAULT if c != "en"]
    for lang, text in marked:
        if lang not in ("hi",):  # Devanagari reads through /ActualText (next test)
            assert squeeze(PHONE) in squeeze(text), lang


def test_each_script_round_trips_through_pdftotext(render):
    """pdftotext finds each tagline as written: Latin with diacritics, Cyrillic, Han
    (simplified and traditional), kana, Hangul, Devanagari (through /ActualText), and the
    words of Arabic, Persian and Urdu (poppler puts right-to-left runs in reading order)."""
    text = squeeze(pdf_text(render("vertebroplasty", "post")))
    raw = _CONTROLS.sub("", pdf_text(render("vertebroplasty", "post")))
    for code in DEFAULT:
        if code == "en":
            continue
        line = tagline(code)
        if code in ("ar", "fa", "ur"):
            words = [w for w in line.replace(PHONE, " ").split() if len(w) > 1]
            plain = _unmarked(squeeze(raw))
            missing = [w for w in words if _unmarked(squeeze(w)).strip(".،۔") not in plain]
            assert not missing, (code, missing)
        else:
            assert squeeze(line) in text, code


def test_scripts_outside_the_default_list(clinic_copy: Path):
    """Bengali, Gujarati and Gurmukhi (and German) from a clinic's own list."""
    append_clinic_toml(
        clinic_copy,
        '[language_help]\nlanguages = ["bn", "gu", "pa", "de"]\nphone = "(555) 010-7777"\n',
    )
    workspace = Workspace.open(clinic_copy)
    rendered = workspace.renderer.render(HandoutRequest("kyphoplasty", "pre"))
    assert rendered.warnings == ()
    text = squeeze(pdf_text(rendered.data))
    for code in ("bn", "gu", "pa", "de"):
        expected = tagline(code).replace(PHONE, "(555) 010-7777")
        assert squeeze(expected) in text, code
    assert [lang for lang, _ in marked_languages(rendered.data)] == ["bn", "gu", "pa", "de"]
    assert tagline("es")[:20] not in pdf_text(rendered.data)


def _chars_of_line(pdf: bytes, words: str) -> list[dict]:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            chars = page.chars
            found = [c for c in chars if c["text"] in words and c["text"].strip()]
            if len(found) >= len(words.replace(" ", "")) // 2:
                return found
    return []


@pytest.mark.parametrize("code", ["ar", "fa", "ur"])
def test_right_to_left_taglines_are_right_aligned_and_read_right_to_left(render, code):
    """The first word of the tagline is painted rightmost on its first line, its letters
    run right to left, the line ends at the right edge of its column, and the letters
    come from a Noto Arabic-script font (which joins them)."""
    import io

    import pdfplumber

    pdf = render("kyphoplasty", "post")
    first_word = tagline(code).split()[0]
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = next(
            p for p in document.pages if "Help in your language" in (p.extract_text() or "")
        )
        words = page.extract_words(extra_attrs=["fontname"])
    ours = [w for w in words if "Arabic" in w["fontname"] and _is_script(w["text"])]
    assert ours, f"no Arabic-script words for {code}"
    # pdfplumber gives right-to-left words in painted (visual) order: reversed letters.
    heads = [w for w in ours if w["text"] == first_word[::-1]]
    assert heads, (first_word, [w["text"] for w in ours][:10])
    head = heads[0]
    same_line = [w for w in words if abs(w["top"] - head["top"]) < 2 and w["x0"] > head["x0"] - 200]
    assert head["x1"] >= max(w["x1"] for w in same_line) - 0.5  # rightmost on its line
    assert {"Noto" in w["fontname"] for w in ours} == {True}


def _is_script(text: str) -> bool:
    return any(unicodedata.bidirectional(c) == "AL" for c in text)


def test_spanish_handout_has_the_english_notice_and_no_spanish_tagline(render):
    marked = dict(marked_languages(render("kyphoplasty", "pre", lang="es")))
    assert marked["en"].startswith("Free help in your language")
    assert "es" not in marked


def test_notice_only_on_post_handouts_when_the_clinic_says_so(clinic_copy: Path):
    append_clinic_toml(clinic_copy, '[language_help]\nshow = "post"\n')
    renderer = Workspace.open(clinic_copy).renderer
    pre = text_of(renderer.pdf(HandoutRequest("kyphoplasty", "pre")))
    post = text_of(renderer.pdf(HandoutRequest("kyphoplasty", "post")))
    assert "Help in your language" not in pre and "Si habla español" not in pre
    assert "Help in your language" in post and "Si habla español" in post


def test_notice_off(clinic_copy: Path):
    append_clinic_toml(clinic_copy, '[language_help]\nshow = "off"\n')
    renderer = Workspace.open(clinic_copy).renderer
    text = text_of(renderer.pdf(HandoutRequest("kyphoplasty", "post")))
    assert "Help in your language" not in text and "Si habla español" not in text
    result = run_cli("--clinic", str(clinic_copy), "check", "en/kyphoplasty-post")
    assert "language-assistance notice is off" in result.stdout + result.stderr


def test_unknown_tagline_language_is_a_clear_config_error(clinic_copy: Path):
    append_clinic_toml(clinic_copy, '[language_help]\nlanguages = ["es", "xx"]\n')
    result = run_cli("--clinic", str(clinic_copy), "build", "kyphoplasty", "pre")
    assert result.returncode == 2
    assert "language_help.languages: no tagline for xx" in result.stderr
    assert "clinic.toml" in result.stderr and "Traceback" not in result.stderr


def test_a_state_selects_its_shipped_list(clinic_copy: Path):
    """Illinois' 15 languages (the data file's source, ranked from the Census table):
    Polish, Gujarati, Serbo-Croatian and Greek are on it; Haitian Creole, Portuguese,
    Persian and Japanese (on the national list) are not."""
    append_clinic_toml(clinic_copy, '[language_help]\nstate = "IL"\n')
    text = text_of(Workspace.open(clinic_copy).renderer.pdf(HandoutRequest("kyphoplasty", "post")))
    flat = " ".join(text.split())
    for tagline in (
        "Jeśli mówi Pan/Pani po polsku",
        "જો તમે ગુજરાતી બોલતા હો",
        "Ako govorite srpskohrvatski",
        "Αν μιλάτε ελληνικά",
    ):
        assert tagline in flat
    for tagline in ("Si ou pale kreyòl", "Se você fala português", "日本語を話される方"):
        assert tagline not in flat
    result = run_cli("--clinic", str(clinic_copy), "check", "en/kyphoplasty-post")
    assert "language_help.state: warning: the IL list is ranked from U.S. Census Bureau" in (
        result.stderr
    )
    assert "the national list is used" not in result.stderr


def test_a_state_with_no_shipped_list_is_a_clear_error(clinic_copy: Path):
    append_clinic_toml(clinic_copy, '[language_help]\nstate = "WY"\n')
    result = run_cli("--clinic", str(clinic_copy), "check", "en/kyphoplasty-post")
    assert result.returncode != 0
    assert (
        "language_help.state: no verified language list for WY is shipped (lists: FL, IL, NY)"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_check_warns_about_the_list_and_the_review_status():
    result = run_cli("check", "en/kyphoplasty-pre")  # the list is checked with any handout
    out = result.stdout + result.stderr
    assert "language_help.languages: warning: not set: the national list is used" in out
    assert "language-help/zh-Hans.yaml: warning: review status is 'translation-pending'" in out


def test_mailed_letter_carries_the_notice(tmp_path: Path):
    out = tmp_path / "mail"
    csv = tmp_path / "one.csv"
    csv.write_text(
        "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time,"
        "address_line1,city,state,postal_code\n"
        "R1,kyphoplasty,pre,es,Ana Ruiz,2026-12-01,07:30,12 Main St,Springfield,IL,62704\n"
    )
    result = run_cli("batch", str(csv), "--for", "mail", "-o", str(out))
    assert result.returncode == 0, result.stderr
    letter = page_texts(out / "R1-kyphoplasty-pre-es.pdf")[0]
    assert "Tiene a su disposición ayuda gratuita en su idioma" in letter
    assert "Free help in your language" in letter


def test_taglines_are_data_with_a_review_status():
    for path in TAGLINES.glob("*.yaml"):
        if path.stem == "defaults":
            continue
        data = yaml.safe_load(path.read_text())
        assert data["language"] == path.stem
        assert data["review_status"] in ("translation-pending", "translated")
        assert "{phone}" in data["tagline"]


def _without_system_fonts(tmp_path: Path) -> dict[str, str]:
    """A fontconfig that finds no installed font: only the bundled Latin faces remain."""
    (tmp_path / "none").mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{tmp_path / 'none'}</dir>"
        f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n"
    )
    return {"FONTCONFIG_FILE": str(conf)}


def test_missing_font_fails_with_a_message_naming_language_and_script(tmp_path: Path):
    env = _without_system_fonts(tmp_path)
    out = tmp_path / "zh.pdf"
    args = ("build", "kyphoplasty", "pre", "--lang", "zh-Hans", "-o", str(out))
    result = run_cli(*args, env=env)
    assert result.returncode != 0
    assert "no installed font has the" in result.stderr
    assert "Han (Chinese characters)" in result.stderr
    assert "Chinese (Simplified) (zh-Hans)" in result.stderr
    assert "fonts-noto-cjk" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    assert run_cli(*args).returncode == 0  # with the fonts installed it prints


def test_missing_font_error_never_quotes_the_patient_name(tmp_path: Path, clinic_copy: Path):
    append_clinic_toml(clinic_copy, '[language_help]\nshow = "off"\n')
    name = "王小明"
    result = run_cli(
        "--clinic", str(clinic_copy), "build", "kyphoplasty", "pre",
        "--patient-name", name, "-o", str(tmp_path / "p.pdf"),
        env=_without_system_fonts(tmp_path),
    )  # fmt: skip
    assert result.returncode != 0
    assert "Han (Chinese characters)" in result.stderr and "English (en)" in result.stderr
    assert name not in result.stderr and "王" not in result.stderr and "U+" not in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_a_missing_font(tmp_path: Path, clinic_copy: Path):
    """`check` renders every handout: without the fonts each one is an error naming the
    language and script, and check exits 1."""
    append_clinic_toml(clinic_copy, '[language_help]\nshow = "off"\n')
    result = run_cli(
        "--clinic", str(clinic_copy), "check", "zh-Hans/kyphoplasty-pre", "en/kyphoplasty-pre",
        env=_without_system_fonts(tmp_path),
    )  # fmt: skip
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "zh-Hans/" in out and "Han (Chinese characters)" in out
    assert "Chinese (Simplified) (zh-Hans)" in out and "Traceback" not in out
