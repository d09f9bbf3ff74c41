"""The session's qpdf check (conftest.every_pdf_passes_qpdf) can fail: damaged files are
reported. The damaged copies live outside the session's temp folders, which it checks."""

from __future__ import annotations

import tempfile
from pathlib import Path

from helpers import qpdf_problems


def test_qpdf_check_passes_a_handout_and_reports_damage(sample_pdfs) -> None:
    pdf = sample_pdfs[("kyphoplasty", "pre")]
    xref = pdf.rindex(b"\nxref") if b"\nxref" in pdf else pdf.rindex(b"startxref")
    with tempfile.TemporaryDirectory(prefix="damaged-pdfs-") as folder:
        good, cut, bent = (Path(folder) / name for name in ("good.pdf", "cut.pdf", "bent.pdf"))
        good.write_bytes(pdf)
        cut.write_bytes(pdf[: len(pdf) * 2 // 3])  # a write cut short
        bent.write_bytes(pdf[:xref] + pdf[xref:].replace(b"startxref\n", b"startxref\n1"))
        assert qpdf_problems(good) is None
        for damaged in (cut, bent):
            problem = qpdf_problems(damaged)
            assert problem is not None and problem.startswith("exit "), damaged.name
