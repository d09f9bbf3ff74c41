"""Warns when WeasyPrint must fall back to the slow fontTools font subsetter."""

from __future__ import annotations

import ctypes.util
import logging

log = logging.getLogger("handouts")


def harfbuzz_subset_available() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def warn_if_slow_subsetting() -> None:
    if not harfbuzz_subset_available():
        log.warning(
            "warning: libharfbuzz-subset0 is not installed; fonts are subset with the "
            "slower fontTools fallback (apt-get install libharfbuzz-subset0)"
        )
