"""The names content text may use: {placeholders} and `when:` flags, and their values."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .clinic import Clinic

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

#: Patient fields live only in the template slots (appointment card, greeting,
#: notes box), never inside content text; naming one in content is an error.
PATIENT_FIELDS = frozenset(
    {"patient_name", "procedure_date", "arrival_time", "physician", "levels", "notes"}
)

_PROTOCOL_NUMBERS = (
    "fasting_hours",
    "clear_liquid_hours",
    "arrive_before_minutes",
    "escort_hours",
    "observation_hours",
    "bandage_removal_hours",
    "shower_after_hours",
    "tub_pool_days",
    "lifting_limit_lb",
    "lifting_limit_weeks",
    "driving_restriction_days",
    "follow_up_days_min",
    "follow_up_days_max",
)

TEXT_NAMES = frozenset(
    {
        *_PROTOCOL_NUMBERS,
        "clinic_name",
        "main_phone",
        "after_hours_phone",
        "website",
        "procedure_name",
        "sedation",
        "fever_threshold_f",
        "fever_threshold_c",
        "lifting_comparison",
    }
)

FLAG_NAMES = frozenset(
    {
        "clear_liquids_allowed",
        "no_clear_liquids",
        "water_sips_with_medicines",
        "general_anesthesia",
        "awake",
        "escort_stays",
        "teach_back",
        "recovery_log",
    }
)

GALLON_OF_MILK_LB = 8


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def text_values(clinic: Clinic, procedure: str, strings: Mapping[str, str]) -> dict[str, str]:
    """Every placeholder's printed value for one clinic, procedure and language."""
    ident, protocol = clinic.config.clinic, clinic.config.protocol
    values = {name: str(getattr(protocol, name)) for name in _PROTOCOL_NUMBERS}
    sedation = getattr(protocol.sedation, procedure)
    values |= {
        "clinic_name": ident.name,
        "main_phone": ident.main_phone,
        "after_hours_phone": ident.after_hours_phone,
        "website": ident.website,
        "procedure_name": strings[f"procedure.{procedure}"],
        "sedation": strings[f"sedation.{sedation}"],
        "fever_threshold_f": _number(protocol.fever_threshold_f),
        "fever_threshold_c": _number(protocol.fever_threshold_c),
    }
    limit = protocol.lifting_limit_lb
    size = (
        "lighter"
        if limit < GALLON_OF_MILK_LB
        else "same"
        if limit == GALLON_OF_MILK_LB
        else "heavier"
    )
    values["lifting_comparison"] = fill(strings[f"lifting.{size}"], values)
    return values


def flags(clinic: Clinic, procedure: str) -> dict[str, bool]:
    protocol = clinic.config.protocol
    general = getattr(protocol.sedation, procedure) == "general"
    return {
        "clear_liquids_allowed": protocol.clear_liquid_hours < protocol.fasting_hours,
        "no_clear_liquids": protocol.clear_liquid_hours >= protocol.fasting_hours,
        "water_sips_with_medicines": protocol.water_sips_with_medicines,
        "general_anesthesia": general,
        "awake": not general,
        "escort_stays": protocol.escort_hours > 0,
        "teach_back": clinic.config.options.teach_back,
        "recovery_log": clinic.config.options.recovery_log,
    }


def fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
