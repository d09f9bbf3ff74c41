"""The stamping fast path for mail: one layout per class, an overlay page per record page.

`FastMail.stamp` draws every letter it can into one overlay PDF and hands back the
letters it cannot take (free-text notes, values that do not fit their slot, glyphs no
bundled font has, a letter layout that fails the preflight) for the full render.
Writing the per-letter files (stamp/files.py) and mailing.pdf (mail/assemble.py) is
the batch's job; nothing here starts a process or knows about manifests.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from babel import Locale
from reportlab.pdfgen.canvas import Canvas

from handouts.engine.formats import locale_of
from handouts.engine.request import HandoutRequest
from handouts.errors import RecordError
from handouts.mail.address import MailAddress
from handouts.mail.letter import LetterJob, letter_slots
from handouts.mail.preflight import preflight_letter
from handouts.stamp.draw import draw_pages, fits
from handouts.stamp.files import LetterFile
from handouts.stamp.layouts import (
    HandoutClass,
    LetterClass,
    Template,
    handout_class,
    handout_template,
    letter_class,
    letter_template,
    plan_handout,
    plan_letter,
)
from handouts.workspace import Workspace

Layout = tuple[LetterClass, HandoutClass]


@dataclass(frozen=True)
class MailItem:
    """What the fast path needs of one record."""

    key: str  # the record id
    file_name: str
    request: HandoutRequest
    address: MailAddress
    serial: int  # unique within the mailing, for the IMb


@dataclass
class StampedLetter:
    item: MailItem
    layout: Layout
    overlay_first: int  # first page of this letter in the shared overlay PDF
    pages: int
    inked: tuple[bool, ...] = ()  # which pages carry patient values


@dataclass
class Stamped:
    """What the file writers and the mailing assembly need: the shared layouts (letter
    template, handout template) and one overlay PDF holding every letter's pages."""

    templates: dict[Layout, tuple[Template, Template]] = field(default_factory=dict)
    letters: list[StampedLetter] = field(default_factory=list)
    overlay: bytes = b""

    def static_pdfs(self) -> list[bytes]:
        """Each layout's static pages (letter, then handout) as one PDF, in the order
        `files()` indexes them."""
        return [_combined(templates) for templates in self.templates.values()]

    def files(self) -> list[LetterFile]:
        layouts = list(self.templates)
        return [
            LetterFile(s.item.file_name, layouts.index(s.layout), s.overlay_first, s.inked)
            for s in self.letters
        ]


def _combined(templates: tuple[Template, Template]) -> bytes:
    document = pikepdf.new()
    for template in templates:
        document.pages.extend(pikepdf.open(io.BytesIO(template.pdf)).pages)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class FastMail:
    """Layout templates made on first use and kept for the whole mailing."""

    def __init__(self, workspace: Workspace, letter_date: dt.date) -> None:
        self.workspace = workspace
        self.renderer = workspace.renderer
        self.letter_date = letter_date
        self._letters: dict[LetterClass, Template] = {}
        self._handouts: dict[HandoutClass, Template] = {}
        self._protocol = workspace.clinic.config.protocol

    def _locale(self, item: MailItem) -> Locale:
        language = item.request.language
        return locale_of(language, self.renderer.library.strings(language))

    def _letter_template(self, key: LetterClass, job: LetterJob) -> Template:
        if key not in self._letters:
            template = letter_template(self.renderer, job)
            config = self.workspace.clinic.config
            return_lines = [config.clinic.name, *config.clinic.address]
            problems = preflight_letter(template.pdf, config.mail, [], return_lines)
            if problems:
                raise RecordError("preflight of the letter layout: " + "; ".join(problems))
            self._letters[key] = template
        return self._letters[key]

    def _handout_template(self, key: HandoutClass, request: HandoutRequest) -> Template:
        if key not in self._handouts:
            self._handouts[key] = handout_template(self.renderer, request)
        return self._handouts[key]

    def _templates(
        self, item: MailItem, job: LetterJob
    ) -> tuple[Layout, Template, Template] | None:
        hkey = handout_class(item.request, self._protocol, self._locale(item))
        if hkey is None:
            return None
        lkey = letter_class(job)
        try:
            letter = self._letter_template(lkey, job)
        except RecordError:
            return None  # the full path preflights the letter and reports it
        return (lkey, hkey), letter, self._handout_template(hkey, item.request)

    def stamp(self, items: list[MailItem]) -> tuple[Stamped, list[MailItem]]:
        """Overlays for every letter that fits; the others are returned for a full render."""
        stamped, full = Stamped(), []
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pageCompression=1, invariant=1)
        for item in items:
            letter = self._stamp_one(canvas, item, stamped)
            if letter is None:
                full.append(item)
        if stamped.letters:
            canvas.save()
            stamped.overlay = buffer.getvalue()
        return stamped, full

    def _stamp_one(self, canvas: Canvas, item: MailItem, stamped: Stamped) -> Any:
        job = LetterJob(item.request, item.address, self.letter_date, item.serial)
        found = self._templates(item, job)
        if found is None:
            return None
        layout, letter, handout = found
        values = letter_slots(self.renderer, job)
        letter_stamps = plan_letter(letter, values)
        handout_stamps = plan_handout(handout, item.request, self._protocol, self._locale(item))
        if not (fits(letter_stamps) and fits(handout_stamps)):
            return None
        first = sum(s.pages for s in stamped.letters)
        inked = draw_pages(canvas, letter.sizes, letter_stamps, values.bars)
        inked += draw_pages(canvas, handout.sizes, handout_stamps)
        stamped.templates[layout] = (letter, handout)
        done = StampedLetter(item, layout, first, len(inked), tuple(inked))
        stamped.letters.append(done)
        return done
