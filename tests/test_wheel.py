"""The wheel carries templates, styles, content and the demo clinic, and works elsewhere."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_renders_from_another_folder(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(dist), str(REPO)],  # built with the lock's hatchling: nothing fetched
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "handouts/_data/templates/base.html",
        "handouts/_data/styles/base.css",
        "handouts/_data/content/en/kyphoplasty-pre.yaml",
        "handouts/_data/clinics/demo/clinic.toml",
        "handouts/_data/styles/fonts/AtkinsonHyperlegibleNext-Regular.ttf",
    ):
        assert needed in names, needed

    venv = tmp_path / "venv"
    # The fresh venv reuses this environment's already-installed dependencies
    # (no network needed); the package itself comes only from the wheel.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = subprocess.run(
        [
            sys.executable,
            "-c",
            "import weasyprint, os; print(os.path.dirname(os.path.dirname(weasyprint.__file__)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pth = next((venv / "lib").glob("python*/site-packages"))
    (pth / "deps.pth").write_text(site + "\n")
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # `check` renders every handout of every language from the wheel's data (and scores
    # each one's reading level); `demo` itself is tested from the checkout (test_cli.py).
    result = subprocess.run(
        [str(venv / "bin" / "make-handouts"), "check"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    handouts = list((REPO / "content").glob("*/*-p*.yaml"))  # e.g. en/kyphoplasty-pre.yaml
    lines = result.stderr.splitlines()
    scored = [line for line in lines if line.startswith("ok   ")]  # English and Spanish
    unmeasured = [line for line in lines if "no validated readability measure" in line]
    assert len(handouts) == 16 and (len(scored), len(unmeasured)) == (8, 8)
    out = tmp_path / "x.pdf"
    built = subprocess.run(
        [str(venv / "bin" / "make-handouts"), "build", "kyphoplasty", "post", "-o", str(out)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0 and out.read_bytes().startswith(b"%PDF"), built.stderr
    assert "handouts/_data/content/language-help/zh-Hans.yaml" in names
    located = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from handouts.locate import data_root; print(data_root())",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert located.endswith("handouts/_data") and str(REPO) not in located
