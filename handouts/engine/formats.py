"""Dates, times and numbers as each language writes them, from CLDR (Babel).

A language needs no date strings: its strings.yaml may name a CLDR locale (`locale:
es_US` for US Spanish: 12-hour clock, decimal point); otherwise the language code is
the locale (`zh-Hans`, `vi`, `ar`...).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import cache, lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, match_skeleton
from babel.numbers import format_decimal

from handouts.errors import ContentError

#: CLDR puts a narrow no-break space before "AM"; a plain no-break space prints in every
#: font and keeps "7:30 AM" on one line the same way.
_SPACES = str.maketrans({"\u202f": "\u00a0", "\u2009": "\u00a0"})


@cache
def _parse(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def locale_of(language: str, strings: Mapping[str, str]) -> Locale:
    """The CLDR locale of a content language (strings.yaml `locale`, or the code)."""
    tag = strings.get("locale") or language
    try:
        return _parse(tag)
    except (UnknownLocaleError, ValueError):
        raise ContentError(
            f"{language}/strings.yaml: CLDR has no locale '{tag}' for dates and times; "
            "set `locale:` to the nearest one CLDR knows (e.g. en_US)"
        ) from None


def _clean(text: str) -> str:
    return text.translate(_SPACES)


@lru_cache(maxsize=4096)  # a mailing repeats the same few weeks
def long_date(value: dt.date, locale: Locale) -> str:
    """Weekday and full date: "Tuesday, December 1, 2026"."""
    return _clean(format_date(value, "full", locale=locale))


@lru_cache(maxsize=4096)  # a mailing repeats the same few weeks
def short_date(value: dt.date, locale: Locale) -> str:
    """Date without weekday: "December 1, 2026"."""
    return _clean(format_date(value, "long", locale=locale))


#: Languages whose short month names are abbreviations older readers may not know, and
#: break badly in a table cell ("Thứ 5, 10 thg" / "12"): the log's day label writes
#: the month as a number there ("Thứ 5, 10/12"; translator's review VI-7).
NUMERIC_MONTH_DAYS = {"vi": "MEd"}


def medium_date(value: dt.date, locale: Locale) -> str:
    """Date with the month shortened: "Nov 2, 2026", "2 nov 2026" (the footer)."""
    return _clean(format_date(value, "medium", locale=locale))


@lru_cache(maxsize=4096)  # a mailing repeats the same few weeks
def day_label(value: dt.date, locale: Locale, year: int | None = None) -> str:
    """Short weekday, day and month for a table column: "Wed, Dec 2", "mié, 2 de dic";
    with the year when it is not `year` (the procedure's): "Sat, Jan 2, 2027"."""
    this_year = year is None or value.year == year
    skeleton = NUMERIC_MONTH_DAYS.get(locale.language, "EEEMMMd" if this_year else "yMMMEd")
    if locale.language in NUMERIC_MONTH_DAYS and not this_year:
        skeleton = "y" + skeleton
    return _clean(format_datetime(value, _skeleton_pattern(skeleton, locale), locale=locale))


@cache
def _skeleton_pattern(skeleton: str, locale: Locale) -> str:
    """The locale's pattern for a skeleton (Babel's format_skeleton, with the slow
    skeleton match done once per locale)."""
    skeletons = locale.datetime_skeletons
    if skeleton not in skeletons:
        skeleton = match_skeleton(skeleton, skeletons) or skeleton
    return str(skeletons[skeleton])


#: Abbreviated weekday and month fields, and their full-width forms.
_WIDEN = re.compile(r"(?<![EcML])(E{1,3}|c{3}|M{3}|L{3})(?![EcML])")


def _widened(pattern: str) -> str:
    """A CLDR pattern with the weekday and month written out (as ICU widens a skeleton's
    fields); quoted literals such as 'de' are left alone."""
    parts = re.split(r"('[^']*')", pattern)
    return "".join(
        part
        if part.startswith("'")
        else _WIDEN.sub(lambda m: m.group(1)[0] * 4 if m.group(1)[0] != "M" else "MMMM", part)
        for part in parts
    )


@lru_cache(maxsize=4096)  # a mailing repeats the same few weeks
def day_date(value: dt.date, locale: Locale, year: int | None = None) -> str:
    """Weekday, month and day, no year, for a date in the coming weeks: "Monday,
    November 30", "lunes, 30 de noviembre", "11月30日星期一". A date in another year
    than `year` (the procedure's) is written with its year and without its weekday:
    "January 1, 2027", "1 de enero de 2027". In the stamped languages (English, Spanish)
    that is no wider than the widest day without a year (tests/test_key_actions.py), so
    a date in the new year fills the same slot as any other: the page keeps its lines,
    and the record its layout class."""
    if year is not None and value.year != year:
        return short_date(value, locale)
    pattern = locale.datetime_skeletons.get("MMMEd")
    if pattern is None:
        return long_date(value, locale)
    return _clean(format_date(value, _widened(str(pattern)), locale=locale))


#: Languages whose older readers write a clock time with a day period, not on a 24-hour
#: clock (translator's review ZH-2: 早上7:30, 晚上11:30, not 07:30, 23:30): the CLDR
#: skeleton they use. The day-period words come from CLDR (flexible day periods, "B").
CLOCK_SKELETONS = {"zh": "Bhm"}


@lru_cache(maxsize=4096)  # a mailing repeats the same few weeks
def clock_time(value: dt.time, locale: Locale) -> str:
    """A clock time: "7:30 AM", "7:30 a.m.", "07:30", "晚上11:30"."""
    skeleton = CLOCK_SKELETONS.get(locale.language)
    if skeleton is None:
        return _clean(format_time(value, "short", locale=locale))
    return _clean(format_time(value, _skeleton_pattern(skeleton, locale), locale=locale))


def number(value: float, locale: Locale) -> str:
    """A number with at most one decimal, in the language's digits and separator."""
    return _clean(format_decimal(value, format="#,##0.#", locale=locale))


@cache
def text_direction(language: str) -> str:
    """ "rtl" or "ltr" for a language code (CLDR's character order; ltr if unknown)."""
    try:
        return "rtl" if _parse(language).text_direction == "rtl" else "ltr"
    except (UnknownLocaleError, ValueError):
        return "ltr"
