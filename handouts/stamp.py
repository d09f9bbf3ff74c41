"""Render once, stamp many: the fast path for big mail batches.

Records that differ only in their slot values share a layout class. Each class is
rendered once by WeasyPrint with its slots left empty (the static pages), and once
with a probe text in every slot to measure where the slots are (positions, font,
size and color come from the layout itself, never from hand-made coordinates). Per
record, ReportLab draws the values into an overlay that is laid over the static
pages. A record whose values would not fit (or need a glyph no bundled font has)
returns None and goes down the full-render path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from fontTools.ttLib import TTFont as FontFile
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from .context import HandoutRequest, build_context, patient_slots, recovery_days
from .letter import _BAR, _FULL, _PITCH, IMB_GAP, LetterJob, letter_html, letter_styles
from .locate import data_dir
from .render import Renderer

PX = 0.75  # CSS px to PDF points
PROBE = "Xg"
_FONT_FILES = {
    ("Atkinson", False): "AtkinsonHyperlegibleNext-Regular.ttf",
    ("Atkinson", True): "AtkinsonHyperlegibleNext-Bold.ttf",
    ("DejaVu", False): "DejaVuSans.ttf",
    ("DejaVu", True): "DejaVuSans-Bold.ttf",
}


@dataclass(frozen=True)
class Slot:
    """Where one patient value goes, measured on the probe render (points, from the top)."""

    name: str
    index: int  # occurrence of this name (recovery-log dates repeat)
    page: int
    x: float
    baseline: float
    width: float  # room from x to the right edge of the slot's box
    size: float
    color: tuple[float, float, float]
    bold: bool
    ratio: float  # baseline offset / font size, for blocks of several lines


@dataclass
class Template:
    """One layout class: its static pages and its slots."""

    pdf: bytes
    sizes: list[tuple[float, float]]
    slots: list[Slot]


# ------------------------------------------------------------------ measuring


def _walk(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _walk(child)


def _measure(document: Any) -> list[Slot]:
    slots: list[Slot] = []
    counts: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        seen: set[int] = set()
        for box in _walk(page._page_box):
            element = getattr(box, "element", None)
            name = element.get("data-slot") if element is not None else None
            if not name or id(element) in seen or name == "address-window":
                continue
            seen.add(id(element))
            line = next((b for b in _walk(box) if type(b).__name__ == "LineBox"), None)
            text = next((b for b in _walk(box) if type(b).__name__ == "TextBox"), None)
            if line is None or text is None:
                continue
            style = text.style
            size = style["font_size"]
            right = box.content_box_x() + box.width
            color = style["color"]
            slots.append(
                Slot(
                    name=name,
                    index=counts.get(name, 0),
                    page=number,
                    x=text.position_x * PX,
                    baseline=(line.position_y + line.baseline) * PX,
                    width=(right - text.position_x) * PX,
                    size=size * PX,
                    color=(color.red, color.green, color.blue)
                    if hasattr(color, "red")
                    else tuple(color.to("srgb").coordinates),
                    bold=style["font_weight"] >= 600,
                    ratio=line.baseline / size,
                )
            )
            counts[name] = counts.get(name, 0) + 1
    return slots


def _template(renderer: Renderer, probe_html: str, styles: list, layout: str) -> Template:
    """One render per class: probe text in every slot, laid out but not drawn
    (visibility: hidden keeps the layout), so the PDF is the static page."""
    hidden = renderer.stylesheet(string=".v { visibility: hidden; }")
    rendered = renderer.render_html(probe_html, [*styles, hidden], layout)
    document = renderer.last_document
    sizes = [(p.width * PX, p.height * PX) for p in document.pages]
    return Template(rendered.data, sizes, _measure(document))


def handout_template(renderer: Renderer, request: HandoutRequest) -> Template:
    handout = renderer.library.handout(request.language, request.procedure, request.phase)
    strings = renderer.library.strings(request.language)

    def html(slot_text: str) -> str:
        context = build_context(
            renderer.clinic,
            handout,
            strings,
            request,
            renderer.logo_url(),
            renderer.library.assist_lines(request.language),
            slot_text=slot_text,
        )
        return renderer.env.get_template(f"{request.phase}.html").render(context)

    return _template(
        renderer, html(PROBE), renderer.styles(request.large_print), repr(request.layout_key)
    )


def letter_template(renderer: Renderer, job: LetterJob) -> Template:
    return _template(
        renderer,
        letter_html(renderer, job, PROBE),
        letter_styles(renderer),
        f"letter:{job.request.language}",
    )


def handout_class(request: HandoutRequest, strings: Any) -> tuple | None:
    """Records with the same key share every page but their slots; None: full render."""
    slots = patient_slots(request.patient, strings)
    if slots["notes"]:
        return None  # free text changes the flow of the page
    filled = tuple(sorted(name for name, value in slots.items() if value))
    return (*request.layout_key, filled)


def letter_class(job: LetterJob) -> tuple:
    patient = job.request.patient
    return (
        job.request.language,
        job.request.phase,
        bool(patient.procedure_date),
        bool(patient.arrival_time),
    )


# ------------------------------------------------------------------ drawing


@cache
def _fonts() -> dict[tuple[str, bool], str]:
    names = {}
    folder = data_dir("styles") / "fonts"
    for (family, bold), file in _FONT_FILES.items():
        name = f"stamp-{family}-{'bold' if bold else 'regular'}"
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        names[(family, bold)] = name
    return names


@cache
def _coverage(family: str) -> frozenset[int]:
    folder = data_dir("styles") / "fonts"
    return frozenset(FontFile(str(folder / _FONT_FILES[(family, False)])).getBestCmap())


def _runs(text: str, bold: bool) -> list[tuple[str, str]] | None:
    """(font, text) runs: the body font, DejaVu for what it lacks; None if neither has it."""
    fonts = _fonts()
    runs: list[tuple[str, str]] = []
    for char in text:
        if ord(char) in _coverage("Atkinson") or char == " ":
            font = fonts[("Atkinson", bold)]
        elif ord(char) in _coverage("DejaVu"):
            font = fonts[("DejaVu", bold)]
        else:
            return None
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def _width(runs: list[tuple[str, str]], size: float) -> float:
    return sum(pdfmetrics.stringWidth(text, font, size) for font, text in runs)


def _draw(
    canvas: Canvas,
    runs: list[tuple[str, str]],
    x: float,
    y: float,
    size: float,
    color: tuple[float, float, float],
) -> None:
    canvas.setFillColorRGB(*color)
    for font, text in runs:
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        x += pdfmetrics.stringWidth(text, font, size)


@dataclass(frozen=True)
class Stamp:
    """One value to draw: a slot and its text (or lines, for the address)."""

    slot: Slot
    lines: list[str]
    size: float | None = None  # the address uses its fitted size


def plan_handout(template: Template, request: HandoutRequest, strings: Any) -> list[Stamp]:
    slots = patient_slots(request.patient, strings)
    days = recovery_days(request.patient, strings)
    stamps = []
    for slot in template.slots:
        value = days[slot.index] if slot.name == "recovery_date" else slots.get(slot.name, "")
        if value:
            stamps.append(Stamp(slot, [value]))
    return stamps


def plan_letter(template: Template, context: dict) -> list[Stamp]:
    values = {slot: value for _, value, slot in context["fields"]}
    stamps = []
    for slot in template.slots:
        if slot.name == "address":
            stamps.append(Stamp(slot, list(context["address_lines"]), context["address_size"]))
        elif slot.name in values:
            stamps.append(Stamp(slot, [values[slot.name]]))
    return stamps


def fits(stamps: list[Stamp]) -> bool:
    """Every value has glyphs in a bundled font and fits on one line of its slot."""
    for stamp in stamps:
        size = stamp.size or stamp.slot.size
        for line in stamp.lines:
            runs = _runs(line, stamp.slot.bold)
            if runs is None or _width(runs, size) > stamp.slot.width + 0.5:
                return False
    return True


def draw_pages(
    canvas: Canvas, template: Template, stamps: list[Stamp], barcode: str | None = None
) -> list[bool]:
    """Draws one record's overlay pages (check `fits` first); says which pages got ink,
    so pages without a slot need no overlay at all."""
    prepared = [(stamp, stamp.size or stamp.slot.size) for stamp in stamps]
    inked = [any(stamp.slot.page == n for stamp in stamps) for n in range(len(template.sizes))]
    for number, (width, height) in enumerate(template.sizes):
        canvas.setPageSize((width, height))
        for stamp, size in prepared:
            slot = stamp.slot
            if slot.page != number:
                continue
            leading = size * 1.2
            first = (
                slot.baseline
                if stamp.size is None
                else (slot.baseline - slot.ratio * slot.size + slot.ratio * size)
            )
            for i, line in enumerate(stamp.lines):
                runs = _runs(line, slot.bold)
                assert runs is not None
                _draw(canvas, runs, slot.x, height - (first + i * leading), size, slot.color)
            if barcode and slot.name == "address":
                top = first - slot.ratio * size + len(stamp.lines) * leading + IMB_GAP
                _draw_barcode(canvas, barcode, slot.x, height - top)
        canvas.showPage()
    return inked


def _draw_barcode(canvas: Canvas, bars: str, x: float, top: float) -> None:
    """The 65 IMb bars, same geometry as the full render's SVG (inches -> points)."""
    middle_top, middle_bottom = (_FULL - 0.05) / 2, (_FULL + 0.05) / 2
    spans = {
        "F": (0, _FULL),
        "A": (0, middle_bottom),
        "D": (middle_top, _FULL),
        "T": (middle_top, middle_bottom),
    }
    canvas.setFillColorRGB(0, 0, 0)
    for i, bar in enumerate(bars):
        y0, y1 = spans[bar]
        canvas.rect(x + i * _PITCH * 72, top - y1 * 72, _BAR * 72, (y1 - y0) * 72, stroke=0, fill=1)
