"""The worker pool survives crashes and hangs, recycles workers, and dies with its batch."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from helpers import DEADLINE, live_group_members, wait_group_gone
from pool_targets import echo_pid, remember

from handouts.batch.lifeline import ORPHANED
from handouts.batch.pool import WorkerPool
from handouts.errors import RenderError

TESTS = Path(__file__).parent
LINUX = sys.platform.startswith("linux") and Path("/proc/self/stat").is_file()


def test_crash_and_hang_fail_only_their_task():
    with WorkerPool(jobs=2, timeout=2, recycle_after=100) as pool:
        results = {d.task: d for d in pool.run(echo_pid, ["a", "crash", "b", "hang", "c", "d"])}
    assert results["crash"].failure.message == "the renderer process stopped unexpectedly"
    assert "longer than 2 s" in results["hang"].failure.message
    for task in "abcd":
        assert results[task].failure is None and results[task].result[0] == task
    assert pool.restarts == 2


class _Released:
    """A task source that runs dry until the consumer releases more: the way a portal
    batch hands out the records of a layout once it is rendered."""

    def __init__(self) -> None:
        self.ready = ["first"]

    def __iter__(self) -> _Released:
        return self

    def __next__(self) -> str:
        if self.ready:
            return self.ready.pop(0)
        raise StopIteration


def test_a_source_that_ran_dry_is_asked_again_after_each_result():
    source = _Released()
    seen = []
    with WorkerPool(jobs=1, timeout=30, recycle_after=100) as pool:
        for done in pool.run(echo_pid, source):
            seen.append(done.result[0])
            if done.task == "first":
                source.ready += ["second", "third"]  # released by the first result
    assert seen == ["first", "second", "third"]


def test_a_task_of_several_records_has_their_time_together():
    """A chunk of 3 records may take 3 times `timeout`; one record, only `timeout`."""
    tasks = ["sleep 1.2", "sleep 1.2 x3"]
    with WorkerPool(jobs=2, timeout=1, recycle_after=100) as pool:
        weight = {"sleep 1.2": 1, "sleep 1.2 x3": 3}
        results = {d.task: d for d in pool.run(echo_pid, tasks, weight.__getitem__)}
    assert "longer than 1 s" in results["sleep 1.2"].failure.message
    assert results["sleep 1.2 x3"].failure is None


def test_workers_are_recycled():
    with WorkerPool(jobs=1, timeout=30, recycle_after=2) as pool:
        pids = [d.result[1] for d in pool.run(echo_pid, list("abcdef"))]
    assert len(set(pids)) == 3  # a fresh process every two records


def test_one_pool_serves_every_run_of_a_batch():
    """The layouts, the stamping and the full renders of a batch run on the same
    workers: the second run gets the processes the first one started."""
    with WorkerPool(jobs=1, timeout=30, recycle_after=10) as pool:
        first = {d.result[1] for d in pool.run(echo_pid, ["a", "b"])}
        second = {d.result[1] for d in pool.run(echo_pid, ["c", "d"])}
        assert pool.started == 1
    assert len(first) == 1
    assert second == first
    with WorkerPool(jobs=1, timeout=30, recycle_after=10) as other:
        third = {d.result[1] for d in other.run(echo_pid, ["e"])}
    assert third != first  # a new pool is new processes: the check can fail


def test_a_failure_is_reported_for_its_task_only():
    with WorkerPool(jobs=1, timeout=30, recycle_after=10) as pool:
        results = {d.task: d for d in pool.run(echo_pid, ["a", "refuse", "b"])}
    assert results["refuse"].failure.message == "refused on purpose"
    assert results["a"].result[0] == "a" and results["b"].result[0] == "b"


def test_a_worker_that_cannot_start_stops_the_batch():
    pool = WorkerPool(jobs=1, timeout=30, recycle_after=10, initializer=remember, initargs=("bad",))
    with pool, pytest.raises(RenderError, match="a batch worker could not start: bad"):
        list(pool.run(echo_pid, ["setup", "a"]))


def _killed_while_writing(folder: Path, deathsig: bool) -> int:
    """Runs a pool whose worker is writing late.bin when the pool's process is killed
    (SIGKILL, so it cleans up nothing); the worker waits on the `hold` lock the caller
    holds. Returns the killed process's id, which is also its process group's."""
    code = "import sys, pool_targets; pool_targets.run_pool(sys.argv[1], sys.argv[2])"
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(folder), "yes" if deathsig else "no"],
        env={**os.environ, "PYTHONPATH": path},
        start_new_session=True,  # its own process group, which its worker joins
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while not (folder / "writing").exists():
            assert process.poll() is None, f"the pool ended (exit {process.returncode})"
            assert time.monotonic() < deadline, "the worker did not start writing in time"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=DEADLINE) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.pid


@pytest.fixture
def hold(tmp_path: Path) -> Iterator[IO[bytes]]:
    """An exclusive lock on tmp_path/hold: the worker of _killed_while_writing waits on it."""
    with open(tmp_path / "hold", "wb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield handle


@pytest.mark.skipif(not LINUX, reason="PR_SET_PDEATHSIG is Linux's; workers found via /proc")
def test_a_worker_dies_with_its_batch_even_after_kill_9(tmp_path, hold):
    group = _killed_while_writing(tmp_path, deathsig=True)
    # The lock is still held: only the kernel (PR_SET_PDEATHSIG) can end the worker now.
    wait_group_gone(group, "the worker of a killed pool", deadline=30)
    hold.close()
    assert not (tmp_path / "late.bin").exists()


@pytest.mark.skipif(not LINUX, reason="workers found via /proc")
def test_a_worker_whose_batch_died_takes_its_write_back(tmp_path, hold):
    """Where the kernel does not kill it, the worker checks its parent before the rename."""
    group = _killed_while_writing(tmp_path, deathsig=False)
    worker = int((tmp_path / "writing").read_text())
    assert worker in live_group_members(group)  # it outlived the pool's process
    hold.close()  # the worker goes on: fsync, the check, and (not) the rename
    wait_group_gone(group, "the worker of a killed pool")
    assert not (tmp_path / "late.bin").exists()
    assert not list(tmp_path.glob(".handout-tmp-*")), "its temp file was left behind"


def test_a_worker_whose_batch_died_before_it_started_exits_at_once():
    code = (
        "import os; from handouts.batch.lifeline import start_worker; "
        "start_worker(os.getpid(), None, ()); print('went on')"  # never its own parent
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (ORPHANED, "", "")
