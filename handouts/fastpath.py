"""The stamping fast path for mail batches: one layout per class, an overlay per record."""

from __future__ import annotations

import io
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from reportlab.pdfgen.canvas import Canvas

from .build import Workspace
from .errors import RecordError
from .letter import LetterJob, letter_context
from .letterfiles import write_stamped
from .mailing import preflight_letter
from .manifest import Entry, rendered_entry
from .records import Record
from .stamp import (
    Template,
    draw_pages,
    fits,
    handout_class,
    handout_template,
    letter_class,
    letter_template,
    plan_handout,
    plan_letter,
)

log = logging.getLogger("handouts")


@dataclass
class StampedLetter:
    record: Record
    layout: tuple  # (letter class, handout class)
    overlay_first: int  # first page of this letter in the shared overlay PDF
    pages: int
    inked: tuple[bool, ...] = ()  # which pages carry patient values


@dataclass
class Stamped:
    """What the mailing assembly needs: the shared layouts and the overlay pages."""

    templates: dict[tuple, tuple[Template, Template]] = field(default_factory=dict)
    letters: list[StampedLetter] = field(default_factory=list)
    overlay: bytes = b""


class FastMail:
    def __init__(self, workspace: Workspace, letter_date, out_dir: Path) -> None:
        self.workspace = workspace
        self.renderer = workspace.renderer
        self.letter_date = letter_date
        self.out_dir = out_dir
        self._letters: dict[tuple, Template] = {}
        self._handouts: dict[tuple, Template] = {}
        self._combined: dict[tuple, bytes] = {}
        self._checked: set[tuple] = set()

    def _letter_template(self, key: tuple, job: LetterJob) -> Template:
        if key not in self._letters:
            template = letter_template(self.renderer, job)
            ident = self.workspace.clinic.config.clinic
            problems = preflight_letter(
                template.pdf, self.workspace.clinic.config.mail, [], [ident.name, *ident.address]
            )
            if problems:
                raise RecordError("preflight of the letter layout: " + "; ".join(problems))
            self._letters[key] = template
        return self._letters[key]

    def _handout_template(self, key: tuple, record: Record) -> Template:
        if key not in self._handouts:
            self._handouts[key] = handout_template(self.renderer, record.request)
        return self._handouts[key]

    def stamp(self, records: list[Record]) -> tuple[Stamped, list[Record]]:
        """Overlays for every record that fits; the others are returned for a full render."""
        stamped, full = Stamped(), []
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pageCompression=1, invariant=1)
        cursor = 0
        for record in records:
            request = record.request
            strings = self.renderer.library.strings(request.language)
            hkey = handout_class(request, strings)
            assert record.address is not None
            job = LetterJob(request, record.address, self.letter_date, record.row)
            if hkey is None:
                full.append(record)
                continue
            lkey = letter_class(job)
            try:
                letter = self._letter_template(lkey, job)
            except RecordError:
                full.append(record)  # the full path preflights and reports it
                continue
            handout = self._handout_template(hkey, record)
            context = letter_context(self.renderer, job)
            letter_stamps = plan_letter(letter, context)
            handout_stamps = plan_handout(handout, request, strings)
            if not (fits(letter_stamps) and fits(handout_stamps)):
                full.append(record)
                continue
            inked = draw_pages(canvas, letter, letter_stamps, context["imb_bars"])
            inked += draw_pages(canvas, handout, handout_stamps)
            pages = len(letter.sizes) + len(handout.sizes)
            stamped.templates[(lkey, hkey)] = (letter, handout)
            stamped.letters.append(StampedLetter(record, (lkey, hkey), cursor, pages, tuple(inked)))
            cursor += pages
        if stamped.letters:
            canvas.save()
            stamped.overlay = buffer.getvalue()
        return stamped, full

    def _static(self, layout: tuple, stamped: Stamped) -> bytes:
        if layout not in self._combined:
            document = pikepdf.new()
            for template in stamped.templates[layout]:
                document.pages.extend(pikepdf.open(io.BytesIO(template.pdf)).pages)
            buffer = io.BytesIO()
            document.save(buffer)
            self._combined[layout] = buffer.getvalue()
        return self._combined[layout]

    def start_writes(self, stamped: Stamped, jobs: int = 1) -> Callable[[], dict[str, tuple]]:
        """Starts writing each letter as its own PDF (same names as the full render) in
        `jobs` helper processes; the returned function waits and gives (bytes, sha256)
        per file. The caller assembles mailing.pdf meanwhile."""
        if not stamped.letters:
            return dict
        layouts = list(stamped.templates)
        statics = [self._static(layout, stamped) for layout in layouts]
        work = [
            (s.record.file_name, layouts.index(s.layout), s.overlay_first, s.inked)
            for s in stamped.letters
        ]
        if jobs <= 1:
            done = write_stamped(self.out_dir, statics, stamped.overlay, work)
            return lambda: {name: (size, digest) for name, size, digest in done}
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
        futures = [
            pool.submit(write_stamped, self.out_dir, statics, stamped.overlay, work[i::jobs])
            for i in range(jobs)
        ]

        def finish() -> dict[str, tuple]:
            try:
                return {
                    name: (size, digest)
                    for future in futures
                    for name, size, digest in future.result()
                }
            finally:
                pool.shutdown()

        return finish

    def entry(self, letter: StampedLetter, size: int, digest: str, input_hash: str) -> Entry:
        request = letter.record.request
        handout = self.renderer.library.handout(request.language, request.procedure, request.phase)
        return rendered_entry(
            letter.record, handout, letter.pages, size, digest, input_hash, "fast"
        )
