"""Writes stamped letters as their own PDF files; runs in pool workers.

Each worker takes a chunk of letters in mailing order. A letter's file is its layout's
static pages with the values spliced into their slots in the fonts the pages already
embed (stamp/splice.py), so it carries no font of its own. The planner
(mail/fastpath.py) sends only letters that `splice.fits`, so every letter is written
this way. For mailing.pdf the worker also writes the chunk's `ChunkValues`: each
letter's value ops (the bytes its file has) and, per layout, the page fonts widened
once with every glyph of the chunk's letters; mail/assemble.py puts those between the
layout's shared segments, so the mail room prints the same content as the files.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import pikepdf

from handouts.engine.output import atomic_file, write_atomic
from handouts.errors import RenderError
from handouts.mail.assemble import ChunkValues
from handouts.stamp.model import Layout, Part, Stamp
from handouts.stamp.pagefonts import RecordFonts
from handouts.stamp.splice import Values, gaps, value_ops, write


@dataclass(frozen=True)
class LetterFile:
    """One letter file: its layout's static pages with its values written in."""

    name: str
    layout: int  # index into the static PDFs
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class WriteJob:
    """A chunk of letters for one worker. The static PDFs travel as files, not bytes, so
    they are not copied to every worker for every chunk."""

    out_dir: Path
    statics: tuple[Path, ...]
    chunk: Path  # where the chunk's ChunkValues go, for mailing.pdf
    letters: tuple[LetterFile, ...]


@dataclass(frozen=True)
class Written:
    name: str
    bytes: int
    sha256: str


#: Static layouts this worker process has read, by file.
_statics: dict[Path, Layout] = {}


def _static(path: Path) -> Layout:
    if path not in _statics:
        _statics[path] = pickle.loads(path.read_bytes())  # noqa: S301 - our own temp file
    return _statics[path]


def write_letters(job: WriteJob) -> list[Written]:
    """Writes each letter atomically, then the chunk's values; returns what is on disk."""
    written = []
    letters: dict[str, dict[int, tuple[bytes, ...]]] = {}
    chunk_glyphs: dict[int, RecordFonts] = {}
    for letter in job.letters:
        static = _static(job.statics[letter.layout])
        values = _values(static, letter.parts)
        data = write(static, values)
        if data is None:
            raise RenderError(f"{letter.name}: the page fonts cannot be widened")
        write_atomic(job.out_dir / letter.name, data)
        written.append(Written(letter.name, len(data), hashlib.sha256(data).hexdigest()))
        letters[letter.name] = {n: gaps(static.pages[n], ops) for n, ops in values.pages.items()}
        chunk_glyphs.setdefault(letter.layout, RecordFonts()).merge(values.glyphs)
    fonts = {
        layout: _widened_fonts(_static(job.statics[layout]), glyphs)
        for layout, glyphs in chunk_glyphs.items()
    }
    with atomic_file(job.chunk) as handle:
        pickle.dump(ChunkValues(letters, fonts), handle)
    return written


def _values(static: Layout, parts: tuple[Part, ...]) -> Values:
    """The letter's values as content ops, its parts' pages numbered on from each other."""
    stamps: list[Stamp] = []
    offset = 0
    for part in parts:
        stamps += [replace(s, slot=replace(s.slot, page=s.slot.page + offset)) for s in part.stamps]
        offset += len(part.sizes)
    values = value_ops(static, stamps)
    if values is None:  # the planner checked `fits` with the same rule
        raise RenderError("a planned value does not fit its slot")
    return values


def _widened_fonts(static: Layout, glyphs: RecordFonts) -> bytes:
    """A PDF whose /PageFonts holds, for each page of the layout, the fonts the chunk's
    glyphs widen or add there (by resource name)."""
    with pikepdf.open(io.BytesIO(static.pdf)) as document, pikepdf.new() as fonts:
        if not glyphs.embed(document):
            raise RenderError("the page fonts cannot be widened")
        fonts.Root.PageFonts = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    {
                        name: fonts.copy_foreign(font)
                        for name, font in glyphs.changed(document, n).items()
                    }
                )
                for n in range(len(document.pages))
            ]
        )
        buffer = io.BytesIO()
        fonts.save(buffer, deterministic_id=True)
    return buffer.getvalue()
