"""A pool worker dies with the batch that started it: nothing is written after a kill.

Without this, after `kill -9` of a batch its workers finish the record in hand and write
its files, which no journal line claims. Two guards:

- Linux: prctl(PR_SET_PDEATHSIG, SIGKILL) makes the kernel kill the worker when the
  *thread* that started it exits. Workers are started by the thread iterating
  `WorkerPool.run` (the batch's main thread, which closes the pool before it ends) and,
  when one is replaced, by pebble's manager thread (which exits only in `join`, after
  `stop`): no starting thread exits while the pool has work.
- Everywhere: before a file is created and again just before it takes its final name,
  the worker checks that its parent is still the batch (an orphan gets another parent).
  If not, the temp file is removed and the worker exits. The same check at start-up
  covers a batch that died before the worker could call prctl.

What no guard can take back: a file renamed into place whose result the batch had not
journalled yet when it died. `--resume` removes such files (batch/run.py).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from handouts.engine.output import check_writes

T = TypeVar("T")
R = TypeVar("R")
PR_SET_PDEATHSIG = 1  # linux/prctl.h
ORPHANED = 70  # exit status of a worker that found its batch gone


class ParentGone(BaseException):
    """The batch is gone. Not an Exception: no `except Exception` in a task may catch it."""


def die_with_parent() -> bool:
    """Asks the kernel for SIGKILL when the starting thread exits; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def check_parent(parent: int) -> None:
    if os.getppid() != parent:
        raise ParentGone


def start_worker(
    parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    """pebble's initializer for every worker: the guards, then the pool's own initializer."""
    die_with_parent()
    if os.getppid() != parent:  # the batch died before prctl took effect
        os._exit(ORPHANED)
    check_writes(partial(check_parent, parent))
    if initializer is not None:
        initializer(*initargs)


def run_task(fn: Callable[[T], R], task: T) -> R:
    """Runs one task; a worker that finds its batch gone exits here, returning nothing."""
    try:
        return fn(task)
    except ParentGone:
        os._exit(ORPHANED)
