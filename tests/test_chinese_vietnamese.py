"""Chinese (Simplified) and Vietnamese handouts: every variant renders, in its language,
with CLDR dates, the translation status in the footer, and Chinese lines broken right."""

from __future__ import annotations

import re

import pytest
from helpers import HANDOUTS, instruction_pages, open_pdf, page_texts, pdf_text, text_of

from handouts.commands.build import SAMPLE_PATIENT

#: Written out by hand from CLDR's patterns for the sample patient (Tuesday 2026-12-01,
#: 7:30): the test does not ask the code under test.
EXPECTED = {
    "zh-Hans": {
        "what_to_do": "您需要做的事",
        "card": "您的预约",
        "date": "2026年12月1日星期二",
        "time": "07:30",
        "status": "译文尚未审核 (Translation not yet reviewed)",
        "page": "第1页，共",
        "notice": "用您的语言获得帮助",
    },
    "vi": {
        "what_to_do": "Việc cần làm",
        "card": "Cuộc hẹn của bạn",
        "date": "Thứ Ba, 1 tháng 12, 2026",
        "time": "07:30",
        "status": "Bản dịch chưa được duyệt (Translation not yet reviewed)",
        "page": "Trang 1/",
        "notice": "Trợ giúp bằng ngôn ngữ của bạn",
    },
}
LANGS = list(EXPECTED)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
@pytest.mark.parametrize("variant", ["blank", "large", "personal"])
def test_every_variant_renders_in_its_language(render, lang, procedure, phase, variant):
    patient = SAMPLE_PATIENT if variant == "personal" else None
    pdf = render(procedure, phase, patient, lang=lang, large=variant == "large")
    document = open_pdf(pdf)
    assert str(document.Root.Lang) == lang
    pages = page_texts(pdf)
    text = " ".join(pages)
    expected = EXPECTED[lang]
    # "What to do" opens page 1, after the two warning boxes in normal print; in large
    # print the boxes of a post handout fill page 1 and it opens page 2.
    opens = 1 if (phase, variant) == ("post", "large") else 0
    assert expected["what_to_do"] in pages[opens]
    assert opens == 0 or expected["what_to_do"] not in pages[0]
    assert expected["status"] in text and expected["page"] in text
    assert expected["notice"] in text
    if variant == "personal":
        assert "Maria Garcia" in text
        assert expected["date"] in text
        if phase == "pre":
            assert expected["time"] in text
    if variant != "large":
        assert instruction_pages(pages, expected["notice"]) <= 6
        assert len(pages) <= 7
    assert len(pdf) < 400_000  # fonts subset: a portal PDF stays well under 1 MB


@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
@pytest.mark.parametrize("large", [False, True])
def test_chinese_lines_never_start_with_closing_punctuation_or_split_a_number(
    render, procedure, phase, large
):
    """Line breaks in Chinese: no line starts with a comma, full stop, colon or closing
    bracket, and no number (or phone number) is split across two lines."""
    text = pdf_text(render(procedure, phase, SAMPLE_PATIENT, lang="zh-Hans", large=large))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert len(lines) > 100
    closing = "，。、：；！？）」』】》％"
    starts = [line for line in lines if line[0] in closing]
    assert not starts, starts[:5]
    han = re.compile("[\u4e00-\u9fff]")
    for before, after in zip(lines, lines[1:], strict=False):
        if han.search(before) and len(before) > 3 and len(after) > 3:  # running text, not cells
            assert not (before[-1].isdigit() and after[0].isdigit()), (before, after)
        assert not before.endswith("(555)"), (before, after)


def test_chinese_text_round_trips(render):
    """pdftotext gives back the Chinese of the content files (title and a whole line)."""
    text = text_of(render("kyphoplasty", "post", lang="zh-Hans"))
    squeezed = re.sub(r"\s", "", text)
    assert "椎体后凸成形术后怎样照顾自己" in squeezed
    assert "如果您有以下情况，请拨打911或去最近的急诊室：" in squeezed
