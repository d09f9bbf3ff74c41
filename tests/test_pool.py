"""The worker pool survives crashes and hangs, and recycles workers."""

from __future__ import annotations

import pytest
from pool_targets import echo_pid, remember

from handouts.batch.pool import WorkerPool
from handouts.errors import RenderError


def test_crash_and_hang_fail_only_their_task():
    pool = WorkerPool(jobs=2, timeout=2, recycle_after=100)
    results = {d.task: d for d in pool.run(echo_pid, ["a", "crash", "b", "hang", "c", "d"])}
    assert results["crash"].failure.message == "the renderer process stopped unexpectedly"
    assert "longer than 2 s" in results["hang"].failure.message
    for task in "abcd":
        assert results[task].failure is None and results[task].result[0] == task
    assert pool.restarts == 2


def test_workers_are_recycled():
    pool = WorkerPool(jobs=1, timeout=30, recycle_after=2)
    pids = [d.result[1] for d in pool.run(echo_pid, list("abcdef"))]
    assert len(set(pids)) == 3  # a fresh process every two records


def test_a_failure_is_reported_for_its_task_only():
    pool = WorkerPool(jobs=1, timeout=30, recycle_after=10)
    results = {d.task: d for d in pool.run(echo_pid, ["a", "refuse", "b"])}
    assert results["refuse"].failure.message == "refused on purpose"
    assert results["a"].result[0] == "a" and results["b"].result[0] == "b"


def test_a_worker_that_cannot_start_stops_the_batch():
    pool = WorkerPool(jobs=1, timeout=30, recycle_after=10, initializer=remember, initargs=("bad",))
    with pytest.raises(RenderError, match="a batch worker could not start: bad"):
        list(pool.run(echo_pid, ["setup", "a"]))
