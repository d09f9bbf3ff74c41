"""Fixtures. Plain helpers (text of a PDF, the CLI, manifests, file edits, units) live in
helpers.py; the names below are re-exported for modules that still import them from here."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import helpers
import pytest
from cups_server import CupsServer, missing_reason, start_cups
from flask.testing import FlaskClient
from helpers import HANDOUTS as HANDOUTS
from helpers import keep, qpdf_problems
from helpers import open_pdf as open_pdf
from helpers import run_cli as run_cli
from helpers import text_of as text_of

from handouts.commands.build import SAMPLE_PATIENT
from handouts.locate import default_clinic_dir
from handouts.model.request import HandoutRequest, PatientDetails
from handouts.workspace import Workspace

#: The layout cache of this test process and the commands it runs: never the user's.
os.environ.setdefault("HANDOUTS_CACHE_DIR", tempfile.mkdtemp(prefix="handouts-test-cache-"))


@pytest.fixture(scope="session", autouse=True)
def every_pdf_passes_qpdf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fails the run when `qpdf --check` finds an error or a warning in any PDF the tests
    wrote (every file under this session's temp folders and the layout cache) or held in
    memory (rendered handouts, web responses: kept by helpers.keep)."""
    helpers.KEEP[:] = [tmp_path_factory.mktemp("in-memory-pdfs")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FlaskClient, "open", _keeping_pdf_responses(FlaskClient.open))
        yield
    helpers.KEEP.clear()
    roots = [tmp_path_factory.getbasetemp(), Path(os.environ["HANDOUTS_CACHE_DIR"])]
    pdfs = sorted({path for root in roots for path in root.rglob("*.pdf") if path.is_file()})
    with ThreadPoolExecutor(max_workers=4) as pool:
        said = dict(zip(pdfs, pool.map(qpdf_problems, pdfs), strict=True))
    problems = [f"{path}: {problem}" for path, problem in said.items() if problem]
    if problems:
        pytest.fail(f"qpdf --check: {len(problems)} of {len(pdfs)} PDFs\n" + "\n".join(problems))


def _keeping_pdf_responses(open_: Callable[..., Any]) -> Callable[..., Any]:
    def opened(self: FlaskClient, *args: Any, **kwargs: Any) -> Any:
        response = open_(self, *args, **kwargs)
        if response.mimetype == "application/pdf":
            keep(response.get_data())
        return response

    return opened


@pytest.fixture(scope="session")
def cups() -> Iterator[CupsServer]:
    """This test process's own CUPS scheduler (tests/cups_server.py). Without CUPS the
    tests that use it skip and say what to install; on CI (CI=true) they fail instead."""
    reason = missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = start_cups()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def workspace() -> Workspace:
    return Workspace.open()


#: Test files whose module-scoped fixtures run whole batches, marked as one xdist group
#: each so that `--dist loadgroup` may keep them on one worker. Every other test goes to
#: whichever worker is free (`--dist loadgroup`, see the Makefile).
GROUPED = {
    "test_batch.py",
    "test_fastpath.py",
    "test_large_print.py",
    "test_mail.py",
    "test_request.py",
    "test_right_to_left.py",
    "test_web.py",
    "test_web_browser.py",
}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in GROUPED:
            item.add_marker(pytest.mark.xdist_group(item.path.name))


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder all workers of this run share (xdist's workers have temp folders side by
    side); without xdist, this session's own."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "shared-renders"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def render(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    """Renders with the demo clinic; fails the test if WeasyPrint warned about anything.
    Each handout is rendered once per run: the workers share the PDFs through files."""
    cache: dict[HandoutRequest, tuple[tuple[str, ...], bytes]] = {}
    shared = _shared_folder(tmp_path_factory)

    def _render(
        procedure: str,
        phase: str,
        patient: PatientDetails | None = None,
        lang: str = "en",
        large: bool = False,
    ) -> bytes:
        request = HandoutRequest(procedure, phase, lang, large, patient or PatientDetails())
        if request not in cache:
            cache[request] = _shared_render(workspace, request, shared)
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


def _shared_render(
    workspace: Workspace, request: HandoutRequest, shared: Path
) -> tuple[tuple[str, ...], bytes]:
    """The warnings and PDF of a render, from the run's shared folder when another worker
    made them; written there (atomically) otherwise."""
    name = hashlib.sha256(repr(request).encode()).hexdigest()[:32]
    pdf, said = shared / f"{name}.bin", shared / f"{name}.json"
    if said.is_file():
        return tuple(json.loads(said.read_text(encoding="utf-8"))), keep(pdf.read_bytes())
    rendered = workspace.renderer.render(request)  # keep the bytes, not the layout
    for target, data in ((pdf, rendered.data), (said, json.dumps(rendered.warnings).encode())):
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)  # the .json last: it says the .bin is whole
    return tuple(rendered.warnings), keep(rendered.data)
