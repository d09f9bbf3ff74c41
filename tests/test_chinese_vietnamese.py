"""Chinese (Simplified) and Vietnamese handouts: every variant renders, in its language,
with CLDR dates, the translation status in the footer, and Chinese lines broken right."""

from __future__ import annotations

import re

import pytest
from helpers import (
    HANDOUTS,
    edit_clinic_toml,
    instruction_pages,
    open_pdf,
    page_texts,
    pdf_text,
    text_of,
)

from handouts.commands.build import SAMPLE_PATIENT
from handouts.model.request import HandoutRequest
from handouts.workspace import Workspace

#: Written out by hand from CLDR's patterns for the sample patient (Tuesday 2026-12-01,
#: 7:30): the test does not ask the code under test.
EXPECTED = {
    "zh-Hans": {
        "what_to_do": "您需要做的事",
        "card": "您的预约",
        "date": "2026年12月1日星期二",
        "time": "早上7:30",  # a day period, not the 24-hour clock (review ZH-2)
        # Not approved: the English text is a draft (a clinic approves it: approvals/).
        "status": "草稿：尚未经医生或护士批准 (Draft: not yet approved by a doctor or nurse)",
        "page": "第1页，共",
        "notice": "用您的语言获得帮助",
    },
    "vi": {
        "what_to_do": "Việc cần làm",
        "card": "Cuộc hẹn của quý vị",
        "date": "Thứ Ba, 1 tháng 12, 2026",
        "time": "07:30",
        "status": "Bản nháp: chưa được chuyên viên y tế duyệt (Draft: not yet approved by a "
        "doctor or nurse)",
        "page": "Trang 1/",
        "notice": "Hỗ trợ bằng ngôn ngữ của quý vị",
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
    # print the boxes of a post handout take most of page 1 and it may open page 2.
    latest = 1 if (phase, variant) == ("post", "large") else 0
    opens = next(n for n, page in enumerate(pages) if expected["what_to_do"] in page)
    assert opens <= latest
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


@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
def test_chinese_clock_times_say_the_part_of_the_day(render, procedure):
    """The sample patient arrives at 7:30 and stops eating 8 hours before (23:30 the day
    before): printed as older Chinese readers write them, never on a 24-hour clock."""
    text = re.sub(r"\s", "", text_of(render(procedure, "pre", SAMPLE_PATIENT, lang="zh-Hans")))
    assert "晚上11:30" in text
    assert "早上7:30" in text
    assert "23:30" not in text
    assert "07:30" not in text


def test_chinese_text_round_trips(render):
    """pdftotext gives back the Chinese of the content files (title and a whole line)."""
    text = text_of(render("kyphoplasty", "post", lang="zh-Hans"))
    squeezed = re.sub(r"\s", "", text)
    assert "椎体后凸成形术后怎样照顾自己" in squeezed
    assert "如果您有以下情况，请拨打911或去最近的急诊室：" in squeezed


def test_the_translators_two_high_corrections_are_printed(clinic_copy):
    """Translator's review 2026-12-06: ZH-1 (a 911 sign narrowed to "both legs") and VI-1
    ("stop drinking clear liquids" lost "clear"), in PDFs; VI-1 only prints where a clinic
    allows clear liquids, so this clinic does (2 hours). The sample patient arrives 7:30
    on Tuesday, December 1: clear liquids stop at 5:30 that morning."""
    edit_clinic_toml(clinic_copy, "clear_liquid_hours = 8", "clear_liquid_hours = 2")
    renderer = Workspace.open(clinic_copy).renderer
    post = re.sub(
        r"\s", "", text_of(renderer.pdf(HandoutRequest("kyphoplasty", "post", "zh-Hans")))
    )
    assert "一条腿或两条腿突然无力或麻木" in post
    assert "双腿突然" not in post
    pre = renderer.pdf(HandoutRequest("vertebroplasty", "pre", "vi", False, SAMPLE_PATIENT))
    flat = " ".join(text_of(pre).split())
    assert "Ngưng uống các loại nước trong (như nước lọc, nước táo) lúc 05:30" in flat
    assert "trong lúc 05:30" not in flat


def test_chinese_glossary_and_log_use_chinese_punctuation(render):
    """Review ZH-13 and ZH-23: a full-width colon after a glossary term, and no space
    after a full stop between two sentences of the log's introduction."""
    text = text_of(render("kyphoplasty", "post", lang="zh-Hans"))
    assert "对乙酰氨基酚：一种治疗疼痛和发烧的药" in text
    assert "对乙酰氨基酚:" not in text
    assert "怎么样。疼痛：0表示不痛" in text
    assert "怎么样。 疼痛" not in text


@pytest.mark.parametrize(("procedure", "phase"), HANDOUTS)
@pytest.mark.parametrize("lang", ["zh-Hans", "vi"])
def test_a_number_stays_with_its_unit_at_a_line_end(render, procedure, phase, lang):
    """Review ZH-20 and VI-14, in large print where lines are short: "8磅", "24小时",
    "8 pound", "5 phút" are never split, nor is "ga-lông" at its hyphen."""
    text = pdf_text(render(procedure, phase, SAMPLE_PATIENT, lang=lang, large=True))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert len(lines) > 100
    units = (
        "磅",
        "小时",
        "时",
        "分钟",
        "钟",
        "天",
        "周",
        "公斤",
        "pound",
        "phút",
        "giờ",
        "ngày",
        "tuần",
        "kg",
    )
    for before, after in zip(lines, lines[1:], strict=False):
        assert not (before[-1].isdigit() and after.startswith(units)), (before, after)
        assert not re.search(r"\d(小|分)$", before), (before, after)
        assert not before.endswith("ga-") and not before.endswith("ga\u2011"), (before, after)
