"""Parsers of the values a person types: yes/no and dates (one message for each input)."""

from __future__ import annotations

import datetime as dt

_YES = frozenset({"yes", "y", "true", "1", "on"})
_NO = frozenset({"no", "n", "false", "0", "off", ""})


def parse_yes_no(text: str) -> bool:
    """yes/no, true/false, 1/0 (and on/off, what an HTML checkbox sends)."""
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError("use yes or no")


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD, or MM/DD/YYYY as US scheduling systems export it."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("not a valid date (use YYYY-MM-DD, e.g. 2026-12-01, or MM/DD/YYYY)")
