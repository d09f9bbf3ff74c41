"""Render once, stamp many: the fast path makes the same handout as the full render."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from conftest import run_cli, text_of
from PIL import Image

from handouts.batch.records import read_input, validate_rows
from handouts.workspace import Workspace
from handouts.mail.letter import LetterJob
from handouts.stamp.layouts import handout_template, letter_template

HEADER = (
    "record_id,procedure,phase,language,large_print,patient_name,procedure_date,"
    "arrival_time,physician,levels,notes,address_line1,address_line2,city,state,"
    "postal_code\n"
)
ROWS = [
    "F1,kyphoplasty,pre,en,no,Ann Lee,2026-12-01,07:30,Dr. Okafor,L1,,1 Elm St,,Boston,MA,02118",
    "F2,vertebroplasty,pre,es,no,María José Ñúñez de la Peña,2026-12-02,8:15 AM,Dra. Ruiz,"
    '"T12, L1",,45 Oak Ave,Apt 3,Chicago,IL,60601-1234',
    "F3,kyphoplasty,post,en,yes,Bartholomew Featherstonehaugh-Montgomery,2026-12-03,,Dr. Lee,"
    "T11,,12 Long Road,,Springfield,IL,62704",
    "F4,vertebroplasty,post,es,no,Ελένη Παπαδοπούλου,2026-12-04,,,,,9 Pine Rd,,Austin,TX,73301",
    "F5,kyphoplasty,pre,en,no,Nguyễn Thị Ánh,,,,,,77 Bay St,,Seattle,WA,98101",
    "F6,vertebroplasty,pre,en,no,Notes Person,2026-12-05,09:00,,,Bring your brace.,"
    "3 Main St,,Denver,CO,80202",
]
DPI = 100


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    work = tmp_path_factory.mktemp("fast")
    source = work / "mail.csv"
    source.write_text(HEADER + "\n".join(ROWS) + "\n")
    outs = {}
    for engine in ("full", "fast"):
        out = work / engine
        result = run_cli(
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
    return source, outs


def _manifest(out: Path) -> dict[str, dict]:
    return {r["record_id"]: r for r in json.loads((out / "manifest.json").read_text())["records"]}


def _pages(pdf: Path, tmp: Path) -> list[np.ndarray]:
    tmp.mkdir(parents=True, exist_ok=True)
    stem = tmp / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(stem)], check=True)
    return [
        np.asarray(Image.open(p), dtype=np.int16) for p in sorted(tmp.glob(f"{pdf.stem}-*.png"))
    ]


def _slot_boxes(workspace: Workspace, source: Path, record_id: str) -> dict[int, list[tuple]]:
    """Slot rectangles (points) per page: letter page 0, then the handout's pages."""
    _, rows = read_input(source)
    records, _ = validate_rows(rows, workspace.library.languages(), mail=True)
    record = next(r for r in records if r.record_id == record_id)
    job = LetterJob(record.request, record.address, dt.date(2026, 11, 21), record.row)
    boxes: dict[int, list[tuple]] = {}
    mail = workspace.clinic.config.mail.recipient_window
    boxes.setdefault(0, []).append(
        (
            mail.left * 72,
            mail.top * 72,
            (mail.left + mail.width) * 72,
            (mail.top + mail.height) * 72,
        )
    )
    templates = [
        letter_template(workspace.renderer, job),
        handout_template(workspace.renderer, record.request),
    ]
    offset = 0
    for template in templates:
        for slot in template.slots:
            boxes.setdefault(offset + slot.page, []).append(
                (
                    slot.x - 2,
                    slot.baseline - slot.size * 1.1,
                    slot.x + slot.width,
                    slot.baseline + slot.size * 0.45,
                )
            )
        offset += len(template.sizes)
    return boxes


def test_engines_recorded_and_notes_take_the_full_path(both):
    _, outs = both
    fast = _manifest(outs["fast"])
    assert {rid: e["engine"] for rid, e in fast.items()} == {
        "F1": "fast",
        "F2": "fast",
        "F3": "fast",
        "F4": "fast",
        "F5": "fast",
        "F6": "full",
    }
    full = _manifest(outs["full"])
    assert {e["engine"] for e in full.values()} == {"full"}
    for rid in fast:  # same files, names, pages and mailing order
        assert fast[rid]["file"] == full[rid]["file"]
        assert fast[rid]["pages"] == full[rid]["pages"]
        assert fast[rid]["mailing_pages"] == full[rid]["mailing_pages"]


@pytest.mark.parametrize("record_id", ["F1", "F2", "F3", "F4", "F5"])
def test_same_pixels_outside_slots_and_close_inside(both, workspace, tmp_path, record_id):
    source, outs = both
    name = _manifest(outs["fast"])[record_id]["file"]
    fast_pages = _pages(outs["fast"] / name, tmp_path / "a")
    full_pages = _pages(outs["full"] / name, tmp_path / "b")
    assert len(fast_pages) == len(full_pages)
    boxes = _slot_boxes(workspace, source, record_id)
    scale = DPI / 72
    for number, (fast, full) in enumerate(zip(fast_pages, full_pages, strict=True)):
        mask = np.zeros(fast.shape, dtype=bool)
        for x0, y0, x1, y1 in boxes.get(number, []):
            mask[int(y0 * scale) : int(y1 * scale) + 1, int(x0 * scale) : int(x1 * scale) + 1] = (
                True
            )
        difference = np.abs(fast - full)
        assert difference[~mask].max() == 0, f"page {number + 1} differs outside the slots"
        if mask.any():
            # Inside the slots only glyph spacing differs (ReportLab vs HarfBuzz kerning).
            assert difference[mask].mean() / 255 < 0.08, f"page {number + 1}"


@pytest.mark.parametrize("record_id", ["F1", "F2", "F3", "F4", "F5"])
def test_same_words_in_each_slot_and_text_is_selectable(both, workspace, record_id):
    source, outs = both
    name = _manifest(outs["fast"])[record_id]["file"]
    boxes = _slot_boxes(workspace, source, record_id)

    def words(pdf: Path) -> list[list[str]]:
        found = []
        with pdfplumber.open(pdf) as document:
            for number, page in enumerate(document.pages):
                for x0, y0, x1, y1 in boxes.get(number, []):
                    inside = [
                        w["text"]
                        for w in page.extract_words()
                        if w["x0"] >= x0 - 1
                        and w["x1"] <= x1 + 2
                        and w["top"] >= y0 - 2
                        and w["bottom"] <= y1 + 2
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


def test_mailing_file_shares_the_static_pages(both, tmp_path):
    _, outs = both
    with pdfplumber.open(outs["fast"] / "mailing.pdf") as document:
        text = " ".join(page.extract_text() or "" for page in document.pages)
    for row in ROWS:
        assert row.split(",")[5].strip('"') in text
    # Twenty letters of one layout: the static pages are stored once.
    rows = [
        f"S{i:02d},kyphoplasty,pre,en,no,Person Number {i},2026-12-01,07:30,Dr. Okafor,L1,,"
        f"{i} Elm St,,Boston,MA,021{i:02d}"
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
        assert len(document.pages) == 2 + 20 * 6  # cover + blank back, then 5 pages + pad


def test_fast_engine_is_refused_for_portal(tmp_path):
    source = tmp_path / "p.csv"
    source.write_text("record_id,procedure,phase\nP1,kyphoplasty,pre\n")
    result = run_cli("batch", str(source), "-o", str(tmp_path / "o"), "--engine", "fast")
    assert result.returncode == 2 and "stay tagged" in result.stderr
