"""The stamping fast path for mail batches: one layout per class, an overlay per record."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from reportlab.pdfgen.canvas import Canvas

from .build import Workspace
from .errors import RecordError
from .letter import LetterJob, imb_bars, letter_context
from .mailing import preflight_letter
from .manifest import Entry
from .output import write_atomic
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
            letter_stamps = plan_letter(letter, letter_context(self.renderer, job))
            handout_stamps = plan_handout(handout, request, strings)
            if not (fits(letter_stamps) and fits(handout_stamps)):
                full.append(record)
                continue
            mail = self.workspace.clinic.config.mail
            draw_pages(canvas, letter, letter_stamps, imb_bars(mail, record.address, record.row))
            draw_pages(canvas, handout, handout_stamps)
            pages = len(letter.sizes) + len(handout.sizes)
            stamped.templates[(lkey, hkey)] = (letter, handout)
            stamped.letters.append(StampedLetter(record, (lkey, hkey), cursor, pages))
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

    def write_letters(self, stamped: Stamped, hashes: dict[str, str]) -> list[Entry]:
        """Each letter as its own PDF (same names as the full render), written atomically."""
        if not stamped.letters:
            return []
        overlay = pikepdf.open(io.BytesIO(stamped.overlay))
        entries = []
        for letter in stamped.letters:
            document = pikepdf.open(io.BytesIO(self._static(letter.layout, stamped)))
            for i, page in enumerate(document.pages):
                page.add_overlay(overlay.pages[letter.overlay_first + i], None)
            buffer = io.BytesIO()
            document.save(buffer, deterministic_id=True)
            data = buffer.getvalue()
            write_atomic(self.out_dir / letter.record.file_name, data)
            request = letter.record.request
            handout = self.renderer.library.handout(
                request.language, request.procedure, request.phase
            )
            entries.append(
                Entry(
                    record_id=letter.record.record_id,
                    file=letter.record.file_name,
                    procedure=request.procedure,
                    phase=request.phase,
                    language=request.language,
                    pages=letter.pages,
                    bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    content_id=handout.id,
                    content_version=handout.version,
                    status="rendered",
                    message="",
                    input_hash=hashes[letter.record.record_id],
                    engine="fast",
                )
            )
        return entries
