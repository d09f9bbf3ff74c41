"""PDF/UA-1 structure of every PDF meant for a screen (Matterhorn Protocol checkpoints).

`check_pdfua` (handouts/pdf/rules.py) walks the structure tree with pikepdf;
these tests run it on every variant and check by hand what a screen reader depends on.
The last tests break good PDFs on purpose to show each rule can fail.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pikepdf
import pytest
from conftest import run_cli

from handouts.commands.build import SAMPLE_PATIENT
from handouts.model.request import PatientDetails
from handouts.pdf.rules import check_pdfua
from handouts.pdf.structure import element_text, mcid_texts, painted, structure
from handouts.web.app import create_app

HANDOUTS = [(p, ph) for p in ("vertebroplasty", "kyphoplasty") for ph in ("pre", "post")]
NOTES = SAMPLE_PATIENT.model_copy(update={"notes": "Bring your brace.\nCall if unsure."})
VARIANTS = {
    "blank": (PatientDetails(), False),
    "large": (PatientDetails(), True),
    "personal": (SAMPLE_PATIENT, False),
    "notes-large": (NOTES, True),
}


def _tree(pdf: bytes):
    document = pikepdf.open(io.BytesIO(pdf))
    pages = painted(document)
    return document, structure(document), mcid_texts(pages), pages


@pytest.mark.parametrize("lang", ["en", "es", "zh-Hans", "vi"])
@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_handout_variant_passes_the_structure_rules(render, lang, procedure, phase, variant):
    patient, large = VARIANTS[variant]
    findings = check_pdfua(render(procedure, phase, patient, lang=lang, large=large))
    assert [str(f) for f in findings] == []


@pytest.mark.parametrize("lang", ["en", "es"])
def test_footer_is_an_artifact_and_body_text_is_tagged(render, lang):
    pdf = render("kyphoplasty", "post", lang=lang)
    _, root, texts, pages = _tree(pdf)
    tagged = " ".join(element_text(root, texts).split())
    artifacts = " ".join(s.text for page in pages for s in page.sequences if s.artifact)
    footer = "Page" if lang == "en" else "Página"
    assert f"{footer} 1" in " ".join(artifacts.split())  # painted, as page furniture
    assert "kyphoplasty-post" in artifacts
    assert f"{footer} 1" not in tagged and "kyphoplasty-post ·" not in tagged
    assert "Riverbend Spine Center" in tagged  # the masthead is real content


def test_language_changes_carry_their_own_lang(render):
    """The notice of a Spanish handout: its English line and every tagline carry /Lang."""
    document, root, texts, pages = _tree(render("vertebroplasty", "pre", lang="es"))
    marked = {
        str(e.obj.Lang): " ".join(element_text(e, texts).split())
        for e in root.walk()
        if isinstance(e.obj, pikepdf.Dictionary) and "/Lang" in e.obj
    }
    assert marked["en"].startswith("Free help in your language")
    assert marked["vi"].startswith("Nếu quý vị nói tiếng Việt")
    assert marked["ru"].startswith("Если вы говорите по-русски")
    assert "es" not in marked  # the document's own language is not repeated


def test_structure_order_follows_the_page(render):
    """The logo first, then the title; list numbers read before their step."""
    document, root, texts, pages = _tree(render("kyphoplasty", "pre", SAMPLE_PATIENT))
    roles = [e.role for e in root.walk()]
    assert roles.index("Figure") < roles.index("H1")
    steps = [e for e in root.walk() if e.role == "LBody" and element_text(e, texts)[:2] == "1."]
    assert steps, "a numbered step reads its number first"


def test_card_and_checklist_are_lists_and_log_is_a_table(render):
    document, root, texts, pages = _tree(render("vertebroplasty", "pre", SAMPLE_PATIENT))
    items = [element_text(e, texts) for e in root.walk() if e.role == "LI"]
    assert "NameMaria Garcia" in items
    assert "Nurse initials" in [text.strip() for text in items]  # a label, its blank line
    document, root, texts, pages = _tree(render("vertebroplasty", "post"))
    headers = [e for e in root.walk() if e.role == "TH"]
    scopes = {str(e.obj.A.Scope) for e in headers}
    assert scopes == {"/Column", "/Row"} and len(headers) == 5 + 14


def test_logo_icons_and_pictures_are_figures_with_alternate_text(render):
    document, root, texts, pages = _tree(render("kyphoplasty", "post"))
    figures = [str(e.obj.Alt) for e in root.walk() if e.role == "Figure"]
    # In reading order: the warning signs come first after the procedure.
    assert figures == [
        "Riverbend Spine Center logo",
        "Call 911",  # the pictures beside the main message
        "Call us",
        "Ambulance",
        "Telephone",
        "Bandage",
        "Person lifting a box, crossed out in red: do not lift",
        "Car",
        "Pill bottle",  # the blood thinner's restart date
        "Calendar",
        "An ice pack wrapped in a thin towel, lying on the lower back, and a small clock.",
        "A person's back seen from behind, with one small bandage beside the middle of "
        "the spine on the lower back, circled.",
        # the demo clinic's 5-pound limit: the jug is crossed out
        "A one-gallon jug of milk, crossed out in red: too heavy for you to lift.",
    ]
    document, root, texts, pages = _tree(render("vertebroplasty", "pre", lang="es"))
    alts = [str(e.obj.Alt) for e in root.walk() if e.role == "Figure"]
    assert any(alt.startswith("Vista de lado de cinco huesos de la columna") for alt in alts)
    assert any(alt.startswith("Tres dibujos del hueso roto") for alt in alts)
    assert "Tenedor y cuchillo" in alts, alts


def test_links_are_link_elements_with_contents_and_print_flag(render):
    document, root, _, _ = _tree(render("kyphoplasty", "pre"))
    links = [e for e in root.walk() if e.role == "Link"]
    annotations = [a for page in document.pages for a in page.get("/Annots", [])]
    assert len(links) == len(annotations) > 0
    for link in links:
        (annotation,) = link.annotations
        assert int(annotation.F) & 4
        assert str(annotation.Contents).startswith("https://")


def test_title_language_and_display(render):
    document = pikepdf.open(io.BytesIO(render("vertebroplasty", "post", lang="es")))
    assert str(document.Root.Lang) == "es"
    assert bool(document.Root.ViewerPreferences.DisplayDocTitle)
    with document.open_metadata() as meta:
        assert meta["dc:title"] == "Cómo cuidarse después de la vertebroplastia"


def test_portal_batch_output_passes(tmp_path):
    source = Path(__file__).parent.parent / "examples" / "patients.csv"
    out = tmp_path / "portal"
    result = run_cli("-q", "batch", str(source), "-o", str(out), "--jobs", "2")
    assert result.returncode in (0, 1), result.stderr
    records = json.loads((out / "manifest.json").read_text())["records"]
    files = [out / r["file"] for r in records if r["status"] == "rendered"]
    assert len(files) >= 3
    for path in files:
        assert [str(f) for f in check_pdfua(path.read_bytes())] == [], path.name


def test_web_form_output_passes():
    client = create_app().test_client()
    response = client.post(
        "/handout",
        data={
            "procedure": "kyphoplasty",
            "phase": "post",
            "language": "es",
            "large_print": "1",
            "patient_name": "Ana López",
            "procedure_date": "2026-12-01",
            "notes": "Traiga su faja.",
        },
    )
    assert response.status_code == 200
    assert [str(f) for f in check_pdfua(response.data)] == []


# ---------------------------------------------------------------- the rules can fail


def _broken(pdf: bytes, change) -> list[str]:
    document = pikepdf.open(io.BytesIO(pdf))
    change(document, structure(document))
    buffer = io.BytesIO()
    document.save(buffer)
    return sorted({f.checkpoint for f in check_pdfua(buffer.getvalue())})


def _first(root, role):
    return next(e for e in root.walk() if e.role == role)


def test_each_rule_finds_its_defect(render):
    pdf = render("vertebroplasty", "post")

    def list_item_in_div(document, root):
        _first(root, "LI").obj.S = pikepdf.Name.Div

    def header_without_scope(document, root):
        del _first(root, "TH").obj.A.Scope

    def no_lang(document, root):
        del document.Root.Lang

    def figure_without_alt(document, root):
        del _first(root, "Figure").obj.Alt

    def skipped_heading(document, root):
        _first(root, "H2").obj.S = pikepdf.Name.H3

    def empty_span(document, root):
        paragraph = _first(root, "P")
        empty = pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Span)
        empty.P = paragraph.obj
        paragraph.obj.K.append(document.make_indirect(empty))

    def footer_tagged_again(document, root):
        page = document.pages[0]
        data = page.Contents.read_bytes() if not isinstance(page.Contents, pikepdf.Array) else b""
        page.Contents = document.make_stream(
            data.replace(b"/Artifact <<", b"/Span <</MCID 999 ", 1)
        )

    def link_without_print_flag(document, root):
        for page in document.pages:
            for annotation in page.get("/Annots", []):
                annotation.F = 0

    assert _broken(pdf, list_item_in_div) == ["09-005"]
    assert _broken(pdf, header_without_scope) == ["15-003"]
    assert _broken(pdf, no_lang) == ["11-001"]
    assert _broken(pdf, figure_without_alt) == ["13-004"]
    assert _broken(pdf, skipped_heading) == ["14-003"]
    assert _broken(pdf, empty_span) == ["empty-element"]
    assert "01-005" in _broken(pdf, footer_tagged_again)
    assert _broken(pdf, link_without_print_flag) == ["print-flag"]


def test_a_language_change_that_wraps_over_lines_keeps_its_lang():
    from weasyprint import HTML

    from handouts.pdf.repair import repair

    line = (
        "Nếu quý vị nói tiếng Việt, chúng tôi có dịch vụ hỗ trợ ngôn ngữ miễn phí cho quý vị. "
        "Hãy gọi cho phòng khám của chúng tôi."
    )
    html = (
        '<html lang="en"><head><title>t</title></head><body><h1>Title</h1>'
        f'<p style="width: 120pt">Hello.</p><p lang="vi" style="width: 120pt">{line}</p>'
        "</body></html>"
    )
    pdf = repair(
        pikepdf.open(io.BytesIO(HTML(string=html).write_pdf(pdf_variant="pdf/ua-1"))), html
    )
    document, root, texts, pages = _tree(pdf)
    marked = [e for e in root.walk() if isinstance(e.obj, pikepdf.Dictionary) and "/Lang" in e.obj]
    assert [(e.role, str(e.obj.Lang)) for e in marked] == [("P", "vi")]
    assert len(pages[0].sequences) > 3  # the line really wraps
