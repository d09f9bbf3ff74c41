"""`make-handouts batch`: one PDF per patient record, with manifest, errors and resume."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__
from .build import Workspace
from .errors import OutputError
from .fastpath import FastMail, Stamped
from .mailing import MailPiece, assemble_mailing, write_previews
from .manifest import Entry, Journal, read_previous, write_errors, write_manifest
from .output import TEMP_PREFIX, write_atomic
from .pool import WorkerPool
from .progress import Progress
from .records import KNOWN_COLUMNS, Record, RowError, read_input, validate_rows
from .worker import Task, WorkerSetup, fhir_name, worker_main

log = logging.getLogger("handouts")


@dataclass(frozen=True)
class BatchOptions:
    input: Path
    out_dir: Path
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    resume: bool = False
    encoding: str | None = None
    fhir: str | None = None  # None, "url" or "data"
    timeout: float = 120.0
    recycle_after: int = 200
    progress: str = "auto"  # auto, bar, log or none
    target: str = "portal"  # or "mail"
    duplex: bool = True
    preview: int = 0  # mail: PNG previews of the first N letters
    letter_date: dt.date = field(default_factory=dt.date.today)
    engine: str = "auto"  # full, fast (mail only) or auto (fast for mail, full for portal)


@dataclass
class BatchResult:
    rendered: int = 0
    resumed: int = 0
    failed: int = 0
    invalid_rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def input_hash(workspace: Workspace, record: Record, fhir: str | None) -> str:
    """Changes when anything that shapes this record's files changes."""
    request = record.request
    handout = workspace.library.handout(request.language, request.procedure, request.phase)
    basis = {
        "record_id": record.record_id,
        "request": [request.procedure, request.phase, request.language, request.large_print],
        "patient": request.patient.model_dump(mode="json"),
        "content": [handout.id, handout.version],
        "clinic": workspace.clinic.config.model_dump(mode="json"),
        "tool": __version__,
        "fhir": fhir,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def prepare_output(out_dir: Path) -> None:
    """Creates the folder, proves it is writable, and clears temp files of a crashed run."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(out_dir / ".write-test", b"")
        (out_dir / ".write-test").unlink()
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write here ({exc.strerror})") from None
    for leftover in out_dir.glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _already_done(out_dir: Path, previous: Entry | None, task: Task, fhir: str | None) -> bool:
    if previous is None or previous.status not in ("rendered", "resumed"):
        return False
    if previous.input_hash != task.input_hash or previous.file != task.record.file_name:
        return False
    if fhir and not (out_dir / fhir_name(previous.file)).is_file():
        return False
    return _sha256(out_dir / previous.file) == previous.sha256


def _failed_entry(task: Task, message: str) -> Entry:
    r = task.record.request
    return Entry(
        task.record.record_id,
        "",
        r.procedure,
        r.phase,
        r.language,
        0,
        0,
        "",
        "",
        "",
        "failed",
        message,
        task.input_hash,
    )


def run_batch(workspace: Workspace, options: BatchOptions) -> BatchResult:
    """Validates every row, then renders the good ones; bad rows go to errors.csv."""
    header, rows = read_input(options.input, options.encoding)
    unknown = sorted(set(header) - KNOWN_COLUMNS)
    if unknown:
        log.warning("ignoring unknown column(s): %s", ", ".join(unknown))
    mail = options.target == "mail"
    records, errors = validate_rows(rows, workspace.library.languages(), mail=mail)
    prepare_output(options.out_dir)
    result = BatchResult(invalid_rows=len({e.row for e in errors}), errors=errors)
    log.info("%d record(s) read, %d row(s) with errors", len(rows), result.invalid_rows)

    previous = read_previous(options.out_dir) if options.resume else {}
    entries: dict[str, Entry] = {}
    tasks = []
    for record in records:
        task = Task(record, input_hash(workspace, record, options.fhir))
        prior = previous.get(record.record_id)
        if _already_done(options.out_dir, prior, task, options.fhir):
            assert prior is not None
            entries[record.record_id] = Entry(**{**prior.__dict__, "status": "resumed"})
            result.resumed += 1
        else:
            tasks.append(task)
    if options.resume:
        log.info("resume: %d record(s) already done, %d to render", result.resumed, len(tasks))

    journal = Journal(options.out_dir) if tasks else None
    finished = False
    stamped, stamped_files = None, None
    try:
        if mail and options.engine in ("fast", "auto") and tasks:
            stamped, tasks, stamped_files = _stamp(workspace, options, tasks, entries, result)
        _render(workspace, options, tasks, entries, result, journal)
        pieces = _assemble(workspace, options, records, entries, stamped) if mail else []
        if stamped_files:
            stamped_files(journal)
        if pieces and options.preview:
            ordered = sorted(pieces, key=lambda p: (p.zip_code, p.record_id))
            write_previews(
                [p.path for p in ordered if p.path is not None],
                workspace.clinic.config.mail,
                options.out_dir,
                options.preview,
            )
        finished = True
    finally:
        write_errors(options.out_dir, sorted(result.errors, key=lambda e: (e.row, e.column)))
        write_manifest(options.out_dir, list(entries.values()))
        if journal:
            journal.close(remove=finished)
    return result


def _render(
    workspace: Workspace,
    options: BatchOptions,
    tasks: list[Task],
    entries: dict[str, Entry],
    result: BatchResult,
    journal: Journal | None,
) -> None:
    if not tasks:
        return
    setup = WorkerSetup(
        workspace.clinic.root,
        options.out_dir.resolve(),
        options.fhir,
        options.target,
        options.letter_date,
    )
    pool = WorkerPool(worker_main, setup, options.jobs, options.timeout, options.recycle_after)
    progress = Progress(len(tasks), options.progress) if options.progress != "none" else None
    for task, kind, payload in pool.run(tasks):
        record = task.record
        if kind == "output":
            raise OutputError(f"stopped: {payload}")
        if kind == "ok":
            entry = payload
            result.rendered += 1
        else:
            entry = _failed_entry(task, payload)
            result.failed += 1
            result.errors.append(RowError(record.row, record.line, "", payload, record.record_id))
            log.debug("row %d (record %s) failed", record.row, record.record_id)
        entries[record.record_id] = entry
        assert journal is not None
        journal.add(entry)
        if progress:
            progress.advance(failed=kind != "ok")


def _stamp(
    workspace: Workspace,
    options: BatchOptions,
    tasks: list[Task],
    entries: dict[str, Entry],
    result: BatchResult,
) -> tuple[Stamped, list[Task], Callable[[Journal | None], None]]:
    """The fast path: stamped letters for every record it can take (their files are
    written in the background; call the returned function to wait and journal them);
    the records it cannot take stay tasks for the full render."""
    fast = FastMail(workspace, options.letter_date, options.out_dir)
    stamped, full = fast.stamp([t.record for t in tasks])
    hashes = {t.record.record_id: t.input_hash for t in tasks}
    helpers = min(options.jobs, 1 + len(stamped.letters) // 200)
    pending = fast.start_writes(stamped, helpers)
    for letter in stamped.letters:  # sizes and hashes are filled in when written
        entries[letter.record.record_id] = fast.entry(
            letter, 0, "", hashes[letter.record.record_id]
        )
    log.info("fast path: %d stamped, %d need a full render", len(stamped.letters), len(full))

    def finish(journal: Journal | None) -> None:
        written = pending()
        progress = Progress(len(written), options.progress) if options.progress != "none" else None
        for letter in stamped.letters:
            record_id = letter.record.record_id
            size, digest = written[letter.record.file_name]
            entries[record_id] = replace(entries[record_id], bytes=size, sha256=digest)
            result.rendered += 1
            if journal is not None:
                journal.add(entries[record_id])
            if progress:
                progress.advance()

    remaining = {r.record_id for r in full}
    return stamped, [t for t in tasks if t.record.record_id in remaining], finish


def _assemble(
    workspace: Workspace,
    options: BatchOptions,
    records: list[Record],
    entries: dict[str, Entry],
    stamped: Stamped | None,
) -> list[MailPiece]:
    """mailing.pdf: cover sheet, then every good letter in ZIP order; page ranges recorded."""
    by_id = {s.record.record_id: s for s in stamped.letters} if stamped else {}
    pieces = [
        MailPiece(
            r.record_id,
            r.address.postal_code,
            options.out_dir / entries[r.record_id].file,
            by_id.get(r.record_id),
        )
        for r in records
        if r.address and r.record_id in entries and entries[r.record_id].status != "failed"
    ]
    if not pieces:
        return []
    zips = sorted(p.zip_code for p in pieces)
    pages = sum(entries[p.record_id].pages for p in pieces)
    padded = sum(entries[p.record_id].pages % 2 for p in pieces) if options.duplex else 0
    cover_pages = 2 if options.duplex else 1  # the cover sheet gets a blank back
    total = pages + padded + cover_pages
    cover = render_cover(workspace, options, len(pieces), total, zips)
    placements = assemble_mailing(
        pieces,
        cover,
        options.duplex,
        options.out_dir / "mailing.pdf",
        stamped.templates if stamped else None,
        stamped.overlay if stamped else b"",
    )
    for record_id, placement in placements.items():
        entry = entries[record_id]
        entries[record_id] = replace(
            entry, mailing_pages=f"{placement.first_page}-{placement.last_page}"
        )
    return pieces


def render_cover(
    workspace: Workspace, options: BatchOptions, letters: int, pages: int, zips: list[str]
) -> bytes:
    renderer = workspace.renderer
    context = {
        "clinic": workspace.clinic.config.clinic,
        "duplex": options.duplex,
        "prepared": options.letter_date.isoformat(),
        "letters": letters,
        "pages": pages,
        "sheets": (pages + 1) // 2 if options.duplex else pages,
        "first_zip": zips[0],
        "last_zip": zips[-1],
    }
    html = renderer.env.get_template("mail_cover.html").render(context)
    styles = [
        renderer.stylesheet("base.css"),
        renderer.brand_css,
        renderer.stylesheet(string="@page { size: letter; margin: 0.75in; }"),
    ]
    return renderer.render_html(html, styles, "mail-cover").data
