"""Mail batch: the full-render batch vs the stamping fast path, on the same records.

    .venv/bin/python benchmarks/mail.py [--records 1000] [--jobs N]

Each engine runs in its own process (so peak memory, RSS of the process and its
workers, is its own). Prints records/second, seconds, mailing.pdf size, the size of
all per-letter PDFs concatenated, peak memory and the ratios.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch import peak_rss_mb  # benchmarks/batch.py, the same measure of memory

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


def make_records(path: Path, count: int) -> None:
    rng = random.Random(7)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "record_id",
                "procedure",
                "phase",
                "language",
                "patient_name",
                "procedure_date",
                "arrival_time",
                "physician",
                "levels",
                "address_line1",
                "address_line2",
                "city",
                "state",
                "postal_code",
            ]
        )
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


def child(engine: str, source: Path, out: Path, jobs: int) -> None:
    from handouts.batch.run import run_batch
    from handouts.options import BatchOptions
    from handouts.workspace import Workspace

    started = time.perf_counter()
    options = BatchOptions.create(
        input=source,
        out_dir=out,
        jobs=jobs,
        progress="none",
        target="mail",
        engine=engine,
        letter_date=dt.date(2026, 11, 21),
    )
    result = run_batch(Workspace.open(), options)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    letters = sum(p.stat().st_size for p in out.glob("M*.pdf"))
    print(
        json.dumps(
            {
                "records": result.rendered,
                "failed": result.failed,
                "seconds": seconds,
                "mailing": (out / "mailing.pdf").stat().st_size,
                "letters": letters,
                "peak_mb": peak,
            }
        )
    )


def measure(engine: str, source: Path, work: Path, jobs: int) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            engine,
            "--source",
            str(source),
            "--out",
            str(work / engine),
            "--jobs",
            str(jobs),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--child")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source, args.out, args.jobs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "mail.csv"
        make_records(source, args.records)
        print(f"{args.records} synthetic mail records, --jobs {args.jobs}")
        full = measure("full", source, work, args.jobs)
        fast = measure("fast", source, work, args.jobs)
    print(
        f"{'engine':<6} {'records':>8} {'seconds':>8} {'rec/s':>8} {'mailing.pdf':>12} "
        f"{'letters':>10} {'peak MB':>8}"
    )
    for name, r in (("full", full), ("fast", fast)):
        print(
            f"{name:<6} {r['records']:>8} {r['seconds']:>8.1f} "
            f"{r['records'] / r['seconds']:>8.1f} {r['mailing'] / 1e6:>10.2f}MB "
            f"{r['letters'] / 1e6:>8.1f}MB {r['peak_mb']:>8.0f}"
        )
    speed = (fast["records"] / fast["seconds"]) / (full["records"] / full["seconds"])
    print(f"fast path speed: {speed:.1f}x the full-render batch")
    print(
        f"fast mailing.pdf: {fast['mailing'] / full['letters']:.1%} of the concatenated "
        f"per-letter PDFs ({fast['mailing'] / full['mailing']:.1%} of the full batch's "
        "mailing.pdf)"
    )


if __name__ == "__main__":
    main()
