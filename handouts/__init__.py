"""Patient handouts for vertebroplasty and kyphoplasty."""

from __future__ import annotations

__version__ = "0.1.0"

PROCEDURES = ("vertebroplasty", "kyphoplasty")
PHASES = ("pre", "post")
