"""Right to left: an Arabic handout made of data files only (a few sections, here in the
test) mirrors its lists, boxes, appointment card and footer."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from helpers import append_clinic_toml, open_pdf
from PIL import Image

from handouts.locate import data_dir
from handouts.model.request import HandoutRequest, PatientDetails
from handouts.workspace import Workspace

ARABIC_STRINGS = {
    "locale": "ar",
    "card.post.heading": "العملية التي أجريت لك",
    "card.name": "الاسم",
    "card.date": "التاريخ",
    "card.physician": "الطبيب",
    "card.levels": "الفقرات المعالجة",
    "card.follow_up": "زيارة المتابعة",
    "card.post.reminder": "هل لديك أسئلة؟ اتصل بنا على {main_phone}.",
    "red_flags.call_911": "اتصل بالرقم 911 أو اذهب إلى أقرب قسم طوارئ إذا كان لديك:",
    "red_flags.call_now": "اتصل بنا فورًا على {main_phone} إذا كان لديك:",
    "red_flags.after_hours": "في الليل وعطلة نهاية الأسبوع، اتصل بالرقم {after_hours_phone}.",
    "footer.page": "صفحة {page} من {pages}",
    "footer.content": "{id} · الإصدار {version} · {review}",
    "footer.status.translation-pending": "الترجمة لم تُراجع بعد",
    "language.name": "العربية",
    "notice.heading": "مساعدة بلغتك",
    "notice.main": "تتوفر لك مساعدة لغوية مجانية. اتصل بالرقم {phone} (الهاتف النصي: {tty}).",
    "sources.heading": "مصادر هذه المعلومات",
    "notes.heading": "ملاحظات من فريق الرعاية",
    "readability.measure": "none",
    "readability.limit": "0",
    "readability.better": "lower",
    "readability.textstat_lang": "ar",
}

ARABIC_HANDOUT = """\
id: kyphoplasty-post
procedure: kyphoplasty
phase: post
language: ar
title: العناية بنفسك بعد رأب الحدبة
summary: كيف تعتني بنفسك في البيت بعد العملية.
version: "1.1"
updated_on: 2026-11-22
review_status: translation-pending
sources:
  - title: FREE trial, Lancet 2009
    url: https://pmc.ncbi.nlm.nih.gov/articles/PMC3678891
sections:
  - id: red-flags
    heading: متى تطلب المساعدة
    lead: true
    blocks:
      - red_flags:
          call_911:
            - ألم في الصدر أو صعوبة في التنفس.
          call_now:
            - حمى أو قشعريرة.
  - id: first-day
    heading: أول يوم في البيت
    blocks:
      - bullets:
          - يجب أن يوصلك شخص بالغ إلى البيت.
          - ارتح بقية اليوم.
      - callout:
          kind: important
          heading: لا تقد السيارة اليوم.
          text: اطلب من شخص بالغ أن يوصلك.
"""


def _add_arabic(clinic: Path) -> None:
    target = clinic / "content" / "ar"
    target.mkdir(parents=True)
    lines = []
    for line in (data_dir("content") / "en" / "strings.yaml").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ARABIC_STRINGS:
            line = f'{key}: "{ARABIC_STRINGS[key]}"'
        lines.append(line)
    lines.append(f'locale: "{ARABIC_STRINGS["locale"]}"')
    (target / "strings.yaml").write_text("\n".join(lines) + "\n")
    (target / "kyphoplasty-post.yaml").write_text(ARABIC_HANDOUT)
    append_clinic_toml(clinic, "[options]\nteach_back = false\nrecovery_log = false\n")


@pytest.fixture(scope="module")
def arabic_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    clinic = tmp_path_factory.mktemp("ar") / "clinic"
    shutil.copytree(data_dir("clinics") / "demo", clinic)
    _add_arabic(clinic)
    workspace = Workspace.open(clinic)
    patient = PatientDetails(patient_name="محمد علي", physician="د. سارة حداد")
    rendered = workspace.renderer.render(
        HandoutRequest("kyphoplasty", "post", "ar", patient=patient)
    )
    assert rendered.warnings == ()
    return rendered.data


def _page(pdf: bytes, number: int = 0) -> tuple[list[dict], float, list[dict]]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[number]
        return page.extract_words(extra_attrs=["fontname", "size"]), float(page.width), page.rects


def _letters(text: str) -> str:
    """Letters in code point order: pdfplumber gives Arabic in painted order, with
    ligatures (lam-alef) in their own order, so words are compared as letter sets."""
    return "".join(sorted(text.strip(".:،")))


def _line_of(words: list[dict], text: str) -> list[dict]:
    """The words on the line of the first word with the letters of `text`."""
    hits = [w for w in words if _letters(w["text"]) == _letters(text)]
    assert hits, (text, [w["text"] for w in words][:30])
    top = hits[0]["top"]
    return [w for w in words if abs(w["top"] - top) < 4]


def _word(words: list[dict], text: str) -> dict:
    return next(w for w in words if _letters(w["text"]) == _letters(text))


def test_document_language_and_direction(arabic_pdf):
    assert str(open_pdf(arabic_pdf).Root.Lang) == "ar"


def test_headings_and_paragraphs_are_right_aligned(arabic_pdf):
    words, width, _ = _page(arabic_pdf)
    margin = 0.6 * 72
    title = _line_of(words, "العناية")
    assert max(w["x1"] for w in title) == pytest.approx(width - margin, abs=1.5)
    assert min(w["x0"] for w in title) > width / 3  # ragged on the left


def test_list_items_mirror_the_english_indent(arabic_pdf, render):
    """A list item's text starts as far in from the right margin as an English item's
    starts from the left one (the bullet hangs in that indent, on the right)."""
    words, width, _ = _page(arabic_pdf)
    margin = 0.6 * 72
    item = _line_of(words, "يجب")
    arabic_indent = width - margin - max(w["x1"] for w in item)
    english = _page(render("kyphoplasty", "post"), 1)[0] + _page(render("kyphoplasty", "post"))[0]
    first = next(w for w in english if w["text"] == "An")  # "An adult must drive you home."
    assert arabic_indent == pytest.approx(first["x0"] - margin, abs=1.0)
    assert arabic_indent > 10


def _pixel(pdf: bytes, x: float, y: float, tmp: Path, page: int = 1) -> tuple[int, int, int]:
    """The color at (x, y) points of a page, rasterized by poppler at 72 dpi."""
    (tmp / "p.pdf").write_bytes(pdf)
    number = str(page)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "72",
            "-f",
            number,
            "-l",
            number,
            "-png",
            str(tmp / "p.pdf"),
            str(tmp / "p"),
        ],
        check=True,
    )
    image = Image.open(next(tmp.glob("p-*.png"))).convert("RGB")
    return image.getpixel((round(x), round(y)))


def test_callout_bar_is_on_the_right(arabic_pdf, tmp_path):
    # the call-out is on page 1 or 2 (after the card, its notes and the warning boxes)
    number = next(
        n
        for n in (0, 1)
        if any(_letters(w["text"]) == _letters("تقد") for w in _page(arabic_pdf, n)[0])
    )
    words, width, _ = _page(arabic_pdf, number)
    heading = _line_of(words, "تقد")
    y = (heading[0]["top"] + heading[0]["bottom"]) / 2
    margin = 0.6 * 72
    primary = (0x1F, 0x4E, 0x79)  # the demo clinic's primary color: the "important" bar
    right_edge = _pixel(arabic_pdf, width - margin - 2, y, tmp_path, number + 1)
    left_edge = _pixel(arabic_pdf, margin + 2, y, tmp_path, number + 1)
    assert all(abs(a - b) < 30 for a, b in zip(right_edge, primary, strict=True)), right_edge
    assert left_edge[0] > 200, left_edge  # the light tint, no bar on the left
    assert max(w["x1"] for w in heading) < width - margin - 12  # text clears the bar


def test_appointment_card_labels_are_right_of_their_values(arabic_pdf):
    words, width, _ = _page(arabic_pdf)
    line = _line_of(words, "الاسم")
    label = _word(line, "الاسم")
    value = _word(line, "محمد")
    assert label["x0"] > value["x1"]  # label first, on the right; the name to its left


def test_footer_mirrors_page_number_on_the_left(arabic_pdf):
    words, width, _ = _page(arabic_pdf)
    footer = [w for w in words if w["top"] > 700]
    page_word = _word(footer, "صفحة")
    clinic = next(w for w in footer if w["text"] == "Riverbend")
    assert page_word["x0"] < width / 3  # the page number sits on the left
    assert clinic["x1"] > width * 2 / 3  # the clinic line starts on the right


def test_clinic_address_keeps_its_order_in_right_to_left_text(arabic_pdf):
    """ "1200 Riverbend Parkway" stays in that order (isolated), not "Riverbend ... 1200"."""
    words, width, _ = _page(arabic_pdf)
    number = next(w for w in words if w["text"] == "1200")
    street = next(
        w for w in words if w["text"] == "Riverbend" and abs(w["bottom"] - number["bottom"]) < 3
    )
    assert number["x1"] < street["x0"]
