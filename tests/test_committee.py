"""What a patient-education committee checks, read from the rendered PDFs: the warning
signs on page 1, the tools (medicine table, both checklists), the words patients use,
the defects a nurse educator found, and the page limit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import (
    HANDOUTS,
    edit_clinic_toml,
    instruction_pages,
    open_pdf,
    page_texts,
    run_cli,
    text_of,
)

from handouts.commands.build import SAMPLE_PATIENT, sample_patient
from handouts.errors import ContentError
from handouts.model.request import HandoutRequest, PatientDetails
from handouts.pdf.structure import Element, structure
from handouts.workspace import Workspace

Render = Callable[..., bytes]
PATIENT = PatientDetails(
    patient_name="Ana Lopez", procedure_date=dt.date(2026, 12, 1), arrival_time=dt.time(7, 30)
)
#: A Wednesday in mid-December: its lifting limit, 6 weeks on, is in January 2027 and
#: prints its year. Written with the weekday ("miércoles, 27 de enero de 2027") it took
#: a second line and pushed "Qué hacer" to page 2.
NEW_YEAR = PatientDetails(
    patient_name="Ana Lopez", procedure_date=dt.date(2026, 12, 16), arrival_time=dt.time(7, 30)
)
#: At the year's end most recovery dates and the log's days are in 2027: the log's dates
#: once took two lines each, and the Spanish handout after the procedure eight pages.
YEAR_END = PatientDetails(
    patient_name="Ana Lopez", procedure_date=dt.date(2026, 12, 30), arrival_time=dt.time(7, 30)
)
VARIANTS = [
    pytest.param(lang, large, patient, id=f"{lang}-{'large' if large else 'normal'}-{name}")
    for lang in ("en", "es")
    for large in (False, True)
    for name, patient in (("blank", None), ("patient", PATIENT), ("new-year", NEW_YEAR))
]
CALL_911 = {
    "en": "Call 911 or go to the nearest emergency department",
    "es": "Llame al 911 o vaya a la sala de emergencias más cercana",
}
CALL_US = {"en": "Call us right away at (555) 010-4400", "es": "Llámenos de inmediato al"}


_OPEN: list[object] = []  # the structure elements live only as long as their document


def tree(pdf: bytes) -> Element:
    document = open_pdf(pdf)
    _OPEN.append(document)
    root = structure(document)
    assert root is not None
    return root


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
@pytest.mark.parametrize(("lang", "large", "patient"), VARIANTS)
def test_both_red_flag_boxes_are_on_page_one_after_the_procedure(
    render: Render, procedure: str, lang: str, large: bool, patient: PatientDetails | None
) -> None:
    pages = page_texts(render(procedure, "post", patient, lang=lang, large=large))
    first = words(pages[0])
    assert CALL_911[lang] in first
    assert CALL_US[lang] in first
    last_flag = "(555) 010-4499"  # the after-hours line closes the call-us box
    assert last_flag in first
    if not large:  # large print: the boxes fill page 1, "What to do" opens page 2
        assert ("What to do" if lang == "en" else "Qué hacer") in first
    else:
        assert ("What to do" if lang == "en" else "Qué hacer") in words(pages[1])


@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
@pytest.mark.parametrize(("lang", "large", "patient"), VARIANTS)
def test_pre_handouts_open_with_what_to_do(
    render: Render, procedure: str, lang: str, large: bool, patient: PatientDetails | None
) -> None:
    pages = page_texts(render(procedure, "pre", patient, lang=lang, large=large))
    heading = "What to do" if lang == "en" else "Qué hacer"
    card = "Your appointment" if lang == "en" else "Su cita"
    assert heading in words(pages[0])
    whole = words(" ".join(pages))
    assert card in whole
    assert whole.index(heading) < whole.index(card)  # the card comes after, wherever it is


@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("patient", [None, PATIENT, YEAR_END], ids=["blank", "patient", "year-end"])
def test_normal_print_is_at_most_six_pages(
    render: Render, procedure: str, phase: str, lang: str, patient: PatientDetails | None
) -> None:
    """Six pages of instructions; the "Help in your language" notice may take a page of
    its own (it is kept in one piece)."""
    notice = "Help in your language" if lang == "en" else "Ayuda en su idioma"
    pages = page_texts(render(procedure, phase, patient, lang=lang))
    assert instruction_pages(pages, notice) <= 6
    assert len(pages) <= 7


def test_every_picture_is_a_figure_with_its_alternate_text(render: Render) -> None:
    pdf = render("kyphoplasty", "pre", PATIENT)
    figures = [e for e in tree(pdf).walk() if e.role == "Figure"]
    alts = [str(e.obj.Alt) if e.has_alt else "" for e in figures]
    assert all(alts), alts
    assert any(a.startswith("Side view of five spine bones stacked") for a in alts)
    assert any(a.startswith("Four drawings of the broken spine bone") for a in alts)
    assert any(a.startswith("A person lying on their stomach") for a in alts)
    assert {"Fork and knife", "Clock", "Pill bottle", "Car"} <= set(alts)


def test_the_medicine_table_has_its_columns_and_rows(render: Render) -> None:
    root = tree(render("vertebroplasty", "pre"))
    tables = [e for e in root.walk() if e.role == "Table"]
    medicine = tables[0]
    headers = [e for e in medicine.walk() if e.role == "TH"]
    text = words(text_of(render("vertebroplasty", "pre")))
    for label in (
        "Medicine",
        "Take it the morning of the procedure?",
        "Last dose on (date)",
        "Start again on (date)",
    ):
        assert label in text
    assert len(headers) == 4
    rows = [e for e in medicine.walk() if e.role == "TR"]
    assert len(rows) == 1 + 4
    assert "Your care team will fill in this table with you." in text


@pytest.mark.parametrize(
    ("phase", "points"),
    [
        ("pre", ["When I stop eating and drinking, and what time I arrive."]),
        (
            "post",
            [
                "The warning signs, and when to call 911 or call the clinic.",
                "How much I may lift, and until when.",
                "When I may drive again.",
                "When my follow-up visit is.",
            ],
        ),
    ],
)
def test_both_teach_back_checklists_render(render: Render, phase: str, points: list[str]) -> None:
    text = words(text_of(render("kyphoplasty", phase)))
    assert "Check what you learned" in text
    assert "Nurse initials" in text
    for point in points:
        assert point in text


def test_words_patients_use(render: Render) -> None:
    pre = words(text_of(render("vertebroplasty", "pre")))
    for name in ("Coumadin", "Eliquis", "Xarelto", "Plavix", "“baby” aspirin", "Advil"):
        assert name in pre
    for name in ("Pradaxa (dabigatran)", "Brilinta (ticagrelor)"):  # generic names too
        assert name in pre
    # Antiplatelet medicines are named as such, not as anticoagulants.
    assert "Antiplatelet medicines, such as Plavix (clopidogrel)" in pre
    post = words(text_of(render("vertebroplasty", "post")))
    assert "Do not double up on acetaminophen (Tylenol)." in post
    assert "Opioids are strong pain medicines, such as oxycodone" in post
    # "Words to know" defines the medical words each handout uses, and only those; it
    # follows the procedure's sedation (vertebroplasty: sedation, awake).
    for word in ("Sedation:", "You will be awake.", "Spinal cord:", "Blood thinner:"):
        assert word in pre
    for word in ("Vertebra:", "General anesthesia:"):
        assert word not in pre
    kypho = words(text_of(render("kyphoplasty", "pre")))
    assert "General anesthesia:" in kypho
    assert "Sedation:" not in kypho
    for word in ("Acetaminophen:", "Opioid:", "Blood thinner:", "Antiplatelet medicine:"):
        assert word in post


def test_fasting_never_contradicts_the_morning_medicines(render: Render) -> None:
    text = words(text_of(render("vertebroplasty", "pre")))
    assert "Do not stop any medicine on your own." in text
    assert (
        "Ask your care team about your medicines. If you take a blood thinner, your last "
        "dose is on: . Medicines to take that morning, with a small sip of water:" in text
    )
    assert "The one exception: take the medicines your care team told you to take" in text
    assert "Do not skip them: some, like blood pressure or heart pills, keep you safe." in text
    assert "If you have diabetes Ask your care team for a plan for the morning" in text


def test_sedation_text_follows_the_clinic_setting(clinic_copy: Path) -> None:
    edit_clinic_toml(clinic_copy, 'kyphoplasty = "general"', 'kyphoplasty = "local"')
    workspace = Workspace.open(clinic_copy)
    local = words(
        text_of(workspace.renderer.pdf(HandoutRequest("kyphoplasty", "pre", "en", False)))
    )
    assert "medicine that can make you sleepy" not in local
    assert "medicine to numb the skin and the area around the bone" in local
    general = words(text_of(Workspace.open().renderer.pdf(HandoutRequest("kyphoplasty", "pre"))))
    assert "medicine that can make you sleepy" in general
    assert general.count("fully asleep") == 1  # said once, not twice in a row


def test_both_procedures_give_the_same_balance(render: Render) -> None:
    for procedure in ("vertebroplasty", "kyphoplasty"):
        text = words(text_of(render(procedure, "pre")))
        assert "worked no better than a fake (pretend) procedure" in text
        assert "A little cement can leak out of the bone. This is common." in text
        assert "one or two small cuts" in text
        assert "fix a broken" not in text


def test_each_handout_cites_sources_about_its_own_procedure(workspace: Workspace) -> None:
    for handout in workspace.library.catalog():
        if handout.procedure == "kyphoplasty":
            for source in handout.sources:
                title = source.title.lower()
                assert "kyphoplasty" in title or "augmentation" in title, source.title


def test_after_hours_number_and_adult_stay_in_both_phases(render: Render) -> None:
    for phase in ("pre", "post"):
        text = words(text_of(render("vertebroplasty", phase)))
        assert "(555) 010-4499" in text
        assert "for 24 hours after you get home" in text


def log_page(pages: list[str], heading: str) -> str:
    """The text of the page where the recovery log starts (it must be there)."""
    (page,) = [words(text) for text in pages if heading in words(text)]
    return page


def test_the_log_reminder_lists_every_911_sign(render: Render) -> None:
    log = log_page(page_texts(render("kyphoplasty", "post")), "Your 14-day recovery log")
    for sign in (
        "Call 911 or go to the nearest emergency department if you have:",
        "Chest pain or trouble breathing.",
        "Sudden weakness or numbness in your legs, or you cannot walk.",
        "You cannot control your bladder or bowels.",
        "Call us right away at (555) 010-4400 if you have:",
        "A fever of 100.4 °F (38 °C) or higher, or chills.",
        "Redness, swelling, warmth, fluid or bleeding where the needle went in.",
        "Back pain that gets worse instead of better, is in a new place, or shoots down a leg.",
        "Throwing up or feeling sick to your stomach for more than a day.",
        "A headache that gets worse when you stand up.",
        "Nights and weekends, call (555) 010-4499.",
    ):
        assert sign in log


def test_sample_notes_fit_the_phase_and_language(workspace: Workspace) -> None:
    library = workspace.library
    english_post = sample_patient(library.strings("en"), "post")
    spanish_pre = sample_patient(library.strings("es"), "pre")
    assert english_post.notes and "insulin" not in english_post.notes
    assert spanish_pre.notes == "Traiga su pluma de insulina."
    assert spanish_pre.physician == "Dra. Aisha Okafor"
    assert SAMPLE_PATIENT.notes != english_post.notes


def test_large_print_by_default_is_a_clinic_option(clinic_copy: Path, tmp_path: Path) -> None:
    edit_clinic_toml(
        clinic_copy, "\n[protocol]\n", "\n[options]\nlarge_print = true\n\n[protocol]\n"
    )
    out = tmp_path / "handout.pdf"
    args = ("--clinic", str(clinic_copy), "build", "vertebroplasty", "post", "-o", str(out))
    assert run_cli(*args).returncode == 0
    default_pages = len(open_pdf(out.read_bytes()).pages)
    assert run_cli(*args, "--large-print", "no").returncode == 0
    normal_pages = len(open_pdf(out.read_bytes()).pages)
    assert default_pages > normal_pages
    assert normal_pages <= 7  # 6 pages of instructions, and the notice


@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
@pytest.mark.parametrize(("lang", "large", "patient"), VARIANTS)
def test_the_log_starts_with_its_reminder_before_the_notice(
    render: Render, procedure: str, lang: str, large: bool, patient: PatientDetails | None
) -> None:
    pages = page_texts(render(procedure, "post", patient, lang=lang, large=large))
    heading = "Your 14-day recovery log" if lang == "en" else "Su registro de recuperación"
    first = log_page(pages, heading)  # the log's first page has the warning signs
    notice = "Help in your language" if lang == "en" else "Ayuda en su idioma"
    texts = [words(text) for text in pages]
    at = {name: [i for i, t in enumerate(texts) if name in t] for name in (heading, notice)}
    assert max(at[heading]) < min(at[notice])  # the log before the notice and the sources
    reminder = {
        "en": "Call 911 or go to the nearest emergency department if you have: Chest pain",
        "es": "Llame al 911 o vaya a la sala de emergencias más cercana si tiene: Dolor de pecho",
    }
    assert reminder[lang] in first


def test_a_clinic_may_add_its_own_picture(clinic_copy: Path) -> None:
    figures = clinic_copy / "styles" / "figures"
    figures.mkdir(parents=True)
    builtin = Workspace.open().library.figure("gallon-of-milk")
    assert builtin is not None
    (figures / "our-milk.svg").write_bytes(builtin.read_bytes())
    content = clinic_copy / "content" / "en"
    content.mkdir(parents=True)
    shared = Workspace.open().library.path("en", "shared.yaml").read_text()
    (content / "shared.yaml").write_text(shared.replace("image: gallon-of-milk", "image: our-milk"))
    workspace = Workspace.open(clinic_copy)
    pdf = workspace.renderer.pdf(HandoutRequest("vertebroplasty", "post"))
    alts = [str(e.obj.Alt) for e in tree(pdf).walk() if e.role == "Figure" and e.has_alt]
    assert "A one-gallon plastic jug of milk." in alts
    # Without the clinic's picture, the content names a picture that is nowhere.
    (figures / "our-milk.svg").unlink()
    with pytest.raises(ContentError, match="no picture 'our-milk.svg'"):
        Workspace.open(clinic_copy).library.handout("en", "vertebroplasty", "post")
