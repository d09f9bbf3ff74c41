"""The probe render: each layout class rendered once, its slots measured and cut.

WeasyPrint renders the class with a visible probe in every slot occurrence, each
distinct ("Xg" and a number, letter-spaced tighter to stay about as wide as "Xg": a
slot's width comes from its CSS and its markers, not from its text), and two empty
markers with ids in each slot element: at the top and at the right edge of its content
box. The slots are then measured on the output (stamp/measure.py): each probe found in
the PDF, each marker in the pages' anchors. The static pages are the same PDF with the
probes' text taken out of their marked-content sequences (stamp/splice.py), the glyphs
only the probes used taken out of the font subsets, and the markers' named destinations
removed: what a full render has outside the slots. Each page with a slot is then cut for
splicing.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pikepdf
from weasyprint import CSS

from handouts.engine.render import Renderer
from handouts.errors import LayoutError
from handouts.model.request import HandoutRequest
from handouts.pdf.shown import Show, form_glyphs, merged, page_glyphs, page_shows
from handouts.stamp.measure import Probe, measure_slots, page_sizes
from handouts.stamp.model import Layout, Slot
from handouts.stamp.pagefonts import narrow
from handouts.stamp.splice import cut_page, cut_pages

PROBE = "Xg"
#: Letter spacing that keeps a probe ("Xg" and DIGITS digits) about as wide as "Xg"
#: (narrower in Atkinson; in DejaVu Sans Bold up to 6% wider).
PROBE_SPACING = "-0.4em"
#: The class of a probe's own text element (its slot's "v" span), which alone is narrowed.
PROBE_CLASS = "stamp-probe-text"
#: Marker ids (and named destinations, removed again) start with this.
MARKER = "stamp-probe-"
#: Probes are PROBE and a number of this many digits.
DIGITS = 3
#: A slot's probe as the templates print it: the only child of its `data-slot` element.
_SLOT = re.compile(r'(data-slot="([^"]+)"[^>]*>)<span class="v">' + PROBE + "</span>")
#: The markers: no size, at the right edge of the slot element's content box.
MARKER_CSS = (
    ".stamp-probe { display: block !important; width: 0 !important; height: 0 !important;"
    " margin: 0 0 0 auto !important; padding: 0 !important; border: 0 !important;"
    " float: none !important; position: static !important; }"
    # the probes about as wide as "Xg", within the narrowest slot's CSS width (only the
    # probes: a blank slot's no-break space keeps the width a full render gives it)
    f" .{PROBE_CLASS} {{ letter-spacing: {PROBE_SPACING} !important; }}"
)


def probe_html(html: str) -> tuple[str, list[Probe]]:
    """The HTML with a distinct probe and two markers in each slot occurrence."""
    probes: list[Probe] = []
    counts: dict[str, int] = {}

    def probed(match: re.Match[str]) -> str:
        name, number = match.group(2), len(probes)
        probe = Probe(name, counts.get(name, 0), f"{PROBE}{number:0{DIGITS}d}",
                      f"{MARKER}{number}-top", f"{MARKER}{number}-right")  # fmt: skip
        counts[name] = probe.index + 1
        probes.append(probe)
        top, right = (
            f'<span class="stamp-probe" id="{i}"></span>' for i in (probe.top, probe.right)
        )
        text = f'<span class="v {PROBE_CLASS}">{probe.text}</span>'
        return f"{match.group(1)}{top}{text}{right}"

    found = _SLOT.sub(probed, html)
    if len(probes) >= 10**DIGITS or f">{PROBE}<" in found:
        raise LayoutError("the probe render found a slot it cannot measure")
    return found, probes


def _without_markers(pdf: pikepdf.Pdf) -> None:
    """Removes the markers' named destinations (a full render has none)."""
    names: Any = pdf.Root.get("/Names")
    dests = names.get("/Dests") if names is not None else None
    if dests is None or "/Names" not in dests:
        return
    items = list(dests.Names)
    pairs = [(k, v) for k, v in zip(items[::2], items[1::2], strict=True)]
    kept = [item for k, v in pairs if not str(k).startswith(MARKER) for item in (k, v)]
    if kept:
        dests.Names = pikepdf.Array(kept)
        return
    del names["/Dests"]
    if not names.keys():
        del pdf.Root["/Names"]


def static_pages(pdf: pikepdf.Pdf, slots: list[Slot], shows: list[list[Show]]) -> bytes:
    """The probe render without its probes (text, their own glyphs, the markers);
    `shows`: each page's text shows, read once for measuring and here."""
    forms = form_glyphs(pdf)  # the cut leaves them as they are
    before = [page_glyphs(page, shown) for page, shown in zip(pdf.pages, shows, strict=True)]
    after = list(before)  # a page without a slot shows what it showed
    for number in sorted({slot.page for slot in slots}):
        page = pdf.pages[number]
        mcids = {slot.mcid for slot in slots if slot.page == number and slot.mcid is not None}
        page.Contents = pdf.make_stream(b"\n".join(cut_page(page, mcids).segments))
        after[number] = page_glyphs(page)
    shown, kept = merged([*before, forms]), merged([*after, forms])
    narrow(pdf, {font: glyphs - kept.get(font, set()) for font, glyphs in shown.items()})
    _without_markers(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def probed_layout(
    renderer: Renderer, html: str, styles: list[CSS], layout: str, budget: int | None = None
) -> Layout:
    probed, probes = probe_html(html)
    markers = renderer.stylesheet(string=MARKER_CSS)
    rendered = renderer.render_html(probed, [*styles, markers], layout, budget)
    assert rendered.document is not None
    anchors = [page.anchors for page in rendered.document.pages]
    with pikepdf.open(io.BytesIO(rendered.data)) as pdf:
        shows = [page_shows(page) for page in pdf.pages]
        slots = measure_slots(pdf, anchors, probes, shows)
        sizes = page_sizes(pdf)
        data = static_pages(pdf, slots, shows)
    return Layout(data, sizes, slots, cut_pages(data, slots))


def handout_layout(renderer: Renderer, request: HandoutRequest) -> Layout:
    return probed_layout(
        renderer,
        renderer.html(request, slot_text=PROBE),
        renderer.styles(request.large_print),
        repr(request.layout_key),
        renderer.page_budget(request.large_print),
    )
