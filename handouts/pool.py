"""A pool of warm worker processes with per-record timeouts, crash recovery and recycling.

concurrent.futures cannot kill one stuck task; here each worker has its own pipe, so a
record that hangs or crashes its worker is marked failed and a fresh worker takes over.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from .errors import RenderError

STARTUP_SECONDS = 120.0


@dataclass
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    task: Any = None
    deadline: float = 0.0
    done: int = 0
    started: float = field(default_factory=time.monotonic)


class WorkerPool:
    """Runs tasks on `jobs` spawned processes running `target(conn, setup)`."""

    def __init__(
        self,
        target: Callable[..., None],
        setup: object,
        jobs: int,
        timeout: float,
        recycle_after: int,
    ) -> None:
        self.target = target
        self.setup = setup
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.recycle_after = max(1, recycle_after)
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []
        self.restarts = 0

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=self.target, args=(child, self.setup), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _stop(self, worker: _Worker, kill: bool = False) -> None:
        if kill:
            worker.process.kill()
        else:
            try:
                worker.conn.send(None)
            except OSError:
                worker.process.kill()
        worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def run(self, tasks: list[Any]) -> Iterator[tuple[Any, str, Any]]:
        """Yields (task, kind, payload) per task: kind is ok, failed or output."""
        queue = deque(tasks)
        self.workers = [self._start() for _ in range(min(self.jobs, len(queue)))]
        try:
            while queue or any(w.task is not None for w in self.workers):
                self._assign(queue)
                yield from self._collect(queue)
                yield from self._expire()
                self._replace(queue)
        finally:
            for worker in self.workers:
                self._stop(worker, kill=worker.task is not None)
            self.workers = []

    def _assign(self, queue: deque[Any]) -> None:
        for worker in self.workers:
            if worker.ready and worker.task is None and queue:
                worker.task = queue.popleft()
                worker.deadline = time.monotonic() + self.timeout
                worker.conn.send(worker.task)

    def _next_deadline(self) -> float | None:
        deadlines = [w.deadline for w in self.workers if w.task is not None]
        deadlines += [w.started + STARTUP_SECONDS for w in self.workers if not w.ready]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _collect(self, queue: deque[Any]) -> Iterator[tuple[Any, str, Any]]:
        waitables = [w.conn for w in self.workers] + [w.process.sentinel for w in self.workers]
        ready = set(wait(waitables, timeout=self._next_deadline()))
        for worker in list(self.workers):
            if worker.conn not in ready and worker.process.sentinel not in ready:
                continue
            try:
                kind, payload = worker.conn.recv()
            except (EOFError, OSError):
                yield from self._crashed(worker)
                continue
            if kind == "ready":
                worker.ready = True
            elif kind == "fatal":
                raise RenderError(f"a batch worker could not start: {payload}")
            else:
                task, worker.task = worker.task, None
                worker.done += 1
                if worker.done < self.recycle_after:
                    self._assign(queue)  # keep the worker busy while the caller records this
                yield task, kind, payload

    def _crashed(self, worker: _Worker) -> Iterator[tuple[Any, str, Any]]:
        self.workers.remove(worker)
        self._stop(worker, kill=True)
        self.restarts += 1
        if not worker.ready:
            raise RenderError("a batch worker stopped while starting up")
        if worker.task is not None:
            yield worker.task, "failed", "the renderer process stopped unexpectedly"

    def _expire(self) -> Iterator[tuple[Any, str, Any]]:
        now = time.monotonic()
        for worker in list(self.workers):
            if worker.task is not None and now > worker.deadline:
                self.workers.remove(worker)
                self._stop(worker, kill=True)
                self.restarts += 1
                yield worker.task, "failed", f"took longer than {self.timeout:g} s; stopped"
            elif not worker.ready and now > worker.started + STARTUP_SECONDS:
                raise RenderError(f"a batch worker did not start within {STARTUP_SECONDS:g} s")

    def _replace(self, queue: deque[Any]) -> None:
        """Recycles workers that did their share (keeps memory flat) and refills the pool."""
        for worker in list(self.workers):
            if worker.task is None and worker.done >= self.recycle_after and queue:
                self.workers.remove(worker)
                self._stop(worker)
        busy = sum(w.task is not None for w in self.workers)
        while len(self.workers) < self.jobs and len(queue) > len(self.workers) - busy:
            self.workers.append(self._start())
