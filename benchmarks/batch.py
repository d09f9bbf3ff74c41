"""Batch speed, full render: a naive WeasyPrint loop vs `batch --jobs 1` vs `--jobs <cpus>`.

    .venv/bin/python benchmarks/batch.py [--records 500]

Each mode runs in its own process on the same synthetic records, so its peak memory
(RSS, including worker processes) is its own. Prints records/second, the ratios and
peak memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Notes longer than the notes box's lines ([options] notes_lines, 2): they grow the box,
#: so the record takes the full render whatever the cache (short notes are stamped).
LONG_NOTE = " ".join(["Bring your insulin pen and the list of medicines you take."] * 5)

FIRST = ["Maria", "José", "Ana", "Nguyễn", "Ελένη", "James", "Aisha", "Dmitri", "Li", "Fatima"]
LAST = ["Garcia", "Hernández", "Smith", "Thị Ánh", "Papadopoulou", "Okafor", "Ivanov", "Chen"]


#: The patient columns of every benchmark's synthetic records (mail.py adds an address).
COLUMNS = [
    "record_id",
    "procedure",
    "phase",
    "language",
    "patient_name",
    "procedure_date",
    "arrival_time",
    "physician",
    "levels",
]


def make_records(path: Path, count: int, notes: bool = True, notes_every: int = 0) -> None:
    """Mixed procedures, phases and languages; `notes=False` leaves the notes empty;
    `notes_every=3`: a short note on every third record, the others none."""
    rng = random.Random(42)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*COLUMNS, "notes"])
        for i in range(count):
            writer.writerow(
                [
                    f"R{i:05d}",
                    rng.choice(["vertebroplasty", "kyphoplasty"]),
                    rng.choice(["pre", "post"]),
                    rng.choice(["en", "en", "es"]),
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    f"2026-12-{rng.randint(1, 28):02d}",
                    f"{rng.randint(6, 11)}:{rng.choice(['00', '15', '30', '45'])}",
                    "Dr. Okafor",
                    rng.choice(["L1", "T12, L1", "L2"]),
                    _note(rng, i, notes, notes_every),
                ]
            )


def _note(rng: random.Random, i: int, notes: bool, every: int) -> str:
    if every:
        return ("Bring your brace.", "Use entrance B.")[i // every % 2] if i % every == 0 else ""
    return rng.choice(["", "Bring your brace.", "Use entrance B."]) if notes else ""


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def run_naive(source: Path, out: Path) -> int:
    """One WeasyPrint call per record with fresh objects: fonts, CSS and fetcher each time."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from handouts.batch.records import read_input, validate_rows
    from handouts.engine.fetcher import AssetFetcher
    from handouts.fonts.registry import font_face_css
    from handouts.locate import data_dir
    from handouts.workspace import Workspace

    workspace = Workspace.open()
    _, rows = read_input(source)
    records, _ = validate_rows(rows, workspace.library.languages())
    styles = data_dir("styles")
    out.mkdir(parents=True, exist_ok=True)
    for record in records:
        html = workspace.renderer.html(record.request)
        fonts = FontConfiguration()
        fetcher = AssetFetcher([styles, data_dir("templates"), workspace.clinic.root])
        sheets = [
            CSS(
                string=font_face_css(),
                base_url=str(styles) + "/",
                font_config=fonts,
                url_fetcher=fetcher,
            )
        ]
        sheets += [
            CSS(filename=styles / name, font_config=fonts, url_fetcher=fetcher)
            for name in ("base.css", "print.css")
        ]
        sheets.append(CSS(string=":root{--primary:#1f4e79;--accent:#2e7d5b}"))
        pdf = HTML(
            string=html, base_url=workspace.clinic.root.as_uri() + "/", url_fetcher=fetcher
        ).write_pdf(stylesheets=sheets, font_config=fonts, pdf_variant="pdf/ua-1")
        (out / record.file_name).write_bytes(pdf)
    return len(records)


def run_batch_mode(source: Path, out: Path, jobs: int) -> int:
    from handouts.batch.run import run_batch
    from handouts.options import BatchOptions
    from handouts.workspace import Workspace

    options = BatchOptions.create(
        input=source, out_dir=out, jobs=jobs, progress="none", engine="full"
    )
    result = run_batch(Workspace.open(), options)
    return result.rendered


def child(mode: str, source: Path, out: Path, jobs: int) -> None:
    started = time.perf_counter()
    count = run_naive(source, out) if mode == "naive" else run_batch_mode(source, out, jobs)
    seconds = time.perf_counter() - started
    print(json.dumps({"records": count, "seconds": seconds, "peak_mb": peak_rss_mb()}))


def measure(mode: str, source: Path, work: Path, jobs: int) -> dict:
    out = work / f"{mode}-{jobs}"
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--source",
            str(source),
            "--out",
            str(out),
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
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--child")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source, args.out, args.jobs)
        return
    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "records.csv"
        make_records(source, args.records)
        print(f"{args.records} synthetic records, {cpus} CPU(s)")
        results = {
            "naive loop": measure("naive", source, work, 1),
            "batch --jobs 1": measure("batch", source, work, 1),
            f"batch --jobs {cpus}": measure("batch", source, work, cpus),
        }
    base = results["naive loop"]["records"] / results["naive loop"]["seconds"]
    print(f"{'mode':<18} {'records':>8} {'seconds':>8} {'rec/s':>7} {'vs naive':>9} {'peak MB':>8}")
    for name, r in results.items():
        rate = r["records"] / r["seconds"]
        print(
            f"{name:<18} {r['records']:>8} {r['seconds']:>8.1f} {rate:>7.2f} "
            f"{rate / base:>8.2f}x {r['peak_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
