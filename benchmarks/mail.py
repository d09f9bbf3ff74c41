"""Mail batches: the stamping fast path at 1,000 and 10,000 letters, the full render at
1,000, on the same kind of synthetic records, with the issue's targets.

    .venv/bin/python benchmarks/mail.py [--records 1000] [--big 10000] [--full N] [--jobs N]

Each run is its own `make-handouts batch --for mail` process with a cold layout cache of
its own (so the layout renders are counted); its peak memory is the resident size of
the batch process and all its workers together, sampled from /proc. Prints seconds,
letters per second, peak memory, mailing.pdf size, average per-letter PDF size, and:
time at 10,000 / time at 1,000 (target <= 10.5), peak at 10,000 / peak at 1,000
(target <= 1.3), the fast path at 10,000 vs the full render in letters per second
(target >= 50; also printed at 1,000), and the average stamped letter vs the average
fully rendered letter, over the same letters (target <= 100%). `--full N`: the full
render on the first N of the 1,000 letters only (its rate per letter is what is
compared; default: all).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from batch import COLUMNS as PATIENT_COLUMNS
from memory import run_measured

STATES = [
    ("Springfield", "IL", "627"),
    ("Chicago", "IL", "606"),
    ("Boston", "MA", "021"),
    ("Austin", "TX", "733"),
    ("Seattle", "WA", "981"),
    ("Denver", "CO", "802"),
]
FIRST = ["Maria", "José", "Ana", "Nguyễn", "James", "Aisha", "Dmitri", "Li", "Fatima", "Ruth"]
LAST = ["Garcia", "Hernández", "Smith", "Okafor", "Ivanov", "Chen", "Thị Ánh", "O'Brien"]
COLUMNS = [
    *PATIENT_COLUMNS,
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
]


def make_records(path: Path, count: int) -> None:
    rng = random.Random(7)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(count):
            city, state, prefix = rng.choice(STATES)
            writer.writerow(
                [
                    f"M{i:05d}",
                    rng.choice(["vertebroplasty", "kyphoplasty"]),
                    "pre",
                    rng.choice(["en", "en", "es"]),
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    f"2026-12-{rng.randint(1, 28):02d}",
                    f"{rng.randint(6, 11)}:{rng.choice(['00', '15', '30', '45'])}",
                    "Dr. Okafor",
                    rng.choice(["L1", "T12, L1", "L2"]),
                    f"{rng.randint(1, 9999)} {rng.choice(['Elm', 'Oak', 'Main', 'Pine'])} St",
                    rng.choice(["", "Apt 2", "Unit 14B"]),
                    city,
                    state,
                    f"{prefix}{rng.randint(0, 99):02d}",
                ]
            )


def measure(engine: str, source: Path, work: Path, jobs: int) -> dict[str, Any]:
    out = work / f"{engine}-{source.stem}"
    exe = Path(sys.executable).with_name("make-handouts")
    command = [str(exe), "-q", "--cache-dir", str(work / f"cache-{engine}-{source.stem}")]
    command += ["batch", str(source), "-o", str(out), "--for", "mail", "--engine", engine]
    command += ["--jobs", str(jobs), "--letter-date", "2026-11-21"]
    done, seconds, peak = run_measured(command)
    if done.returncode != 0:
        raise SystemExit(f"{engine} batch failed:\n{done.stderr[-2000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    entries = manifest["records"] if isinstance(manifest, dict) else manifest
    letters = [out / e["file"] for e in entries if e.get("status") == "rendered"]
    return {
        "letters": len(letters),
        "stamped": sum(e.get("engine") == "fast" for e in entries),
        "seconds": seconds,
        "peak_mb": peak,
        "mailing": (out / "mailing.pdf").stat().st_size,
        "average": sum(p.stat().st_size for p in letters) / max(len(letters), 1),
        "sizes": {p.name: p.stat().st_size for p in letters},
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10000)
    parser.add_argument("--full", type=int, default=0, help="full render on N letters")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        small, big, sample = work / "small.csv", work / "big.csv", work / "sample.csv"
        make_records(small, args.records)
        make_records(big, args.big)
        make_records(sample, args.full or args.records)  # the same first letters
        print(f"mail: synthetic letters, --jobs {args.jobs}, a cold layout cache per run")
        runs = {
            "full": measure("full", sample, work, args.jobs),
            "fast": measure("fast", small, work, args.jobs),
            "fast-big": measure("fast", big, work, args.jobs),
        }
    print(
        f"{'run':<9} {'letters':>8} {'stamped':>8} {'seconds':>8} {'letters/s':>10} "
        f"{'peak MB':>8} {'mailing.pdf':>12} {'avg letter':>11}"
    )
    for name, r in runs.items():
        print(
            f"{name:<9} {r['letters']:>8} {r['stamped']:>8} {r['seconds']:>8.1f} "
            f"{r['letters'] / r['seconds']:>10.1f} {r['peak_mb']:>8.0f} "
            f"{r['mailing'] / 1e6:>10.2f}MB {r['average'] / 1e3:>9.1f}KB"
        )
    full, fast, large = runs["full"], runs["fast"], runs["fast-big"]
    scale = args.big / args.records
    time_ratio = large["seconds"] / fast["seconds"]
    peak_ratio = large["peak_mb"] / fast["peak_mb"]
    full_rate = full["letters"] / full["seconds"]
    speed = (fast["letters"] / fast["seconds"]) / full_rate
    speed_big = (large["letters"] / large["seconds"]) / full_rate
    same = [name for name in full["sizes"] if name in fast["sizes"]]  # the same letters
    size = sum(fast["sizes"][n] for n in same) / max(sum(full["sizes"][n] for n in same), 1)
    print(
        f"time {args.big} / {args.records}: {time_ratio:.2f}x for {scale:g}x the letters "
        f"(target <= {1.05 * scale:g}x): {verdict(time_ratio <= 1.05 * scale)}"
    )
    print(
        f"peak memory {args.big} / {args.records}: {peak_ratio:.2f}x "
        f"(target <= 1.3x): {verdict(peak_ratio <= 1.3)}"
    )
    print(
        f"fast path vs full render, letters/s: at {args.big} {speed_big:.1f}x "
        f"(target >= 50x): {verdict(speed_big >= 50)}; at {args.records} {speed:.1f}x "
        f"(layouts rendered in the run are a larger share): {verdict(speed >= 50)}"
    )
    print(
        f"stamped vs fully rendered, the same {len(same)} letters: {size:.1%} (target <= 100%): "
        f"{verdict(size <= 1.0)}"
    )


if __name__ == "__main__":
    main()
