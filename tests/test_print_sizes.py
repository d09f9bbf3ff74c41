"""Large print is large everywhere, its page 1 carries the letterhead, title and main
message, its log has rows to write in; the step pictures are big enough to read.

Measured in the PDFs (pdfplumber): character sizes, positions of the step numbers the
pictures draw, the log's ruled lines. The expected values are written out by hand.
"""

from __future__ import annotations

import io
import re

import pdfplumber
import pytest
from helpers import HANDOUTS, page_texts, points

from handouts.commands.build import SAMPLE_PATIENT

LANGS = ["en", "es", "zh-Hans", "vi"]
#: Each handout's title and main message, as printed (written out by hand).
TITLES = {
    ("en", "vertebroplasty", "pre"): "Getting ready for your vertebroplasty",
    ("en", "kyphoplasty", "pre"): "Getting ready for your kyphoplasty",
    ("en", "vertebroplasty", "post"): "Caring for yourself after vertebroplasty",
    ("en", "kyphoplasty", "post"): "Caring for yourself after kyphoplasty",
    ("es", "vertebroplasty", "post"): "Cómo cuidarse después de la vertebroplastia",
    ("es", "kyphoplasty", "post"): "Cómo cuidarse después de la cifoplastia",
}
MAIN_MESSAGES = {
    ("en", "pre"): "Stop eating and drinking at the times below, follow your medicine plan,",
    ("en", "post"): "Know these warning signs, and get help fast if you have one.",
    ("es", "post"): "Conozca estas señales de alarma y pida ayuda rápido si tiene alguna.",
}
SMALLEST_LARGE_PRINT = 16.0  # points, every character a patient reads


def folded(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
@pytest.mark.parametrize("personalized", [False, True], ids=["blank", "patient"])
def test_large_print_has_no_text_under_16_points(render, procedure, phase, lang, personalized):
    patient = SAMPLE_PATIENT if personalized else None
    pdf = render(procedure, phase, patient, lang=lang, large=True)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        small = [
            (number + 1, char["text"], round(char["size"], 1))
            for number, page in enumerate(document.pages)
            for char in page.chars
            if char["text"].strip() and char["size"] < SMALLEST_LARGE_PRINT - 0.01
        ]
    assert small == [], small[:10]


def test_the_size_check_sees_small_text(render):
    """The check above can fail: standard print has its 9-point footer."""
    with pdfplumber.open(io.BytesIO(render("kyphoplasty", "post"))) as document:
        sizes = {round(c["size"]) for c in document.pages[0].chars if c["text"].strip()}
    assert min(sizes) < SMALLEST_LARGE_PRINT


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
def test_large_print_page_one_has_the_letterhead_title_and_main_message(
    render, procedure, phase, lang
):
    first = folded(page_texts(render(procedure, phase, lang=lang, large=True))[0])
    assert "Riverbend Spine Center · (555) 010-4400" in first  # the one-line letterhead
    if (lang, procedure, phase) in TITLES:
        assert TITLES[lang, procedure, phase] in first
    if (lang, phase) in MAIN_MESSAGES:
        assert MAIN_MESSAGES[lang, phase] in first


@pytest.mark.parametrize("lang", ["en", "es"])
def test_large_print_keeps_the_clinic_address(render, lang):
    """The one-line letterhead leaves out the address: it is printed before the log."""
    text = folded(" ".join(page_texts(render("vertebroplasty", "pre", lang=lang, large=True))))
    assert "1200 Riverbend Parkway, Suite 300, Springfield, IL 62704" in text


def log_row_heights(pdf: bytes, header: str) -> list[float]:
    """The gaps between the ruled lines of the recovery log's rows, on every page its
    table (a column headed `header`) is on."""
    heights = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            text = page.extract_text() or ""
            if header not in text:
                continue
            rules = sorted(
                {
                    round(line["top"], 1)
                    for line in page.lines
                    if abs(line["top"] - line["bottom"]) < 1 and line["x1"] - line["x0"] > 40
                }
            )
            heights += [b - a for a, b in zip(rules[1:], rules[2:], strict=False)]
    assert heights, f"no log table headed '{header}'"
    return heights


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
def test_large_print_log_rows_are_at_least_045_inches(render, procedure, lang):
    header = {"en": "Walking", "es": "Caminata"}[lang]
    heights = log_row_heights(render(procedure, "post", lang=lang, large=True), header)
    assert min(heights) >= points(0.45), min(heights)
    # and standard print keeps its tighter rows (the check can fail)
    assert min(log_row_heights(render(procedure, "post", lang=lang), header)) < points(0.45)


def white(char: dict) -> bool:
    color = char.get("non_stroking_color")
    return color is not None and all(abs(v - 1) < 0.01 for v in color)


def middle(char: dict) -> float:
    return (char["x0"] + char["x1"]) / 2


def step_numbers(pdf: bytes, digits: str) -> list[dict]:
    """The step numbers a steps picture draws (white on its colored circles): the first
    page with each of `digits` white and bold."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            found = {
                c["text"]: c
                for c in page.chars
                if c["text"] in digits and white(c) and "Bold" in c["fontname"]
            }
            if set(found) == set(digits):
                return [found[d] for d in digits]
    raise AssertionError(f"no step numbers {digits} found")


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_kyphoplasty_steps_are_a_2_by_2_grid_of_big_panels(render, large):
    one, two, three, four = step_numbers(render("kyphoplasty", "pre", large=large), "1234")
    # two columns and two rows: 1 and 2 side by side, 3 under 1, 4 under 2
    assert abs(one["top"] - two["top"]) < 1 and abs(three["top"] - four["top"]) < 1
    assert abs(middle(one) - middle(three)) < 1 and three["top"] > one["top"] + points(1)
    assert middle(two) - middle(one) >= points(2.5)  # each panel at least 2.5 in wide
    assert min(c["size"] for c in (one, two, three, four)) >= (16 if large else 12)


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_vertebroplasty_steps_are_three_panels_at_least_15_inches_wide(render, large):
    one, two, three = step_numbers(render("vertebroplasty", "pre", large=large), "123")
    assert abs(one["top"] - two["top"]) < 1 and abs(two["top"] - three["top"]) < 1
    assert middle(two) - middle(one) >= points(1.5) and middle(three) - middle(two) >= points(1.5)
    assert min(c["size"] for c in (one, two, three)) >= (16 if large else 12)


@pytest.mark.parametrize("lang", LANGS)
def test_the_fracture_picture_says_which_side_is_the_front(render, lang):
    sides = {
        "en": ("Front", "Back"),
        "es": ("Delante", "Detrás"),
        "zh-Hans": ("前", "后"),
        "vi": ("Phía trước", "Phía sau"),
    }[lang]
    with pdfplumber.open(io.BytesIO(render("vertebroplasty", "pre", lang=lang))) as document:
        for page in document.pages:
            words = page.extract_words(keep_blank_chars=True)
            front = [w for w in words if w["text"].strip() == sides[0]]
            back = [w for w in words if w["text"].strip() == sides[1]]
            if front and back:
                break
        else:
            raise AssertionError(f"no {sides} labels")
    # on one line, the front on the left (where the drawing puts the belly side)
    assert abs(front[0]["top"] - back[0]["top"]) < 1 and front[0]["x0"] < back[0]["x0"]


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
def test_nothing_is_drawn_outside_the_side_margins(render, procedure, phase, lang, large):
    """Text, rules and table borders stay inside the page's side margins (0.6 in, large
    print 0.75 in): a table wider than its column is cut off by the printer."""
    margin = points(0.75 if large else 0.6)
    pdf = render(procedure, phase, SAMPLE_PATIENT, lang=lang, large=large)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        outside = [
            (number + 1, kind, round(item["x0"], 1), round(item["x1"], 1))
            for number, page in enumerate(document.pages)
            for kind, items in (("text", page.chars), ("line", page.lines), ("box", page.rects))
            for item in items
            if item["x0"] < margin - 0.5 or item["x1"] > page.width - margin + 0.5
        ]
    assert outside == [], outside[:5]


#: Every picture of the handouts (not the small icons of lists and boxes), by the start
#: of its English alternate text, with the handout it is in and its least drawn width in
#: standard print, in inches (issue 22): the steps are tested by their panels above.
PICTURES = {
    "Side view of five spine bones": (("vertebroplasty", "pre"), 1.5),
    "A person lying on their stomach": (("kyphoplasty", "pre"), 1.5),
    "Four drawings of the broken spine bone": (("kyphoplasty", "pre"), 5.0),
    "An ice pack wrapped in a thin towel": (("vertebroplasty", "post"), 1.5),
    "A person's back seen from behind": (("kyphoplasty", "post"), 1.5),
    "A one-gallon jug of milk, crossed out": (("vertebroplasty", "post"), 1.5),
}
#: Large print draws each picture 1.5 times as wide, or as wide as the text (less the
#: tenth of an inch a drawing keeps clear of its box's edges).
LARGE_TEXT_WIDTH = 8.5 - 2 * 0.75 - 0.1


def _elements(elements: list[dict]):
    for element in elements:
        yield element
        yield from _elements(element.get("children") or [])


def drawn_widths(pdf: bytes) -> dict[str, float]:
    """Each Figure of the structure tree, by its alternate text: the width, in inches,
    of what its marked content draws (lines, shapes, images, text), not of its box."""
    widths = {}
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for element in _elements(document.structure_tree):
            if element["type"] != "Figure" or not element.get("mcids"):
                continue
            page = document.pages[element["page_number"] - 1]
            drawn = [
                item
                for item in (*page.curves, *page.rects, *page.lines, *page.images, *page.chars)
                if item.get("tag") == "Figure" and item.get("mcid") in element["mcids"]
            ]
            assert drawn, element.get("alt_text")
            width = max(item["x1"] for item in drawn) - min(item["x0"] for item in drawn)
            widths[element.get("alt_text", "")] = width / 72
    return widths


def picture_width(widths: dict[str, float], start: str) -> float:
    (width,) = [width for alt, width in widths.items() if alt.startswith(start)]
    return width


@pytest.mark.parametrize("start", PICTURES)
def test_every_picture_is_drawn_big_enough(render, start):
    handout, least = PICTURES[start]
    standard = picture_width(drawn_widths(render(*handout, SAMPLE_PATIENT)), start)
    large = picture_width(drawn_widths(render(*handout, SAMPLE_PATIENT, large=True)), start)
    assert standard >= least, standard
    assert large >= min(1.5 * standard, LARGE_TEXT_WIDTH) - 0.01, (standard, large)


def test_the_picture_measure_sees_a_small_icon(render):
    """The measure reads the drawing, not its box: a list's icon is under half an inch."""
    widths = drawn_widths(render("vertebroplasty", "post"))
    assert 0.1 < picture_width(widths, "Bandage") < 0.5
