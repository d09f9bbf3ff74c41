"""The patient's medicine plan: which medicines to stop, when, and when to start again.

Every way in (the command line's --medicine, a CSV `medicines` cell, a JSON list, the
web form's table) is parsed here, so the same bad value gets the same message. A
message names the entry (its number) and the field, never the medicine's name or the
date typed. The plan prints only in patient slots: the rows of the medicine table and
the lines of the "What to do" box (engine/context.py, templates/_plan.html).

The tool never prints a dose or a stop time of its own: every date comes from the care
team (the record), and the call-by dates from the clinic's [medicines] settings.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from handouts.model.values import parse_date, parse_yes_no

PlanStatus = Literal["listed", "none", "call"]
PLAN_STATUSES: tuple[str, ...] = get_args(PlanStatus)
#: One plan's medicines; the first table holds `medicine_table` rows (content), the
#: rest continue on a second table.
MAX_MEDICINES = 12
MAX_NAME = 60
MAX_DIABETES_PLAN = 200
#: Fields of one entry, in the order of "NAME|MORNING|LAST_DOSE|RESTART".
ENTRY_FIELDS = ("name", "morning", "last_dose", "restart")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Medicine:
    """One medicine of the plan, as the nurse wrote it."""

    name: str
    morning: bool | None = None  # take it the morning of the procedure; None: not said
    last_dose: dt.date | None = None  # last dose before the procedure
    restart: dt.date | None = None  # start again on

    @property
    def stopped(self) -> bool:
        return self.last_dose is not None or self.restart is not None


def _yes_no(text: str) -> bool | None:
    return None if not text.strip() else parse_yes_no(text)


def _date(text: str) -> dt.date | None:
    return None if not text.strip() else parse_date(text)


def _entry(raw: object) -> dict[str, str]:
    """An entry's fields as text: from "NAME|MORNING|LAST|RESTART" or a JSON object."""
    if isinstance(raw, str):
        parts = raw.split("|")
        if len(parts) > len(ENTRY_FIELDS):
            raise ValueError("too many fields (write NAME|MORNING|LAST_DOSE|RESTART)")
        return dict(zip(ENTRY_FIELDS, [p.strip() for p in parts], strict=False))
    if isinstance(raw, dict):
        unknown = sorted(str(k) for k in raw if k not in ENTRY_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown field(s) {', '.join(unknown)} (use {', '.join(ENTRY_FIELDS)})"
            )
        fields = {}
        for key, value in raw.items():
            if isinstance(value, bool):
                value = "yes" if value else "no"
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key}: write it as text")
            fields[key] = (value or "").strip()
        return fields
    raise ValueError('write "NAME|MORNING|LAST_DOSE|RESTART" or an object with name, morning...')


def _medicine(fields: dict[str, str]) -> Medicine:
    name = _CONTROL.sub("", fields.get("name", "")).strip()
    if not name:
        raise ValueError("name: required")
    if len(name) > MAX_NAME:
        raise ValueError(f"name: longer than {MAX_NAME} characters")
    if "|" in name or ";" in name:
        raise ValueError("name: may not contain | or ;")
    parsed: dict[str, object] = {"name": name}
    problems = []
    for key, parse in (("morning", _yes_no), ("last_dose", _date), ("restart", _date)):
        try:
            parsed[key] = parse(fields.get(key, ""))
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    if problems:
        raise ValueError(", ".join(problems))
    return Medicine(**parsed)  # type: ignore[arg-type]


def _entries(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("not a valid JSON list of medicines") from None
            return _entries(loaded)
        return [part for part in text.split(";") if part.strip()]
    if isinstance(value, Sequence):
        return [v for v in value if not (isinstance(v, str) and not v.strip())]
    raise ValueError("write a list of medicines")


def parse_medicines(value: object) -> tuple[Medicine, ...]:
    """The plan's medicines from any input: a text of entries separated by ";" (a CSV
    cell), a JSON list text, or a list of "NAME|MORNING|LAST_DOSE|RESTART" texts or of
    objects. A ValueError names every bad entry by number and field, never its value."""
    entries = _entries(value)
    if len(entries) > MAX_MEDICINES:
        raise ValueError(f"more than {MAX_MEDICINES} medicines")
    medicines, problems = [], []
    for number, raw in enumerate(entries, start=1):
        try:
            medicines.append(_medicine(_entry(raw)))
        except ValueError as exc:
            problems.append(f"entry {number}, {exc}")
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(medicines)


def parse_status(text: str) -> str | None:
    value = text.strip().lower()
    if not value:
        return None
    if value not in PLAN_STATUSES:
        raise ValueError(f"must be one of: {', '.join(PLAN_STATUSES)}")
    return value


def plan_problems(
    medicines: Sequence[Medicine],
    status: str | None,
    procedure_date: dt.date | None,
) -> list[tuple[str, str]]:
    """What does not add up in a parsed plan, as (field, message): messages name
    entries by number, never their values."""
    problems = []
    if status == "listed" and not medicines:
        problems.append(("medicine_plan", "'listed' needs at least one medicine"))
    if status == "none" and any(m.stopped for m in medicines):
        problems.append(
            ("medicine_plan", "'none' means no medicine is stopped, but a medicine has a date")
        )
    for number, m in enumerate(medicines, start=1):
        if m.last_dose and m.restart and m.restart < m.last_dose:
            problems.append(("medicines", f"entry {number}, restart: before the last dose"))
        if procedure_date and m.last_dose and m.last_dose > procedure_date:
            problems.append(("medicines", f"entry {number}, last_dose: after the procedure date"))
        if procedure_date and m.restart and m.restart < procedure_date:
            problems.append(("medicines", f"entry {number}, restart: before the procedure date"))
    return problems


@dataclass(frozen=True)
class PlanShape:
    """What a plan prints, without its values: records with the same shape share a
    layout (stamp/layouts.py). Per medicine: (morning said, morning, has last dose,
    has restart)."""

    status: str | None
    medicines: tuple[tuple[bool, bool, bool, bool], ...]
    diabetes: bool

    @classmethod
    def of(cls, medicines: Sequence[Medicine], status: str | None, diabetes: bool) -> PlanShape:
        rows = tuple(
            (m.morning is not None, bool(m.morning), m.last_dose is not None, m.restart is not None)
            for m in medicines
        )
        return cls(status, rows, diabetes)


@dataclass(frozen=True)
class PlanView:
    """A plan as printed: every value a patient slot, named as the template's
    `data-slot`s, in the order the template prints them (stamp/layouts.py pairs them)."""

    status: str | None
    rows: tuple[tuple[str, str, str, str], ...]  # name, morning (Yes/No), last dose, restart
    stops: tuple[tuple[str, str], ...]  # (name, last dose): the pre "What to do" lines
    morning: tuple[str, ...]  # names taken the morning of the procedure
    morning_said: bool  # whether any medicine says yes or no for the morning
    restarts: tuple[tuple[str, str], ...]  # (name, restart date): post lines
    waits: tuple[str, ...]  # stopped, no restart date yet: post lines
    diabetes: str
    call_by: str  # pre, status call: "we will call you by"
    restart_call_by: str  # post, a medicine without a restart date: "call us by"

    @property
    def slot_values(self) -> dict[str, list[str]]:
        """Each slot name's values in template order ("" values are not slots)."""
        named = {
            "med_name": [r[0] for r in self.rows],
            "med_morning": [r[1] for r in self.rows if r[1]],
            "med_last": [r[2] for r in self.rows if r[2]],
            "med_restart": [r[3] for r in self.rows if r[3]],
            "stop_name": [s[0] for s in self.stops],
            "stop_date": [s[1] for s in self.stops],
            "morning_name": list(self.morning),
            "restart_name": [r[0] for r in self.restarts],
            "restart_date": [r[1] for r in self.restarts],
            "wait_name": list(self.waits),
            "diabetes_plan": [self.diabetes] if self.diabetes else [],
            "medicine_call_by": [self.call_by] if self.call_by else [],
            "restart_call_by": [self.restart_call_by] if self.restart_call_by else [],
        }
        return named

    def probed(self, probe: str) -> PlanView:
        """The same plan with every value replaced by `probe` (the layout's template)."""

        def p(value: str) -> str:
            return probe if value else ""

        return PlanView(
            self.status,
            tuple((p(a), p(b), p(c), p(d)) for a, b, c, d in self.rows),
            tuple((p(a), p(b)) for a, b in self.stops),
            tuple(p(a) for a in self.morning),
            self.morning_said,
            tuple((p(a), p(b)) for a, b in self.restarts),
            tuple(p(a) for a in self.waits),
            p(self.diabetes),
            p(self.call_by),
            p(self.restart_call_by),
        )
