"""Batch progress: a bar on a terminal, plain lines in a log, nothing with -q.

Only counts and rates are shown: never a name, a record id or any patient value.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, mode: str = "auto", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "log"
        self.mode = mode
        self.total = total
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._last_log = 0.0

    def advance(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += failed
        if self.mode == "bar":
            self._bar()
        elif self.mode == "log":
            now = time.monotonic()
            step = max(1, self.total // 10)
            if self.done == self.total or self.done % step == 0 or now - self._last_log > 10:
                self._last_log = now
                self.stream.write(f"batch: {self._status()}\n")
                self.stream.flush()

    def _status(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        remaining = (self.total - self.done) / rate if rate else 0.0
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"{self.done}/{self.total} records{failed}, {rate:.1f}/s, "
            f"ETA {int(remaining) // 60}:{int(remaining) % 60:02d}"
        )

    def _bar(self) -> None:
        width = 28
        filled = int(width * self.done / self.total) if self.total else width
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self._status()}  ")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()
