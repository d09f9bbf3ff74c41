"""The layout cache: `build` stamps from it without loading WeasyPrint, a damaged entry
is rebuilt, a changed clinic or a changed line of the program never reads an old layout,
processes can share it, it stays under its size limit, and `cache clear` empties it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers import REPO, pdf_text, run_cli, text_of

from handouts.locate import DATA_FOLDERS, default_clinic_dir
from handouts.model.request import request_or_error
from handouts.options import Engine
from handouts.pdf.rules import check_pdfua
from handouts.stamp.cache import LayoutCache
from handouts.stamp.model import Layout
from handouts.workspace import Workspace

PATIENT = [
    "--patient-name",
    "Zoë Quinn-Öberg",
    "--procedure-date",
    "2026-11-12",
    "--arrival-time",
    "7:30",
    "--physician",
    "Dr. Xu",
    "--levels",
    "T12, L1",
]


def _build(cache: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        *extra, "--cache-dir", str(cache), "-v", "build", "kyphoplasty", "pre", *PATIENT,
        "-o", str(out),
    )  # fmt: skip


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json"))


def _full_render(out: Path) -> None:
    """The handout of PATIENT rendered in full by WeasyPrint (no stamper)."""
    workspace = Workspace.open()
    fields = dict(zip(PATIENT[::2], PATIENT[1::2], strict=True))
    request = request_or_error(
        {"procedure": "kyphoplasty", "phase": "pre"}
        | {name[2:].replace("-", "_"): value for name, value in fields.items()},
        workspace.languages(),
        default_plan=workspace.clinic.config.medicines.default_plan,
    )
    made = workspace.make_pdf(request)
    assert made.engine is Engine.FULL
    out.write_bytes(made.data)


def test_warm_build_stamps_the_same_handout_without_loading_weasyprint(tmp_path):
    cache = tmp_path / "cache"
    _full_render(tmp_path / "full.pdf")
    cold = _build(cache, tmp_path / "cold.pdf")
    assert cold.returncode == 0, cold.stderr
    assert "made by the stamping path" in cold.stderr
    (entry,) = _entries(cache)
    body = json.loads(entry.read_bytes().partition(b"\n")[2])
    layout = text_of(base64.b64decode(body["pdf"]))
    assert "Quinn" not in layout and "Quinn" not in entry.read_text(encoding="utf-8")
    assert "Dr. Xu" not in layout and "November 12" not in layout  # no patient data kept
    script = (
        "import sys\n"
        "from handouts.cli import main\n"
        f"main({['--cache-dir', str(cache), 'build', 'kyphoplasty', 'pre', *PATIENT]!r}"
        f" + ['-o', {str(tmp_path / 'warm.pdf')!r}], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('weasyprint', 'reportlab', 'fontTools', 'pdfplumber', 'jinja2')))\n"
    )
    warm = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert warm.stdout.strip() == "[]"
    texts = {name: text_of((tmp_path / f"{name}.pdf").read_bytes()) for name in ("full", "warm")}
    # The same words (their places: tests/test_fastpath.py; pdftotext may join a value
    # that starts a line to the line above it, by a hair's difference in its baseline).
    assert sorted(texts["warm"].split()) == sorted(texts["full"].split())
    assert "Zoë Quinn-Öberg" in texts["warm"] and "Dr. Xu" in texts["warm"]
    assert check_pdfua((tmp_path / "warm.pdf").read_bytes()) == []


def test_a_damaged_entry_is_rebuilt_not_trusted(tmp_path):
    cache = tmp_path / "cache"
    assert _build(cache, tmp_path / "first.pdf").returncode == 0
    (entry,) = _entries(cache)
    good = entry.read_bytes()
    head, _, body = good.partition(b"\n")
    damaged = body.replace(b'"pdf":"', b'"pdf":"AAAA', 1)  # still JSON, wrong checksum
    for broken in (head + b"\n" + damaged, good[: len(good) // 2], b"\x00garbage"):
        entry.write_bytes(broken)
        result = _build(cache, tmp_path / "again.pdf")
        assert result.returncode == 0, result.stderr
        assert text_of((tmp_path / "again.pdf").read_bytes()) == text_of(
            (tmp_path / "first.pdf").read_bytes()
        )
        assert entry.read_bytes() == good  # rebuilt and stored whole again


def test_a_changed_clinic_never_reads_an_old_layout(tmp_path):
    cache = tmp_path / "cache"
    clinic = tmp_path / "clinic"
    shutil.copytree(default_clinic_dir(), clinic)
    assert _build(cache, tmp_path / "before.pdf", "--clinic", str(clinic)).returncode == 0
    toml = clinic / "clinic.toml"
    text = toml.read_text()
    assert "Riverbend Spine Center" in text
    toml.write_text(text.replace("Riverbend Spine Center", "Lakeside Spine Clinic"))
    result = _build(cache, tmp_path / "after.pdf", "--clinic", str(clinic))
    assert result.returncode == 0, result.stderr
    after = text_of((tmp_path / "after.pdf").read_bytes())
    assert "Lakeside Spine Clinic" in after and "Riverbend Spine Center" not in after
    assert len(_entries(cache)) == 2  # a new key; the old entry is left alone


def test_one_and_two_spine_letters_share_a_layout(tmp_path):
    """What the letters mean is one paragraph, whatever their number: "L2" and
    "T12, L1" are one layout class, both stamped, and the card prints both sentences
    on one line."""
    cache = tmp_path / "cache"
    one = [*PATIENT[:-1], "L2"]
    first = run_cli("--cache-dir", str(cache), "-v", "build", "kyphoplasty", "pre", *one,
                    "-o", str(tmp_path / "one.pdf"))  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "made by the stamping path" in first.stderr
    second = _build(cache, tmp_path / "two.pdf")
    assert second.returncode == 0, second.stderr
    assert "made by the stamping path" in second.stderr
    assert "layout cache: read" in second.stderr
    assert len(_entries(cache)) == 1
    both = "T means the middle of the back. L means the lower back."
    lines = [
        " ".join(line.split())
        for line in pdf_text((tmp_path / "two.pdf").read_bytes()).splitlines()
    ]
    assert any(line == both for line in lines), lines
    one_text = text_of((tmp_path / "one.pdf").read_bytes())
    assert "L means the lower back." in one_text and "T means" not in one_text


def test_a_meaning_too_long_for_its_line_takes_the_full_render(tmp_path):
    """In large print the Spanish meaning of two letters is wider than the card: the
    record takes the full render, where the paragraph wraps, both sentences printed."""
    out = tmp_path / "es.pdf"
    result = run_cli("--cache-dir", str(tmp_path / "cache"), "-v", "build", "kyphoplasty",
                     "pre", *PATIENT, "--lang", "es", "--large-print", "yes",
                     "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "made by the full render path" in result.stderr
    text = text_of(out.read_bytes())
    assert "T significa la parte media de la espalda. L significa la parte baja" in text


def test_no_cache_writes_nothing(tmp_path):
    cache = tmp_path / "cache"
    result = run_cli("--no-cache", "--cache-dir", str(cache), "build", "kyphoplasty", "post")
    assert result.returncode == 0, result.stderr
    assert not cache.exists()


def test_processes_share_a_cold_cache(tmp_path):
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: _build(cache, tmp_path / f"p{n}.pdf"), range(4)))
    assert [r.returncode for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    texts = {text_of((tmp_path / f"p{n}.pdf").read_bytes()) for n in range(4)}
    assert len(texts) == 1
    (entry,) = _entries(cache)
    head = json.loads(entry.read_bytes().partition(b"\n")[0])
    assert head["format"] == 2 and len(head["sha256"]) == 64
    assert not list(cache.rglob(".handout-tmp-*"))


def test_values_a_full_render_would_shape_are_not_stamped(tmp_path):
    """A combining accent (HarfBuzz composes it) or Arabic letters (shaped, right to
    left) in a value: the record takes the full render, with the layout cache on."""
    cache = tmp_path / "cache"
    for number, name in enumerate(["Jose\u0301 Lopez", "Ali \u0639\u0644\u064a Khan"]):
        out = tmp_path / f"shaped-{number}.pdf"
        result = run_cli(
            "--cache-dir", str(cache), "-v", "build", "kyphoplasty", "pre",
            "--patient-name", name, "-o", str(out),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "made by the full render" in result.stderr
    plain = run_cli(
        "--cache-dir", str(cache), "-v", "build", "kyphoplasty", "pre",
        "--patient-name", "Jos\u00e9 Lopez", "-o", str(tmp_path / "plain.pdf"),
    )  # fmt: skip
    assert "made by the stamping path" in plain.stderr


def test_a_changed_line_of_the_program_rebuilds_the_layout(tmp_path):
    """A copy of the package, run as the program: one comment line appended to one of
    its modules and the next build renders the layout again under a new key."""
    source = tmp_path / "source"
    shutil.copytree(
        REPO / "handouts", source / "handouts", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in DATA_FOLDERS:  # locate.py finds them next to the package
        (source / name).symlink_to(REPO / name, target_is_directory=True)
    cache = tmp_path / "cache"
    env = {"PYTHONPATH": str(source), "HANDOUTS_CACHE_DIR": str(cache)}
    where = subprocess.run(
        [sys.executable, "-c", "import handouts; print(handouts.__file__)"],
        capture_output=True, text=True, check=True, env={**os.environ, **env}, cwd=tmp_path,
    )  # fmt: skip
    assert where.stdout.strip() == str(source / "handouts" / "__init__.py")

    def build() -> str:
        result = run_cli(
            "-v",
            "build",
            "kyphoplasty",
            "post",
            "-o",
            str(tmp_path / "o.pdf"),
            env=env,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert "made by the stamping path" in result.stderr
        return result.stderr

    assert "layout cache: stored" in build()
    (first,) = _entries(cache)
    warm = build()
    assert "layout cache: read" in warm and "layout cache: stored" not in warm
    assert _entries(cache) == [first]
    module = source / "handouts" / "engine" / "formats.py"
    module.write_text(module.read_text() + "# one changed line\n")
    assert "layout cache: stored" in build()
    entries = _entries(cache)
    assert len(entries) == 2 and first in entries  # a new key; the old one is never read


def _template(size: int) -> Layout:
    return Layout(b"%PDF" + b"x" * size, [(612.0, 792.0)], [])


def test_a_size_limit_evicts_the_least_recently_used(tmp_path):
    folder = tmp_path / "cache"
    limit = 100_000  # two entries of about 40 kB fit, three do not
    writer = LayoutCache(folder, "fingerprint", limit)
    first, second, third = (writer.key("handout", n) for n in range(3))
    writer.put(first, _template(30_000))
    writer.put(second, _template(30_000))
    assert sorted(p.stem for p in _entries(folder)) == sorted([first, second])
    reader = LayoutCache(folder, "fingerprint", limit)  # another process, reading the disk
    assert reader.get(first) is not None  # a hit: `first` is now the most recently used
    writer.put(third, _template(30_000))
    assert sorted(p.stem for p in _entries(folder)) == sorted([first, third])
    assert sum(p.stat().st_size for p in _entries(folder)) <= limit
    assert reader.get(second) is None  # evicted: rendered again when next needed


def test_a_bad_size_limit_is_a_usage_error(tmp_path):
    result = run_cli(
        "build", "kyphoplasty", "pre", env={"HANDOUTS_CACHE_MAX_MB": "lots"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: HANDOUTS_CACHE_MAX_MB: expected a whole number of megabytes, 1 or more (got 'lots')"
    )
    assert list(tmp_path.iterdir()) == []


def test_cache_info_and_clear(tmp_path):
    cache = tmp_path / "cache"
    assert _build(cache, tmp_path / "a.pdf").returncode == 0
    (entry,) = _entries(cache)
    megabytes = f"{entry.stat().st_size / 2**20:.1f} MB"
    (cache / "notes.txt").write_text("not the cache's")  # never removed: not an entry
    info = run_cli("--cache-dir", str(cache), "cache", "info", env={"HANDOUTS_CACHE_MAX_MB": "7"})
    assert info.returncode == 0, info.stderr
    assert info.stdout.splitlines() == [
        f"folder:  {cache}",
        "layouts: 1",
        f"size:    {megabytes} (limit 7 MB)",
    ]
    cleared = run_cli("--cache-dir", str(cache), "cache", "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stderr.strip() == f"removed 1 layout ({megabytes}) from {cache}"
    assert _entries(cache) == [] and sorted(p.name for p in cache.iterdir()) == ["notes.txt"]
    again = run_cli("--cache-dir", str(cache), "cache", "clear")
    assert again.returncode == 0, again.stderr
    assert again.stderr.strip() == f"removed 0 layouts (0.0 MB) from {cache}"


def test_a_layout_the_probe_cannot_measure_takes_the_full_render(tmp_path, clinic_copy):
    """A clinic's own appointment card whose value spans carry a class of their own: the
    probe render cannot find those slots, so the handout is rendered in full (with the
    patient's values), not refused, and nothing is cached."""
    card = (REPO / "templates" / "_appointment_card.html").read_text(encoding="utf-8")
    assert '<span class="v">' in card
    (clinic_copy / "templates").mkdir()
    (clinic_copy / "templates" / "_appointment_card.html").write_text(
        card.replace('<span class="v">', '<span class="v card-value">'), encoding="utf-8"
    )
    cache, out = tmp_path / "cache", tmp_path / "handout.pdf"
    done = _build(cache, out, "--clinic", str(clinic_copy))
    assert done.returncode == 0, done.stderr
    assert "made by the full render path" in done.stderr
    text = text_of(out.read_bytes())
    assert "Zoë Quinn-Öberg" in text and "Dr. Xu" in text
    assert "Xg0" not in text
    assert _entries(cache) == []
