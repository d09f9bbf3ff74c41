"""The layout cache: each layout class's Layout kept on disk between runs.

A Layout (stamp/model.py) is what one WeasyPrint render of a layout class gives the
stamping paths. Kept on disk, a warm `build`, web form or batch stamps without
rendering, and without loading WeasyPrint at all. It holds layouts only: no patient
value is ever part of a layout or a key.

- Where: `--cache-dir`, else $HANDOUTS_CACHE_DIR, else the user's cache folder
  (platformdirs: ~/.cache/handouts/layouts on Linux). `--no-cache`: the folder is
  neither read nor written, and the layouts a run renders live only until it ends, the
  same for build, serve and batch: in memory, and for a batch's workers in the run's
  temporary folder inside its output folder (batch/run.py), removed with it.
  `make-handouts cache info` shows it, `cache clear` empties it.
- Key: the layout class, and a fingerprint of everything that changes a layout: this
  package's own code (every module's source), the content, the clinic (clinic.toml,
  logo, overrides), the built-in templates and styles (fonts by size and time), the
  system font folders, and the versions of the libraries that shape the output
  (OUTPUT_LIBRARIES, CLDR, libqpdf, HarfBuzz, Pango, Python). Change any of them and
  the old entries are simply never read again.
- Size: at most $HANDOUTS_CACHE_MAX_MB megabytes (default 200). Each write drops the
  least recently used entries (by modification time: a hit touches its entry) until the
  rest fit, so entries of an old fingerprint, never hit again, go first.
- Safe with several processes: an entry is written to a temp file and renamed into
  place, so a reader sees a whole entry or none; two writers of one entry write the
  same thing; an entry another process evicts is rendered again when next needed.
- Never trusted blindly: an entry is JSON with a SHA-256 of its body; one that does not
  parse or check is rebuilt and replaced. Nothing is unpickled from disk.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from handouts import __version__
from handouts.engine.output import TEMP_PREFIX, write_atomic
from handouts.errors import HandoutError
from handouts.fonts import harfbuzz
from handouts.locate import data_dir
from handouts.options import OptionsError
from handouts.stamp.model import Layout, PageFont, PageSplice, Slot

log = logging.getLogger("handouts")
FORMAT = 2  # 2: layouts measured from the output (visible probes, cut out)
#: Font files are fingerprinted by size and modification time, not read.
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".woff", ".woff2")
#: Where fontconfig finds system fonts (the taglines' Noto faces).
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts")
#: This package's folder: the source of every module in it is part of the key.
PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: The distributions whose version can change a layout: WeasyPrint and what it parses,
#: hyphenates, draws images and writes PDF with; the templating; Babel (dates and
#: numbers); the PDF and font libraries the stamping and the subsets go through; and
#: the fonts' metrics that size computed slots (fontTools: engine/schedule.py).
OUTPUT_LIBRARIES = (
    "weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "pyphen", "pillow",
    "jinja2", "markupsafe", "babel", "fonttools", "pikepdf",
)  # fmt: skip
MAX_MB_VARIABLE = "HANDOUTS_CACHE_MAX_MB"
DEFAULT_MAX_MB = 200
MB = 1024 * 1024
#: A hit marks its entry as just used at most this often (seconds) per process.
TOUCH_EVERY = 60.0
_SHARD = re.compile(r"[0-9a-f]{2}")
_ENTRY = re.compile(r"[0-9a-f]{64}\.json")


def default_dir() -> Path:
    """$HANDOUTS_CACHE_DIR, else the user's cache folder (platformdirs)."""
    if folder := os.environ.get("HANDOUTS_CACHE_DIR"):
        return Path(folder)
    import platformdirs

    return Path(platformdirs.user_cache_dir("handouts")) / "layouts"


def size_limit() -> int:
    """The bytes the cache may keep: $HANDOUTS_CACHE_MAX_MB megabytes, else 200 MB."""
    text = os.environ.get(MAX_MB_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_MB * MB
    if not text.isdecimal() or int(text) < 1:
        raise OptionsError(
            f"{MAX_MB_VARIABLE}: expected a whole number of megabytes, 1 or more (got {text!r})"
        )
    return int(text) * MB


# -- the key -----------------------------------------------------------------------------


@cache
def source_digest() -> str:
    """A digest of this package's own modules, read once per process: a change in the
    code that makes a layout (context, slot plan, date formats) is a new key."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@cache
def library_versions() -> Mapping[str, str | None]:
    """The version of each library outside this package that shapes a layout (None: not
    installed). Read from package metadata and the libraries' own version calls, so
    WeasyPrint and fontTools are not imported."""
    import pikepdf
    from babel.core import get_cldr_version

    found = {name: _distribution_version(name) for name in OUTPUT_LIBRARIES}
    found["cldr"] = get_cldr_version()
    found["libqpdf"] = str(pikepdf.__libqpdf_version__)
    # Without libharfbuzz-subset, WeasyPrint subsets fonts with fontTools instead.
    found["harfbuzz"] = _native_version("harfbuzz", "hb_version_string")
    found["harfbuzz-subset"] = "yes" if harfbuzz.available() else None
    found["pango"] = _native_version("pango-1.0", "pango_version_string")
    found["python"] = "{}.{}".format(*sys.version_info[:2])  # its Unicode database
    return found


def _distribution_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _native_version(library: str, symbol: str) -> str | None:
    """The version a system library reports of itself (HarfBuzz, Pango); None if absent."""
    found = ctypes.util.find_library(library)
    if found is None:
        return None
    try:
        function = getattr(ctypes.CDLL(found), symbol)
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_char_p
    function.argtypes = []
    value = function()
    return value.decode("ascii", "replace") if isinstance(value, bytes) else None


def _walk(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file())


def _tree(digest: Any, root: Path) -> None:
    for path in _walk(root):
        digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
        if path.suffix.lower() in _FONT_SUFFIXES:
            stat = path.stat()
            digest.update(b"%d %d\0" % (stat.st_size, stat.st_mtime_ns))
        else:
            digest.update(hashlib.sha256(path.read_bytes()).digest())


def fingerprint(content: Iterable[Path], clinic_root: Path, clinic_files: Iterable[Path]) -> str:
    """A digest of everything a layout depends on (see the module's docstring)."""
    digest = hashlib.sha256()
    digest.update(f"{FORMAT} {__version__} {source_digest()}\0".encode())
    digest.update(json.dumps(library_versions(), sort_keys=True).encode() + b"\0")
    for root in [*content, data_dir("templates"), data_dir("styles"), *clinic_files]:
        _tree(digest, root)
    digest.update(str(clinic_root).encode() + b"\0")
    for folder in SYSTEM_FONT_DIRS:
        path = Path(folder).expanduser()
        with contextlib.suppress(OSError):
            for sub in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
                digest.update(b"%s %d\0" % (str(sub).encode(), sub.stat().st_mtime_ns))
    return digest.hexdigest()


# -- the store ---------------------------------------------------------------------------


class LayoutCache:
    """Layouts by key: in memory for the process, and on disk unless `folder` is None,
    where it keeps at most `max_bytes`."""

    def __init__(
        self, folder: Path | None, fingerprint: str, max_bytes: int = DEFAULT_MAX_MB * MB
    ) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.max_bytes = max_bytes
        self._memory: dict[str, Layout] = {}
        self._touched: dict[str, float] = {}

    def key(self, kind: str, layout: Any) -> str:
        return hashlib.sha256(f"{self.fingerprint}\0{kind}\0{layout!r}".encode()).hexdigest()

    def get(self, key: str) -> Layout | None:
        found = self._memory.get(key)
        if found is None:
            found = self._read(key)
            if found is None:
                return None
            self._memory[key] = found
            log.debug("layout cache: read %s", key[:12])
        self._touch(key)
        return found

    def held(self) -> dict[str, Layout]:
        """The layouts this process holds (read or rendered), by key."""
        return dict(self._memory)

    def put(self, key: str, layout: Layout) -> None:
        self._memory[key] = layout
        if self.folder is None:
            log.debug("layout cache: kept %s in memory for this run", key[:12])
            return
        body = json.dumps(_encode(layout), separators=(",", ":")).encode()
        head = json.dumps({"format": FORMAT, "sha256": hashlib.sha256(body).hexdigest()})
        try:
            write_atomic(self._path(key), head.encode() + b"\n" + body)
        except HandoutError as exc:  # a full disk or a read-only folder: stamp without
            log.warning("layout cache: %s", exc.format_message())
            return
        self._touched.pop(key, None)
        self._touch(key)
        log.debug("layout cache: stored %s (%d bytes)", key[:12], len(head) + 1 + len(body))
        removed = evict(self.folder, self.max_bytes)
        if removed.entries:
            log.debug(
                "layout cache: %d least recently used entries removed (%d bytes) to keep "
                "under %d MB",
                removed.entries,
                removed.size,
                self.max_bytes // MB,
            )

    def _touch(self, key: str) -> None:
        """Marks the entry on disk as just used (its modification time, which eviction
        reads), at most every TOUCH_EVERY seconds: a long-running server's layouts stay
        on disk for the next process."""
        now = time.monotonic()
        if self.folder is None or now - self._touched.get(key, -math.inf) < TOUCH_EVERY:
            return
        self._touched[key] = now
        stamp = time.time_ns()  # finer than the file system's own clock
        with contextlib.suppress(OSError):  # evicted by another process meanwhile
            os.utime(self._path(key), ns=(stamp, stamp))

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def _read(self, key: str) -> Layout | None:
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


# -- the folder --------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What a cache folder holds (its entries' names are hashes: nothing else to show)."""

    entries: int
    size: int  # bytes


@dataclass(frozen=True)
class Removal:
    """What a clean-up removed, and the files it could not remove."""

    entries: int
    size: int  # bytes, leftover temp files included
    failed: tuple[str, ...] = ()


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as items:
            return list(items)
    except OSError:
        return []


def _stored(folder: Path, leftovers: bool = False) -> list[tuple[Path, os.stat_result]]:
    """The files the cache wrote in `folder` (named as it names them, nothing else),
    with their stat; `leftovers` adds the temp files of writers that were killed."""
    found = []
    for shard in _listing(folder):
        if not (_SHARD.fullmatch(shard.name) and shard.is_dir(follow_symlinks=False)):
            continue
        for item in _listing(Path(shard.path)):
            ours = _ENTRY.fullmatch(item.name) or (leftovers and item.name.startswith(TEMP_PREFIX))
            if ours and item.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):  # removed meanwhile
                    found.append((Path(item.path), item.stat(follow_symlinks=False)))
    return found


def usage(folder: Path) -> Usage:
    """How many entries the cache folder holds, and their size."""
    found = _stored(folder)
    return Usage(len(found), sum(stat.st_size for _, stat in found))


def evict(folder: Path, max_bytes: int) -> Removal:
    """Removes the least recently used entries (oldest modification time first) until the
    rest fit in `max_bytes`."""
    newest_first = sorted(_stored(folder), key=lambda found: found[1].st_mtime_ns, reverse=True)
    total, over = 0, []
    for path, stat in newest_first:
        total += stat.st_size
        if total > max_bytes:
            over.append((path, stat))
    return _remove(over)


def clear(folder: Path) -> Removal:
    """Removes every entry, and any temp file a killed writer left; other files and the
    folder itself stay."""
    removal = _remove(_stored(folder, leftovers=True))
    for shard in _listing(folder):
        if _SHARD.fullmatch(shard.name):
            with contextlib.suppress(OSError):  # not empty: not only ours
                os.rmdir(shard.path)
    return removal


def _remove(files: list[tuple[Path, os.stat_result]]) -> Removal:
    entries, size, failed = 0, 0, []
    for path, stat in files:
        try:
            path.unlink()
        except FileNotFoundError:  # another process removed it first
            continue
        except OSError as exc:
            failed.append(f"{path}: {exc.strerror}")
            continue
        entries += path.suffix == ".json"
        size += stat.st_size
    return Removal(entries, size, tuple(failed))


# -- entries as JSON ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _encode(layout: Layout) -> dict[str, Any]:
    return {
        "pdf": _b64(layout.pdf),
        "sizes": layout.sizes,
        "slots": [asdict(slot) for slot in layout.slots],
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
            for number, cut in layout.pages.items()
        },
    }


def _decode(data: dict[str, Any]) -> Layout:
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
    return Layout(_unb64(data["pdf"]), sizes, slots, pages)


def open_cache(folder: Path | None, enabled: bool, fingerprint_of: Any) -> LayoutCache:
    """The cache for one run: `folder` (default: the user's cache folder) unless
    disabled, kept under the size limit. `fingerprint_of` is called only when there is
    a cache to key."""
    if not enabled:
        return LayoutCache(None, "")
    target = folder or default_dir()
    with contextlib.suppress(OSError):
        os.makedirs(target, mode=0o700, exist_ok=True)
    return LayoutCache(target, fingerprint_of(), size_limit())
