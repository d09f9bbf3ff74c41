"""Layout templates: each layout class rendered once, its slots measured and cut.

WeasyPrint renders the class with a probe text in every slot, laid out but not drawn
(`visibility: hidden` keeps the layout), which gives the static pages and, from the
layout itself, where each slot is and which marked content is its own
(stamp/measure.py). Each page with a slot is cut for splicing (stamp/splice.py).
"""

from __future__ import annotations

from weasyprint import CSS

from handouts.engine.render import Renderer
from handouts.engine.request import HandoutRequest
from handouts.mail.letter import LetterJob, letter_html, letter_layout_name, letter_styles
from handouts.stamp.measure import measure_slots, page_sizes, recording_marks
from handouts.stamp.model import Template
from handouts.stamp.splice import cut_pages

PROBE = "Xg"


def _template(
    renderer: Renderer, probe_html: str, styles: list[CSS], layout: str, budget: int | None = None
) -> Template:
    hidden = renderer.stylesheet(string=".v { visibility: hidden; }")
    with recording_marks() as mcids:
        rendered = renderer.render_html(probe_html, [*styles, hidden], layout, budget)
    assert rendered.document is not None
    slots = measure_slots(rendered.document, mcids)
    pages = cut_pages(rendered.data, {slot.page for slot in slots})
    return Template(rendered.data, page_sizes(rendered.document), slots, pages)


def handout_template(renderer: Renderer, request: HandoutRequest) -> Template:
    return _template(
        renderer,
        renderer.html(request, slot_text=PROBE),
        renderer.styles(request.large_print),
        repr(request.layout_key),
        renderer.page_budget(request.large_print),
    )


def letter_template(renderer: Renderer, job: LetterJob) -> Template:
    return _template(
        renderer,
        letter_html(renderer, job, PROBE),
        letter_styles(renderer),
        letter_layout_name(job),
    )
