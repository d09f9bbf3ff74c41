"""Fixtures. Plain helpers (text of a PDF, the CLI, manifests, file edits, units) live in
helpers.py; the names below are re-exported for modules that still import them from here."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import HANDOUTS as HANDOUTS
from helpers import open_pdf as open_pdf
from helpers import run_cli as run_cli
from helpers import text_of as text_of

from handouts.commands.build import SAMPLE_PATIENT
from handouts.engine.request import HandoutRequest, PatientDetails
from handouts.locate import default_clinic_dir
from handouts.workspace import Workspace

#: The layout cache of this test process and the commands it runs: never the user's.
os.environ.setdefault("HANDOUTS_CACHE_DIR", tempfile.mkdtemp(prefix="handouts-test-cache-"))


@pytest.fixture(scope="session")
def workspace() -> Workspace:
    return Workspace.open()


@pytest.fixture(scope="session")
def render(workspace: Workspace) -> Callable[..., bytes]:
    """Renders with the demo clinic; fails the test if WeasyPrint warned about anything."""
    cache: dict[HandoutRequest, tuple[tuple[str, ...], bytes]] = {}

    def _render(
        procedure: str,
        phase: str,
        patient: PatientDetails | None = None,
        lang: str = "en",
        large: bool = False,
    ) -> bytes:
        request = HandoutRequest(procedure, phase, lang, large, patient or PatientDetails())
        if request not in cache:
            rendered = workspace.renderer.render(request)  # keep the bytes, not the layout
            cache[request] = (rendered.warnings, rendered.data)
        warnings, data = cache[request]
        assert warnings == (), warnings  # checked on every use, cached or not
        return data

    return _render


@pytest.fixture(scope="session")
def sample_pdfs(render: Callable[..., bytes]) -> dict[tuple[str, str], bytes]:
    return {key: render(*key, SAMPLE_PATIENT) for key in HANDOUTS}


@pytest.fixture(scope="session")
def blank_pdfs(render: Callable[..., bytes]) -> dict[tuple[str, str], bytes]:
    return {key: render(*key) for key in HANDOUTS}


@pytest.fixture
def clinic_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo clinic to break or customize."""
    target = tmp_path / "clinic"
    shutil.copytree(default_clinic_dir(), target)
    return target
