"""Task functions for the pool tests (importable by spawned processes)."""

from __future__ import annotations

import os
import time

from handouts.batch.pool import Failure, SetupFailed

_setup: dict[str, str] = {}


def remember(value: str) -> None:
    _setup["value"] = value


def echo_pid(task: str) -> tuple[str, int] | Failure:
    if task == "crash":
        os._exit(3)
    if task == "hang":
        time.sleep(60)
    if task == "refuse":
        return Failure("refused on purpose")
    if task == "setup":
        raise SetupFailed(_setup.get("value", "not set up"))
    return (task, os.getpid())
