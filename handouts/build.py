"""Plain functions behind the list, build and demo commands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .clinic import Clinic, load_clinic
from .context import HandoutRequest
from .library import ContentLibrary
from .locate import data_dir, default_clinic_dir
from .output import write_atomic
from .patients import PatientDetails
from .render import Renderer

#: A made-up patient for the demo's personalized samples.
SAMPLE_PATIENT = PatientDetails(
    patient_name="Maria Garcia",
    procedure_date=dt.date(2026, 12, 1),
    arrival_time=dt.time(7, 30),
    physician="Dr. Aisha Okafor",
    levels="T12, L1",
    notes="Take your blood pressure pill with a sip of water that morning.",
)


@dataclass
class Workspace:
    """One clinic with its content and a renderer, loaded on first use."""

    clinic: Clinic

    @classmethod
    def open(cls, clinic_dir: Path | None = None) -> Workspace:
        return cls(load_clinic(clinic_dir or default_clinic_dir()))

    @cached_property
    def library(self) -> ContentLibrary:
        folders = [data_dir("content")]
        if override := self.clinic.override_dir("content"):
            folders.insert(0, override)
        return ContentLibrary(folders)

    @cached_property
    def renderer(self) -> Renderer:
        return Renderer(self.clinic, self.library)


def default_file_name(request: HandoutRequest, suffix: str = ".pdf") -> str:
    """Never contains patient data: procedure, phase, language and print size only."""
    size = "-large" if request.large_print else ""
    return f"{request.procedure}-{request.phase}-{request.language}{size}{suffix}"


def build_handout(
    workspace: Workspace, request: HandoutRequest, output: Path | None, html: bool = False
) -> Path:
    """Renders one handout (PDF, or HTML when asked) and writes it atomically."""
    target = output or Path(default_file_name(request, ".html" if html else ".pdf"))
    if html:
        data = workspace.renderer.html(request).encode("utf-8")
    else:
        data = workspace.renderer.pdf(request)
    write_atomic(target, data)
    return target


def render_demo(workspace: Workspace, out_dir: Path) -> list[Path]:
    """Every handout in every language: blank, large-print blank, and a sample patient."""
    variants = (
        (PatientDetails(), False, ""),
        (PatientDetails(), True, ""),
        (SAMPLE_PATIENT, False, "-sample"),
    )
    written = []
    for handout in workspace.library.catalog():
        for patient, large, tag in variants:
            request = HandoutRequest(
                handout.procedure, handout.phase, handout.language, large, patient
            )
            name = default_file_name(request).replace(".pdf", f"{tag}.pdf")
            written.append(build_handout(workspace, request, out_dir / name))
    return written


def list_rows(workspace: Workspace) -> list[dict[str, str]]:
    return [
        {
            "handout": h.id,
            "language": h.language,
            "version": h.version,
            "reviewed": h.last_reviewed.isoformat(),
            "status": h.review_status,
            "title": h.title,
        }
        for h in workspace.library.catalog()
    ]
