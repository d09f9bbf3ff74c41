"""The "What to do" box: real clock times and dates, so the patient does no arithmetic.

Expected values are written out by hand from a calendar, never computed by the code
under test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import edit_clinic_toml, page_texts

from handouts.engine.formats import day_date, locale_of
from handouts.engine.schedule import computed_slots, widest_values
from handouts.fonts.registry import runs, runs_width
from handouts.model.clinic import Protocol
from handouts.model.request import HandoutRequest, PatientDetails
from handouts.workspace import Workspace

EN = locale_of("en", {})
ES = locale_of("es", {"locale": "es_US"})
NBSP = "\u00a0"


def slots(date: dt.date, time: dt.time | None = None, **protocol: int) -> dict[str, str]:
    patient = PatientDetails(procedure_date=date, arrival_time=time)
    return computed_slots(patient, Protocol(**protocol), EN)  # type: ignore[arg-type]


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace(NBSP, " "))


def test_fasting_crosses_midnight_into_the_day_before():
    values = slots(dt.date(2026, 12, 1), dt.time(7, 30), fasting_hours=8)
    assert values["stop_eating_time"] == f"11:30{NBSP}PM"
    assert values["stop_eating_day"] == "Monday, November 30"
    assert values["arrival_day"] == "Tuesday, December 1"


def test_fasting_crosses_a_month_end_and_a_year_end():
    march = slots(dt.date(2026, 3, 1), dt.time(1, 0), fasting_hours=2, clear_liquid_hours=2)
    assert (march["stop_eating_time"], march["stop_eating_day"]) == (
        f"11:00{NBSP}PM",
        "Saturday, February 28",
    )
    new_year = slots(dt.date(2027, 1, 1), dt.time(6, 0), fasting_hours=8)
    assert (new_year["stop_eating_time"], new_year["stop_eating_day"]) == (
        f"10:00{NBSP}PM",
        "December 31, 2026",  # the year before the procedure's: with its year, no weekday
    )


def test_a_clear_liquid_window_gets_its_own_time():
    values = slots(dt.date(2026, 12, 1), dt.time(7, 30), fasting_hours=8, clear_liquid_hours=2)
    assert values["stop_eating_time"] == f"11:30{NBSP}PM"
    assert (values["stop_liquids_time"], values["stop_liquids_day"]) == (
        f"5:30{NBSP}AM",
        "Tuesday, December 1",
    )


def test_days_after_the_procedure():
    values = slots(dt.date(2026, 12, 1))
    assert values["bandage_until"] == "Thursday, December 3"  # 48 hours
    assert values["shower_from"] == "Thursday, December 3"
    assert values["driving_until"] == "Tuesday, December 15"  # 14 days
    assert values["lifting_until"] == "January 12, 2027"  # 6 weeks, the next year: no weekday
    assert values["follow_up_from"] == "Tuesday, December 8"
    assert values["follow_up_to"] == "Tuesday, December 15"
    assert values["tub_until"] == "Tuesday, December 15"


def test_hours_round_up_to_the_next_whole_day():
    assert slots(dt.date(2026, 12, 1), bandage_removal_hours=36)["bandage_until"] == (
        "Thursday, December 3"
    )
    assert slots(dt.date(2026, 12, 1), bandage_removal_hours=24)["bandage_until"] == (
        "Wednesday, December 2"
    )


def test_across_the_year_end():
    values = slots(dt.date(2026, 12, 28), driving_restriction_days=14)
    assert values["driving_until"] == "January 11, 2027"
    assert values["follow_up_from"] == "January 4, 2027"
    same_year = slots(dt.date(2026, 12, 1), driving_restriction_days=14)
    assert same_year["driving_until"] == "Tuesday, December 15"  # no year when it is the same


def test_nothing_is_guessed_without_the_values_it_needs():
    no_time = slots(dt.date(2026, 12, 1))
    assert no_time["stop_eating_time"] == no_time["stop_eating_day"] == ""
    assert no_time["arrival_day"] == "Tuesday, December 1"
    nothing = computed_slots(PatientDetails(), Protocol(), EN)
    assert set(nothing.values()) == {""}


def test_spanish_uses_cldr_spanish():
    patient = PatientDetails(procedure_date=dt.date(2026, 12, 1), arrival_time=dt.time(7, 30))
    values = computed_slots(patient, Protocol(), ES)
    assert values["stop_eating_time"] == f"11:30{NBSP}p.m."
    assert values["stop_eating_day"] == "lunes, 30 de noviembre"


PATIENT = PatientDetails(
    patient_name="Ana Lopez", procedure_date=dt.date(2026, 12, 1), arrival_time=dt.time(7, 30)
)


@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
def test_pre_handout_page_one_opens_with_the_times(
    procedure: str, render: Callable[..., bytes]
) -> None:
    first = words(page_texts(render(procedure, "pre", PATIENT))[0])
    assert "What to do" in first
    assert "Stop eating and drinking at 11:30 PM on Monday, November 30" in first
    assert "Arrive at 7:30 AM on Tuesday, December 1" in first
    assert "with a small sip of water" in first
    assert "stay with you for 24 hours" in first
    assert first.index("What to do") < first.index("Your appointment")


@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
def test_post_handout_page_one_gives_the_dates(
    procedure: str, render: Callable[..., bytes]
) -> None:
    first = words(page_texts(render(procedure, "post", PATIENT))[0])
    assert "Keep your bandage on and dry until Thursday, December 3" in first
    assert "Do not drive until Tuesday, December 15" in first
    assert "Do not lift more than 5 pounds until January 12, 2027" in first
    assert "between Tuesday, December 8 and Tuesday, December 15" in first


def test_blank_handouts_get_lines_instead_of_dates(render: Callable[..., bytes]) -> None:
    first = words(page_texts(render("vertebroplasty", "pre"))[0])
    assert re.search(r"Stop eating and drinking at on \.", first), first[:400]
    assert "November" not in first and "PM" not in first
    post = words(page_texts(render("kyphoplasty", "post"))[0])
    assert re.search(r"Do not drive until ,", post), post[:400]


def test_settings_the_clinic_turns_off(clinic_copy: Path) -> None:
    edit_clinic_toml(clinic_copy, "clear_liquid_hours = 8", "clear_liquid_hours = 2")
    edit_clinic_toml(
        clinic_copy, "water_sips_with_medicines = true", "water_sips_with_medicines = false"
    )
    edit_clinic_toml(clinic_copy, "escort_hours = 24", "escort_hours = 0")
    workspace = Workspace.open(clinic_copy)
    request = HandoutRequest("vertebroplasty", "pre", "en", False, PATIENT)
    first = words(page_texts(workspace.renderer.render(request).data)[0])
    assert "Stop eating at 11:30 PM on Monday, November 30" in first
    assert "Stop drinking clear liquids at 5:30 AM on Tuesday, December 1" in first
    assert "Stop eating and drinking at 11:30 PM" not in first
    assert "small sip of water" not in first
    assert "Ask your care team about your medicines." in first
    assert "Which medicines to take that morning, and how:" in first
    assert "Bring an adult to drive you home." in first
    assert "stay with you" not in first


@pytest.mark.parametrize("locale", [EN, ES], ids=["en", "es"])
def test_a_date_in_another_year_fits_the_slot_of_any_day(locale) -> None:
    """A date a few weeks into the next year (or back into the last), with its year, is
    no wider than the slot every day gets: such a record keeps its layout class and is
    stamped, and the page keeps its lines. Written with its weekday, "miércoles, 27 de
    enero de 2027" (15.1 em) was wider than the 12.2 em slot."""
    slot = widest_values(locale)["day"]
    first = dt.date(2026, 12, 1)
    for day in (first + dt.timedelta(days=n) for n in range(121)):  # December to March
        value = day_date(day, locale, day.year + 1)
        assert value.endswith(str(day.year)), value
        found = runs(value, bold=True)
        assert found is not None, value
        assert runs_width(found, 1.0) <= slot, value
    wednesday = slots(dt.date(2026, 12, 16))["lifting_until"]
    assert wednesday == "January 27, 2027"
