"""Writes stamped letters as their own PDF files; runs in pool workers.

Each worker takes a chunk of letters in mailing order. A letter's file is its layout's
static pages with the values written into their slots in the fonts the pages already
embed (stamp/splice.py), so it carries no font of its own; a value with a glyph those
fonts lack is drawn instead on an overlay of its own (ReportLab, fonts subset to that
letter's glyphs). Every letter's pages with values are also drawn on the chunk's shared
overlay PDF, from which mailing.pdf takes them (mail/assemble.py), fonts shared by the
chunk.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import pikepdf

from handouts.engine.output import atomic_file, write_atomic
from handouts.stamp.draw import draw_parts, overlay_canvas, overlay_pdf
from handouts.stamp.model import Part, Template
from handouts.stamp.splice import stamp


@dataclass(frozen=True)
class LetterFile:
    """One letter file: its layout's static pages with its values drawn on top."""

    name: str
    layout: int  # index into the static PDFs
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class WriteJob:
    """A chunk of letters for one worker. The static PDFs travel as files, not bytes, so
    they are not copied to every worker for every chunk."""

    out_dir: Path
    statics: tuple[Path, ...]
    overlay: Path  # where the chunk's shared overlay PDF goes
    letters: tuple[LetterFile, ...]


@dataclass(frozen=True)
class Written:
    name: str
    bytes: int
    sha256: str


#: Static layouts this worker process has read, by file.
_statics: dict[Path, Template] = {}


def _static(path: Path) -> Template:
    if path not in _statics:
        _statics[path] = pickle.loads(path.read_bytes())  # noqa: S301 - our own temp file
    return _statics[path]


def write_letters(job: WriteJob) -> list[Written]:
    """Writes each letter atomically, then the chunk's overlay; returns what is on disk."""
    written = []
    shared = io.BytesIO()
    canvas = overlay_canvas(shared)
    for letter in job.letters:
        draw_parts(canvas, letter.parts, only_inked=True)
        static = _static(job.statics[letter.layout])
        data = _spliced(static, letter.parts) or _overlaid(static.pdf, letter.parts)
        write_atomic(job.out_dir / letter.name, data)
        written.append(Written(letter.name, len(data), hashlib.sha256(data).hexdigest()))
    canvas.save()
    with atomic_file(job.overlay) as handle:
        handle.write(shared.getvalue())
    return written


def _spliced(static: Template, parts: tuple[Part, ...]) -> bytes | None:
    """The letter with its values written into the static pages' own text."""
    stamps, offset, barcode = [], 0, None
    for part in parts:
        stamps += [replace(s, slot=replace(s.slot, page=s.slot.page + offset)) for s in part.stamps]
        offset += len(part.sizes)
        barcode = barcode or part.barcode
    return stamp(static, stamps, barcode)


def _overlaid(static: bytes, parts: tuple[Part, ...]) -> bytes:
    """The letter with its values on an overlay of its own (a glyph the pages lack)."""
    overlay, inked = overlay_pdf(parts)
    source = pikepdf.open(io.BytesIO(overlay))
    document = pikepdf.open(io.BytesIO(static))
    for i, page in enumerate(document.pages):
        if inked[i]:
            page.add_overlay(source.pages[i], None)
    buffer = io.BytesIO()
    document.save(buffer, deterministic_id=True)
    return buffer.getvalue()
