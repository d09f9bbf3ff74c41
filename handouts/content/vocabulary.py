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
        "lifting_limit_kg",
        "lifting_comparison",
        "recovery_log_days",
    }
)

#: Patient slots computed from the procedure date and arrival time (engine/schedule.py):
#: clock time and day to stop eating / clear liquids, the arrival day, and the days
#: after the procedure. Only the "What to do" box's actions may name them.
COMPUTED_SLOTS = (
    "stop_eating_time",
    "stop_eating_day",
    "stop_liquids_time",
    "stop_liquids_day",
    "arrival_day",
    "bandage_until",
    "shower_from",
    "tub_until",
    "driving_until",
    "lifting_until",
    "follow_up_from",
    "follow_up_to",
)
ACTION_NAMES = frozenset({*COMPUTED_SLOTS, "arrival_time"})
#: A line to write on inside an action's sentence (a date the care team gives by hand).
WRITE_LINE = "write_line"

FLAG_NAMES = frozenset(
    {
        "clear_liquids_allowed",
        "no_clear_liquids",
        "water_sips_with_medicines",
        "no_water_sips",
        "general_anesthesia",
        "awake",
        "sedation_local",
        "sedation_iv",
        "escort_stays",
        "no_escort",
        "sedated",
        "teach_back",
        "recovery_log",
    }
)


def fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
