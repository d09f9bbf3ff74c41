"""Writes stamped letters as their own PDF files; runs in pool workers (pikepdf only)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from handouts.engine.output import write_atomic


@dataclass(frozen=True)
class LetterFile:
    """One letter file: its layout's static pages with its overlay pages laid on top."""

    name: str
    layout: int  # index into the static PDFs
    overlay_first: int  # first page of this letter in the overlay PDF
    inked: tuple[bool, ...]  # which pages carry patient values


@dataclass(frozen=True)
class WriteJob:
    """A chunk of letters for one worker. The shared PDFs travel as files, not bytes,
    so a big mailing is not copied to every worker for every chunk."""

    out_dir: Path
    statics: tuple[Path, ...]
    overlay: Path
    letters: tuple[LetterFile, ...]


@dataclass(frozen=True)
class Written:
    name: str
    bytes: int
    sha256: str


def write_letters(job: WriteJob) -> list[Written]:
    """Writes each letter atomically; returns what is now on disk."""
    source = pikepdf.open(job.overlay)
    written = []
    for letter in job.letters:
        document = pikepdf.open(job.statics[letter.layout])
        for i, page in enumerate(document.pages):
            if letter.inked[i]:
                page.add_overlay(source.pages[letter.overlay_first + i], None)
        buffer = io.BytesIO()
        document.save(buffer, deterministic_id=True)
        data = buffer.getvalue()
        write_atomic(job.out_dir / letter.name, data)
        written.append(Written(letter.name, len(data), hashlib.sha256(data).hexdigest()))
    return written
