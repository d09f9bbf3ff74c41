"""The names content text may use: {placeholders} and `when:` flags (values: engine/context.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


PROTOCOL_NUMBERS = (
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
        *PROTOCOL_NUMBERS,
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


def fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
