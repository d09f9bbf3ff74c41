"""Dates and times printed the way each language writes them (patterns in strings.yaml)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def _names(strings: Mapping[str, str], key: str) -> list[str]:
    return [name.strip() for name in strings[key].split(",")]


def long_date(value: dt.date, strings: Mapping[str, str], style: str = "long") -> str:
    """A date in the pattern strings.yaml gives for `style` (long, short or log)."""
    return strings[f"date.{style}"].format(
        weekday=_names(strings, "date.weekdays")[value.weekday()],
        weekday_short=_names(strings, "date.weekdays_short")[value.weekday()],
        month=_names(strings, "date.months")[value.month - 1],
        month_number=value.month,
        day=value.day,
        year=value.year,
    )


def clock_time(value: dt.time, strings: Mapping[str, str]) -> str:
    if strings["time.clock"] == "24h":
        return f"{value.hour}:{value.minute:02d}"
    suffix = strings["time.pm"] if value.hour >= 12 else strings["time.am"]
    return f"{value.hour % 12 or 12}:{value.minute:02d} {suffix}"
