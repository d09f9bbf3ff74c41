"""Spanish handouts, the language-assistance notice, and adding a language with data only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import HANDOUTS, open_pdf, pdf_text, run_cli, text_of

from handouts.commands.build import SAMPLE_PATIENT
from handouts.commands.readability import ReadabilityRule, body_text
from handouts.errors import ContentError
from handouts.locate import data_dir
from handouts.model.request import HandoutRequest
from handouts.workspace import Workspace


@pytest.fixture(scope="session")
def spanish_pdfs(render):
    return {key: render(*key, SAMPLE_PATIENT, lang="es") for key in HANDOUTS}


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_spanish_has_the_same_sections_as_english(workspace, key):
    english = [s.id for s in workspace.library.handout("en", *key).resolved_sections()]
    spanish = [s.id for s in workspace.library.handout("es", *key).resolved_sections()]
    assert spanish == english


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_spanish_reading_ease_at_least_70(spanish_pdfs, workspace, key):
    strings = workspace.library.strings("es")
    rule = ReadabilityRule.from_strings(strings, "es/strings.yaml")
    assert (rule.measure, rule.limit, rule.better) == ("fernandez_huerta", 70.0, "higher")
    clinic = workspace.clinic.config.clinic
    text = body_text(
        pdf_text(spanish_pdfs[key]),
        workspace.library.handout("es", *key),
        strings,
        [clinic.name, *clinic.address, clinic.main_phone],
    )
    assert len(text.split()) > 400
    assert rule.score(text) >= 70


def test_spanish_formats_dates_times_and_labels(spanish_pdfs):
    pre = text_of(spanish_pdfs[("kyphoplasty", "pre")])
    assert "Su cita" in pre
    assert "martes, 1 de diciembre de 2026" in pre
    assert "7:30 a.m." in pre
    assert f"Página 1 de {len(open_pdf(spanish_pdfs[('kyphoplasty', 'pre')]).pages)}" in pre
    assert (
        "Borrador: aún no aprobado por un médico o una enfermera (Draft: not yet approved by a "
        "doctor or nurse)"
    ) in pre
    assert "Aprobado por" not in pre and "Approved by" not in pre
    assert "No coma nada durante las 8 horas antes de su hora de llegada." in pre
    assert "No deje de tomar ninguna medicina por su cuenta." in pre
    assert "anestesia general" in pre and "globo" in pre
    post = text_of(spanish_pdfs[("vertebroplasty", "post")])
    assert "Llame al 911 o vaya a la sala de emergencias más cercana si tiene" in post
    assert "Fiebre de 100.4 °F (38 °C) o más" in post
    assert "No levante más de 5 libras (unos 2.3 kilos) durante 6 semanas." in post
    assert "globo" not in post


def test_spanish_pdf_language_is_set(spanish_pdfs):
    assert str(open_pdf(spanish_pdfs[("kyphoplasty", "post")]).Root.Lang) == "es"


def test_each_handout_offers_help_in_other_languages(workspace, sample_pdfs, spanish_pdfs):
    for key in HANDOUTS:
        english, spanish = text_of(sample_pdfs[key]), text_of(spanish_pdfs[key])
        assert "Si habla español, tiene a su disposición ayuda gratuita" in english
        assert "Free help in your language is available. There are also free aids" in spanish
        assert "Ayuda en su idioma" in spanish and "Help in your language" in english
    html = workspace.renderer.html(HandoutRequest("kyphoplasty", "pre"))
    assert '<p lang="es" dir="ltr">Si habla español' in html
    assert '<p lang="ar" dir="rtl">' in html


def test_list_shows_translation_review_status():
    result = run_cli("list")
    spanish = [line for line in result.stdout.splitlines() if " es " in line]
    assert len(spanish) == 4
    assert all("translation-pending" in line for line in spanish)


def _add_french(clinic: Path, strings_edit: dict[str, str] | None = None) -> None:
    """A third language from data files only: strings, shared sections, one handout."""
    src = data_dir("content") / "en"
    target = clinic / "content" / "fr"
    target.mkdir(parents=True)
    shutil.copy(src / "shared.yaml", target / "shared.yaml")
    handout = (src / "kyphoplasty-post.yaml").read_text()
    handout = handout.replace("language: en", "language: fr").replace(
        "title: Caring for yourself after kyphoplasty", "title: Après votre cyphoplastie"
    )
    (target / "kyphoplasty-post.yaml").write_text(handout)
    edits = {
        "card.post.heading": "Votre intervention",
        "notice.heading": '"Aide dans votre langue"',
        "notice.main": '"Une aide gratuite dans votre langue est à votre disposition. '
        'Appelez le {phone} (ATS : {tty})."',
        "footer.page": '"Page {page} sur {pages}"',
        "readability.measure": "flesch_reading_ease",
        "readability.limit": '"60"',
        "readability.better": "higher",
        "readability.textstat_lang": "fr",
        **(strings_edit or {}),
    }
    lines = []
    for line in (src / "strings.yaml").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in edits:
            line = f"{key}: {edits[key]}" if edits[key] else ""
        lines.append(line)
    (target / "strings.yaml").write_text("\n".join(lines) + "\n")


def test_a_third_language_needs_only_data_files(clinic_copy):
    _add_french(clinic_copy)
    workspace = Workspace.open(clinic_copy)
    assert workspace.library.languages() == ["en", "es", "fr", "vi", "zh-Hans"]
    pdf = workspace.renderer.pdf(HandoutRequest("kyphoplasty", "post", "fr"))
    text = text_of(pdf)
    assert "Après votre cyphoplastie" in text and "Votre intervention" in text
    assert "Page 1 sur 7" in text  # 6 pages of instructions and the notice
    assert str(open_pdf(pdf).Root.Lang) == "fr"
    assert "Une aide gratuite dans votre langue est à votre disposition." in text
    assert "Aide dans votre langue" in text
    rule = ReadabilityRule.from_strings(workspace.library.strings("fr"), "fr")
    assert rule.measure == "flesch_reading_ease"
    result = run_cli(
        "--clinic",
        str(clinic_copy),
        "build",
        "kyphoplasty",
        "post",
        "--lang",
        "fr",
        "-o",
        str(clinic_copy / "fr.pdf"),
    )
    assert result.returncode == 0, result.stderr


def test_a_language_missing_labels_is_refused_with_their_names(clinic_copy):
    _add_french(clinic_copy, {"card.post.heading": "", "log.notes": ""})
    workspace = Workspace.open(clinic_copy)
    with pytest.raises(ContentError) as info:
        workspace.library.strings("fr")
    message = info.value.format_message()
    assert "missing 2 label(s)" in message
    assert "card.post.heading" in message and "log.notes" in message


def test_a_language_without_a_readability_measure_gets_a_warning_not_a_pass(clinic_copy):
    _add_french(clinic_copy, {"readability.measure": "none"})
    result = run_cli(
        "--clinic", str(clinic_copy), "check", "fr/kyphoplasty-post", "en/kyphoplasty-post"
    )
    lines = (result.stdout + result.stderr).splitlines()
    assert "fr/kyphoplasty-post.yaml: warning: no validated readability measure for this " in (
        "\n".join(lines)
    )
    assert not any(line.startswith("ok") and "(fr)" in line for line in lines)
    assert any(line.startswith("ok") and "(en)" in line for line in lines)
