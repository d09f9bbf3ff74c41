"""Where outputs go: file names (never patient data) and atomic writes.

A reader never sees a half-written PDF under its final name: every file is written to
a temp file in the same folder, fsynced, then renamed over the final name. A batch
worker checks, before it creates a file and again before the rename, that its batch is
still running (batch/lifeline.py), so nothing appears after a kill.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from handouts.errors import OutputError
from handouts.model.request import HandoutRequest

TEMP_PREFIX = ".handout-tmp-"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
#: This process's check before each file is created and again before it takes its final
#: name; empty except in a batch worker, whose check stops it once its batch is gone.
_write_checks: list[Callable[[], None]] = []


def check_writes(check: Callable[[], None]) -> None:
    """Runs `check` before every later write of this process (batch/lifeline.py); it
    stops a write by raising, and the temp file is removed."""
    _write_checks[:] = [check]


def _run_write_checks() -> None:
    for check in _write_checks:
        check()


def handout_file_name(request: HandoutRequest, suffix: str = ".pdf", tag: str = "") -> str:
    """procedure-phase-language[-large][tag]: the handout, never the patient."""
    size = "-large" if request.large_print else ""
    return f"{request.procedure}-{request.phase}-{request.language}{size}{tag}{suffix}"


def safe_id(record_id: str) -> str:
    """record_id made safe as a file name: letters, digits, dot, dash, underscore."""
    return _UNSAFE_NAME.sub("_", record_id).strip("._") or "_"


def record_file_name(record_id: str, request: HandoutRequest) -> str:
    """A batch record's PDF: <record_id>-<procedure>-<phase>-<lang>.pdf."""
    r = request
    return f"{safe_id(record_id)}-{r.procedure}-{r.phase}-{r.language}.pdf"


def fhir_file_name(pdf_name: str) -> str:
    """The FHIR DocumentReference written beside a PDF."""
    return pdf_name.removesuffix(".pdf") + ".fhir.json"


def _create_temp(folder: Path) -> tuple[int, Path]:
    """A new temp file; os.open applies the process umask like any other new file."""
    while True:
        path = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}.part"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:
            continue


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, then os.replace over the final name."""
    with atomic_file(path) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file written in pieces that appears under `path` only once it is whole (temp
    file in the same folder, fsync, os.replace); removed if the writing fails."""
    _run_write_checks()
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(folder)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write here ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _run_write_checks()  # the last moment a write can still be taken back
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"{path}: could not write ({exc.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
