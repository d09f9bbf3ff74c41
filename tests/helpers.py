"""Plain helpers shared by the test modules; the fixtures stay in conftest.py.

Nothing here calls the package under test: text comes from poppler's pdftotext or
pdfplumber, objects from pikepdf, pixels from poppler's pdftoppm, the CLI runs as the
installed console script.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pdfplumber
import pikepdf
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
HANDOUTS = [(p, ph) for p in ("vertebroplasty", "kyphoplasty") for ph in ("pre", "post")]

# -- units -------------------------------------------------------------------------------

POINTS_PER_INCH = 72.0


def points(inches: float) -> float:
    """Inches to PDF points."""
    return inches * POINTS_PER_INCH


def to_pixels(value: float, dpi: float) -> float:
    """PDF points to pixels of a page rasterized at `dpi`."""
    return value * dpi / POINTS_PER_INCH


def window_box(window: Any) -> tuple[float, float, float, float]:
    """An envelope window (left, top, width, height in inches) as (x0, top, x1, bottom)
    in points from the top-left corner of the page, as pdfplumber measures."""
    x0, top = points(window.left), points(window.top)
    return x0, top, x0 + points(window.width), top + points(window.height)


# -- batch output ------------------------------------------------------------------------


def read_manifest(out: Path) -> dict[str, dict]:
    """A batch folder's manifest.json as {record_id: entry}."""
    records = json.loads((out / "manifest.json").read_text())["records"]
    return {r["record_id"]: r for r in records}


# -- editing files -----------------------------------------------------------------------


def edit_file(path: Path, old: str, new: str) -> int:
    """Replaces the first `old` in a text file (which must contain it); returns its line."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line


def edit_clinic_toml(clinic: Path, old: str, new: str) -> int:
    """Edits clinic.toml in a (copied) clinic folder; returns the line of the edit."""
    return edit_file(clinic / "clinic.toml", old, new)


def append_clinic_toml(clinic: Path, text: str) -> None:
    toml = clinic / "clinic.toml"
    toml.write_text(toml.read_text() + "\n" + text)


def set_mailer_id(clinic: Path, mailer_id: str = "123456") -> None:
    """Turns on the Intelligent Mail barcode for a (copied) clinic."""
    append_clinic_toml(clinic, f'[mail]\nmailer_id = "{mailer_id}"\n')


def extend_clinic_stylesheet(clinic: Path, name: str, css: str) -> None:
    """Gives the clinic its own copy of a built-in stylesheet with `css` appended."""
    (clinic / "styles").mkdir(exist_ok=True)
    builtin = (REPO / "styles" / name).read_text()
    (clinic / "styles" / name).write_text(builtin + "\n" + css + "\n")


# -- every PDF checked by qpdf -----------------------------------------------------------

#: Where PDFs a test holds only in memory are written, so that the session's qpdf check
#: (conftest.py) sees them with the files the tests wrote; set by that fixture.
KEEP: list[Path] = []


def keep(pdf: bytes) -> bytes:
    """Keeps a PDF made in memory for the session's `qpdf --check`; returns it."""
    if KEEP and pdf.startswith(b"%PDF"):
        target = KEEP[0] / f"{hashlib.sha256(pdf).hexdigest()[:24]}.pdf"
        if not target.exists():
            target.write_bytes(pdf)
    return pdf


def qpdf_problems(path: Path) -> str | None:
    """What `qpdf --check` says is wrong with a PDF (errors and warnings), or None."""
    done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    if done.returncode == 0:
        return None
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return f"exit {done.returncode}: " + " | ".join(said[-4:])


# -- PDF text and objects ----------------------------------------------------------------


def pdf_text(pdf: bytes, raw: bool = False) -> str:
    """Text of a PDF as poppler's pdftotext extracts it (reading order, or content-stream
    order with `raw`)."""
    keep(pdf)
    command = ["pdftotext", *(["-raw"] if raw else []), "-enc", "UTF-8", "-", "-"]
    done = subprocess.run(command, input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def text_of(pdf: bytes) -> str:
    """PDF text with line breaks folded, so phrases can be found across wrapped lines."""
    return " ".join(pdf_text(pdf).split())


def page_texts(pdf: bytes | Path) -> list[str]:
    """Each page's text (pdfplumber), with line breaks folded."""
    source = io.BytesIO(keep(pdf)) if isinstance(pdf, bytes) else pdf
    with pdfplumber.open(source) as document:
        return [" ".join((page.extract_text() or "").split()) for page in document.pages]


def open_pdf(pdf: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(keep(pdf)))


def decoded_payloads(document: pikepdf.Pdf) -> list[bytes]:
    """Every stream of the file, decompressed, and every string object, as bytes:
    what a search of the raw (compressed) file bytes cannot see."""
    found: list[bytes] = []
    seen: set[tuple[int, int]] = set()

    def visit(obj: Any) -> None:
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            if obj.objgen in seen:
                return
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Stream):
            found.append(obj.read_bytes())  # all filters decoded; raises if it cannot
        if isinstance(obj, pikepdf.String):
            found.append(bytes(obj))
            found.append(str(obj).encode("utf-8"))  # PDFDocEncoding or UTF-16 text strings
        elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            for _, value in obj.items():
                visit(value)
        elif isinstance(obj, pikepdf.Array):
            for item in obj:
                visit(item)

    visit(document.trailer)
    for obj in document.objects:  # also objects nothing refers to
        visit(obj)
    return found


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """Each page's width and height in points (its MediaBox)."""
    with pikepdf.open(pdf) as document:
        return [
            (float(page.mediabox[2] - page.mediabox[0]), float(page.mediabox[3] - page.mediabox[1]))
            for page in document.pages
        ]


# -- pages as pixels ---------------------------------------------------------------------


def rasterize(pdf: Path, folder: Path, dpi: int) -> list[np.ndarray]:
    """Each page as poppler's pdftoppm renders it in gray at `dpi` (0 black, 255 white),
    as int16 arrays (rows, columns) so that differences may go below zero."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(pdf), str(stem)], check=True)
    return [
        np.asarray(Image.open(p), dtype=np.int16) for p in sorted(folder.glob(f"{pdf.stem}-*.pgm"))
    ]


# -- the command line --------------------------------------------------------------------


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real console script, as a user runs it (`env`: extra environment variables)."""
    exe = Path(sys.executable).with_name("make-handouts")
    environment = {**os.environ, **env} if env else None
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=cwd, env=environment, check=False
    )


def instruction_pages(pages: list[str], notice: str) -> int:
    """Pages of instructions: those before the "Help in your language" notice, plus the
    page it starts on unless it starts at the top (the notice and the sources come last,
    after the instructions and a post handout's recovery log)."""
    start = next((i for i, text in enumerate(pages) if notice in text), None)
    if start is None:
        return len(pages)
    return start if pages[start].lstrip().startswith(notice) else start + 1


# -- killed batches ----------------------------------------------------------------------

JOURNAL = ".batch-journal.jsonl"
CLAIMING = ("rendered", "resumed")  # statuses that say "this file is on disk, as given"
DEADLINE = 120  # seconds for any one wait; a healthy run needs a small part of it


def record_pdfs(out: Path) -> set[str]:
    """Names of the record PDFs in a batch folder (not mailing.pdf)."""
    return {p.name for p in out.glob("*.pdf") if p.name != "mailing.pdf"}


def live_group_members(pgid: int) -> list[int]:
    """Processes of this process group that have not exited (zombies have), from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def wait_group_gone(pgid: int, why: str, deadline: float = DEADLINE) -> None:
    """Waits until every process of the group (a batch started with start_new_session,
    its pool workers, multiprocessing's resource tracker) has exited; fails, after
    killing them, if some still run `deadline` seconds later."""
    end = time.monotonic() + deadline
    while (left := live_group_members(pgid)) and time.monotonic() < end:
        time.sleep(0.02)
    if left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        raise AssertionError(f"{why}: processes {left} still ran {deadline:g} s later")


def batch_claims(out: Path, where: str) -> set[str]:
    """Records that manifest.json or the journal (what --resume trusts) claim as done,
    each checked: its file is on disk with that size and sha256; manifest.csv says what
    manifest.json says. A journal line cut short by SIGKILL claims nothing."""
    assert (out / "manifest.json").is_file(), f"{where}: no manifest.json"
    records = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["records"]
    ids = [r["record_id"] for r in records]
    assert len(ids) == len(set(ids)), f"{where}: manifest.json repeats a record: {ids}"
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    as_text = [{k: str(v) for k, v in r.items()} for r in records]
    assert csv_rows == as_text, f"{where}: manifest.csv and manifest.json disagree"
    claims = [(r, "manifest.json") for r in records]
    if (out / JOURNAL).is_file():
        for line in (out / JOURNAL).read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                claims.append((json.loads(line), JOURNAL))
    claimed = set()
    for entry, source in claims:
        if entry["status"] not in CLAIMING:
            continue
        path = out / entry["file"]
        what = f"{where}: {source} claims {entry['file']}"
        assert entry["file"] and path.is_file(), f"{what}, which is not on disk"
        assert path.stat().st_size == entry["bytes"], f"{what} with a size it does not have"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{what} with a sha256 it does not have"
        claimed.add(entry["record_id"])
    return claimed


def resume_counts(stderr: str) -> tuple[int, int, int]:
    """(records already done, records to render, unverified files removed) as --resume
    logs them."""
    done = re.search(r"resume: (\d+) record\(s\) already done, (\d+) to render", stderr)
    removed = re.search(r"resume: removed (\d+) file\(s\) of records not verified", stderr)
    assert done and removed, stderr
    return int(done[1]), int(done[2]), int(removed[1])


#: Notes longer than the notes box's lines ([options] notes_lines, 2 by default): the
#: box grows with them, so the record takes the full render (short notes are stamped).
LONG_NOTE = " ".join(["Please read every line of this note from your care team."] * 6)
