"""Interrupted batches: a manifest never claims a file that is not on disk as claimed.

The real console script is stopped by SIGINT (Ctrl-C) or SIGKILL at several points of a
fast-path mail batch and of a portal batch. After each stop, every claim that a later
`--resume` would trust (manifest.json, manifest.csv and the journal) must name a file on
disk with that size and sha256, and no worker may write anything once the batch is gone.
A record file on disk that no claim vouches for (its worker renamed it into place, but
the batch died before journalling it) must be removed by `--resume`, which logs how many
it removed. Then `--resume` must finish with every record exactly once, keep what was
claimed, render the rest, and leave a manifest that matches the files.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from helpers import (
    CLAIMING,
    DEADLINE,
    JOURNAL,
    batch_claims,
    record_pdfs,
    resume_counts,
    run_cli,
    wait_group_gone,
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").is_file(), reason="waits for the batch's workers via /proc"
)

EXE = Path(sys.executable).with_name("make-handouts")
#: Starts the console script with SIGINT at its default, as from a terminal, even when
#: pytest itself was started with SIGINT ignored (as a background job of a script is):
#: Python then never turns SIGINT into KeyboardInterrupt. exec keeps the process id.
DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)

MAIL_HEADER = (
    "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time,"
    "address_line1,address_line2,city,state,postal_code\n"
)
PORTAL_HEADER = "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time\n"
#: Two letter layouts only, so the fast path's one-off layout renders stay short.
MAIL_LAYOUTS = [("kyphoplasty", "pre", "en"), ("vertebroplasty", "post", "es")]
PORTAL_HANDOUTS = [
    (procedure, phase, language)
    for language in ("en", "es")
    for procedure in ("kyphoplasty", "vertebroplasty")
    for phase in ("pre", "post")
]


@dataclass(frozen=True)
class Batch:
    """One kind of batch: its rows and options, and how many record PDFs mark a point."""

    name: str
    records: int
    args: tuple[str, ...]
    first: int  # record PDFs on disk at the "first" point
    late: int  # record PDFs on disk at the "late" point
    points: tuple[str, ...] = ("start", "first", "late")

    def rows(self) -> str:
        lines = []
        for i in range(self.records):
            if self.name == "mail":
                procedure, phase, language = MAIL_LAYOUTS[i % len(MAIL_LAYOUTS)]
                address = f",{i + 1} Elm St,,Boston,MA,{2101 + i:05d}"
            else:
                procedure, phase, language = PORTAL_HANDOUTS[i % len(PORTAL_HANDOUTS)]
                address = ""
            lines.append(
                f"{self.prefix}{i:02d},{procedure},{phase},{language},Patient {i},"
                f"2026-11-12,07:30{address}"
            )
        header = MAIL_HEADER if self.name == "mail" else PORTAL_HEADER
        return header + "\n".join(lines) + "\n"

    @property
    def prefix(self) -> str:
        return self.name[0].upper()

    def record_ids(self) -> list[str]:
        return [f"{self.prefix}{i:02d}" for i in range(self.records)]


MAIL = Batch(
    "mail",
    records=30,
    args=("--for", "mail", "--engine", "fast", "--letter-date", "2026-11-21"),
    first=3,
    late=30,  # every letter file written: the batch is taking and journalling them
    points=("start", "first", "late", "assembly"),
)
PORTAL = Batch("portal", records=12, args=("--for", "portal"), first=2, late=9)

#: Where to stop the batch; a point is a condition on the output folder.
POINTS: dict[str, Callable[[Path, Batch], bool]] = {
    # The batch has started (the first manifest, claiming nothing, is written) and is
    # stamping layouts (mail) or starting its workers (portal): no PDF yet.
    "start": lambda out, batch: (out / "manifest.json").is_file(),
    # The first few record PDFs are on disk.
    "first": lambda out, batch: len(record_pdfs(out)) >= batch.first,
    # Most (portal) or all (mail) record PDFs are on disk.
    "late": lambda out, batch: len(record_pdfs(out)) >= batch.late,
    # Mail: the journal claims every letter; the batch is rendering the cover sheet and
    # assembling mailing.pdf.
    "assembly": lambda out, batch: _journal_lines(out) >= batch.records,
}
SIGNALS = {"SIGINT": signal.SIGINT, "SIGKILL": signal.SIGKILL}


def _journal_lines(out: Path) -> int:
    try:
        return (out / JOURNAL).read_bytes().count(b"\n")
    except OSError:
        return 0


def _interrupt(
    source: Path, out: Path, batch: Batch, point: str, signum: int, log: Path
) -> tuple[int, int]:
    """Starts the batch, waits for `point`, sends `signum`, waits until the batch and its
    workers are gone; returns the record PDFs on disk when the signal went and the exit
    code. Fails if the batch ended before the point or a worker wrote after it ended."""
    command = [str(EXE), "batch", str(source), "-o", str(out), "--jobs", "2", *batch.args]
    with open(log, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", DEFAULT_SIGINT, *command],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group: the pool workers join it
        )
    try:
        reached = POINTS[point]
        deadline = time.monotonic() + DEADLINE
        while not reached(out, batch):
            assert process.poll() is None, (
                f"the batch ended (exit {process.returncode}) before the {point!r} point; "
                f"{len(record_pdfs(out))} PDFs on disk:\n{log.read_text()}"
            )
            assert time.monotonic() < deadline, f"the {point!r} point not reached in time"
            time.sleep(0.005)
        on_disk = len(record_pdfs(out))
        assert process.poll() is None, f"the batch ended just at the {point!r} point"
        process.send_signal(signum)
        code = process.wait(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    at_exit = record_pdfs(out)
    wait_group_gone(process.pid, f"{point}, {signal.Signals(signum).name}")
    # Nothing is written once the batch is gone. (A rename(2) already under way when it
    # died completes, but listing the folder waits for the lock that the rename holds.)
    assert record_pdfs(out) == at_exit, f"a worker wrote after the batch ended ({point!r})"
    return on_disk, code


@pytest.mark.parametrize(
    ("batch", "signame", "point"),
    [
        pytest.param(batch, signame, point, id=f"{batch.name}-{signame}-{point}")
        for batch in (MAIL, PORTAL)
        for signame in SIGNALS
        for point in batch.points
    ],
)
def test_interrupted_batch_claims_only_files_on_disk_and_resumes(
    tmp_path: Path, batch: Batch, signame: str, point: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(batch.rows(), encoding="utf-8")
    out = tmp_path / "out"
    log = tmp_path / "stderr.txt"
    where = f"{batch.name}, {signame} at {point!r}"

    on_disk, code = _interrupt(source, out, batch, point, SIGNALS[signame], log)
    stderr = log.read_text(encoding="utf-8")
    if point == "start":
        assert on_disk == 0, f"{where}: {on_disk} PDFs already written; point missed"
    else:
        assert on_disk >= (batch.first if point == "first" else batch.late)
    if signame == "SIGINT":
        assert code == 130, f"{where}: exit {code}, not 130 (finished first?)\n{stderr}"
        assert "rerun with --resume" in stderr, stderr
        assert "Traceback" not in stderr, stderr
    else:
        assert code == -signal.SIGKILL, f"{where}: exit {code}, not killed\n{stderr}"

    claimed = batch_claims(out, f"after {where}")
    if point == "assembly":
        assert claimed == set(batch.record_ids())
    kept = {name: (out / name).stat().st_mtime_ns for name in record_pdfs(out)}
    unclaimed = {name for name in kept if name.split("-")[0] not in claimed}

    result = run_cli("batch", str(source), "-o", str(out), "--jobs", "2", *batch.args, "--resume")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    counts = resume_counts(result.stderr)
    assert counts == (len(claimed), batch.records - len(claimed), len(unclaimed)), where

    final = batch_claims(out, f"after --resume ({where})")
    records = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["records"]
    expected = batch.record_ids()
    assert [r["record_id"] for r in records] == expected  # each exactly once
    assert final == set(expected)
    assert {r["record_id"] for r in records if r["status"] == "resumed"} == claimed
    assert {r["status"] for r in records} <= set(CLAIMING)
    files = sorted(r["file"] for r in records)
    assert sorted(record_pdfs(out)) == files  # no stray or duplicate PDF
    assert len(set(files)) == batch.records
    resumed = [r["file"] for r in records if r["status"] == "resumed"]
    assert all(kept[f] == (out / f).stat().st_mtime_ns for f in resumed)  # not rewritten
    assert all(kept[f] != (out / f).stat().st_mtime_ns for f in unclaimed)  # rendered again
    assert not list(out.glob(".handout-tmp-*")), "temp files left behind"
    assert not (out / JOURNAL).exists()
    assert (out / "errors.csv").read_text(encoding="utf-8").count("\n") == 1  # header only

    if batch.name == "mail":
        assert {r["engine"] for r in records} == {"fast"}
        with pikepdf.open(out / "mailing.pdf") as mailing:
            pages = len(mailing.pages)
        ranges = sorted(tuple(map(int, r["mailing_pages"].split("-"))) for r in records)
        assert ranges[0][0] > 1 and ranges[-1][1] <= pages  # after the cover sheet
        assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    else:
        assert not (out / "mailing.pdf").exists()
