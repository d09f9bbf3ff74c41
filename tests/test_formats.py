"""Dates, times and numbers come from CLDR (Babel) for each language's locale."""

from __future__ import annotations

import datetime as dt

import pytest

from handouts.engine.formats import clock_time, day_label, locale_of, long_date, number
from handouts.engine.levels import level_meaning

DATE = dt.date(2026, 12, 2)
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "strings", "date", "day", "morning", "evening", "fever"),
    [
        ("en", {}, "Wednesday, December 2, 2026", "Wed, Dec 2", "7:30 AM", "7:05 PM", "100.4"),
        (
            "es",
            {"locale": "es_US"},
            "miércoles, 2 de diciembre de 2026",
            "mié, 2 de dic",
            "7:30 a.m.",
            "7:05 p.m.",
            "100.4",
        ),
        ("fr", {}, "mercredi 2 décembre 2026", "mer. 2 déc.", "07:30", "19:05", "100,4"),
        ("zh-Hans", {}, "2026年12月2日星期三", "12月2日周三", "早上7:30", "晚上7:05", "100.4"),
        ("vi", {}, "Thứ Tư, 2 tháng 12, 2026", "Thứ 4, 2/12", "07:30", "19:05", "100,4"),
        ("ar", {}, "الأربعاء، 2 ديسمبر 2026", "الأربعاء، 2 ديسمبر", "7:30 ص", "7:05 م", "100.4"),
    ],
)
def test_each_language_formats_by_cldr(language, strings, date, day, morning, evening, fever):
    locale = locale_of(language, strings)
    assert long_date(DATE, locale).replace(NBSP, " ") == date
    assert day_label(DATE, locale).replace(NBSP, " ") == day
    assert clock_time(dt.time(7, 30), locale).replace(NBSP, " ") == morning
    assert clock_time(dt.time(19, 5), locale).replace(NBSP, " ") == evening
    assert number(100.4, locale) == fever
    assert number(38.0, locale) == "38"


def test_a_time_never_breaks_before_am_pm():
    assert clock_time(dt.time(7, 30), locale_of("en", {})) == f"7:30{NBSP}AM"


@pytest.mark.parametrize(
    ("hour", "minute", "printed"),
    [(0, 30, "凌晨12:30"), (11, 30, "上午11:30"), (13, 0, "下午1:00"), (23, 30, "晚上11:30")],
)
def test_chinese_times_carry_cldr_day_periods(hour, minute, printed):
    assert clock_time(dt.time(hour, minute), locale_of("zh-Hans", {})) == printed


def test_strings_files_hold_no_month_or_day_names():
    from handouts.locate import data_dir

    for path in data_dir("content").glob("*/strings.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "December" not in text and "diciembre" not in text and "date." not in text


def test_a_language_cldr_does_not_know_is_a_clear_content_error():
    from handouts.errors import ContentError

    with pytest.raises(ContentError, match="hmn/strings.yaml: CLDR has no locale 'hmn'"):
        locale_of("hmn", {})
    assert locale_of("hmn", {"locale": "en_US"}).language == "en"


def test_the_meaning_of_spine_letters_is_one_paragraph():
    """A sentence for each letter, in spine order, a space apart; none after a Chinese
    full stop."""
    en = {"levels.T": "T means the middle of the back.", "levels.L": "L means the lower back."}
    assert level_meaning("L1, T12", en) == (
        "T means the middle of the back. L means the lower back."
    )
    zh = {"levels.T": "T 指背部中段。", "levels.L": "L 指下背部（腰部）。"}
    assert level_meaning("T12, L1", zh) == "T 指背部中段。L 指下背部（腰部）。"
    quoted = {"levels.T": "「T」指背部中段。」", "levels.L": "L 指下背部。"}
    assert level_meaning("T12, L1", quoted) == "「T」指背部中段。」L 指下背部。"
    assert level_meaning("", en) == ""
