"""Task functions for the pool tests (importable by spawned processes)."""

from __future__ import annotations

import ctypes
import fcntl
import os
import time
from pathlib import Path

from handouts.batch.lifeline import PR_SET_PDEATHSIG
from handouts.batch.pool import Failure, SetupFailed, WorkerPool
from handouts.engine.output import atomic_file

_setup: dict[str, str] = {}


def remember(value: str) -> None:
    _setup["value"] = value


def echo_pid(task: str) -> tuple[str, int] | Failure:
    if task == "crash":
        os._exit(3)
    if task == "hang":
        time.sleep(60)
    if task.startswith("sleep "):
        time.sleep(float(task.split()[1]))
    if task == "refuse":
        return Failure("refused on purpose")
    if task == "setup":
        raise SetupFailed(_setup.get("value", "not set up"))
    return (task, os.getpid())


def write_when_released(task: tuple[str, bool]) -> str:
    """Starts writing late.bin and, its temp file open, waits for the lock the test holds
    on `hold`: the test kills the pool's process meanwhile. With `deathsig` False the
    worker first drops PR_SET_PDEATHSIG, as where prctl is missing: only the checks of
    the atomic write are left."""
    folder, deathsig = Path(task[0]), task[1]
    if not deathsig:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)
    with atomic_file(folder / "late.bin") as handle:
        handle.write(b"written after the batch died\n")
        (folder / "writing.new").write_text(str(os.getpid()))
        os.replace(folder / "writing.new", folder / "writing")  # the test waits for this
        with open(folder / "hold", "rb") as hold:
            fcntl.flock(hold, fcntl.LOCK_SH)  # until the test lets go of its lock
    return "written"


def run_pool(folder: str, deathsig: str) -> None:
    """The batch's part, run by the test in a process of its own and killed there."""
    with WorkerPool(jobs=1, timeout=600, recycle_after=10) as pool:
        for _ in pool.run(write_when_released, [(folder, deathsig == "yes")]):
            pass
