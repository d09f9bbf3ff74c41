"""The worker pool survives crashes and hangs, and recycles workers."""

from __future__ import annotations

from pool_targets import echo_pid

from handouts.pool import WorkerPool


def test_crash_and_hang_fail_only_their_task():
    pool = WorkerPool(echo_pid, None, jobs=2, timeout=2, recycle_after=100)
    results = {
        task: (kind, payload)
        for task, kind, payload in pool.run(["a", "crash", "b", "hang", "c", "d"])
    }
    assert results["crash"] == ("failed", "the renderer process stopped unexpectedly")
    assert results["hang"][0] == "failed" and "longer than 2 s" in results["hang"][1]
    for task in "abcd":
        assert results[task][0] == "ok"
    assert pool.restarts == 2


def test_workers_are_recycled():
    pool = WorkerPool(echo_pid, None, jobs=1, timeout=30, recycle_after=2)
    pids = [payload[1] for _, _, payload in pool.run(list("abcdef"))]
    assert len(set(pids)) == 3  # a fresh process every two records
