"""manifest.csv / manifest.json / errors.csv, and the journal that makes --resume work."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from handouts.batch.records import Record, RowError
from handouts.content.model import Handout
from handouts.engine.output import atomic_file

JOURNAL = ".batch-journal.jsonl"
MANIFEST_FIELDS = (
    "record_id",
    "file",
    "procedure",
    "phase",
    "language",
    "pages",
    "bytes",
    "sha256",
    "content_id",
    "content_version",
    "status",
    "message",
    "input_hash",
    "mailing_pages",
    "engine",
)
ERROR_FIELDS = ("row", "line", "record_id", "column", "message")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


Status = Literal["rendered", "resumed", "failed"]
EngineUsed = Literal["full", "fast"]  # WeasyPrint per record, or stamped on a shared layout


@dataclass(slots=True)
class Entry:
    """One record's line in the manifest."""

    record_id: str
    file: str
    procedure: str
    phase: str
    language: str
    pages: int
    bytes: int
    sha256: str
    content_id: str
    content_version: str
    status: Status
    message: str
    input_hash: str
    mailing_pages: str = ""  # "first-last" page numbers of this letter inside mailing.pdf
    engine: EngineUsed = "full"


def rendered_entry(
    record: Record,
    handout: Handout,
    pages: int,
    size: int,
    digest: str,
    input_hash: str,
    engine: EngineUsed,
) -> Entry:
    """The manifest line of a record whose file was written."""
    request = record.request
    return Entry(
        record_id=record.record_id,
        file=record.file_name,
        procedure=request.procedure,
        phase=request.phase,
        language=request.language,
        pages=pages,
        bytes=size,
        sha256=digest,
        content_id=handout.id,
        content_version=handout.version,
        status="rendered",
        message="",
        input_hash=input_hash,
        engine=engine,
    )


def failed_entry(record: Record, message: str, input_hash: str) -> Entry:
    """The manifest line of a record that has no file."""
    r = record.request
    return Entry(
        record_id=record.record_id,
        file="",
        procedure=r.procedure,
        phase=r.phase,
        language=r.language,
        pages=0,
        bytes=0,
        sha256="",
        content_id="",
        content_version="",
        status="failed",
        message=message,
        input_hash=input_hash,
    )


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _write_csv(
    handle: BinaryIO, fields: tuple[str, ...], rows: Iterable[dict[str, object]]
) -> None:
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(row.get(k)) for k in fields})
    text.flush()
    text.detach()  # the handle is atomic_file's to close


def _write_json(handle: BinaryIO, rows: Iterable[dict[str, object]]) -> None:
    """`{"records": [...]}` as `json.dumps(..., indent=2)` writes it, one row at a time."""
    handle.write(b'{\n  "records": [')
    separator = b"\n    "
    for row in rows:
        item = json.dumps(row, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        handle.write(separator + item.encode("utf-8"))
        separator = b",\n    "
    handle.write(b"]\n}\n" if separator == b"\n    " else b"\n  ]\n}\n")


def write_manifest(out_dir: Path, entries: list[Entry]) -> None:
    """manifest.csv and manifest.json, sorted by record id; each row is made as it is
    written, so a mailing of 100,000 letters never holds its manifest as text."""
    ordered = sorted(entries, key=lambda e: e.record_id)
    with atomic_file(out_dir / "manifest.csv") as handle:
        _write_csv(handle, MANIFEST_FIELDS, (asdict(e) for e in ordered))
    with atomic_file(out_dir / "manifest.json") as handle:
        _write_json(handle, (asdict(e) for e in ordered))


def write_errors(out_dir: Path, errors: list[RowError]) -> None:
    with atomic_file(out_dir / "errors.csv") as handle:
        _write_csv(handle, ERROR_FIELDS, (asdict(e) for e in errors))


def read_previous(out_dir: Path) -> dict[str, Entry]:
    """Entries of an earlier run: its manifest, then its journal (newer, after a crash)."""
    found: dict[str, Entry] = {}
    manifest = out_dir / "manifest.json"
    if manifest.is_file():
        with contextlib.suppress(ValueError, KeyError, TypeError, OSError):
            for row in json.loads(manifest.read_text(encoding="utf-8"))["records"]:
                entry = Entry(**row)
                found[entry.record_id] = entry
    journal = out_dir / JOURNAL
    if journal.is_file():
        for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError, TypeError):
                entry = Entry(**json.loads(line))
                found[entry.record_id] = entry
    return found


class Journal:
    """Append-only log of finished records, fsynced line by line; survives kill -9."""

    def __init__(self, out_dir: Path) -> None:
        """A new journal; what an earlier one held was read by read_previous first."""
        self.path = out_dir / JOURNAL
        self._handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def add(self, entry: Entry) -> None:
        self._handle.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self, remove: bool) -> None:
        self._handle.close()
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
