"""Every handout renders, holds its sections and the clinic's values, and fits 2-6 pages."""

from __future__ import annotations

import io

import pdfplumber
import pytest
from helpers import HANDOUTS, instruction_pages, open_pdf, page_texts, text_of

PRE_SECTIONS = [
    "What to do",
    "Your appointment",
    "What is a spine fracture?",
    "Will it help? What are the risks?",
    "Your medicines",
    "Eating and drinking",
    "What to bring and wear",
    "Your ride home",
    "What to expect",
    "Questions to ask your doctor",
    "When to get help before your procedure",
    "Words to know",
    "Check what you learned",
]
POST_SECTIONS = [
    "What to do",
    "Your procedure",
    "The first 24 hours",
    "When to get help",
    "Call 911 or go to the nearest emergency department if you have",
    "Call us right away at (555) 010-4400 if you have",
    "Pain and medicines",
    "Your bandage and bathing",
    "The next few weeks",
    "Your follow-up visit",
    "Keep your bones strong",
    "Words to know",
    "Check what you learned",
]


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_sections_present(sample_pdfs, key):
    text = text_of(sample_pdfs[key])
    for heading in PRE_SECTIONS if key[1] == "pre" else POST_SECTIONS:
        assert heading in text, heading


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_page_count_two_to_six(sample_pdfs, blank_pdfs, key):
    """Two to six pages of instructions, and the language notice (a page of its own when
    it does not fit on the last one)."""
    for pdf in (sample_pdfs[key], blank_pdfs[key]):
        pages = page_texts(pdf)
        assert 2 <= instruction_pages(pages, "Help in your language") <= 6
        assert len(pages) <= 7


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_footer_on_every_page(sample_pdfs, workspace, key):
    pdf = sample_pdfs[key]
    handout = workspace.library.handout("en", *key)
    pages = len(open_pdf(pdf).pages)
    text = text_of(pdf)
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    assert (
        text.count(
            f"{handout.id} · version {handout.version} · "
            "Draft: not yet approved by a doctor or nurse"
        )
        == pages
    )
    assert text.count("Riverbend Spine Center · (555) 010-4400") == pages


def test_pre_handouts_cover_the_facts(sample_pdfs):
    for procedure in ("vertebroplasty", "kyphoplasty"):
        text = text_of(sample_pdfs[(procedure, "pre")])
        assert "Do not stop any medicine on your own." in text
        assert "Your care team will tell you if and when to stop each one" in text
        assert "Do not eat anything for 8 hours before your arrival time." in text
        assert "You must have an adult drive you home." in text
        assert "stay with you for 24 hours" in text
        assert "Ask your doctor how much it may help you." in text
        assert "cement can travel to the lungs" in text
        assert "60 minutes before your procedure starts" in text


def test_no_hold_time_is_printed_for_blood_thinners(sample_pdfs):
    """Hold times vary by drug and clinic: the handout must never state one."""
    import re

    for key in HANDOUTS:
        text = text_of(sample_pdfs[key])
        assert not re.search(r"stop\w* [^.]{0,40}\b\d+ days? before", text), key


def test_post_handouts_cover_the_facts(sample_pdfs):
    for procedure in ("vertebroplasty", "kyphoplasty"):
        text = text_of(sample_pdfs[(procedure, "post")])
        assert "A fever of 100.4 °F (38 °C) or higher, or chills." in text
        assert "Do not lift more than 5 pounds for 6 weeks." in text
        assert "A gallon of milk (about 8 pounds) is too heavy for you to lift." in text
        assert "Do not drive for 14 days, to give your back time to heal." in text
        assert "Do not drive while you take opioid pain medicine: it makes you sleepy." in text
        assert "Keep the bandage on and dry for 48 hours." in text
        assert "Do not soak in a bathtub, pool or hot tub for 14 days." in text
        assert (
            "You will see your doctor again in 7 to 14 days, to check how you are healing." in text
        )
        assert "bone density test" in text and "vitamin D" in text and "grab bars" in text
        assert "Do not double up on acetaminophen (Tylenol)." in text


def test_kyphoplasty_differs_where_it_should(sample_pdfs):
    for phase in ("pre", "post"):
        kypho = text_of(sample_pdfs[("kyphoplasty", phase)])
        verte = text_of(sample_pdfs[("vertebroplasty", phase)])
        assert "balloon" in kypho
        assert "balloon" not in verte.replace("no balloon", "")
    kypho_pre = text_of(sample_pdfs[("kyphoplasty", "pre")])
    verte_pre = text_of(sample_pdfs[("vertebroplasty", "pre")])
    assert "general anesthesia, which means you will be fully asleep" in kypho_pre
    assert "height" in kypho_pre and "height" not in verte_pre
    assert "medicine through an IV to help you relax" in verte_pre
    assert "fully asleep" not in verte_pre


@pytest.mark.parametrize("key", HANDOUTS, ids="-".join)
def test_card_values_sit_on_their_labels_baseline(sample_pdfs, key):
    """Each value in the appointment card is on the same baseline as its label (a value
    used to sit 2 pt above it: its box was taller than the label's line)."""
    pairs = {"Name": "Maria", "Doctor": "Dr.", "treated": "T12,"}
    baselines: dict[tuple[int, str], list[float]] = {}
    with pdfplumber.open(io.BytesIO(sample_pdfs[key])) as document:
        for number, page in enumerate(document.pages[:3]):
            chars = page.chars
            for word in page.extract_words():  # the baseline: its first glyph's text matrix
                first = next(
                    c
                    for c in chars
                    if abs(c["x0"] - word["x0"]) < 0.01 and abs(c["top"] - word["top"]) < 0.01
                )
                baselines.setdefault((number, word["text"]), []).append(first["matrix"][5])
    found = 0
    for (number, label), ys in baselines.items():
        value = pairs.get(label)
        if value is None or (number, value) not in baselines:
            continue
        near = [abs(a - b) for a in ys for b in baselines[number, value] if abs(a - b) < 12]
        assert near and min(near) < 0.1, (key, label, near)
        found += 1
    assert found >= 2, key
