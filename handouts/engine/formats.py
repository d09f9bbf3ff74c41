"""Dates, times and numbers as each language writes them, from CLDR (Babel).

A language needs no date strings: its strings.yaml may name a CLDR locale (`locale:
es_US` for US Spanish: 12-hour clock, decimal point); otherwise the language code is
the locale (`zh-Hans`, `vi`, `ar`...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time
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


def long_date(value: dt.date, locale: Locale) -> str:
    """Weekday and full date: "Tuesday, December 1, 2026"."""
    return _clean(format_date(value, "full", locale=locale))


def short_date(value: dt.date, locale: Locale) -> str:
    """Date without weekday: "December 1, 2026"."""
    return _clean(format_date(value, "long", locale=locale))


def day_label(value: dt.date, locale: Locale) -> str:
    """Short weekday, day and month for a table column: "Wed, Dec 2", "mié, 2 de dic"."""
    return _clean(format_skeleton("EEEMMMd", value, locale=locale))


def clock_time(value: dt.time, locale: Locale) -> str:
    """A clock time: "7:30 AM", "7:30 a.m.", "07:30"."""
    return _clean(format_time(value, "short", locale=locale))


def number(value: float, locale: Locale) -> str:
    """A number with at most one decimal, in the language's digits and separator."""
    return _clean(format_decimal(value, format="#,##0.#", locale=locale))
