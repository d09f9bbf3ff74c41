"""`make-handouts batch`: one PDF per patient record, with manifest, errors and resume.

The manifest on disk never claims a file that is not there with that size and sha256:
before anything renders it is rewritten with only the records verified as done, every
finished record is journalled (fsynced) after its file is written, and the final
manifest is written last. `--resume` after a kill reads the manifest and the journal,
and removes every file of a record it cannot verify as done before rendering: a worker
may have renamed a file into place just before the batch died, unjournalled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from handouts import __version__
from handouts.batch.manifest import (
    Entry,
    Journal,
    failed_entry,
    read_previous,
    rendered_entry,
    write_errors,
    write_manifest,
)
from handouts.batch.pool import Failure, WorkerPool
from handouts.batch.progress import Progress
from handouts.batch.records import (
    KNOWN_COLUMNS,
    RawRow,
    Record,
    RowError,
    read_input,
    validate_rows,
)
from handouts.batch.worker import (
    STAMP_CHUNK,
    Task,
    WorkerSetup,
    init_worker,
    layout_task,
    portal_task,
    render_task,
)
from handouts.engine.output import TEMP_PREFIX, fhir_file_name, write_atomic
from handouts.errors import HandoutError, OutputError
from handouts.mail.assemble import HOW_TO_PRINT, MailPiece, assemble_mailing, printed_pages
from handouts.mail.fastpath import FastMail, MailItem, Stamped, StampedLetter
from handouts.mail.files import Written, write_letters
from handouts.mail.preview import write_previews
from handouts.options import BatchOptions, LayoutCacheOptions, ProgressMode, Target
from handouts.stamp.handout import HandoutStamper, LayoutTask, open_layout_cache, stamper_for
from handouts.stamp.layouts import HandoutClass
from handouts.stamp.model import Layout
from handouts.workspace import Workspace

log = logging.getLogger("handouts")


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


def input_hash(workspace: Workspace, record: Record, options: BatchOptions) -> str:
    """Changes when anything that shapes this record's files changes: the record (with
    its address), the content, the clinic, the tool, and what kind of file is made."""
    request = record.request
    handout = workspace.library.handout(request.language, request.procedure, request.phase)
    mail = options.target is Target.MAIL
    basis = {
        "record_id": record.record_id,
        "request": [request.procedure, request.phase, request.language, request.large_print],
        "patient": request.patient.model_dump(mode="json"),
        "address": asdict(record.address) if record.address else None,
        "content": [handout.id, handout.version, handout.review_status],
        "clinic": workspace.clinic.config.model_dump(mode="json", exclude={"printing"}),
        "tool": __version__,
        "fhir": options.fhir.value if options.fhir else None,
        "target": options.target.value,
        "letter_date": options.letter_date.isoformat() if mail else None,
        "engine": "fast" if options.stamping else "full",
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
    if removed := remove_leftovers(out_dir):
        log.info("removed %d temp file(s) of an interrupted run", removed)


def remove_leftovers(out_dir: Path) -> int:
    """Temp files of an interrupted write (a killed worker cannot clean up its own);
    returns how many temp files and folders were removed."""
    removed = 0
    for leftover in out_dir.glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir():
                for inner in leftover.iterdir():
                    inner.unlink()
                leftover.rmdir()
            else:
                leftover.unlink()
            removed += 1
    return removed


def remove_unverified(out_dir: Path, records: list[Record]) -> int:
    """The files (PDF, FHIR) of records not verified as done: never trusted, and not left
    behind if the record fails this time. Returns how many files were removed."""
    removed = 0
    for record in records:
        for name in (record.file_name, fhir_file_name(record.file_name)):
            try:
                (out_dir / name).unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise OutputError(f"{out_dir / name}: cannot remove ({exc.strerror})") from None
            removed += 1
    return removed


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _already_done(out_dir: Path, previous: Entry | None, task: Task, fhir: bool) -> bool:
    if previous is None or previous.status not in ("rendered", "resumed"):
        return False
    if previous.input_hash != task.input_hash or previous.file != task.record.file_name:
        return False
    if fhir and not (out_dir / fhir_file_name(previous.file)).is_file():
        return False
    return _sha256(out_dir / previous.file) == previous.sha256


def run_batch(workspace: Workspace, options: BatchOptions) -> BatchResult:
    """Validates every row, then renders the good ones; bad rows go to errors.csv."""
    records, errors, count = _read_records(workspace, options)
    prepare_output(options.out_dir)
    result = BatchResult(invalid_rows=len({e.row for e in errors}), errors=errors)
    log.info("%d record(s) read, %d row(s) with errors", count, result.invalid_rows)
    _Run(workspace, options, result).run(records)
    return result


def _read_records(
    workspace: Workspace, options: BatchOptions
) -> tuple[list[Record], list[RowError], int]:
    """The valid records, the rows' errors and the number of rows read. Each row is read,
    validated and dropped in turn: a run holds its records, not its raw rows."""
    header, rows = read_input(options.input, options.encoding)
    unknown = sorted(set(header) - KNOWN_COLUMNS)
    if unknown:
        log.warning("ignoring unknown column(s): %s", ", ".join(unknown))
    seen = [0]

    def counted(raws: Iterator[RawRow]) -> Iterator[RawRow]:
        for raw in raws:
            seen[0] = raw.row
            yield raw

    records, errors = validate_rows(
        counted(rows),
        workspace.languages(),
        mail=options.target is Target.MAIL,
        large_print=workspace.clinic.config.options.large_print,
        default_plan=workspace.clinic.config.medicines.default_plan,
    )
    return records, errors, seen[0]


class _Run:
    """One batch run: its entries, the journal, and the result counts."""

    def __init__(self, workspace: Workspace, options: BatchOptions, result: BatchResult) -> None:
        self.workspace = workspace
        self.options = options
        self.result = result
        self.entries: dict[str, Entry] = {}
        self.journal: Journal | None = None
        self.layouts = options.cache  # where this run's layouts are kept (_pool)
        self._total = 0  # records to render
        self._bar: Progress | None = None

    def run(self, records: list[Record]) -> None:
        tasks = self._skip_done(records)
        # Before any file is replaced, the manifest claims only what is verified on disk.
        write_manifest(self.options.out_dir, list(self.entries.values()))
        finished = False
        try:
            # Even with nothing to render: this replaces (and, once finished, removes) the
            # journal of an interrupted run, whose claims the manifest above now holds.
            self.journal = Journal(self.options.out_dir)
            if self.options.resume:  # only now: no manifest or journal still claims them
                self._remove_unverified(records)
            with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX, dir=self.options.out_dir) as tmp:
                self.layouts = self._layouts(Path(tmp))
                stamped: Stamped | None = None
                with self._pool(len(tasks)) as pool:
                    if self.options.stamping and tasks and self.options.target is Target.MAIL:
                        stamped, tasks = self._stamp(pool, tasks, Path(tmp))
                    self._render(pool, tasks)
                # the workers are stopped: mailing.pdf is made without them
                if self.options.target is Target.MAIL:
                    self._mailing(records, stamped)
            finished = True
        finally:
            errors = sorted(self.result.errors, key=lambda e: (e.row, e.column))
            write_errors(self.options.out_dir, errors)
            write_manifest(self.options.out_dir, list(self.entries.values()))
            if self.journal:
                self.journal.close(remove=finished)
            remove_leftovers(self.options.out_dir)

    def _skip_done(self, records: list[Record]) -> list[Task]:
        options = self.options
        previous = read_previous(options.out_dir) if options.resume else {}
        tasks = []
        for record in records:
            try:
                task = Task(record, input_hash(self.workspace, record, options))
            except HandoutError as exc:  # e.g. a language without this handout
                self._fail(record, exc.format_message(), "")
                continue
            prior = previous.get(record.record_id)
            if prior is not None and _already_done(
                options.out_dir, prior, task, bool(options.fhir)
            ):
                self.entries[record.record_id] = replace(prior, status="resumed")
                self.result.resumed += 1
            else:
                tasks.append(task)
        if options.resume:
            log.info(
                "resume: %d record(s) already done, %d to render", self.result.resumed, len(tasks)
            )
        return tasks

    def _remove_unverified(self, records: list[Record]) -> None:
        """A file that no verified claim vouches for may be one a worker renamed into
        place but the batch had not journalled when it died: removed, rendered again."""
        done = {e.record_id for e in self.entries.values() if e.status == "resumed"}
        unverified = [r for r in records if r.record_id not in done]
        removed = remove_unverified(self.options.out_dir, unverified)
        log.info("resume: removed %d file(s) of records not verified as done", removed)

    def _record(self, entry: Entry) -> None:
        """A finished record: its file (if any) is on disk, so it may be claimed. Records
        that fail before the journal opens need no journal: they have no file."""
        self.entries[entry.record_id] = entry
        if self.journal is not None:
            self.journal.add(entry)

    def _progress(self, total: int) -> Progress | None:
        if self.options.progress is ProgressMode.NONE:
            return None
        return Progress(total, self.options.progress.value)

    def _layouts(self, tmp: Path) -> LayoutCacheOptions:
        """Where this run keeps its layouts: the cache; with the cache off (--no-cache)
        the run's temporary folder, removed when it ends, where the workers find the
        layouts it renders (the cache folder is neither read nor written)."""
        if self.options.cache.enabled:
            return self.options.cache
        return LayoutCacheOptions(folder=tmp / "layouts", enabled=True)

    def _pool(self, tasks: int) -> WorkerPool:
        """The batch's one pool: its workers render the missing layouts, then stamp,
        then render in full what cannot be stamped."""
        options = self.options
        stamping = options.stamping and options.target is Target.PORTAL
        setup = WorkerSetup(
            self.workspace.clinic.root,
            options.out_dir.resolve(),
            options.fhir,
            options.target,
            options.letter_date,
            self.layouts if stamping else None,
            warm=not options.stamping,
        )
        jobs = min(options.jobs, max(1, tasks))
        return WorkerPool(jobs, options.timeout, options.recycle_after, init_worker, (setup,))

    def _render(self, pool: WorkerPool, tasks: list[Task]) -> None:
        """Each record in warm worker processes (stamped, for the portal, when it can be)."""
        self._total = len(tasks)
        if self.options.stamping and self.options.target is Target.PORTAL and tasks:
            tasks = self._stamp_portal(pool, tasks)
        self._start_progress()
        for done in pool.run(render_task, tasks):
            outcome = done.result if done.result is not None else done.failure
            assert outcome is not None
            self._finished(done.task, outcome)

    def _stamp_portal(self, pool: WorkerPool, tasks: list[Task]) -> list[Task]:
        """The layouts the cache lacks, then the records in chunks of one layout class,
        each chunk as soon as its layout is ready, on the same workers (they stamp while
        the last layouts render). Returns the records left for one task each: those
        without a layout class (the full render), and those of a chunk whose worker
        crashed or timed out, tried again on their own."""
        stamper = stamper_for(self.workspace, self.layouts)
        layouts = stamper.missing([t.record.request for t in tasks])
        plan = _PortalPlan(stamper, tasks, layouts)
        rendered = 0
        if not layouts:
            self._start_progress()
        for done in pool.run(portal_task, plan, _records_in):
            if isinstance(done.task, LayoutTask):
                if isinstance(done.result, Layout):
                    stamper.accept(done.task, done.result)
                plan.ready(done.task.key)  # rendered, or its records find out alone
                rendered += 1
                if rendered == len(layouts):
                    log.info("fast path: %d layout(s) rendered", rendered)
                self._start_progress()  # records are stamped from now on
            elif isinstance(done.result, list):
                # shorter only after a failure that stops the batch (it raises)
                for task, result in zip(done.task, done.result, strict=False):
                    self._finished(task, result)
            else:
                plan.alone += done.task
        return plan.alone

    def _finished(self, task: Task, result: Entry | Failure) -> None:
        if isinstance(result, Failure):
            if result.stop:
                raise OutputError(f"stopped: {result.message}")
            self._fail(task.record, result.message, task.input_hash)
        else:
            self._record(result)
            self.result.rendered += 1
        if self._bar:
            self._bar.advance(failed=isinstance(result, Failure))

    def _start_progress(self) -> None:
        """The progress of the records, once they are rendered (not while the first
        layouts are: its rate and ETA are the records')."""
        if self._bar is None:
            self._bar = self._progress(self._total)

    def _fail(self, record: Record, message: str, input_hash: str) -> None:
        self._record(failed_entry(record, message, input_hash))
        self.result.failed += 1
        self.result.errors.append(RowError(record.row, record.line, "", message, record.record_id))
        log.debug("row %d (record %s) failed", record.row, record.record_id)

    def _stamp(
        self, pool: WorkerPool, tasks: list[Task], shared: Path
    ) -> tuple[Stamped, list[Task]]:
        """The fast path: stamps every letter it can and writes their files, in chunks
        planned while the workers write; returns the tasks left for the full render."""
        by_id = {t.record.record_id: t for t in tasks}
        items = sorted(
            (
                MailItem(r.record_id, r.file_name, r.request, r.address, r.row)
                for r in (t.record for t in tasks)
                if r.address is not None
            ),
            key=lambda item: (item.address.postal_code, item.key),  # mailing order
        )
        stamped = Stamped()
        layouts = open_layout_cache(self.workspace, self.layouts.folder, self.layouts.enabled)
        fast = FastMail(self.workspace, self.options.letter_date, layouts)
        self._render_layouts(pool, fast.accept, fast.missing(items))
        jobs = fast.write_jobs(items, stamped, self.options.out_dir.resolve(), shared)
        progress = self._progress(len(items))
        for done in pool.run(write_letters, jobs):
            if done.failure is not None:
                raise OutputError(f"stopped: writing stamped letters: {done.failure.message}")
            assert done.result is not None
            for written in done.result:
                self._stamped_entry(stamped.letters[written.name], written, by_id)
                if progress:
                    progress.advance()
        log.info(
            "fast path: %d stamped, %d need a full render", len(stamped.letters), len(stamped.full)
        )
        return stamped, [by_id[item.key] for item in stamped.full]

    def _render_layouts(
        self,
        pool: WorkerPool,
        accept: Callable[[LayoutTask, Layout], None],
        tasks: list[LayoutTask],
    ) -> None:
        """Renders the layouts the cache lacks on the batch's workers, side by side, before
        they stamp: each once, stored where every worker reads it."""
        if not tasks:
            return
        for done in pool.run(layout_task, tasks):
            if done.result is not None:
                accept(done.task, done.result)
        log.info("fast path: %d layout(s) rendered", len(tasks))

    def _stamped_entry(
        self, letter: StampedLetter, written: Written, by_id: dict[str, Task]
    ) -> None:
        task = by_id[letter.item.key]
        request = letter.item.request
        handout = self.workspace.library.handout(request.language, request.procedure, request.phase)
        entry = rendered_entry(
            task.record,
            handout,
            letter.pages,
            written.bytes,
            written.sha256,
            task.input_hash,
            "fast",
        )
        self._record(entry)
        self.result.rendered += 1

    def _mailing(self, records: list[Record], stamped: Stamped | None) -> None:
        pieces = _assemble(self.workspace, self.options, records, self.entries, stamped)
        if pieces and self.options.preview:
            ordered = sorted(pieces, key=lambda p: (p.zip_code, p.record_id))
            write_previews(
                [self.options.out_dir / p.file for p in ordered[: self.options.preview]],
                self.workspace.clinic.config.mail,
                self.options.out_dir,
                self.options.preview,
            )


def _records_in(task: LayoutTask | tuple[Task, ...]) -> int:
    """A portal task's records: each may take `--timeout` (a layout counts as one)."""
    return 1 if isinstance(task, LayoutTask) else len(task)


class _PortalPlan:
    """A portal batch's pool tasks, in order: the layouts to render, then chunks of
    records of one layout class, a class's chunks as soon as its layout is ready (in
    the cache already, or `ready`). An iterator that runs dry while layouts are still
    rendering and goes on once one is ready: the pool asks it again after each result."""

    def __init__(
        self, stamper: HandoutStamper, tasks: list[Task], layouts: list[LayoutTask]
    ) -> None:
        self._layouts = deque(layouts)
        self._chunks: deque[tuple[Task, ...]] = deque()
        self._waiting: dict[HandoutClass, list[Task]] = {}
        self.alone: list[Task] = []
        pending = {layout.key for layout in layouts}
        for task in tasks:
            key = stamper.layout_class(task.record.request)
            if key is None:
                self.alone.append(task)
            else:
                self._waiting.setdefault(key, []).append(task)
        for key in [k for k in self._waiting if k not in pending]:
            self.ready(key)

    def ready(self, key: HandoutClass) -> None:
        group = self._waiting.pop(key, [])
        self._chunks += [
            tuple(group[i : i + STAMP_CHUNK]) for i in range(0, len(group), STAMP_CHUNK)
        ]

    def __iter__(self) -> _PortalPlan:
        return self

    def __next__(self) -> LayoutTask | tuple[Task, ...]:
        if self._layouts:
            return self._layouts.popleft()
        if self._chunks:
            return self._chunks.popleft()
        raise StopIteration


def _assemble(
    workspace: Workspace,
    options: BatchOptions,
    records: list[Record],
    entries: dict[str, Entry],
    stamped: Stamped | None,
) -> list[MailPiece]:
    """mailing.pdf: cover sheet, then every good letter in ZIP order; page ranges recorded."""
    by_id = {s.item.key: s for s in stamped.letters.values()} if stamped else {}
    pieces = [
        MailPiece(
            r.record_id,
            r.address.postal_code,
            entries[r.record_id].file,
            by_id[r.record_id].mailing if r.record_id in by_id else None,
        )
        for r in records
        if r.address and r.record_id in entries and entries[r.record_id].status != "failed"
    ]
    if not pieces:
        return []
    zips = sorted(p.zip_code for p in pieces)
    total = printed_pages([entries[p.record_id].pages for p in pieces], options.duplex)
    cover = render_cover(workspace, options, len(pieces), total, zips)
    placements = assemble_mailing(
        pieces,
        cover,
        options.duplex,
        options.out_dir / "mailing.pdf",
        stamped.layouts if stamped else (),
    )
    for record_id, placement in placements.items():
        entries[record_id] = replace(
            entries[record_id], mailing_pages=f"{placement.first_page}-{placement.last_page}"
        )
    return pieces


def render_cover(
    workspace: Workspace, options: BatchOptions, letters: int, pages: int, zips: list[str]
) -> bytes:
    renderer = workspace.renderer
    context = {
        "clinic": workspace.clinic.config.clinic,
        "duplex": options.duplex,
        "how_to_print": HOW_TO_PRINT[options.duplex],
        "prepared": options.letter_date.isoformat(),
        "letters": letters,
        "pages": pages,
        "sheets": (pages + 1) // 2 if options.duplex else pages,
        "first_zip": zips[0],
        "last_zip": zips[-1],
    }
    html = renderer.template("mail_cover.html", context)
    styles = [
        renderer.font_css,
        renderer.stylesheet("base.css"),
        renderer.brand_css,
        renderer.stylesheet(string="@page { size: letter; margin: 0.75in; }"),
    ]
    return renderer.render_html(html, styles, "mail-cover").data
