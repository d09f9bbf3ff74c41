"""Patient details: the few values that personalize a handout, parsed and checked."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import RecordError

_TIME_24H = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TIME_12H = re.compile(r"^(1[0-2]|0?[1-9]):([0-5]\d)\s*([AaPp])\.?\s*[Mm]\.?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD, or MM/DD/YYYY as US scheduling systems export it."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("not a valid date (use YYYY-MM-DD, e.g. 2026-12-01, or MM/DD/YYYY)")


def parse_time(text: str) -> dt.time:
    """HH:MM on a 24-hour clock, or h:mm AM/PM."""
    text = text.strip()
    if match := _TIME_24H.match(text):
        return dt.time(int(match[1]), int(match[2]))
    if match := _TIME_12H.match(text):
        hour = int(match[1]) % 12 + (12 if match[3].lower() == "p" else 0)
        return dt.time(hour, int(match[2]))
    raise ValueError("not a valid time (use HH:MM on a 24-hour clock, e.g. 07:30, or 7:30 AM)")


class PatientDetails(BaseModel):
    """Optional personal values; each is printed only in its slot of the handout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_name: str | None = Field(default=None, max_length=100, description="As printed.")
    procedure_date: dt.date | None = Field(default=None, description="Day of the procedure.")
    arrival_time: dt.time | None = Field(default=None, description="When to arrive.")
    physician: str | None = Field(default=None, max_length=100, description="Doctor's name.")
    levels: str | None = Field(default=None, max_length=40, description='e.g. "T12, L1".')
    notes: str | None = Field(default=None, max_length=600, description="Care-team notes.")

    @field_validator("patient_name", "physician", "levels", "notes", mode="before")
    @classmethod
    def _clean_text(cls, value: object) -> object:
        if isinstance(value, str):
            value = _CONTROL.sub("", value).strip()
            return value or None
        return value

    @field_validator("procedure_date", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_date(value) if value.strip() else None
        return value

    @field_validator("arrival_time", mode="before")
    @classmethod
    def _time(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_time(value) if value.strip() else None
        return value


def validate_patient(
    fields: Mapping[str, object],
) -> tuple[PatientDetails | None, list[tuple[str, str]]]:
    """PatientDetails, or the (field, message) of every bad value; never the value itself."""
    try:
        present = {k: v for k, v in fields.items() if v is not None}
        return PatientDetails.model_validate(present), []
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, "))
            for err in exc.errors(include_input=False, include_url=False)
        ]
        return None, problems


def patient_details(
    fields: Mapping[str, object], name: Callable[[str], str] = str
) -> PatientDetails:
    """Builds PatientDetails or raises RecordError naming every bad field.

    `name` turns a field name into what the user typed (an option or a column).
    """
    patient, problems = validate_patient(fields)
    if patient is not None:
        return patient
    lines = [f"{name(field)}: {message}" for field, message in problems]
    if len(lines) == 1:
        raise RecordError(lines[0])
    raise RecordError(f"{len(lines)} invalid values:", lines)
