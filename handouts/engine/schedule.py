"""Clock times and dates the handout works out for the patient, so nobody does arithmetic.

Each value is a patient slot like the name or the arrival time: computed from the
patient's procedure date and arrival time and the clinic's protocol, formatted by CLDR
(engine/formats.py), printed only inside a `data-slot` element, and "" when a value it
needs is missing (the handout then prints a labelled line to write on).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from functools import cache

from babel import Locale

from handouts.content.vocabulary import COMPUTED_SLOTS
from handouts.engine.formats import clock_time, day_date
from handouts.fonts.registry import runs, runs_width
from handouts.model.clinic import Protocol
from handouts.model.request import PatientDetails


def _hours_before(protocol: Protocol) -> dict[str, int]:
    return {"stop_eating": protocol.fasting_hours, "stop_liquids": protocol.clear_liquid_hours}


def _days_after(protocol: Protocol) -> dict[str, int]:
    """Whole days after the procedure date; an hour count rounds up to the next day,
    so the printed day is never earlier than the clinic's setting allows."""
    return {
        "bandage_until": math.ceil(protocol.bandage_removal_hours / 24),
        "shower_from": math.ceil(protocol.shower_after_hours / 24),
        "tub_until": protocol.tub_pool_days,
        "driving_until": protocol.driving_restriction_days,
        "lifting_until": protocol.lifting_limit_weeks * 7,
        "follow_up_from": protocol.follow_up_days_min,
        "follow_up_to": protocol.follow_up_days_max,
    }


def computed_slots(patient: PatientDetails, protocol: Protocol, locale: Locale) -> dict[str, str]:
    """Every computed slot's printed value for one patient ("" when unknown)."""
    values = dict.fromkeys(COMPUTED_SLOTS, "")
    date, time = patient.procedure_date, patient.arrival_time
    if date is None:
        return values
    year = date.year  # a date in another year is printed with its year
    values["arrival_day"] = day_date(date, locale)
    for name, days in _days_after(protocol).items():
        values[name] = day_date(date + dt.timedelta(days=days), locale, year)
    if time is not None:
        arrival = dt.datetime.combine(date, time)
        for name, hours in _hours_before(protocol).items():
            moment = arrival - dt.timedelta(hours=hours)
            values[f"{name}_time"] = clock_time(moment.time(), locale)
            values[f"{name}_day"] = day_date(moment.date(), locale, year)
    return values


@cache
def widest_values(locale: Locale) -> dict[str, float]:
    """The width, in em of the bold body font, of the widest clock time and the widest
    day this language can print: each computed slot is laid out that wide, so a value
    never moves the words after it, in the full render and the stamping fast path
    alike (a value that is wider still grows its box, and the fast path hands it to
    the full render)."""
    times = [clock_time(dt.time(hour, minute), locale) for hour in range(24) for minute in (0, 58)]
    start = dt.date(2026, 1, 1)
    days = [day_date(start + dt.timedelta(days=n), locale) for n in range(366)]
    return {"time": _widest_em(times), "day": _widest_em(days)}


def _estimate_em(text: str) -> float:
    """Width of a text the bundled fonts cannot print (e.g. Han): a wide (East Asian)
    character is 1 em, any other 0.6 em."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def _widest_em(values: list[str]) -> float:
    widths = [
        runs_width(found, 1.0) if (found := runs(v, bold=True)) else _estimate_em(v) for v in values
    ]
    return round(max(widths) + 0.1, 2)
