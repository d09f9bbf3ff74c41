"""--no-cache means one thing for build, serve and batch (portal and mail): the layout
cache folder is neither read nor written, and the layouts the run renders are kept only
until it ends (a batch hands them to its workers in its own temporary folder). Each
still makes correct PDFs, and every help text says so."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import LONG_NOTE, page_texts, run_cli, text_of

from handouts.cli import NO_CACHE_HELP, main
from handouts.options import LayoutCacheOptions
from handouts.web.app import create_app, station

HEADER = (
    "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time,notes,"
    "address_line1,city,state,postal_code\n"
)
ROWS = [
    "N1,kyphoplasty,post,en,Maria Garcia,2026-11-12,07:30,,12 Elm St,Springfield,IL,62704",
    "N2,kyphoplasty,post,en,Ann Lee,2026-11-13,08:00,,9 Pine Rd,Boston,MA,02118",
    "N3,kyphoplasty,post,en,Omar Haddad,2026-11-14,09:15,,1 Main St,Dayton,OH,45402",
    f"N4,kyphoplasty,post,en,Eve Stone,2026-11-15,10:00,{LONG_NOTE},5 Oak Ln,Troy,NY,12180",
]
NAMES = {"N1": "Maria Garcia", "N2": "Ann Lee", "N3": "Omar Haddad", "N4": "Eve Stone"}


def _empty(folder: Path) -> bool:
    """No file at all under `folder` (a folder that was never made is empty too)."""
    return not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def _batch(tmp_path: Path, target: str, name: str, *extra: str):
    source = tmp_path / "records.csv"
    source.write_text(HEADER + "\n".join(ROWS) + "\n")
    cache = tmp_path / f"{name}-cache"
    out = tmp_path / name
    result = run_cli(
        "--no-cache", "--cache-dir", str(cache), "-v", "batch", str(source), "-o", str(out),
        "--for", target, "--jobs", "2", *extra,
        env={"HANDOUTS_CACHE_DIR": str(tmp_path / f"{name}-default-cache")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _empty(cache) and _empty(tmp_path / f"{name}-default-cache")
    with (out / "manifest.csv").open(newline="") as handle:
        manifest = {row["record_id"]: row for row in csv.DictReader(handle)}
    assert sorted(manifest) == sorted(NAMES)
    for record_id, name_ in NAMES.items():
        assert name_ in text_of((out / manifest[record_id]["file"]).read_bytes())
    return result, out, manifest


def test_build_no_cache_stamps_from_memory_and_writes_no_layout(tmp_path):
    out = tmp_path / "handout.pdf"
    cache, default = tmp_path / "cache", tmp_path / "default"
    patient = ["--patient-name", "Maria Garcia", "--procedure-date", "2026-11-12"]
    for folder in (["--cache-dir", str(cache)], []):
        result = run_cli(
            "--no-cache", *folder, "-v", "build", "kyphoplasty", "post", *patient,
            "-o", str(out), env={"HANDOUTS_CACHE_DIR": str(default)},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        # The same path as with the cache on: the layout is rendered and kept in memory.
        assert "layout cache: kept" in result.stderr
        assert "made by the stamping path" in result.stderr
        said = "--cache-dir is not used with --no-cache" in result.stderr
        assert said == bool(folder)
        text = text_of(out.read_bytes())
        assert "Maria Garcia" in text and "November 12, 2026" in text
    assert _empty(cache) and _empty(default)


def test_serve_no_cache_keeps_layouts_in_memory_only(tmp_path):
    cache = tmp_path / "cache"
    app = create_app(cache=LayoutCacheOptions(folder=cache, enabled=False))
    app.testing = True
    client = app.test_client()
    for name in ("Maria Garcia", "Ann Lee"):
        data = {"procedure": "kyphoplasty", "phase": "post", "language": "en"}
        response = client.post("/handout", data={**data, "patient_name": name})
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert name in text_of(response.data)
    with app.app_context():
        held = station().stamper.cache.held()
    assert len(held) == 1  # one layout, rendered once, stamped for both patients
    assert _empty(cache)


def test_portal_batch_no_cache_hands_the_layouts_to_the_workers(tmp_path):
    result, out, manifest = _batch(tmp_path, "portal", "portal", "--recycle-after", "1")
    # One layout class (blank and typed notes share the ruled box; the long notes fit no
    # box and have no class), rendered once for the whole run although each of the two
    # workers restarts after every record; the long notes take the full render.
    assert result.stderr.count("layout cache: stored") == 1
    assert "fast path: 1 layout(s) rendered" in result.stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the run's folder: gone
    assert {r: manifest[r]["engine"] for r in NAMES} == {
        "N1": "fast", "N2": "fast", "N3": "fast", "N4": "full",
    }  # fmt: skip


def test_mail_batch_no_cache_writes_no_layout(tmp_path):
    _, out, manifest = _batch(tmp_path, "mail", "mail")
    assert {manifest[r]["engine"] for r in ("N1", "N2", "N3")} == {"fast"}
    mailing = " ".join(page_texts(out / "mailing.pdf"))
    assert all(name in mailing for name in NAMES.values())


@pytest.mark.parametrize("command", [[], ["build"], ["serve"], ["batch"]])
def test_every_help_says_the_same_about_no_cache(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert " ".join(NO_CACHE_HELP.split()) in " ".join(result.output.split())


def test_the_help_says_cache_dir_is_not_used_with_no_cache():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Not used with --no-cache (a warning says so)" in " ".join(result.output.split())
