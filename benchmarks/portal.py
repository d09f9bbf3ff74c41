"""Portal batches: the full render vs tagged stamping on the same 500 records.

    .venv/bin/python benchmarks/portal.py [--records 500] [--jobs N] [--notes]

Each run is its own `make-handouts batch` process (the portal is the default target).
Stamping runs twice, with a cold layout cache of its own (the layouts are rendered,
side by side, in the run) and again warm (a clinic's second batch). Prints seconds,
records per second, peak memory of the process tree, how many records were stamped, and
stamping vs full render in records per second (target >= 30x). `--notes`: a short note
on every third record (the notes box's lines: still stamped; target >= 20x).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from batch import make_records  # the same synthetic records as benchmarks/batch.py
from memory import run_measured


def measure(engine: str, source: Path, out: Path, cache: Path, jobs: int) -> dict[str, float]:
    exe = Path(sys.executable).with_name("make-handouts")
    command = [str(exe), "-q", "--cache-dir", str(cache), "batch", str(source)]
    command += ["-o", str(out), "--engine", engine, "--jobs", str(jobs)]
    done, seconds, peak = run_measured(command)
    if done.returncode != 0:
        raise SystemExit(f"{engine} batch failed:\n{done.stderr[-2000:]}")
    entries = json.loads((out / "manifest.json").read_text())["records"]
    return {
        "records": sum(e["status"] == "rendered" for e in entries),
        "stamped": sum(e.get("engine") == "fast" for e in entries),
        "seconds": seconds,
        "peak_mb": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--notes", action="store_true", help="short notes on every third")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "portal.csv"
        make_records(source, args.records, notes=False, notes_every=3 if args.notes else 0)
        with_notes = ", a short note on every third" if args.notes else ""
        print(f"portal: {args.records} synthetic records{with_notes}, --jobs {args.jobs}")
        runs = {
            "full": measure("full", source, work / "full", work / "cache-full", args.jobs),
            "stamp, cold": measure("fast", source, work / "cold", work / "cache", args.jobs),
            "stamp, warm": measure("fast", source, work / "warm", work / "cache", args.jobs),
        }
    print(f"{'run':<12} {'records':>8} {'stamped':>8} {'seconds':>8} {'rec/s':>8} {'peak MB':>8}")
    for name, r in runs.items():
        print(
            f"{name:<12} {r['records']:>8} {r['stamped']:>8} {r['seconds']:>8.1f} "
            f"{r['records'] / r['seconds']:>8.1f} {r['peak_mb']:>8.0f}"
        )
    full_rate = runs["full"]["records"] / runs["full"]["seconds"]
    for name in ("stamp, cold", "stamp, warm"):
        r = runs[name]
        ratio = (r["records"] / r["seconds"]) / full_rate
        target = 20 if args.notes else 30
        verdict = "met" if ratio >= target else "NOT MET"
        print(f"{name} vs full render: {ratio:.1f}x (target >= {target}x): {verdict}")


if __name__ == "__main__":
    main()
