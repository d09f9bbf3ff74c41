"""Care-team notes: a box of [options] notes_lines ruled lines, typed on or blank to
write on by hand, one layout either way. Notes that fit are stamped, wrapped line for
line as the full render wraps them; longer notes grow the box and take the full render;
`notes_lines = 0` lets every note grow the box."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

import pdfplumber
from helpers import LONG_NOTE, append_clinic_toml, page_texts, rasterize

from handouts.model.request import HandoutRequest, PatientDetails
from handouts.options import Engine, LayoutCacheOptions
from handouts.stamp.handout import stamper_for
from handouts.stamp.model import Slot, Stamp
from handouts.stamp.splice import _wrapped
from handouts.workspace import Workspace

#: Two paragraphs, the first wider than the box: three lines in all (a clinic with
#: `notes_lines = 3`; the default box has two).
NOTE = (
    "Bring your brace and the list of every medicine you take. Use entrance B on Oak "
    "Street; parking is free for patients.\nCall the nurse, Pat, with questions."
)
#: The lines the full render gives NOTE in the demo clinic's box (read off its PDF).
LINES = [
    "Bring your brace and the list of every medicine you take. Use entrance B on Oak Street;",
    "parking is free for patients.",
    "Call the nurse, Pat, with questions.",
]


def request(notes: str) -> HandoutRequest:
    patient = PatientDetails(
        patient_name="Ann Lee", procedure_date=dt.date(2026, 11, 12), notes=notes
    )
    return HandoutRequest("kyphoplasty", "post", "en", False, patient)


def notes_lines(pdf: bytes) -> list[str]:
    """The lines of text under the notes box's heading, up to the next section's."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            lines = (page.extract_text() or "").splitlines()
            if "Notes from your care team" in lines:
                start = lines.index("Notes from your care team") + 1
                end = lines.index("The first 24 hours")
                return lines[start:end]
    raise AssertionError("no notes box")


def test_notes_that_fit_are_stamped_in_the_lines_the_full_render_gives_them(
    clinic_copy: Path, tmp_path
):
    append_clinic_toml(clinic_copy, "\n[options]\nnotes_lines = 3\n")
    workspace = Workspace.open(clinic_copy)
    stamper = stamper_for(workspace, LayoutCacheOptions(folder=tmp_path / "cache"))
    stamped = workspace.make_pdf(request(NOTE), stamper)
    full = workspace.make_pdf(request(NOTE), None)
    assert (stamped.engine, full.engine) == (Engine.FAST, Engine.FULL)
    assert notes_lines(full.data) == LINES
    assert notes_lines(stamped.data) == LINES
    assert stamped.pages == full.pages


def _rules(pdf: bytes, tmp_path: Path) -> list[int]:
    """The pixel rows (100 dpi) inside the notes box, under its heading, that are a
    rule: grey across most of the box's width."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        number, page = next(
            (n, p) for n, p in enumerate(document.pages)
            if "Notes from your care team" in (p.extract_text() or "")
        )  # fmt: skip
        words = page.extract_words()
        heading = next(w for w in words if w["text"] == "Notes")
        after = next(w for w in words if w["text"] == "first" and w["top"] > heading["top"])
    scale = 100 / 72
    path = tmp_path / f"notes-{len(list(tmp_path.glob('notes-*.pdf')))}.pdf"
    path.write_bytes(pdf)
    image = rasterize(path, tmp_path / path.stem, 100)[number]
    x0, x1 = int(heading["x0"] * scale), int((page.width - heading["x0"]) * scale)
    top, bottom = int(heading["bottom"] * scale) + 2, int(after["top"] * scale) - 20
    rows = []
    for y in range(top, bottom):
        row = image[y, x0:x1]
        if (row < 235).mean() > 0.9 and (row > 120).mean() > 0.9:  # grey, not text
            rows.append(y)
    return [y for y in rows if y - 1 not in rows]  # each rule once


def test_a_blank_box_and_typed_notes_share_one_layout_on_its_ruled_lines(tmp_path):
    """Blank (lines to write on) and typed notes are one layout class: the second
    handout reads the first's layout; both have the box's two ruled lines, the typed
    one its text on them, as the full render draws it."""
    workspace = Workspace.open()
    cache = LayoutCacheOptions(folder=tmp_path / "cache")
    blank = workspace.make_pdf(request(""), stamper_for(workspace, cache))
    typed = workspace.make_pdf(
        request("Bring your brace.\nUse entrance B."), stamper_for(workspace, cache)
    )
    full = workspace.make_pdf(request("Bring your brace.\nUse entrance B."), None)
    assert (blank.engine, typed.engine) == (Engine.FAST, Engine.FAST)
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1
    assert notes_lines(blank.data) == []
    assert notes_lines(typed.data) == ["Bring your brace.", "Use entrance B."]
    rules = _rules(blank.data, tmp_path)
    assert len(rules) == 2, rules
    assert _rules(typed.data, tmp_path) == rules == _rules(full.data, tmp_path)


def test_notes_longer_than_the_box_grow_it_in_the_full_render(tmp_path):
    workspace = Workspace.open()
    stamper = stamper_for(workspace, LayoutCacheOptions(folder=tmp_path / "cache"))
    made = workspace.make_pdf(request(LONG_NOTE), stamper)
    assert made.engine is Engine.FULL
    lines = notes_lines(made.data)
    assert len(lines) > 2
    assert " ".join(lines) == LONG_NOTE


def test_notes_are_never_stamped_into_a_layout_without_the_box(tmp_path):
    """A layout whose notes box was not measured (its probe not found): a record with
    notes takes the full render, never a stamped page without them; one without notes
    is still stamped."""
    workspace = Workspace.open()
    cache = LayoutCacheOptions(folder=tmp_path / "cache")
    stamper = stamper_for(workspace, cache)
    (task,) = stamper.missing([request("Bring your brace.")])
    key = task.key
    layout = stamper.layout(key, request("Bring your brace."))
    assert any(slot.name == "notes" for slot in layout.slots)
    without = replace(layout, slots=[slot for slot in layout.slots if slot.name != "notes"])
    stamper.cache.put(stamper.cache.key("handout", key), without)
    assert stamper.pdf(request("Bring your brace.")) is None
    blank = stamper.pdf(request(""))
    assert blank is not None and blank.engine is Engine.FAST


def test_a_clinic_can_let_every_note_grow_the_box(clinic_copy: Path, tmp_path):
    append_clinic_toml(clinic_copy, "\n[options]\nnotes_lines = 0\n")
    workspace = Workspace.open(clinic_copy)
    stamper = stamper_for(workspace, LayoutCacheOptions(folder=tmp_path / "cache"))
    made = workspace.make_pdf(request("Bring your brace."), stamper)
    assert made.engine is Engine.FULL
    assert "Bring your brace." in page_texts(made.data)[1]


def wrapped(text: str, width: float, lines: int = 3) -> list[str] | None:
    """The notes' lines in a box `width` characters wide (every character 1 wide)."""
    slot = Slot("notes", 0, 0, 0.0, 0.0, width, 10.0, (0.0, 0.0, 0.0), False, 0.8)
    return _wrapped(Stamp(slot, text.splitlines(), wrap=lines), lambda t: float(len(t)))


def test_notes_break_where_the_page_breaks_them():
    """pre-line: spaces and tabs collapse and may break, a no-break space never does, a
    hyphen before a letter may; a line break stays one."""
    assert wrapped("Take 5\u00a0mg at 8\u00a0AM", 11) == ["Take 5\u00a0mg", "at 8\u00a0AM"]
    assert wrapped("Your follow-up visit", 12) == ["Your follow-", "up visit"]
    assert wrapped("Ages 10-12 only", 8) == ["Ages", "10-12", "only"]  # not before a digit
    assert wrapped("  One\t\ttwo  \nThree", 20) == ["One two", "Three"]
    assert wrapped("a b c d", 1) is None  # four lines in a box of three
