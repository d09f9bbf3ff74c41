"""Dates and times printed the way each language writes them (patterns in strings.yaml)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def long_date(value: dt.date, strings: Mapping[str, str], style: str = "long") -> str:
    """style "long" names the weekday; "short" does not (patterns in strings.yaml)."""
    months = strings["date.months"].split(",")
    weekdays = strings["date.weekdays"].split(",")
    return strings[f"date.{style}"].format(
        weekday=weekdays[value.weekday()].strip(),
        month=months[value.month - 1].strip(),
        day=value.day,
        year=value.year,
    )


def clock_time(value: dt.time, strings: Mapping[str, str]) -> str:
    if strings["time.clock"] == "24h":
        return f"{value.hour}:{value.minute:02d}"
    suffix = strings["time.pm"] if value.hour >= 12 else strings["time.am"]
    return f"{value.hour % 12 or 12}:{value.minute:02d} {suffix}"
