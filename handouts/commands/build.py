"""Plain functions behind the list, build and demo commands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from handouts.engine.output import handout_file_name, write_atomic
from handouts.model.medicines import Medicine
from handouts.model.request import HandoutRequest, PatientDetails
from handouts.stamp.handout import HandoutStamper
from handouts.workspace import Made, Workspace

#: A made-up patient for the demo's personalized samples.
SAMPLE_PATIENT = PatientDetails(
    patient_name="Maria Garcia",
    procedure_date=dt.date(2026, 12, 1),
    arrival_time=dt.time(7, 30),
    physician="Dr. Aisha Okafor",
    levels="T12, L1",
    notes="Bring your insulin pen.",
    # A blood thinner to stop and start again, and a pill to take that morning.
    medicines=(
        Medicine("Eliquis (apixaban)", False, dt.date(2026, 11, 28), dt.date(2026, 12, 3)),
        Medicine("Lisinopril", True),
    ),
    medicine_plan="listed",
)


def sample_patient(strings: dict[str, str], phase: str) -> PatientDetails:
    """The demo patient with the doctor and the notes of this language and phase
    (strings.yaml demo.*): a pre-procedure note never lands on a post handout."""
    return SAMPLE_PATIENT.model_copy(
        update={
            "physician": strings["demo.physician"],
            "notes": strings[f"demo.{phase}.notes"],
            "diabetes_plan": strings["demo.diabetes_plan"],
        }
    )


@dataclass(frozen=True)
class Built:
    """A handout file written: where, and the PDF as made (None for the HTML)."""

    path: Path
    made: Made | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.made.warnings if self.made else ()


def build_handout(
    workspace: Workspace,
    request: HandoutRequest,
    output: Path | None,
    html: bool = False,
    stamper: HandoutStamper | None = None,
) -> Built:
    """Makes one handout (PDF, or HTML when asked) and writes it atomically."""
    target = output or Path(handout_file_name(request, ".html" if html else ".pdf"))
    if html:
        write_atomic(target, workspace.renderer.html(request).encode("utf-8"))
        return Built(target)
    made = workspace.make_pdf(request, stamper)
    write_atomic(target, made.data)
    return Built(target, made)


def render_demo(workspace: Workspace, out_dir: Path) -> list[Built]:
    """Every handout in every language: blank, large-print blank, and a sample patient."""
    written = []
    for handout in workspace.library.catalog():
        sample = sample_patient(workspace.library.strings(handout.language), handout.phase)
        variants = (
            (PatientDetails(), False, ""),
            (PatientDetails(), True, ""),
            (sample, False, "-sample"),
        )
        for patient, large, tag in variants:
            request = HandoutRequest(
                handout.procedure, handout.phase, handout.language, large, patient
            )
            name = handout_file_name(request, tag=tag)
            written.append(build_handout(workspace, request, out_dir / name))
    return written


def list_rows(workspace: Workspace) -> list[dict[str, str]]:
    """Each handout and language, with the clinic's approval of its current text."""
    rows = []
    months = workspace.clinic.config.approvals.review_interval_months
    for h in workspace.library.catalog():
        standing = workspace.renderer.standing(h.procedure, h.phase, h.language)
        due = standing.next_review(months)
        rows.append(
            {
                "handout": h.id,
                "language": h.language,
                "version": h.version,
                "reviewed": due.isoformat() if due else "-",
                "status": "approved" if standing.approved else h.review_status,
                "title": h.title,
            }
        )
    return rows
