"""The batch worker: a warm process (templates, CSS, fonts loaded once) rendering records.

`init_worker` runs once per pool process (and again after each recycle); `render_task`
runs per record and returns the record's manifest entry or a Failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from handouts.batch.fhir import document_reference
from handouts.batch.manifest import EngineUsed, Entry, rendered_entry
from handouts.batch.pool import Failure, SetupFailed
from handouts.batch.records import Record
from handouts.engine.output import fhir_file_name, write_atomic
from handouts.errors import HandoutError, OutputError, RecordError
from handouts.mail.letter import LetterJob, render_letter
from handouts.mail.preflight import preflight_letter
from handouts.options import Engine, FhirMode, LayoutCacheOptions, Target
from handouts.pdf.merge import merged_pdf
from handouts.stamp.handout import (
    HandoutStamper,
    LayoutTask,
    open_layout_cache,
    render_layout,
)
from handouts.stamp.model import Layout
from handouts.workspace import Made, Workspace


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs; sent once when the worker starts."""

    clinic_dir: Path
    out_dir: Path
    fhir: FhirMode | None = None
    target: Target = Target.PORTAL
    letter_date: dt.date | None = None
    #: portal: stamp with this layout cache (with --no-cache, the run's own folder)
    stamping: LayoutCacheOptions | None = None
    #: Load the renderer at start (full renders); a stamping mail batch's workers load
    #: it on first use, as most of them only write stamped letters.
    warm: bool = True


@dataclass(frozen=True, slots=True)
class Task:
    record: Record
    input_hash: str


@dataclass
class _State:
    setup: WorkerSetup | None = None
    workspace: Workspace | None = None
    stamper: HandoutStamper | None = None
    error: str | None = None


#: This worker process's own state, set by init_worker (pool processes only).
_state = _State()


def init_worker(setup: WorkerSetup) -> None:
    _state.setup = setup
    try:
        _state.workspace = Workspace.open(setup.clinic_dir)
        if setup.stamping is not None:
            cache = open_layout_cache(
                _state.workspace, setup.stamping.folder, setup.stamping.enabled
            )
            _state.stamper = HandoutStamper(_state.workspace, cache)
        elif setup.warm:
            _state.workspace.renderer  # noqa: B018 - warm up: templates, CSS and fonts, once
    except HandoutError as exc:
        _state.error = exc.format_message()


def render_task(task: Task) -> Entry | Failure:
    """One record, its files written; a failure the user can read otherwise."""
    if _state.error is not None or _state.workspace is None or _state.setup is None:
        raise SetupFailed(_state.error or "the worker was not set up")
    try:
        return render_record(_state.workspace, _state.setup, task, _state.stamper)
    except OutputError as exc:
        return Failure(exc.format_message(), stop=True)
    except HandoutError as exc:
        return Failure(exc.format_message())
    except Exception as exc:  # noqa: BLE001 - one record must not stop the batch
        # The type only: an exception's text could quote patient data.
        return Failure(f"internal error while rendering ({type(exc).__name__})")


#: Portal records stamped in one pool task (batch/run.py groups them by layout class).
STAMP_CHUNK = 10


def render_chunk(tasks: tuple[Task, ...]) -> list[Entry | Failure]:
    """Records of one layout class in one pool task: each one's entry, or its failure
    (one record's failure never stops the others)."""
    done: list[Entry | Failure] = []
    for task in tasks:
        done.append(render_task(task))
        if isinstance(done[-1], Failure) and done[-1].stop:
            break  # the batch stops: the rest would be written for nothing
    return done


def render_record(
    workspace: Workspace, setup: WorkerSetup, task: Task, stamper: HandoutStamper | None = None
) -> Entry:
    """Renders one record and writes its files atomically; returns its manifest entry.
    A mail record (one the mail fast path left to the full render) gets its cover
    letter here."""
    record, request = task.record, task.record.request
    made = workspace.make_pdf(request, stamper)
    if setup.target is Target.MAIL:
        made = with_cover_letter(workspace, setup, task, made)
    handout = workspace.library.handout(request.language, request.procedure, request.phase)
    write_atomic(setup.out_dir / record.file_name, made.data)
    if setup.fhir:
        write_fhir(workspace, setup, record, made.data)
    digest = hashlib.sha256(made.data).hexdigest()
    engine: EngineUsed = "fast" if made.engine is Engine.FAST else "full"
    return rendered_entry(
        record, handout, made.pages, len(made.data), digest, task.input_hash, engine
    )


def write_fhir(workspace: Workspace, setup: WorkerSetup, record: Record, pdf: bytes) -> None:
    resource = document_reference(
        pdf,
        record.file_name,
        record.record_id,
        workspace.renderer.title(record.request),
        record.request.language,
        embed=setup.fhir is FhirMode.DATA,
    )
    payload = json.dumps(resource, indent=2, ensure_ascii=False).encode("utf-8")
    write_atomic(setup.out_dir / fhir_file_name(record.file_name), payload)


def with_cover_letter(workspace: Workspace, setup: WorkerSetup, task: Task, handout: Made) -> Made:
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
    merged = merged_pdf([letter.data, handout.data])  # one structure tree
    return Made(merged, letter.pages + handout.pages, handout.warnings, handout.engine)


def portal_task(task: LayoutTask | tuple[Task, ...]) -> Layout | list[Entry | Failure] | Failure:
    """A portal batch's pool task: a layout to render, or a chunk of records to stamp."""
    if isinstance(task, LayoutTask):
        return layout_task(task)
    return render_chunk(task)


def layout_task(task: LayoutTask) -> Layout | Failure:
    """One layout class rendered for the fast path, on the batch's workers side by side
    (a portal batch's records are stamped as soon as their class's layout is ready); a
    failure leaves it to the planner, which reports it."""
    if _state.error is not None or _state.workspace is None:
        raise SetupFailed(_state.error or "the worker was not set up")
    try:
        return render_layout(_state.workspace, task)
    except HandoutError as exc:
        return Failure(exc.format_message())
