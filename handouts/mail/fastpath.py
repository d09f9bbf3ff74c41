"""The stamping fast path for mail: one layout per class, the values spliced into it.

`FastMail.write_jobs` plans the letters chunk by chunk, in mailing order, as the file
writers (mail/files.py, in pool workers) ask for them, and sets aside the letters it
cannot take for the full render: notes longer than the notes box, a value that the
splice cannot write (`splice.fits`, the writer's own rule: a glyph no bundled face has,
a script that needs shaping, a value too wide for its slot), a letter layout that fails
the preflight.
Running the workers and assembling mailing.pdf (mail/assemble.py, from the layouts and
the chunks' values the workers hand back) is the batch's job; nothing here starts a
process or knows about manifests.
"""

from __future__ import annotations

import datetime as dt
import logging
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from babel import Locale

from handouts.engine.formats import locale_of
from handouts.errors import LayoutError, RecordError
from handouts.mail import imb
from handouts.mail.address import MailAddress
from handouts.mail.assemble import MailLayout, StampedPages
from handouts.mail.files import LetterFile, WriteJob
from handouts.mail.letter import (
    LetterJob,
    LetterSlots,
    letter_html,
    letter_layout_name,
    letter_slots,
    letter_styles,
)
from handouts.mail.preflight import preflight_letter
from handouts.model.request import HandoutRequest
from handouts.pdf.merge import merged_pdf
from handouts.pdf.stream import pdf_number
from handouts.stamp.cache import LayoutCache
from handouts.stamp.handout import HandoutStamper, LayoutTask, render_layout, uncached
from handouts.stamp.layouts import HandoutClass, handout_class, plan_handout
from handouts.stamp.model import LEADING, Layout, Part, Slot, Stamp, first_baseline
from handouts.stamp.splice import cut_pages, fits
from handouts.workspace import Workspace

if TYPE_CHECKING:
    from handouts.engine.render import Renderer

log = logging.getLogger("handouts")

#: A cover letter's class: its words name the language, procedure and phase; its
#: table has a date row and a time row, or the "we will call you" line.
LetterClass = tuple[str, str, str, bool, bool]

LetterClasses = tuple[LetterClass, HandoutClass]
#: Letters per file-writing task: small enough to journal often, big enough that the
#: chunk's widened fonts serve many letters in mailing.pdf.
WRITE_CHUNK = 100


@dataclass(frozen=True, slots=True)
class MailItem:
    """What the fast path needs of one record."""

    key: str  # the record id
    file_name: str
    request: HandoutRequest
    address: MailAddress
    serial: int  # unique within the mailing, for the IMb


@dataclass(frozen=True, slots=True)
class StampedLetter:
    """A letter the fast path took: its page count, and where mailing.pdf finds it."""

    item: MailItem
    pages: int
    mailing: StampedPages


@dataclass
class Stamped:
    """What the mailing assembly needs: the layouts (each letter's static pages, cut at
    their slots) and every stamped letter. `full`: the letters left to the full render."""

    layouts: list[MailLayout] = field(default_factory=list)
    letters: dict[str, StampedLetter] = field(default_factory=dict)  # by file name
    full: list[MailItem] = field(default_factory=list)


@dataclass(frozen=True)
class LetterLayoutTask(LayoutTask):
    """A cover letter's layout class to render (in a batch worker)."""

    job: LetterJob

    def render(self, workspace: Workspace) -> Layout:
        return letter_layout(workspace.renderer, self.job)


def letter_layout(renderer: Renderer, job: LetterJob) -> Layout:
    """A cover letter's layout class, rendered with its probes (stamp/probe.py)."""
    from handouts.stamp.probe import PROBE, probed_layout  # WeasyPrint

    html = letter_html(renderer, job, PROBE)
    return probed_layout(renderer, html, letter_styles(renderer), letter_layout_name(job))


def letter_class(job: LetterJob) -> LetterClass:
    patient = job.request.patient
    return (
        job.request.language,
        job.request.procedure,
        job.request.phase,
        bool(patient.procedure_date),
        bool(patient.arrival_time),
    )


def plan_letter(layout: Layout, values: LetterSlots) -> list[Stamp]:
    """Each slot of a cover letter's layout with its value; the address with its fitted
    size and, with a Mailer ID, the IMb bars under it."""
    fields = {slot: value for _, value, slot in values.fields}
    stamps = []
    for slot in layout.slots:
        if slot.name == "address":
            address = Stamp(slot, list(values.address.lines), values.address.size)
            if values.bars:
                height = layout.sizes[slot.page][1]
                top = height - bars_top(address, values.address.size, imb.GAP_POINTS)
                address = replace(address, after=_bars(values.bars, slot.x, top))
            stamps.append(address)
        elif slot.name in fields:
            stamps.append(Stamp(slot, [fields[slot.name]]))
    return stamps


def bars_top(stamp: Stamp, size: float, gap: float) -> float:
    """The top of the IMb bars under an address (points from the page top): `gap`
    below the last line's box."""
    slot = stamp.slot
    return first_baseline(stamp, size) - slot.ratio * size + len(stamp.lines) * size * LEADING + gap


def _bars(bars: str, x: float, top: float) -> bytes:
    """The IMb bars with their top edge at `top` (points from the page bottom)."""
    rects = [
        b"%s re" % b" ".join(pdf_number(v) for v in box) for box in imb.bar_boxes(bars, x, top)
    ]
    return b"0 0 0 rg " + b" ".join(rects) + b" f"


def combined(layouts: tuple[Layout, Layout]) -> Layout:
    """A letter's static pages as one layout: the cover letter's pages, then the
    handout's (slots renumbered; pages cut again: the fonts have new object numbers)."""
    sizes: list[tuple[float, float]] = []
    slots: list[Slot] = []
    for layout in layouts:
        offset = len(sizes)
        sizes += layout.sizes
        slots += [replace(slot, page=slot.page + offset) for slot in layout.slots]
    pdf = merged_pdf([layout.pdf for layout in layouts])  # one structure tree
    return Layout(pdf, sizes, slots, cut_pages(pdf, slots))


class FastMail:
    """The layouts of each letter class pair (cover letter, handout), rendered on first use
    and kept for the whole mailing."""

    def __init__(self, workspace: Workspace, letter_date: dt.date, cache: LayoutCache) -> None:
        self.workspace = workspace
        self.letter_date = letter_date
        self.cache = cache
        self.handouts = HandoutStamper(workspace, cache)
        self.pairs: dict[LetterClasses, tuple[Layout, Layout]] = {}
        #: Letter classes whose layout failed the preflight: rendered and checked once,
        #: their letters then go straight to the full path (which reports each one).
        self.refused: set[LetterClass] = set()

    def _locale(self, item: MailItem) -> Locale:
        language = item.request.language
        return locale_of(language, self.workspace.library.strings(language))

    def missing(self, items: list[MailItem]) -> list[LayoutTask]:
        """The layout classes these letters need that the cache does not have, so the
        batch can render them side by side before planning."""
        tasks = []
        for item in items:
            hkey = handout_class(
                item.request,
                self.workspace.clinic.config,
                self._locale(item),
                self.workspace.library.strings(item.request.language),
            )
            if hkey is not None:
                job = LetterJob(item.request, item.address, self.letter_date, item.serial)
                tasks += [
                    LayoutTask("handout", hkey, item.request),
                    LetterLayoutTask("letter", letter_class(job), item.request, job),
                ]
        return uncached(self.cache, tasks)

    def accept(self, task: LayoutTask, layout: Layout) -> None:
        """A layout rendered elsewhere: stored, unless a letter fails the preflight."""
        if task.kind == "letter" and self._preflight(layout):
            self._refuse(task.key)  # its letters take the full path, which reports them
            return
        self.handouts.accept(task, layout)

    def _refuse(self, key: LetterClass) -> None:
        self.refused.add(key)
        log.info(
            "fast path: a letter layout failed the preflight; its letters take the full render"
        )

    def _preflight(self, layout: Layout) -> list[str]:
        config = self.workspace.clinic.config
        return_lines = [config.clinic.name, *config.clinic.address]
        return preflight_letter(layout.pdf, config.mail, [], return_lines)

    def _letter_layout(self, key: LetterClass, job: LetterJob) -> Layout:
        """The letter layout, from the cache or rendered and preflighted once (a layout
        that fails the preflight is never stored, so it is checked again each run, but
        only once in a run)."""
        if key in self.refused:
            raise RecordError("preflight of the letter layout failed")
        cache_key = self.cache.key("letter", key)
        found = self.cache.get(cache_key)
        if found is None:
            found = render_layout(self.workspace, LetterLayoutTask("letter", key, job.request, job))
            if problems := self._preflight(found):
                self._refuse(key)
                raise RecordError("preflight of the letter layout: " + "; ".join(problems))
            self.cache.put(cache_key, found)
        return found

    def _layouts(
        self, item: MailItem, job: LetterJob
    ) -> tuple[LetterClasses, Layout, Layout] | None:
        hkey = handout_class(
            item.request,
            self.workspace.clinic.config,
            self._locale(item),
            self.workspace.library.strings(item.request.language),
        )
        if hkey is None:
            return None
        lkey = letter_class(job)
        try:
            letter = self._letter_layout(lkey, job)
        except (RecordError, LayoutError):
            return None  # the full path preflights the letter and reports it
        handout = self.handouts.measured(hkey, item.request)
        return ((lkey, hkey), letter, handout) if handout is not None else None

    def plan(self, item: MailItem) -> tuple[LetterClasses, tuple[Part, Part]] | None:
        """The letter's layout and values, or None when it needs the full render."""
        job = LetterJob(item.request, item.address, self.letter_date, item.serial)
        found = self._layouts(item, job)
        if found is None:
            return None
        layout, letter, handout = found
        values = letter_slots(self.workspace.clinic, self.workspace.library, job)
        letter_stamps = plan_letter(letter, values)
        handout_stamps = plan_handout(
            handout,
            item.request,
            self.workspace.clinic.config,
            self._locale(item),
            self.workspace.library.strings(item.request.language),
        )
        if handout_stamps is None or not (
            fits(letter, letter_stamps) and fits(handout, handout_stamps)
        ):
            return None
        self.pairs[layout] = (letter, handout)
        return layout, (
            Part(tuple(letter.sizes), tuple(letter_stamps)),
            Part(tuple(handout.sizes), tuple(handout_stamps)),
        )

    def write_jobs(
        self, items: list[MailItem], stamped: Stamped, out_dir: Path, shared: Path
    ) -> Iterator[WriteJob]:
        """Chunks of letters for the file writers, planned as the workers ask for them;
        what cannot be stamped goes to `stamped.full`. Static pages of each new layout
        are written to `shared` before the first chunk that uses them."""
        statics: list[Path] = []
        layouts: dict[LetterClasses, int] = {}
        for chunk, start in enumerate(range(0, len(items), WRITE_CHUNK)):
            values = shared / f"chunk-{chunk}.pickle"
            files = []
            for item in items[start : start + WRITE_CHUNK]:
                planned = self.plan(item)
                if planned is None:
                    stamped.full.append(item)
                    continue
                layout, parts = planned
                if layout not in layouts:
                    layouts[layout] = len(statics)
                    statics.append(self._share(combined(self.pairs[layout]), shared, stamped))
                pages = sum(len(part.sizes) for part in parts)
                mailing = StampedPages(layouts[layout], values, item.file_name)
                stamped.letters[item.file_name] = StampedLetter(item, pages, mailing)
                files.append(LetterFile(item.file_name, layouts[layout], parts))
            if files:
                yield WriteJob(out_dir, tuple(statics), values, tuple(files))

    @staticmethod
    def _share(layout: Layout, shared: Path, stamped: Stamped) -> Path:
        """A new layout: its file for the writers, and its pages for mailing.pdf."""
        path = shared / f"static-{len(stamped.layouts)}.pickle"
        path.write_bytes(pickle.dumps(layout))
        segments = {number: page.segments for number, page in layout.pages.items()}
        stamped.layouts.append(MailLayout(layout.pdf, segments))
        return path
