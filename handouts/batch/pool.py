"""One process pool for every batch engine, on pebble's ProcessPool.

pebble gives what concurrent.futures cannot: a per-task timeout that kills only the
stuck worker, detection of a worker that died (ProcessExpired), and a fresh process
after `recycle_after` tasks (max_tasks) so memory stays flat. Workers are spawned (no
fork of a process holding fonts and threads) and warmed once by `initializer`; they die
with the batch, even after `kill -9`, and write nothing more (batch/lifeline.py).

Task functions return a value or a `Failure` (a record that failed for a reason the
user can read); an exception escaping a task is reported by its type only, since its
text could quote patient data.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import TimeoutError as TaskTimeout
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pebble import ProcessExpired, ProcessPool

from handouts.batch.lifeline import run_task, start_worker
from handouts.errors import OutputError, RenderError

T = TypeVar("T")
R = TypeVar("R")
CRASHED = "the renderer process stopped unexpectedly"


@dataclass(frozen=True)
class Failure:
    """Why one task failed. `stop`: the failure is the batch's, not the record's (the
    output folder cannot be written), so the whole batch stops."""

    message: str
    stop: bool = False


class SetupFailed(Exception):
    """A worker could not load the clinic; raised by tasks, never retried."""


@dataclass(frozen=True)
class Done(Generic[T, R]):
    task: T
    result: R | None
    failure: Failure | None


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Ctrl-C waits until the workers are started: a worker whose spawning is cut short
    never gets its start-up data and dies with a traceback after the batch has exited."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)


class WorkerPool:
    """Runs `fn(task)` for each task on `jobs` warm processes; yields as tasks finish.

    One pool serves a whole batch: its workers are started by the first `run` and kept
    for the next (the layouts and the stamping, then the full renders), and stopped
    when the pool is closed (`with WorkerPool(...) as pool`)."""

    def __init__(
        self,
        jobs: int,
        timeout: float,
        recycle_after: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.recycle_after = max(1, recycle_after)
        self.initializer = initializer
        self.initargs = initargs
        self.restarts = 0  # workers lost to a crash or a timeout
        self.started = 0  # pebble pools started: one per batch
        self._pool: ProcessPool | None = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the workers (all idle by now, or the batch is stopping)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.close()  # type: ignore[no-untyped-call]
        # join ends pebble's manager thread first, which kills (PDEATHSIG) the workers
        # it started to replace others, then stops the rest.
        pool.stop()  # type: ignore[no-untyped-call]
        pool.join()

    def _workers(self) -> ProcessPool:
        if self._pool is None:
            self._pool = ProcessPool(
                max_workers=self.jobs,
                max_tasks=self.recycle_after,
                initializer=start_worker,
                initargs=(os.getpid(), self.initializer, self.initargs),
                context=multiprocessing.get_context("spawn"),
            )
            self.started += 1
        return self._pool

    def run(
        self,
        fn: Callable[[T], R | Failure],
        tasks: Iterable[T],
        weight: Callable[[T], int] | None = None,
    ) -> Iterator[Done[T, R]]:
        """Tasks are taken from `tasks` as workers free up (two per worker in flight), so
        a lazy iterable is made while the workers run and is never held whole. `tasks`
        is asked again after each result is handed out: an iterator that has run dry
        may have more by then (batch/run.py releases records once their layout is
        rendered); the run ends when it has none and no task is in flight. `weight`:
        how many records a task holds (its timeout is that many times `timeout`). A run
        left before its end (an error, a stop) stops the workers."""
        source = iter(tasks)
        window = self.jobs * 2
        first = list(itertools.islice(source, window))
        if not first:
            return
        pending: dict[Future[Any], T] = {}

        def schedule(batch: Iterable[T]) -> None:
            pool = self._workers()
            for task in batch:
                limit = self.timeout * (weight(task) if weight else 1)
                future = pool.schedule(run_task, args=(fn, task), timeout=limit)
                pending[future] = task

        finished_all = False
        try:
            with _sigint_deferred():  # scheduling starts the workers
                schedule(first)
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield self._done(pending.pop(future), future)
                schedule(itertools.islice(source, window - len(pending)))
            finished_all = True
        finally:
            if not finished_all:
                self.close()

    def _done(self, task: T, future: Future[Any]) -> Done[T, R]:
        try:
            result = future.result()
        except TaskTimeout:
            self.restarts += 1
            return Done(task, None, Failure(f"took longer than {self.timeout:g} s; stopped"))
        except ProcessExpired:
            self.restarts += 1
            return Done(task, None, Failure(CRASHED))
        except SetupFailed as exc:
            raise RenderError(f"a batch worker could not start: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - one task must not stop the batch
            return Done(
                task, None, Failure(f"internal error while rendering ({type(exc).__name__})")
            )
        if isinstance(result, Failure):
            if result.stop:
                raise OutputError(f"stopped: {result.message}")
            return Done(task, None, result)
        return Done(task, result, None)
