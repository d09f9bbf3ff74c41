"""What to render and for whom: the handout request, the patient fields and their parsing.

Every way in (the command line, a batch file, the web form, the Python API) turns its
raw values into a HandoutRequest with `parse_request`, so the same bad value gets the
same message wherever it was typed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handouts.errors import RecordError
from handouts.model.medicines import (
    MAX_DIABETES_PLAN,
    Medicine,
    PlanStatus,
    parse_medicines,
    parse_status,
    plan_problems,
)
from handouts.model.values import parse_date, parse_yes_no

Procedure = Literal["vertebroplasty", "kyphoplasty"]
Phase = Literal["pre", "post"]
PROCEDURES: tuple[str, ...] = get_args(Procedure)
PHASES: tuple[str, ...] = get_args(Phase)
DEFAULT_LANGUAGE = "en"

#: The values that personalize a handout. Each is printed only in its slot of the page;
#: content text may never name one (content/vocabulary.py refuses it).
PATIENT_FIELDS = (
    "patient_name",
    "procedure_date",
    "arrival_time",
    "physician",
    "levels",
    "notes",
    "medicines",
    "diabetes_plan",
    "medicine_plan",
)
#: Every field of a request, as the CSV columns and the web form's inputs are named.
REQUEST_FIELDS = ("procedure", "phase", "language", "large_print", *PATIENT_FIELDS)

_TIME_24H = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_TIME_12H = re.compile(r"^(1[0-2]|0?[1-9]):([0-5]\d)\s*([AaPp])\.?\s*[Mm]\.?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

#: (field, message): one problem with one value; the message never repeats the value.
Problem = tuple[str, str]


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
    medicines: tuple[Medicine, ...] = Field(
        default=(), description="The medicine plan's medicines (model/medicines.py)."
    )
    diabetes_plan: str | None = Field(
        default=None, max_length=MAX_DIABETES_PLAN, description="The care team's diabetes plan."
    )
    medicine_plan: PlanStatus | None = Field(
        default=None, description="listed, none (nothing to stop) or call (we will call)."
    )

    @property
    def personalized(self) -> bool:
        """Whether any patient value is given (a blank handout has none)."""
        return any(getattr(self, name) for name in PATIENT_FIELDS)

    @field_validator("medicines", mode="before")
    @classmethod
    def _medicines(cls, value: object) -> object:
        if isinstance(value, tuple) and all(isinstance(m, Medicine) for m in value):
            return value
        return parse_medicines(value)

    @field_validator("medicine_plan", mode="before")
    @classmethod
    def _status(cls, value: object) -> object:
        return parse_status(value) if isinstance(value, str) else value

    @field_validator("patient_name", "physician", "levels", "notes", "diabetes_plan", mode="before")
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


def validate_patient(fields: Mapping[str, object]) -> tuple[PatientDetails | None, list[Problem]]:
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


@dataclass(frozen=True, slots=True)
class HandoutRequest:
    """What to render: which handout, how, and for whom (all patient fields optional)."""

    procedure: str
    phase: str
    language: str = DEFAULT_LANGUAGE
    large_print: bool = False
    patient: PatientDetails = field(default_factory=PatientDetails)

    @property
    def layout_key(self) -> tuple[str, str, str, bool]:
        """Records sharing this key share every page except the patient slots."""
        return (self.procedure, self.phase, self.language, self.large_print)


def _choice(value: str, allowed: Sequence[str]) -> str:
    """The allowed value matching `value` regardless of case (zh-hans finds zh-Hans)."""
    for choice in allowed:
        if choice.lower() == value.lower():
            return choice
    raise ValueError(f"must be one of: {', '.join(allowed)}")


def parse_request(
    fields: Mapping[str, object],
    languages: Sequence[str],
    large_print_default: bool = False,
    default_plan: str | None = None,
) -> tuple[HandoutRequest | None, list[Problem]]:
    """A HandoutRequest from raw values named as in REQUEST_FIELDS, or every problem.

    Text values are parsed the same way whatever typed them; `large_print` may also be a
    bool (a command-line flag); left out or blank, it is the clinic's default. Missing
    procedure/phase are problems; the rest is optional, except that a personalized
    handout before the procedure must say what happens with the patient's medicines:
    its medicine_plan, else the clinic's `default_plan` ([medicines] in clinic.toml).
    """
    problems: list[Problem] = []

    def text(name: str, default: str = "") -> str:
        value = fields.get(name)
        return default if value is None else str(value).strip()

    parsed: dict[str, object] = {}
    checks: list[tuple[str, Callable[[], object]]] = [
        ("procedure", lambda: _choice(text("procedure"), PROCEDURES)),
        ("phase", lambda: _choice(text("phase"), PHASES)),
        ("language", lambda: _choice(text("language") or DEFAULT_LANGUAGE, languages)),
        ("large_print", lambda: _large_print(fields.get("large_print"), large_print_default)),
    ]
    for name, check in checks:
        try:
            parsed[name] = check()
        except ValueError as exc:
            problems.append((name, str(exc)))
    patient, patient_problems = validate_patient(
        {name: fields[name] for name in PATIENT_FIELDS if fields.get(name) is not None}
    )
    problems += patient_problems
    if patient is not None:
        patient, plan_issues = _settle_plan(patient, parsed.get("phase"), default_plan)
        problems += plan_issues
    if problems or patient is None:
        return None, problems
    return HandoutRequest(patient=patient, **parsed), []  # type: ignore[arg-type]


def _settle_plan(
    patient: PatientDetails, phase: object, default_plan: str | None
) -> tuple[PatientDetails, list[Problem]]:
    """The plan's status settled (listed when medicines are given, else the clinic's
    default) and checked; a personalized pre handout without one is a problem."""
    status: str | None = patient.medicine_plan or ("listed" if patient.medicines else None)
    if status is None and patient.personalized:
        status = default_plan
    problems: list[Problem] = plan_problems(patient.medicines, status, patient.procedure_date)
    if status is None and phase == "pre" and patient.personalized:
        problems.append(
            (
                "medicine_plan",
                "required for a personalized handout before the procedure: listed (with "
                "the medicines), none (no medicine to stop) or call (we will call); this "
                "clinic sets no [medicines] default_plan",
            )
        )
    return _settled(patient, status), problems


#: Each distinct set of given fields, shared by every patient that gives those fields.
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def _settled(patient: PatientDetails, status: str | None) -> PatientDetails:
    """The patient with the plan's status settled. Its set of given fields (pydantic's
    `model_fields_set`, one set object per instance, about 0.5 kB) is shared with every
    patient that gives the same fields: a mailing holds 100,000 of them. The values
    are validated already; nothing changes them or the set."""
    given = frozenset(patient.model_fields_set | ({"medicine_plan"} if status else set()))
    shared = _FIELDS_SETS.setdefault(given, set(given))
    values = {name: value for name, value in patient}
    values["medicine_plan"] = status
    return PatientDetails.model_construct(_fields_set=shared, **values)


def _large_print(value: object, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or not str(value).strip():
        return default
    return parse_yes_no(str(value))


def request_or_error(
    fields: Mapping[str, object],
    languages: Sequence[str],
    name: Callable[[str], str] = str,
    large_print_default: bool = False,
    default_plan: str | None = None,
) -> HandoutRequest:
    """parse_request for one handout: raises RecordError naming every bad field.

    `name` turns a field name into what the user typed (an option or a column).
    """
    request, problems = parse_request(fields, languages, large_print_default, default_plan)
    if request is not None:
        return request
    lines = [f"{name(field)}: {message}" for field, message in problems]
    if len(lines) == 1:
        raise RecordError(lines[0])
    raise RecordError(f"{len(lines)} invalid values:", lines)
