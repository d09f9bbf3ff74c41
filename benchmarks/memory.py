"""Peak memory of a process and all its descendants together, sampled from /proc.

`getrusage(RUSAGE_CHILDREN)` gives the largest single child, not a batch process plus
its workers; this samples the resident size of the whole process tree every 0.1 s.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time


def _tree_rss_kb(root: int) -> int:
    parents: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as handle:
                resident = int(handle.read().split()[1])
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        sizes[int(entry)] = resident * os.sysconf("SC_PAGE_SIZE") // 1024
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier += children
    return sum(sizes.get(pid, 0) for pid in tree)


def run_measured(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Runs `command`; returns it, its wall seconds and the peak MB of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    return done, seconds, peak[0] / 1024
