"""Writes stamped letters as files; runs in helper processes (it needs only pikepdf)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pikepdf

from .output import write_atomic

#: (file name, layout index, first overlay page, which pages carry values)
Job = tuple[str, int, int, tuple[bool, ...]]


def write_stamped(
    out_dir: Path, statics: list[bytes], overlay: bytes, jobs: list[Job]
) -> list[tuple[str, int, str]]:
    """Each letter: its layout's static pages with its overlay pages laid on top.
    Returns (file name, bytes, sha256) per letter."""
    source = pikepdf.open(io.BytesIO(overlay))
    written = []
    for name, layout, first, inked in jobs:
        document = pikepdf.open(io.BytesIO(statics[layout]))
        for i, page in enumerate(document.pages):
            if inked[i]:
                page.add_overlay(source.pages[first + i], None)
        buffer = io.BytesIO()
        document.save(buffer, deterministic_id=True)
        data = buffer.getvalue()
        write_atomic(out_dir / name, data)
        written.append((name, len(data), hashlib.sha256(data).hexdigest()))
    return written
