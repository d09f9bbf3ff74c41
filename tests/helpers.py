"""Plain helpers shared by the test modules; the fixtures stay in conftest.py.

Nothing here calls the package under test: text comes from poppler's pdftotext or
pdfplumber, objects from pikepdf, the CLI runs as the installed console script.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf

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


# -- PDF text and objects ----------------------------------------------------------------


def pdf_text(pdf: bytes, raw: bool = False) -> str:
    """Text of a PDF as poppler's pdftotext extracts it (reading order, or content-stream
    order with `raw`)."""
    command = ["pdftotext", *(["-raw"] if raw else []), "-enc", "UTF-8", "-", "-"]
    done = subprocess.run(command, input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def text_of(pdf: bytes) -> str:
    """PDF text with line breaks folded, so phrases can be found across wrapped lines."""
    return " ".join(pdf_text(pdf).split())


def page_texts(pdf: bytes | Path) -> list[str]:
    """Each page's text (pdfplumber), with line breaks folded."""
    source = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
    with pdfplumber.open(source) as document:
        return [" ".join((page.extract_text() or "").split()) for page in document.pages]


def open_pdf(pdf: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(pdf))


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
    after the instructions; a post handout's recovery log follows them on its own page)."""
    start = next((i for i, text in enumerate(pages) if notice in text), None)
    if start is None:
        return len(pages)
    counted = start if pages[start].lstrip().startswith(notice) else start + 1
    log = [i for i, text in enumerate(pages) if i > start and _is_log_page(text)]
    return counted + len(log)


def _is_log_page(text: str) -> bool:
    return any(
        heading in text
        for heading in ("14-day recovery log", "recuperación de 14", "14天", "hồi phục 14")
    )
