"""The layout templates are measured from their output: visible probes found in the PDF,
slot edges from the page anchors, and the probes taken out of the static pages."""

from __future__ import annotations

import datetime as dt
import io

import pikepdf
import pytest
from helpers import page_texts

from handouts.engine.request import HandoutRequest, PatientDetails
from handouts.stamp.templates import MARKER, PROBE, handout_template

POST = HandoutRequest(
    "vertebroplasty",
    "post",
    "en",
    False,
    PatientDetails(patient_name="Ann Lee", procedure_date=dt.date(2026, 11, 12)),
)
# The recovery log as base.css declares it: the date column is 9em wide in the header
# row's font (0.9em of the 12pt body: `table-layout: fixed` takes the first row), and
# each row is 1.9em of the body high plus its 1pt collapsed border.
BODY_PT = 12.0
DATE_COLUMN_PT = 9 * 0.9 * BODY_PT
ROW_PITCH_PT = 1.9 * BODY_PT + 1.0


@pytest.fixture(scope="module")
def template(workspace):
    return handout_template(workspace.renderer, POST)


def _joined_empty(template) -> bytes:
    """The template with each cut page's segments joined with no values between."""
    pdf = pikepdf.open(io.BytesIO(template.pdf))
    for number, splice in template.pages.items():
        pdf.pages[number].Contents = pdf.make_stream(b"\n".join(splice.segments))
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_static_pages_show_no_probe(template):
    texts = page_texts(_joined_empty(template))
    assert len(texts) == len(template.sizes) and len(template.pages) >= 2
    assert all(PROBE not in text for text in texts)
    assert "14-day recovery log" in " ".join(texts)  # the text around the slots stays
    assert PROBE not in " ".join(page_texts(template.pdf))


def test_marker_anchors_leave_no_named_destination(template):
    with pikepdf.open(io.BytesIO(template.pdf)) as pdf:
        names = [str(name) for name in pdf.Root.Names.Dests.Names[::2]]
    assert "card-heading" in names  # the handout's own ids stay
    assert not [name for name in names if name.startswith(MARKER)]


def test_recovery_dates_fill_the_date_column_as_the_css_declares(template):
    dates = [slot for slot in template.slots if slot.name == "recovery_date"]
    assert [slot.index for slot in dates] == list(range(14))
    assert all(abs(slot.width - DATE_COLUMN_PT) < 0.05 for slot in dates), dates
    assert all(slot.size == pytest.approx(BODY_PT, abs=0.01) for slot in dates)
    assert len({round(slot.x, 3) for slot in dates}) == 1
    on_page = [slot.baseline for slot in dates if slot.page == dates[0].page]
    pitches = [b - a for a, b in zip(on_page, on_page[1:], strict=False)]
    assert len(pitches) >= 5
    assert all(abs(pitch - ROW_PITCH_PT) < 0.05 for pitch in pitches), pitches
