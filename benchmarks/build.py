"""One handout from the command line: a warm layout cache vs importing WeasyPrint.

    .venv/bin/python benchmarks/build.py [--runs 5]

Times `make-handouts build` of a personalized handout with a warm layout cache (the
median of N runs, after one run that fills the cache), a cold cache, the full render
(--notes longer than the notes box always take it), and `python -c "import weasyprint"`,
all in this run on this machine.
Target: warm build <= import weasyprint.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch import LONG_NOTE  # notes that take the full render

NOTES = ["--notes", LONG_NOTE]  # the full render, whatever the cache
PATIENT = ["--patient-name", "Maria Garcia", "--procedure-date", "2026-12-01"]
PATIENT += ["--arrival-time", "7:30", "--physician", "Dr. Okafor", "--levels", "T12, L1"]


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("make-handouts"))
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = Path(tmp) / "cache", str(Path(tmp) / "out.pdf")
        build = [exe, "--cache-dir", str(cache), "build", "kyphoplasty", "pre", *PATIENT]
        build += ["-o", out]
        full = [exe, "--no-cache", "build", "kyphoplasty", "pre", *PATIENT, *NOTES, "-o", out]
        cold = seconds(build)
        warm = statistics.median(seconds(build) for _ in range(args.runs))
        rendered = statistics.median(seconds(full) for _ in range(args.runs))
        weasy = statistics.median(
            seconds([sys.executable, "-c", "import weasyprint"]) for _ in range(args.runs)
        )
    print(f"build, warm layout cache (median of {args.runs}): {warm:.2f} s")
    print(f"build, cold layout cache (renders the layout once):  {cold:.2f} s")
    print(f"build --notes (long: the full render, median):     {rendered:.2f} s")
    print(f'python -c "import weasyprint" (median):            {weasy:.2f} s')
    verdict = "met" if warm <= weasy else "NOT MET"
    print(f"warm build / import weasyprint: {warm / weasy:.2f} (target <= 1.00): {verdict}")


if __name__ == "__main__":
    main()
