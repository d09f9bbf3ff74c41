from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest

from handouts.commands.build import SAMPLE_PATIENT
from handouts.workspace import Workspace
from handouts.commands.readability import pdf_text
from handouts.engine.request import HandoutRequest
from handouts.engine.request import PatientDetails
from handouts.locate import default_clinic_dir

HANDOUTS = [(p, ph) for p in ("vertebroplasty", "kyphoplasty") for ph in ("pre", "post")]


@pytest.fixture(scope="session")
def workspace() -> Workspace:
    return Workspace.open()


@pytest.fixture(scope="session")
def render(workspace: Workspace) -> Callable[..., bytes]:
    """Renders with the demo clinic; fails the test if WeasyPrint warned about anything."""
    cache: dict[HandoutRequest, bytes] = {}

    def _render(
        procedure: str,
        phase: str,
        patient: PatientDetails | None = None,
        lang: str = "en",
        large: bool = False,
    ) -> bytes:
        request = HandoutRequest(procedure, phase, lang, large, patient or PatientDetails())
        if request not in cache:
            rendered = workspace.renderer.render(request)
            assert rendered.warnings == (), rendered.warnings
            cache[request] = rendered.data
        return cache[request]

    return _render


@pytest.fixture(scope="session")
def sample_pdfs(render: Callable[..., bytes]) -> dict[tuple[str, str], bytes]:
    return {key: render(*key, SAMPLE_PATIENT) for key in HANDOUTS}


@pytest.fixture(scope="session")
def blank_pdfs(render: Callable[..., bytes]) -> dict[tuple[str, str], bytes]:
    return {key: render(*key) for key in HANDOUTS}


def text_of(pdf: bytes) -> str:
    """PDF text with line breaks folded, so phrases can be found across wrapped lines."""
    return " ".join(pdf_text(pdf).split())


def open_pdf(pdf: bytes) -> pikepdf.Pdf:
    import io

    return pikepdf.open(io.BytesIO(pdf))


@pytest.fixture
def clinic_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo clinic to break or customize."""
    target = tmp_path / "clinic"
    shutil.copytree(default_clinic_dir(), target)
    return target


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real console script, as a user runs it."""
    import sys

    exe = Path(sys.executable).with_name("make-handouts")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, check=False)
