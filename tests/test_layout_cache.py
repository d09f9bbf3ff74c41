"""The layout cache: `build` stamps from it without loading WeasyPrint, a damaged entry
is rebuilt, a changed clinic never reads an old layout, and processes can share it."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers import run_cli, text_of

from handouts.engine.pdfua_rules import check_pdfua
from handouts.locate import default_clinic_dir

PATIENT = [
    "--patient-name",
    "Zoë Quinn-Öberg",
    "--procedure-date",
    "2026-12-01",
    "--arrival-time",
    "7:30",
    "--physician",
    "Dr. Xu",
    "--levels",
    "T12, L1",
]


def _build(cache: Path | None, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    where = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return run_cli(*extra, *where, "-v", "build", "kyphoplasty", "pre", *PATIENT, "-o", str(out))


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json"))


def test_warm_build_stamps_the_same_handout_without_loading_weasyprint(tmp_path):
    cache = tmp_path / "cache"
    full = _build(None, tmp_path / "full.pdf")
    cold = _build(cache, tmp_path / "cold.pdf")
    assert full.returncode == cold.returncode == 0, cold.stderr
    assert "made by the full render" in full.stderr
    assert "made by the stamping path" in cold.stderr
    (entry,) = _entries(cache)
    body = json.loads(entry.read_bytes().partition(b"\n")[2])
    layout = text_of(base64.b64decode(body["pdf"]))
    assert "Quinn" not in layout and "Quinn" not in entry.read_text(encoding="utf-8")
    assert "Dr. Xu" not in layout and "December 1" not in layout  # no patient data kept
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
    assert texts["warm"] == texts["full"]
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
    assert head["format"] == 1 and len(head["sha256"]) == 64
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
