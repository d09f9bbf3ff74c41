"""Teach-back checklist (pre) and 14-day recovery log (post), each a clinic option."""

from __future__ import annotations

import datetime as dt
import io

import pdfplumber
from helpers import text_of

from handouts.commands.build import SAMPLE_PATIENT
from handouts.model.request import HandoutRequest
from handouts.workspace import Workspace

CHECKLIST_POINTS = [
    "Why I am having this procedure.",
    "When I stop eating and drinking, and what time I arrive.",
    "Who will drive me home, and who will stay with me.",
    "Which medicines I take that morning, and which ones I stop, like blood thinners.",
    "When to call 911, and when to call the clinic, before the procedure.",
]


def test_pre_handouts_end_with_the_teach_back_checklist(workspace, sample_pdfs):
    for procedure in ("vertebroplasty", "kyphoplasty"):
        text = text_of(sample_pdfs[(procedure, "pre")])
        start = text.index("Check what you learned")
        assert start > text.index("When to get help before your procedure")
        for point in CHECKLIST_POINTS:
            assert point in text[start:]
        assert "Nurse initials" in text[start:]
    # Five tick boxes drawn on the checklist page (squares about 0.9em, centred once each).
    pdf = workspace.renderer.pdf(HandoutRequest("kyphoplasty", "pre"))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = next(p for p in document.pages if "Nurse initials" in (p.extract_text() or ""))
        rects = page.rects
    ticks = {
        (round((r["x0"] + r["x1"]) / 2), round((r["top"] + r["bottom"]) / 2))
        for r in rects
        if 8 <= r["width"] <= 14 and abs(r["width"] - r["height"]) < 0.5
    }
    assert len(ticks) == 5


def test_post_handouts_end_with_a_dated_recovery_log(workspace, sample_pdfs, render):
    text = text_of(sample_pdfs[("kyphoplasty", "post")])
    log = text[text.index("Your 14-day recovery log") :]
    assert "Pain (0-10)" in log and "Walking (minutes)" in log
    # Day 1 is the day after the procedure (Tuesday, December 1, 2026).
    assert "Wed, Dec 2" in log and "Tue, Dec 15" in log and "Wed, Dec 16" not in log
    assert "Call 911 or go to the nearest emergency department if you have: Chest pain" in log
    spanish = text_of(render("kyphoplasty", "post", SAMPLE_PATIENT, lang="es"))
    assert "mié, 2 de dic" in spanish and "mar, 15 de dic" in spanish
    assert "2/12" not in spanish  # never a day/month that reads as February 12
    html = workspace.renderer.html(HandoutRequest("vertebroplasty", "post"))
    assert html.count('data-slot="recovery_date"><span class="v"></span></td>') == 14  # blank


def test_recovery_dates_cross_month_and_year(workspace):
    from handouts.model.request import PatientDetails

    patient = PatientDetails(procedure_date=dt.date(2026, 12, 25))
    html = workspace.renderer.html(HandoutRequest("vertebroplasty", "post", patient=patient))
    assert "Sat, Dec 26" in html and "Fri, Jan 8, 2027" in html


def test_both_pages_can_be_switched_off(clinic_copy):
    toml = clinic_copy / "clinic.toml"
    toml.write_text(toml.read_text() + "\n[options]\nteach_back = false\nrecovery_log = false\n")
    workspace = Workspace.open(clinic_copy)
    pre = text_of(workspace.renderer.pdf(HandoutRequest("kyphoplasty", "pre")))
    post = text_of(workspace.renderer.pdf(HandoutRequest("kyphoplasty", "post")))
    assert "Check what you learned" not in pre and "Nurse initials" not in pre
    assert "recovery log" not in post
    assert "When to get help" in post
