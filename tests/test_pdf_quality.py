"""What a screen reader, a printer and a privacy reviewer look for in the PDF itself."""

from __future__ import annotations

import pikepdf
import pytest
from helpers import HANDOUTS, open_pdf, pdf_text, text_of

from handouts.commands.build import SAMPLE_PATIENT
from handouts.commands.readability import body_text, grade
from handouts.model.request import PatientDetails
from handouts.pdf.check import font_names, fonts_embedded


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_all_fonts_embedded(sample_pdfs, key):
    pdf = open_pdf(sample_pdfs[key])
    assert font_names(pdf)
    assert fonts_embedded(pdf)


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_tagged_titled_with_language(sample_pdfs, workspace, key):
    pdf = open_pdf(sample_pdfs[key])
    root = pdf.Root
    assert root.MarkInfo.Marked is True
    assert "/StructTreeRoot" in root
    assert str(root.Lang) == "en"
    assert root.ViewerPreferences.DisplayDocTitle is True
    title = workspace.library.handout("en", *key).title
    assert str(pdf.docinfo.Title) == title
    with pdf.open_metadata() as xmp:
        assert xmp.get("dc:title") == title
        assert xmp.get("pdfuaid:part") == "1"


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_patient_data_never_in_metadata(sample_pdfs, key):
    pdf = open_pdf(sample_pdfs[key])
    info = " ".join(str(v) for v in pdf.docinfo.values())
    xmp = bytes(pdf.Root.Metadata.read_bytes()).decode()
    for value in ("Maria", "Garcia", "Okafor", "T12", "blood pressure", "2026-12-01", "December 1"):
        assert value not in info and value not in xmp


def _structure(node, found=None):
    """Every (tag, alt text) in the PDF structure tree."""
    found = [] if found is None else found
    if isinstance(node, pikepdf.Dictionary):
        if "/S" in node:
            found.append((str(node.S), str(node.get("/Alt", ""))))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            _structure(kid, found)
    return found


def test_structure_has_headings_lists_and_logo_alt_text(sample_pdfs):
    pdf = open_pdf(sample_pdfs[("kyphoplasty", "pre")])
    tags = _structure(pdf.Root.StructTreeRoot)
    assert ("/Figure", "Riverbend Spine Center logo") in tags
    names = [t for t, _ in tags]
    assert names.count("/H1") == 1
    assert names.count("/H2") >= 10
    assert "/LI" in names


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_reading_level_grade_six_or_lower(sample_pdfs, workspace, key):
    clinic = workspace.clinic.config.clinic
    text = body_text(
        pdf_text(sample_pdfs[key]),
        workspace.library.handout("en", *key),
        workspace.library.strings("en"),
        [clinic.name, *clinic.address, clinic.main_phone],
    )
    assert len(text.split()) > 400  # the body really was measured
    assert grade(text) <= 6.0


def test_reading_level_check_can_fail():
    hard = (
        "Percutaneous vertebral augmentation necessitates comprehensive preoperative "
        "anticoagulation management, individualized according to institutional protocols. "
    ) * 20
    assert grade(hard) > 6.0


def test_identical_inputs_give_identical_bytes(workspace):
    from handouts.model.request import HandoutRequest

    request = HandoutRequest("vertebroplasty", "post", patient=SAMPLE_PATIENT)
    first = workspace.renderer.pdf(request)
    second = workspace.renderer.pdf(request)
    assert first == second
    other = workspace.renderer.pdf(HandoutRequest("vertebroplasty", "post"))
    assert other != first


@pytest.mark.parametrize(
    "name",
    [
        "Nguyễn Thị Ánh",
        "Ελένη Παπαδοπούλου",
        "Дмитрий Иванов",
        "Łukasz Żółć",
        "José Ñúñez",
        "Jean-Baptiste Désir",
        # Debian's Noto fonts (Makefile SYSTEM_PACKAGES), found through fontconfig
        "王小明",
        "山田 太郎",
        "김민수",
        "محمد علي",
        "رضا احمدی",
        "সুমন দাস",
        "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
        "अमित शर्मा",
        "જયેશ પટેલ",
        "عمران خان",
        "さくら",
    ],
)
def test_names_in_any_script_render_without_missing_glyphs(render, name):
    pdf = render("kyphoplasty", "pre", PatientDetails(patient_name=name))
    assert name in text_of(pdf)
    assert fonts_embedded(open_pdf(pdf))


def test_body_font_is_atkinson_hyperlegible(sample_pdfs):
    names = font_names(open_pdf(sample_pdfs[("vertebroplasty", "pre")]))
    assert any("Atkinson-Hyperlegible-Next" in n and "Bold" not in n for n in names)
