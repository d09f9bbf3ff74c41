"""Render once, stamp many: the fast path makes the same handout as the full render.

The places where the two engines may differ are found on the full render's PDF itself:
pdfplumber's boxes of the patient values written out below by hand (and of the
Intelligent Mail barcode's bars), never the fast path's own measurements.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pdfplumber
import pikepdf
import pytest
from helpers import (
    LONG_NOTE,
    POINTS_PER_INCH,
    page_sizes,
    page_texts,
    rasterize,
    read_manifest,
    run_cli,
    set_mailer_id,
    text_of,
    to_pixels,
)

from handouts.batch.records import read_input, validate_rows
from handouts.locate import default_clinic_dir
from handouts.mail.fastpath import letter_layout
from handouts.mail.letter import LetterJob
from handouts.pdf.rules import check_pdfua
from handouts.pdf.structure import (
    element_text,
    mcid_texts,
    page_fonts,
    painted,
    structure,
    used_cids,
)
from handouts.stamp.probe import handout_layout
from handouts.workspace import Workspace

HEADER = (
    "record_id,procedure,phase,language,large_print,patient_name,procedure_date,"
    "arrival_time,physician,levels,notes,address_line1,address_line2,city,state,"
    "postal_code,medicines,diabetes_plan\n"
)
PLAN = '"Eliquis (apixaban)|no|2026-11-09|2026-11-14; Lisinopril|yes||"'
FIVE = '"' + "; ".join(f"Medicine {n}|no|2026-11-2{n}|" for n in range(1, 6)) + '"'
PLAN_ROWS = [
    # a medicine plan and a diabetes plan (slots in the table and in "What to do")
    "F7,vertebroplasty,pre,en,no,Plan Person,2026-11-12,07:30,,,,5 Ash St,,Miami,FL,33101,"
    f"{PLAN},Check your blood sugar when you wake up.",
    # after the procedure: one restart date, one "call us by"
    "F8,kyphoplasty,post,en,no,Post Plan,2026-12-01,,,,,6 Ash St,,Miami,FL,33101,"
    '"Eliquis (apixaban)|no|2026-11-28|2026-12-03; Plavix (clopidogrel)|no|2026-11-24|",',
    # more medicines than the table's rows: the second table, in the full render
    f"F9,kyphoplasty,pre,en,no,Five Medicines,2026-12-01,07:30,,,,7 Ash St,,Miami,FL,33101,{FIVE},",
]
BASE_ROWS = [
    "F1,kyphoplasty,pre,en,no,Ann Lee,2026-11-12,07:30,Dr. Okafor,L1,,1 Elm St,,Boston,MA,02118",
    "F2,vertebroplasty,pre,es,no,María José Ñúñez de la Peña,2026-11-13,8:15 AM,Dra. Ruiz,"
    '"T12, L1",,45 Oak Ave,Apt 3,Chicago,IL,60601-1234',
    "F3,kyphoplasty,post,en,yes,Bartholomew Featherstonehaugh-Montgomery,2026-11-05,,Dr. Lee,"
    "T11,,12 Long Road,,Springfield,IL,62704",
    "F4,vertebroplasty,post,es,no,Ελένη Παπαδοπούλου,2026-12-04,,,,,9 Pine Rd,,Austin,TX,73301",
    "F5,kyphoplasty,pre,en,no,Nguyễn Thị Ánh,,,,,,77 Bay St,,Seattle,WA,98101",
    # notes in two lines (a line break): the notes box's lines, stamped
    'F6,vertebroplasty,pre,en,no,Notes Person,2026-12-05,09:00,,,"Bring your brace.\n'
    'Use entrance B.",3 Main St,,Denver,CO,80202',
    # a Wednesday in December: the lifting limit, 6 weeks on, is in January 2027, printed
    # with its year (a "Wednesday, January 13, 2027" was wider than the slot)
    "F10,vertebroplasty,pre,en,no,Year Crossing,2026-12-02,07:30,,,,8 Ash St,,Miami,FL,33101",
    "F11,vertebroplasty,pre,es,no,Inés Año,2026-12-02,8:15 AM,,,,10 Ash St,,Miami,FL,33101",
    # notes longer than the box's 2 lines ([options] notes_lines): the box grows, the
    # full render lays it out
    f'F12,kyphoplasty,post,en,no,Long Notes,2026-11-12,,,,"{LONG_NOTE}",11 Ash St,,Miami,FL,33101',
]
ROWS = [row + ",," for row in BASE_ROWS] + PLAN_ROWS
DPI = 100
# Around each printed value the engines may differ: glyph spacing (the splice sets
# HarfBuzz advances, the full render kerns: up to about 1 pt over a long line, 2.2 pt
# for a bold date in large print) and accents, which reach about 2.4 pt above
# pdfplumber's box of a capital (Ñ, Á). Outside these margins not one pixel may differ.
MARGIN_X = 3.0  # points, left and right of each box
MARGIN_ABOVE = 3.0
MARGIN_BELOW = 1.0
INSIDE_TOLERANCE = 0.12  # mean absolute difference inside the boxes, as a share of 255
IMB_BARS = 65

EN_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
ES_DAYS = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
EN_MONTHS = {11: "Nov", 12: "Dec", 1: "Jan"}
ES_MONTHS = {11: "nov", 12: "dic", 1: "ene"}


def log_dates(procedure: dt.date, lang: str) -> list[str]:
    """The 14 days of the recovery log as printed: 'Fri, Dec 4' or 'vie, 4 de dic'."""
    days = [procedure + dt.timedelta(days=n) for n in range(1, 15)]
    if lang == "en":
        return [f"{EN_DAYS[d.weekday()]}, {EN_MONTHS[d.month]} {d.day}" for d in days]
    return [f"{ES_DAYS[d.weekday()]}, {d.day} de {ES_MONTHS[d.month]}" for d in days]


# Every patient value each record prints (letter and handout), written out by hand.
PRINTED = {
    "F1": [
        "Ann Lee",
        "1 Elm St",
        "Boston MA 02118",
        "Thursday, November 12, 2026",
        "7:30 AM",
        "Dr. Okafor",
        "L1",
        "L means the lower back.",  # the card explains the letter
        "For 1 bone: about 1 to 2 hours",  # and gives a kyphoplasty's time
        "Monday, November 2",  # "we will call you about your medicines by": 10 days
        # the "What to do" box: 8 fasting hours before 7:30 AM, and the arrival day
        "11:30 PM",
        "Wednesday, November 11",
        "Thursday, November 12",
        "Thursday, December 24",  # the lifting limit: 6 weeks
    ],
    "F2": [
        "María José Ñúñez de la Peña",
        "45 Oak Ave",
        "Apt 3",
        "Chicago IL 60601-1234",
        "viernes, 13 de noviembre de 2026",
        "8:15 a.m.",
        "Dra. Ruiz",
        "T12, L1",
        # one value: what both letters mean, a paragraph (kerning inside it is the
        # writer's nominal advances, so only where it starts is compared)
        "T significa la parte media de la espalda. L significa la parte baja de la espalda.",
        "martes, 3 de noviembre",  # the call about medicines: 10 days before
        "12:15 a.m.",  # 8 hours before 8:15 a.m., the same day
        "viernes, 13 de noviembre",
        "viernes, 25 de diciembre",  # the lifting limit: 6 weeks
    ],
    "F3": [
        "Bartholomew Featherstonehaugh-Montgomery",
        "12 Long Road",
        "Springfield IL 62704",
        "Thursday, November 5, 2026",
        "Dr. Lee",
        "T11",
        "T means the middle of the back.",
        *log_dates(dt.date(2026, 11, 5), "en"),
        "Saturday, November 7",  # bandage and shower: 48 hours
        "Thursday, December 17",  # lifting: 6 weeks
        "Thursday, November 19",  # driving, tub: 14 days; follow-up: 7 to 14 days
        "Thursday, November 12",
    ],
    "F4": [
        "Ελένη Παπαδοπούλου",
        "9 Pine Rd",
        "Austin TX 73301",
        "viernes, 4 de diciembre de 2026",
        *log_dates(dt.date(2026, 12, 4), "es"),
        "domingo, 6 de diciembre",
        "15 de enero de 2027",  # another year: with its year, no weekday
        "viernes, 18 de diciembre",
        "viernes, 11 de diciembre",
    ],
    "F5": [
        "Nguyễn Thị Ánh",
        "77 Bay St",
        "Seattle WA 98101",
        "We will call you with this.",  # the letter's date and time, not known yet
    ],
    "F7": [
        "Plan Person",
        "5 Ash St",
        "Miami FL 33101",
        "Thursday, November 12, 2026",
        "7:30 AM",
        "11:30 PM",
        "Wednesday, November 11",
        "Thursday, November 12",
        "Thursday, December 24",  # the lifting limit: 6 weeks
        # the plan: in "What to do" and in the medicine table
        "Eliquis (apixaban)",
        "Monday, November 9",
        "Lisinopril",
        "Check your blood sugar when you wake up.",
        "Mon, Nov 9",
        "Sat, Nov 14",
        "No",  # take it that morning: the table's answers
        "Yes",
    ],
    "F8": [
        "Post Plan",
        "6 Ash St",
        "Miami FL 33101",
        "Tuesday, December 1, 2026",
        *log_dates(dt.date(2026, 12, 1), "en"),
        "Thursday, December 3",  # bandage and shower: 48 hours; Eliquis starts again
        "January 12, 2027",  # lifting: 6 weeks
        "Tuesday, December 15",  # driving: 14 days; follow-up: 7 to 14 days; tub: 14 days
        "Tuesday, December 8",
        "Eliquis (apixaban)",
        "Plavix (clopidogrel)",
        "Wednesday, December 2",  # call us by: 1 day after
    ],
    # a date in another year is printed with its year and no weekday, which fits the
    # slot of any day (engine/formats.day_date), so these are stamped
    "F10": [
        "Year Crossing",
        "8 Ash St",
        "Miami FL 33101",
        "Wednesday, December 2, 2026",
        "7:30 AM",
        "Sunday, November 22",  # the call about medicines: 10 days before
        "11:30 PM",
        "Tuesday, December 1",
        "Wednesday, December 2",
        "January 13, 2027",  # the lifting limit: 6 weeks, in 2027
    ],
    # notes that fit the box's lines are stamped, wrapped as the page wraps them
    "F6": [
        "Notes Person",
        "3 Main St",
        "Denver CO 80202",
        "Saturday, December 5, 2026",
        "9:00 AM",
        "Wednesday, November 25",  # the call about medicines: 10 days before
        "1:00 AM",  # 8 hours before arrival
        "Saturday, December 5",
        "January 16, 2027",  # the lifting limit: 6 weeks
        "Bring your brace.",
        "Use entrance B.",  # the second line, NOTES_LEADING under the first
    ],
    "F11": [
        "Inés Año",
        "10 Ash St",
        "Miami FL 33101",
        "miércoles, 2 de diciembre de 2026",
        "8:15 a.m.",
        "domingo, 22 de noviembre",
        "12:15 a.m.",
        "miércoles, 2 de diciembre",
        "13 de enero de 2027",  # "miércoles, 13 de enero de 2027" was wider than the slot
    ],
}
STAMPED = sorted(PRINTED)
Box = tuple[float, float, float, float]  # x0, top, x1, bottom in points


@pytest.fixture(scope="module", params=["demo", "barcode"])
def both(request, tmp_path_factory):
    """Both engines on the same rows: the demo clinic, and with a Mailer ID (barcode)."""
    work = tmp_path_factory.mktemp(f"fast-{request.param}")
    source = work / "mail.csv"
    source.write_text(HEADER + "\n".join(ROWS) + "\n")
    clinic = work / "clinic"
    shutil.copytree(default_clinic_dir(), clinic)
    if request.param == "barcode":
        set_mailer_id(clinic)
    bars = IMB_BARS if request.param == "barcode" else 0
    outs = {}
    for engine in ("full", "fast"):
        out = work / engine
        result = run_cli(
            "--clinic",
            str(clinic),
            "batch",
            str(source),
            "-o",
            str(out),
            "--for",
            "mail",
            "--engine",
            engine,
            "--letter-date",
            "2026-11-21",
            "--jobs",
            "2",
        )
        assert result.returncode == 0, result.stderr
        outs[engine] = out
    return source, outs, bars, clinic


def _pages(pdf: Path, tmp: Path) -> list[np.ndarray]:
    return rasterize(pdf, tmp, DPI)


def find_phrase(words: list[dict], phrase: str) -> list[list[dict]]:
    """Each run of consecutive pdfplumber words that spells `phrase`."""
    tokens = phrase.split()
    texts = [w["text"] for w in words]
    return [
        words[i : i + len(tokens)]
        for i in range(len(words) - len(tokens) + 1)
        if texts[i : i + len(tokens)] == tokens
    ]


def barcode_bars(page) -> list[dict]:
    """The Intelligent Mail barcode: thin upright bars (1.44 pt wide, up to ~10.5 pt tall)."""
    return [r for r in page.rects if r["width"] < 2 and r["height"] < 12]


def _bbox(items: list[dict]) -> Box:
    return (
        min(i["x0"] for i in items),
        min(i["top"] for i in items),
        max(i["x1"] for i in items),
        max(i["bottom"] for i in items),
    )


def value_boxes(pdf: Path, phrases: list[str], bars: int) -> dict[int, list[Box]]:
    """Per page, one box per line of each printed value (and one around the barcode),
    as pdfplumber measures them on `pdf`; fails if a value is not printed."""
    boxes: dict[int, list[Box]] = {}
    missing = set(phrases)
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages):
            words = page.extract_words()
            for phrase in phrases:
                for match in find_phrase(words, phrase):
                    missing.discard(phrase)
                    for top in sorted({round(w["top"]) for w in match}):  # a box per line
                        line = [w for w in match if round(w["top"]) == top]
                        boxes.setdefault(number, []).append(_bbox(line))
        barcode = barcode_bars(document.pages[0])
    assert sorted(missing) == [], f"not printed in {pdf.name}"
    assert len(barcode) == bars
    boxes.setdefault(0, []).extend([_bbox(barcode)] if barcode else [])
    return boxes


def mask_of(shape: tuple[int, ...], boxes: list[Box]) -> np.ndarray:
    """Pixels of a page rendered at DPI that touch a box grown by the margins."""
    mask = np.zeros(shape, dtype=bool)
    for x0, top, x1, bottom in boxes:
        row0 = max(int(np.floor(to_pixels(top - MARGIN_ABOVE, DPI))), 0)
        row1 = int(np.ceil(to_pixels(bottom + MARGIN_BELOW, DPI)))
        col0 = max(int(np.floor(to_pixels(x0 - MARGIN_X, DPI))), 0)
        col1 = int(np.ceil(to_pixels(x1 + MARGIN_X, DPI)))
        mask[row0:row1, col0:col1] = True
    return mask


def compare_pages(fast_pages: list[np.ndarray], full_pages: list[np.ndarray], boxes) -> None:
    """The page-by-page pixel comparison: exact outside the boxes, close inside."""
    assert len(fast_pages) == len(full_pages)
    for number, (fast, full) in enumerate(zip(fast_pages, full_pages, strict=True)):
        mask = mask_of(fast.shape, boxes.get(number, []))
        difference = np.abs(fast - full)
        assert difference[~mask].max() == 0, f"page {number + 1} differs outside the values"
    for number, page_boxes in boxes.items():
        if not page_boxes:
            continue
        fast, full = fast_pages[number], full_pages[number]
        mask = mask_of(fast.shape, page_boxes)
        # Inside the boxes only glyph spacing differs (advances vs the full render's kerning).
        share = np.abs(fast - full)[mask].mean() / 255
        assert share < INSIDE_TOLERANCE, f"page {number + 1}: {share:.3f}"


# Each stamped record's cover letter names its own procedure (F1 and F7 share language
# and phase, not procedure), written out by hand.
LETTER_INTROS = {
    "F1": "Here is what you need to know before your kyphoplasty.",
    "F3": "Here is how to care for yourself after your kyphoplasty.",
    "F7": "Here is what you need to know before your vertebroplasty.",
    "F8": "Here is how to care for yourself after your kyphoplasty.",
}


@pytest.mark.parametrize(("record_id", "intro"), LETTER_INTROS.items())
def test_each_letter_names_its_own_procedure(both, record_id, intro):
    _, outs, _, _ = both
    name = read_manifest(outs["fast"])[record_id]["file"]
    assert intro in page_texts(outs["fast"] / name)[0]


def test_engines_recorded_and_long_notes_take_the_full_path(both):
    _, outs, _, _ = both
    fast = read_manifest(outs["fast"])
    assert {rid: e["engine"] for rid, e in fast.items()} == {
        "F1": "fast",
        "F2": "fast",
        "F3": "fast",
        "F4": "fast",
        "F5": "fast",
        "F6": "fast",  # short notes: in the box's lines
        "F7": "fast",
        "F8": "fast",
        "F9": "full",  # five medicines: more than the table's four rows
        "F10": "fast",  # a date in 2027, printed with its year
        "F11": "fast",
        "F12": "full",  # notes longer than the box
    }
    full = read_manifest(outs["full"])
    assert {e["engine"] for e in full.values()} == {"full"}
    assert sorted(fast) == sorted(full) == sorted(f"F{i}" for i in range(1, 13))
    for rid in fast:  # same files, names, pages and mailing order
        assert fast[rid]["file"] == full[rid]["file"]
        assert fast[rid]["pages"] == full[rid]["pages"]
        assert fast[rid]["mailing_pages"] == full[rid]["mailing_pages"]


@pytest.mark.parametrize("record_id", STAMPED)
def test_same_pixels_outside_the_values_and_close_inside(both, tmp_path, record_id):
    _, outs, bars, _ = both
    name = read_manifest(outs["fast"])[record_id]["file"]
    full_pdf, fast_pdf = outs["full"] / name, outs["fast"] / name
    boxes = value_boxes(full_pdf, PRINTED[record_id], bars)
    assert 0 in boxes and max(boxes) >= 1  # the cover letter and the handout
    compare_pages(_pages(fast_pdf, tmp_path / "fast"), _pages(full_pdf, tmp_path / "full"), boxes)
    with pdfplumber.open(full_pdf) as full, pdfplumber.open(fast_pdf) as fast:
        full_bars, fast_bars = barcode_bars(full.pages[0]), barcode_bars(fast.pages[0])
    assert len(full_bars) == len(fast_bars) == bars
    for full_bar, fast_bar in zip(full_bars, fast_bars, strict=True):  # same bars, same places
        for key in ("x0", "top", "x1", "bottom"):
            assert abs(full_bar[key] - fast_bar[key]) < 0.01, (key, full_bar, fast_bar)


# The smallest moves that leave the margins for this value (no descender under it):
# 4 pt right, 5 pt left (the D's side bearing), 4 pt up, 6 pt down (the empty descender
# space); test_values_start_where_the_full_render_starts_them sees much less.
@pytest.mark.parametrize(("dx", "dy"), [(4.0, 0.0), (-5.0, 0.0), (0.0, -4.0), (0.0, 6.0)])
def test_pixel_check_fails_when_a_value_moves(both, tmp_path, dx, dy):
    """The comparison above can fail: the full render's own pixels, with the pixels of one
    value (the doctor's name on the handout) moved by (dx, dy) points."""
    _, outs, bars, _ = both
    full_pdf = outs["full"] / read_manifest(outs["full"])["F1"]["file"]
    boxes = value_boxes(full_pdf, PRINTED["F1"], bars)
    pages = _pages(full_pdf, tmp_path)
    compare_pages([page.copy() for page in pages], pages, boxes)  # unmoved: passes
    with pdfplumber.open(full_pdf) as document:
        (match,) = find_phrase(document.pages[1].extract_words(), "Dr. Okafor")
    x0, top, x1, bottom = (
        int(to_pixels(v, DPI))
        for v in (match[0]["x0"], match[0]["top"], match[-1]["x1"], match[-1]["bottom"])
    )
    shift_x, shift_y = round(to_pixels(dx, DPI)), round(to_pixels(dy, DPI))
    moved = [page.copy() for page in pages]
    value = pages[1][top - 2 : bottom + 2, x0 - 2 : x1 + 2]
    moved[1][top - 2 : bottom + 2, x0 - 2 : x1 + 2] = 255  # white out, then draw it moved
    moved[1][top - 2 + shift_y : bottom + 2 + shift_y, x0 - 2 + shift_x : x1 + 2 + shift_x] = value
    with pytest.raises(AssertionError, match="page 2 differs outside the values"):
        compare_pages(moved, pages, boxes)


def value_starts(pdf: Path, phrases: list[str]) -> list[tuple[str, int, float, float]]:
    """(value, page, x, baseline) of the first glyph of every place a value is printed."""
    found = []
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages):
            words = page.extract_words(return_chars=True)
            for phrase in phrases:
                for match in find_phrase(words, phrase):
                    first = match[0]["chars"][0]
                    found.append((phrase, number, first["x0"], page.height - first["matrix"][5]))
    return sorted(found)


@pytest.mark.parametrize("record_id", STAMPED)
def test_values_start_where_the_full_render_starts_them(both, record_id):
    _, outs, _, _ = both
    name = read_manifest(outs["fast"])[record_id]["file"]
    full = value_starts(outs["full"] / name, PRINTED[record_id])
    fast = value_starts(outs["fast"] / name, PRINTED[record_id])
    assert [(v, page) for v, page, _, _ in fast] == [(v, page) for v, page, _, _ in full]
    for (value, page, x, baseline), (_, _, full_x, full_baseline) in zip(fast, full, strict=True):
        assert abs(x - full_x) < 0.05 and abs(baseline - full_baseline) < 0.05, (
            value,
            page + 1,
            (x, baseline),
            (full_x, full_baseline),
        )


@pytest.mark.parametrize("record_id", STAMPED)
def test_same_words_at_each_value_and_text_is_selectable(both, record_id):
    _, outs, bars, _ = both
    name = read_manifest(outs["fast"])[record_id]["file"]
    boxes = value_boxes(outs["full"] / name, PRINTED[record_id], bars)
    value_boxes(outs["fast"] / name, PRINTED[record_id], bars)  # all printed by the fast path

    def words(pdf: Path) -> list[list[str]]:
        found = []
        with pdfplumber.open(pdf) as document:
            for number, page_boxes in sorted(boxes.items()):
                page_words = document.pages[number].extract_words()
                for x0, y0, x1, y1 in page_boxes:
                    inside = [
                        w["text"]
                        for w in page_words
                        if w["x0"] >= x0 - MARGIN_X
                        and w["x1"] <= x1 + MARGIN_X
                        and w["top"] >= y0 - MARGIN_ABOVE
                        and w["bottom"] <= y1 + MARGIN_BELOW
                    ]
                    found.append(inside)
        return found

    fast_words, full_words = words(outs["fast"] / name), words(outs["full"] / name)
    assert fast_words == full_words
    assert sum(len(w) for w in fast_words) >= 4
    patient = next(r for r in ROWS if r.startswith(record_id + ",")).split(",")[5]
    fast_text = text_of((outs["fast"] / name).read_bytes())
    assert patient.strip('"') in fast_text
    assert "Xg" not in fast_text  # the layout probe is measured, never drawn


# What each measured slot must find at its place in the full render (F1 and F3).
SLOT_VALUES = {
    "F1": {
        "address": "Ann Lee",  # the first line of the address block
        "name": "Ann Lee",
        "date": "Thursday, November 12, 2026",
        "time": "7:30 AM",
        "patient_name": "Ann Lee",
        "procedure_date": "Thursday, November 12, 2026",
        "arrival_time": ["7:30 AM", "7:30 AM"],  # "What to do", then the card
        "physician": "Dr. Okafor",
        "levels": "L1",
        "levels_meaning": "L means the lower back.",
        "procedure_time": "For 1 bone: about 1 to 2 hours",
        "medicine_call_by": "Monday, November 2",  # the call about medicines: 10 days
        "lifting_until": "Thursday, December 24",
        "stop_eating_time": "11:30 PM",
        "stop_eating_day": "Wednesday, November 11",
        "arrival_day": "Thursday, November 12",
    },
    "F3": {
        "address": "Bartholomew Featherstonehaugh-Montgomery",
        "name": "Bartholomew Featherstonehaugh-Montgomery",
        "date": "Thursday, November 5, 2026",
        "patient_name": "Bartholomew Featherstonehaugh-Montgomery",
        "procedure_date": "Thursday, November 5, 2026",
        "physician": "Dr. Lee",
        "levels": "T11",
        "levels_meaning": "T means the middle of the back.",
        "recovery_date": log_dates(dt.date(2026, 11, 5), "en"),
        "bandage_until": "Saturday, November 7",
        "shower_from": "Saturday, November 7",
        "tub_until": "Thursday, November 19",
        "lifting_until": "Thursday, December 17",
        "driving_until": "Thursday, November 19",
        "follow_up_from": "Thursday, November 12",
        "follow_up_to": "Thursday, November 19",
    },
}


@pytest.mark.parametrize("record_id", sorted(SLOT_VALUES))
def test_measured_slots_sit_where_the_full_render_prints_the_values(both, record_id):
    """The fast path's measurement (its probe render's PDF and anchors) against pdfplumber's
    reading of the full render: each slot's start, baseline and size."""
    source, outs, _, clinic = both
    workspace = Workspace.open(clinic)
    _, rows = read_input(source)
    default_plan = workspace.clinic.config.medicines.default_plan
    records, _ = validate_rows(
        rows, workspace.library.languages(), mail=True, default_plan=default_plan
    )
    record = next(r for r in records if r.record_id == record_id)
    job = LetterJob(record.request, record.address, dt.date(2026, 11, 21), record.row)
    letter = letter_layout(workspace.renderer, job)
    handout = handout_layout(workspace.renderer, record.request)
    # the ruled notes box is measured in every layout, blank here: nothing printed in it
    assert [slot.name for slot in handout.slots].count("notes") == 1
    slots = [(slot, slot.page) for slot in letter.slots]
    slots += [
        (slot, len(letter.sizes) + slot.page) for slot in handout.slots if slot.name != "notes"
    ]
    expected = SLOT_VALUES[record_id]
    assert Counter(slot.name for slot, _ in slots) == {  # each value measured once
        name: len(value) if isinstance(value, list) else 1 for name, value in expected.items()
    }
    name = read_manifest(outs["full"])[record_id]["file"]
    with pdfplumber.open(outs["full"] / name) as document:
        for slot, page_number in slots:
            value = expected[slot.name]
            if isinstance(value, list):
                value = value[slot.index]
            page = document.pages[page_number]
            # (x, baseline, size) of the first glyph of each place the value is printed
            starts = [
                (first["x0"], page.height - first["matrix"][5], first["size"])
                for match in find_phrase(page.extract_words(return_chars=True), value)
                for first in [match[0]["chars"][0]]
            ]
            assert any(
                abs(x - slot.x) < 0.05
                and abs(baseline - slot.baseline) < 0.05
                and abs(size - slot.size) < 0.01
                for x, baseline, size in starts
            ), (slot, starts)


def test_mailing_file_has_every_letter(both):
    _, outs, _, _ = both
    with pdfplumber.open(outs["fast"] / "mailing.pdf") as document:
        text = " ".join(page.extract_text() or "" for page in document.pages)
    for row in ROWS:
        assert row.split(",")[5].strip('"') in text


# mailing.pdf, the file the mail room prints, against the letter files. A stamped letter's
# file has its values spliced into the layout's own pages (stamp/splice.py); its pages in
# mailing.pdf are the same content, the layout's shared segments with the same value ops
# between them, in the page fonts widened for its chunk (mail/assemble.py); a letter
# rendered in full is copied. Compared page by page: size, text (spaces folded), and
# pixels at MAILING_DPI, which must all be the same: one writer, not one within a
# tolerance. (With the ReportLab overlays mailing.pdf used to draw, glyphs landed a
# quarter pixel over and F4's Greek surname 0.45 pt left: up to 115 of 255.)
MAILING_DPI = 50
RECORD_IDS = [row.split(",")[0] for row in ROWS]


def mailing_plan(out: Path) -> list[str | tuple[str, int]]:
    """What each page of mailing.pdf should be, worked out from the input rows and the
    letter files: the cover sheet and its blank back, then each letter in ZIP order (record
    id within a ZIP), every page of it, and a blank back after a letter of odd length."""
    manifest = read_manifest(out)
    rows = csv.DictReader(io.StringIO(HEADER + "\n".join(ROWS)))
    order = sorted((row["postal_code"], row["record_id"]) for row in rows)
    plan: list[str | tuple[str, int]] = ["cover", "blank"]
    for _, record_id in order:
        pages = len(page_sizes(out / manifest[record_id]["file"]))
        plan += [(record_id, number) for number in range(pages)] + ["blank"] * (pages % 2)
    return plan


def letter_pages(plan: list[str | tuple[str, int]], record_id: str) -> list[int]:
    """Where a letter's pages are in mailing.pdf (0 for the first page), by the plan."""
    return [n for n, what in enumerate(plan) if isinstance(what, tuple) and what[0] == record_id]


@pytest.fixture(scope="module")
def mailing(both, tmp_path_factory):
    """The fast batch's mailing.pdf read once: its plan, and each page's size, text and
    pixels."""
    _, outs, _, _ = both
    pdf = outs["fast"] / "mailing.pdf"
    return {
        "plan": mailing_plan(outs["fast"]),
        "sizes": page_sizes(pdf),
        "texts": page_texts(pdf),
        "pixels": rasterize(pdf, tmp_path_factory.mktemp("mailing"), MAILING_DPI),
    }


def test_mailing_pages_are_the_cover_sheet_then_each_letter_padded_to_a_front(both, mailing):
    """Every page of mailing.pdf is accounted for: the cover sheet, a blank back, each
    letter in ZIP order as the manifest records it, a blank back after an odd letter (the
    13-page large-print one), and nothing else; blank pages print nothing at all."""
    _, outs, _, _ = both
    plan = mailing["plan"]
    assert len(mailing["sizes"]) == len(plan)
    assert "Mail room" in mailing["texts"][0]
    assert plan.count("blank") == 2  # the cover's back and F3's, 13 pages long
    for number, what in enumerate(plan):
        if what == "blank":
            assert mailing["texts"][number] == "", number + 1
            assert mailing["pixels"][number].min() == 255, number + 1
            assert mailing["sizes"][number] == (612.0, 792.0), number + 1
    for record_id, entry in read_manifest(outs["fast"]).items():
        numbers = letter_pages(plan, record_id)
        assert entry["mailing_pages"] == f"{numbers[0] + 1}-{numbers[-1] + 1}", record_id


def page_differences(letter: np.ndarray, printed: np.ndarray) -> str | None:
    """What differs between a letter page and its page in mailing.pdf, both rendered at
    MAILING_DPI; None if not one pixel."""
    if letter.shape != printed.shape:
        return f"rendered as {letter.shape} and {printed.shape} pixels"
    difference = np.abs(letter - printed)
    rows, columns = np.nonzero(difference)
    if not len(rows):
        return None
    to_points = POINTS_PER_INCH / MAILING_DPI
    return (
        f"{len(rows)} pixels differ, by up to {difference.max()} of 255, between "
        f"({columns.min() * to_points:.0f}, {rows.min() * to_points:.0f}) and "
        f"({columns.max() * to_points:.0f}, {rows.max() * to_points:.0f}) pt"
    )


@pytest.mark.parametrize("record_id", RECORD_IDS)
def test_mailing_prints_each_letter_as_its_file_shows_it(both, mailing, tmp_path, record_id):
    """The mail room prints what the letter file shows: each of the letter's pages in
    mailing.pdf has the file page's size, text (pdfplumber, spaces folded) and every
    pixel at 50 dpi, and the same IMb bars; stamped letters and letters rendered in full
    alike."""
    _, outs, bars, _ = both
    letter = outs["fast"] / read_manifest(outs["fast"])[record_id]["file"]
    numbers = letter_pages(mailing["plan"], record_id)
    assert [mailing["sizes"][n] for n in numbers] == page_sizes(letter)
    assert [mailing["texts"][n] for n in numbers] == page_texts(letter)
    with pdfplumber.open(letter) as own, pdfplumber.open(outs["fast"] / "mailing.pdf") as mail:
        own_bars, printed_bars = barcode_bars(own.pages[0]), barcode_bars(mail.pages[numbers[0]])
    assert len(own_bars) == len(printed_bars) == bars
    for own_bar, printed_bar in zip(own_bars, printed_bars, strict=True):
        for key in ("x0", "top", "x1", "bottom"):
            assert abs(own_bar[key] - printed_bar[key]) < 0.01, (key, own_bar, printed_bar)
    pages = rasterize(letter, tmp_path, MAILING_DPI)
    problems = {
        f"page {i + 1} (mailing.pdf page {n + 1})": page_differences(page, mailing["pixels"][n])
        for i, (page, n) in enumerate(zip(pages, numbers, strict=True))
    }
    assert {where: said for where, said in problems.items() if said} == {}


def test_page_comparison_sees_another_patients_letter(both, mailing, tmp_path):
    """The comparison above can fail: Ann Lee's cover letter (F1) against the page where
    mailing.pdf prints Nguyễn Thị Ánh's (F5: the same layout, another name, address and
    date) differs in text and in pixels, and against its own page it does not."""
    _, outs, _, _ = both
    manifest = read_manifest(outs["fast"])
    plan = mailing["plan"]
    own, other = plan.index(("F1", 0)), plan.index(("F5", 0))
    letter = outs["fast"] / manifest["F1"]["file"]
    first = rasterize(letter, tmp_path, MAILING_DPI)[0]
    assert page_differences(first, mailing["pixels"][own]) is None
    said = page_differences(first, mailing["pixels"][other])
    assert said is not None and "pixels differ" in said
    assert page_texts(letter)[0] != mailing["texts"][other]


def test_letters_of_one_layout_share_the_static_pages(tmp_path):
    # Twenty letters of one layout: the static pages are stored once.
    rows = [
        f"S{i:02d},kyphoplasty,pre,en,no,Person Number {i},2026-11-12,07:30,Dr. Okafor,L1,,"
        f"{i} Elm St,,Boston,MA,021{i:02d},,"
        for i in range(20)
    ]
    source = tmp_path / "same.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = run_cli("batch", str(source), "-o", str(out), "--for", "mail", "--engine", "fast")
    assert result.returncode == 0, result.stderr
    letters = sum(p.stat().st_size for p in out.glob("S*.pdf"))
    mailing = (out / "mailing.pdf").stat().st_size
    assert mailing < 0.2 * letters
    with pdfplumber.open(out / "mailing.pdf") as document:
        assert len(document.pages) == 2 + 20 * 8  # cover + blank back; letter, 6 pages, pad


# Values the splice cannot write: a Chinese name (no bundled face has its glyphs; the
# system's Droid Sans Fallback has them, as a full render finds it) and a name typed with
# a combining diaeresis (e + U+0308: HarfBuzz composes it, the splice writes one glyph
# per character). Both bundled faces have U+0308, so the removed ReportLab check passed
# the second and the letter was drawn on a ReportLab overlay (engine "fast").
UNSPLICEABLE = {"G1": "王小明", "G2": "Zoe\u0308 Lee", "G3": "Ann Lee"}


def test_a_value_the_splice_cannot_write_takes_the_full_render_into_mailing(tmp_path):
    rows = [
        f"{rid},kyphoplasty,pre,en,no,{name},2026-11-12,07:30,Dr. Okafor,L1,,"
        f"{n} Elm St,,Boston,MA,0211{n},,"
        for n, (rid, name) in enumerate(UNSPLICEABLE.items(), start=1)
    ]
    source = tmp_path / "names.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = run_cli("batch", str(source), "-o", str(out), "--for", "mail", "--engine", "fast")
    assert result.returncode == 0, result.stderr
    manifest = read_manifest(out)
    assert {rid: e["engine"] for rid, e in manifest.items()} == {
        "G1": "full",
        "G2": "full",
        "G3": "fast",  # a control: the same layout, stamped
    }
    printed = page_texts(out / "mailing.pdf")
    for rid, name in UNSPLICEABLE.items():
        letter = out / manifest[rid]["file"]
        first, last = (int(n) for n in manifest[rid]["mailing_pages"].split("-"))
        assert printed[first - 1 : last] == page_texts(letter)
        composed = unicodedata.normalize("NFC", name)
        assert composed in unicodedata.normalize("NFC", printed[first - 1]), rid  # the address


# Portal: the same rows, one tagged handout per record; stamped into the template's own
# marked content (stamp/splice.py), so the tests above hold for it and so does the
# structure of a full render.
LETTER_ONLY = {
    "1 Elm St",
    "Boston MA 02118",
    "45 Oak Ave",
    "Apt 3",
    "Chicago IL 60601-1234",
    "12 Long Road",
    "Springfield IL 62704",
    "9 Pine Rd",
    "Austin TX 73301",
    "77 Bay St",
    "Seattle WA 98101",
    "We will call you with this.",
    "5 Ash St",
    "6 Ash St",
    "Miami FL 33101",
    "8 Ash St",
    "10 Ash St",
    "3 Main St",
    "Denver CO 80202",
}
PORTAL_PRINTED = {rid: [p for p in PRINTED[rid] if p not in LETTER_ONLY] for rid in PRINTED}


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """Both engines on the same rows, for the portal."""
    work = tmp_path_factory.mktemp("portal")
    source = work / "portal.csv"
    source.write_text(HEADER + "\n".join(ROWS) + "\n")
    outs = {}
    for engine in ("full", "fast"):
        out = work / engine
        result = run_cli("batch", str(source), "-o", str(out), "--engine", engine, "--jobs", "2")
        assert result.returncode == 0, result.stderr
        outs[engine] = out
    return outs


def test_portal_records_are_stamped_and_long_notes_take_the_full_render(portal):
    fast, full = read_manifest(portal["fast"]), read_manifest(portal["full"])
    assert {rid: e["engine"] for rid, e in fast.items()} == {
        "F1": "fast",
        "F2": "fast",
        "F3": "fast",
        "F4": "fast",  # Greek: the fallback face, added to the page as a full render adds it
        "F5": "fast",  # Vietnamese letters: the same
        "F6": "fast",  # short notes: stamped in the notes box's lines
        "F7": "fast",  # a medicine plan: slots in the table and in "What to do"
        "F8": "fast",
        "F9": "full",  # more medicines than the table's rows: the second table
        "F10": "fast",  # a day in the next year
        "F11": "fast",
        "F12": "full",  # notes longer than the box grow it: the full render
    }
    assert {e["engine"] for e in full.values()} == {"full"}
    for rid in fast:
        assert fast[rid]["file"] == full[rid]["file"]
        assert fast[rid]["pages"] == full[rid]["pages"]


@pytest.mark.parametrize("record_id", STAMPED)
def test_portal_pages_same_pixels_outside_the_values(portal, tmp_path, record_id):
    name = read_manifest(portal["fast"])[record_id]["file"]
    full_pdf, fast_pdf = portal["full"] / name, portal["fast"] / name
    boxes = value_boxes(full_pdf, PORTAL_PRINTED[record_id], 0)
    value_boxes(fast_pdf, PORTAL_PRINTED[record_id], 0)  # every value printed, word for word
    compare_pages(_pages(fast_pdf, tmp_path / "fast"), _pages(full_pdf, tmp_path / "full"), boxes)


@pytest.mark.parametrize("record_id", STAMPED)
def test_portal_stamped_structure_reads_as_the_full_render(portal, record_id):
    """Each value is real text in its slot's structure element, in reading order: the
    structure tree reads word for word as the full render's, and passes the rules."""
    name = read_manifest(portal["fast"])[record_id]["file"]
    readings = []
    for engine in ("full", "fast"):
        data = (portal[engine] / name).read_bytes()
        assert check_pdfua(data) == []
        pdf = pikepdf.open(io.BytesIO(data))
        root = structure(pdf)
        assert root is not None
        readings.append(element_text(root, mcid_texts(painted(pdf))).split())
    assert readings[1] == readings[0]
    assert PORTAL_PRINTED[record_id][0] in " ".join(readings[1])  # the name, read in place


@pytest.mark.parametrize("record_id", STAMPED)
def test_portal_stamped_fonts_are_the_full_renders_subsets(portal, record_id):
    """No font of its own: the stamped values use the page's embedded subsets, widened
    with their glyphs as WeasyPrint subsets them, so the fonts match a full render's."""
    name = read_manifest(portal["fast"])[record_id]["file"]
    fonts = {}
    for engine in ("full", "fast"):
        with pikepdf.open(portal[engine] / name) as pdf:
            fonts[engine] = sorted(
                (str(f.BaseFont).split("+")[-1], _glyph_count(f)) for f in page_fonts(pdf)
            )
    assert fonts["fast"] == fonts["full"]


def _glyph_count(font) -> int:
    descendant = font.get("/DescendantFonts")
    return len(used_cids(descendant[0].get("/W", []))) if descendant else 0
