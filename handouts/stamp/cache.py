"""The layout cache: each layout class's template kept on disk between runs.

A template (stamp/model.py) is what one WeasyPrint render of a layout class gives the
stamping paths. Kept on disk, a warm `build`, web form or batch stamps without
rendering, and without loading WeasyPrint at all.

- Where: `--cache-dir`, else $HANDOUTS_CACHE_DIR, else the user's cache folder
  (platformdirs: ~/.cache/handouts/layouts on Linux); `--no-cache` keeps templates in
  memory for the run only.
- Key: the layout class, and a fingerprint of everything that changes a layout: the
  content, the clinic (clinic.toml, logo, overrides), the built-in templates and styles
  (fonts by size and time), the system font folders, and the versions of this tool and
  WeasyPrint. Change any of them and the old entries are simply never read again.
- Safe with several processes: an entry is written to a temp file and renamed into
  place, so a reader sees a whole entry or none; two writers of one entry write the
  same thing.
- Never trusted blindly: an entry is JSON with a SHA-256 of its body; one that does not
  parse or check is rebuilt and replaced. Nothing is unpickled from disk.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from handouts import __version__
from handouts.engine.output import write_atomic
from handouts.errors import HandoutError
from handouts.locate import data_dir
from handouts.stamp.model import PageFont, PageSplice, Slot, Template

log = logging.getLogger("handouts")
FORMAT = 1
#: Font files are fingerprinted by size and modification time, not read.
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".woff", ".woff2")
#: Where fontconfig finds system fonts (the taglines' Noto faces).
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts")


def default_dir() -> Path:
    """$HANDOUTS_CACHE_DIR, else the user's cache folder (platformdirs)."""
    if folder := os.environ.get("HANDOUTS_CACHE_DIR"):
        return Path(folder)
    import platformdirs

    return Path(platformdirs.user_cache_dir("handouts")) / "layouts"


def _files(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file())


def _tree(digest: Any, root: Path) -> None:
    for path in _files(root):
        digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
        if path.suffix.lower() in _FONT_SUFFIXES:
            stat = path.stat()
            digest.update(b"%d %d\0" % (stat.st_size, stat.st_mtime_ns))
        else:
            digest.update(hashlib.sha256(path.read_bytes()).digest())


def fingerprint(content: Iterable[Path], clinic_root: Path, clinic_files: Iterable[Path]) -> str:
    """A digest of everything a layout depends on (see the module's docstring)."""
    digest = hashlib.sha256()
    try:
        weasyprint = version("weasyprint")
    except PackageNotFoundError:
        weasyprint = "?"
    digest.update(f"{FORMAT} {__version__} {weasyprint}\0".encode())
    for root in [*content, data_dir("templates"), data_dir("styles"), *clinic_files]:
        _tree(digest, root)
    digest.update(str(clinic_root).encode() + b"\0")
    for folder in SYSTEM_FONT_DIRS:
        path = Path(folder).expanduser()
        with contextlib.suppress(OSError):
            for sub in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
                digest.update(b"%s %d\0" % (str(sub).encode(), sub.stat().st_mtime_ns))
    return digest.hexdigest()


class LayoutCache:
    """Templates by key: in memory for the process, and on disk unless `folder` is None."""

    def __init__(self, folder: Path | None, fingerprint: str) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self._memory: dict[str, Template] = {}

    def key(self, kind: str, layout: Any) -> str:
        return hashlib.sha256(f"{self.fingerprint}\0{kind}\0{layout!r}".encode()).hexdigest()

    def get(self, key: str) -> Template | None:
        found = self._memory.get(key) or self._read(key)
        if found is not None:
            self._memory[key] = found
        return found

    def put(self, key: str, template: Template) -> None:
        self._memory[key] = template
        if self.folder is None:
            return
        body = json.dumps(_encode(template), separators=(",", ":")).encode()
        head = json.dumps({"format": FORMAT, "sha256": hashlib.sha256(body).hexdigest()})
        try:
            write_atomic(self._path(key), head.encode() + b"\n" + body)
        except HandoutError as exc:  # a full disk or a read-only folder: stamp without
            log.warning("layout cache: %s", exc.format_message())

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def _read(self, key: str) -> Template | None:
        if self.folder is None:
            return None
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        try:
            head_line, _, body = data.partition(b"\n")
            head = json.loads(head_line)
            if (
                head.get("format") != FORMAT
                or head.get("sha256") != hashlib.sha256(body).hexdigest()
            ):
                raise ValueError("checksum")
            return _decode(json.loads(body))
        except (ValueError, KeyError, TypeError, IndexError):
            log.info("layout cache: a damaged entry is rebuilt")
            return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _encode(template: Template) -> dict[str, Any]:
    return {
        "pdf": _b64(template.pdf),
        "sizes": template.sizes,
        "slots": [asdict(slot) for slot in template.slots],
        "pages": {
            str(number): {
                "segments": [_b64(s) for s in cut.segments],
                "points": [[mcid, list(matrix)] for mcid, matrix in cut.points],
                "fonts": [
                    {
                        "family": family,
                        "ref": list(font.ref),
                        "resource": font.resource,
                        "bold": font.bold,
                        "codes": {char: code.hex() for char, code in font.codes.items()},
                        "widths": {code.hex(): width for code, width in font.widths.items()},
                    }
                    for (family, _), font in cut.fonts.items()
                ],
            }
            for number, cut in template.pages.items()
        },
    }


def _decode(data: dict[str, Any]) -> Template:
    pages = {}
    for number, cut in data["pages"].items():
        fonts = {
            (f["family"], bool(f["bold"])): PageFont(
                (int(f["ref"][0]), int(f["ref"][1])),
                str(f["resource"]),
                bool(f["bold"]),
                {char: bytes.fromhex(code) for char, code in f["codes"].items()},
                {bytes.fromhex(code): float(w) for code, w in f["widths"].items()},
            )
            for f in cut["fonts"]
        }
        points = tuple((int(mcid), tuple(float(v) for v in m)) for mcid, m in cut["points"])
        pages[int(number)] = PageSplice(
            tuple(_unb64(s) for s in cut["segments"]),
            points,  # type: ignore[arg-type]
            fonts,
        )
    slots = [Slot(**{**slot, "color": tuple(slot["color"])}) for slot in data["slots"]]
    sizes = [(float(w), float(h)) for w, h in data["sizes"]]
    return Template(_unb64(data["pdf"]), sizes, slots, pages)


def open_cache(folder: Path | None, enabled: bool, fingerprint_of: Any) -> LayoutCache:
    """The cache for one run: `folder` (default: the user's cache folder) unless
    disabled. `fingerprint_of` is called only when there is a cache to key."""
    if not enabled:
        return LayoutCache(None, "")
    target = folder or default_dir()
    with contextlib.suppress(OSError):
        os.makedirs(target, mode=0o700, exist_ok=True)
    return LayoutCache(target, fingerprint_of())
