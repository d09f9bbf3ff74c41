"""The batch worker: a warm process (templates, CSS, fonts loaded once) rendering records."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pikepdf

from .build import Workspace
from .errors import HandoutError, OutputError, RecordError
from .fhir import document_reference
from .letter import LetterJob, render_letter
from .mailing import preflight_letter
from .manifest import Entry, rendered_entry
from .output import write_atomic
from .records import Record
from .render import Rendered


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs; sent once when the worker starts."""

    clinic_dir: Path
    out_dir: Path
    fhir: str | None = None  # None, "url" or "data"
    target: str = "portal"  # or "mail": cover letter + handout, preflighted
    letter_date: dt.date | None = None


@dataclass(frozen=True)
class Task:
    record: Record
    input_hash: str


def fhir_name(pdf_name: str) -> str:
    return pdf_name.removesuffix(".pdf") + ".fhir.json"


def render_record(workspace: Workspace, setup: WorkerSetup, task: Task) -> Entry:
    """Renders one record and writes its files atomically; returns its manifest entry."""
    record, request = task.record, task.record.request
    rendered = workspace.renderer.render(request)
    if setup.target == "mail":
        rendered = with_cover_letter(workspace, setup, task, rendered)
    handout = workspace.library.handout(request.language, request.procedure, request.phase)
    write_atomic(setup.out_dir / record.file_name, rendered.data)
    if setup.fhir:
        title = workspace.renderer.title(request)
        resource = document_reference(
            rendered.data,
            record.file_name,
            record.record_id,
            title,
            request.language,
            embed=setup.fhir == "data",
        )
        payload = json.dumps(resource, indent=2, ensure_ascii=False).encode("utf-8")
        write_atomic(setup.out_dir / fhir_name(record.file_name), payload)
    digest = hashlib.sha256(rendered.data).hexdigest()
    return rendered_entry(
        record, handout, rendered.pages, len(rendered.data), digest, task.input_hash, "full"
    )


def with_cover_letter(
    workspace: Workspace, setup: WorkerSetup, task: Task, handout: Rendered
) -> Rendered:
    """Cover letter + handout in one PDF, refused if the preflight finds a problem."""
    address = task.record.address
    assert address is not None and setup.letter_date is not None
    job = LetterJob(task.record.request, address, setup.letter_date, task.record.row)
    letter = render_letter(workspace.renderer, job)
    ident = workspace.clinic.config.clinic
    problems = preflight_letter(
        letter.data, workspace.clinic.config.mail, address.lines, [ident.name, *ident.address]
    )
    if problems:
        raise RecordError("preflight: " + "; ".join(problems))
    merged = pikepdf.new()
    for part in (letter.data, handout.data):
        merged.pages.extend(pikepdf.open(io.BytesIO(part)).pages)
    buffer = io.BytesIO()
    merged.save(buffer, deterministic_id=True)
    return Rendered(buffer.getvalue(), letter.pages + handout.pages)


def worker_main(conn: Connection, setup: WorkerSetup) -> None:
    """Loop: receive a Task, send ("ok", Entry) or ("failed"/"output", message)."""
    try:
        workspace = Workspace.open(setup.clinic_dir)
        workspace.renderer  # noqa: B018 - warm up: templates, CSS and fonts, once
    except HandoutError as exc:
        conn.send(("fatal", exc.format_message()))
        return
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the batch process is gone
        if task is None:
            return
        try:
            conn.send(("ok", render_record(workspace, setup, task)))
        except OutputError as exc:
            conn.send(("output", exc.format_message()))
        except HandoutError as exc:
            conn.send(("failed", exc.format_message()))
        except Exception as exc:  # noqa: BLE001 - one record must not stop the batch
            # The type only: an exception's text could quote patient data.
            conn.send(("failed", f"internal error while rendering ({type(exc).__name__})"))
