"""`make-handouts check`: passes on the built-in content, fails with a clear line otherwise."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from helpers import edit_clinic_toml, edit_file, run_cli

from handouts.commands.check import Finding, contrast_ratio, run_checks
from handouts.locate import data_dir
from handouts.workspace import Workspace

#: The breaking tests check only the handout they break (`check HANDOUT...`): each full
#: check renders all 16 handouts; test_builtin_content_and_demo_clinic_pass runs one.
TODAY = dt.date(2026, 11, 21)


def test_builtin_content_and_demo_clinic_pass():
    result = run_cli("check")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("ok   ") == 8
    assert " error" not in result.stderr.replace("0 error(s)", "")


def test_check_takes_handout_names_and_refuses_unknown_ones():
    result = run_cli("check", "en/kyphoplasty-post")
    assert result.returncode == 0, result.stderr
    scored = [line for line in result.stderr.splitlines() if line.startswith(("ok", "FAIL"))]
    assert len(scored) == 1
    assert scored[0].startswith("ok   kyphoplasty-post (en): flesch_kincaid_grade <= 6, score ")
    unknown = run_cli("check", "en/kyphoplasty-pre", "fr/nothing")
    assert unknown.returncode == 2
    assert "no such handout: fr/nothing (one of: en/vertebroplasty-pre," in unknown.stderr


def test_contrast_ratio_matches_wcag():
    assert round(contrast_ratio("#000000"), 1) == 21.0
    assert round(contrast_ratio("#ffffff"), 1) == 1.0
    assert round(contrast_ratio("#767676"), 2) == 4.54


def test_low_contrast_brand_and_bad_phone_fail(clinic_copy):
    edit_clinic_toml(clinic_copy, 'primary_color = "#1f4e79"', 'primary_color = "#f5c518"')
    edit_clinic_toml(clinic_copy, '"(555) 010-4499"', '"call the desk"')
    result = run_cli("--clinic", str(clinic_copy), "check", "en/kyphoplasty-pre")
    assert result.returncode == 1
    assert "clinic.toml: brand.primary_color: error: #f5c518 has contrast" in result.stderr
    assert "clinic.toml: clinic.after_hours_phone: error: does not look like a phone number" in (
        result.stderr
    )


def _clinic_content(clinic: Path) -> Path:
    shutil.copytree(data_dir("content"), clinic / "content")
    return clinic / "content"


def test_hard_text_fails_with_score_and_hardest_sentences(clinic_copy):
    content = _clinic_content(clinic_copy)
    hard = (
        "Percutaneous vertebral augmentation necessitates comprehensive preoperative "
        "anticoagulation management individualized according to institutional protocols."
    )
    path = content / "en" / "vertebroplasty-post.yaml"
    edit_file(
        path,
        "      - bullets:\n          - An adult must drive you home.",
        "".join(f"      - p: {hard} Item {i} requires consideration.\n" for i in range(40))
        + "      - bullets:\n          - An adult must drive you home.",
    )
    result = run_cli("--clinic", str(clinic_copy), "check", "en/vertebroplasty-post")
    assert result.returncode == 1
    line = next(x for x in result.stderr.splitlines() if "vertebroplasty-post.yaml: error" in x)
    assert "reading level" in line and "needs flesch_kincaid_grade <= 6" in line
    assert "Percutaneous vertebral augmentation" in line
    assert "FAIL vertebroplasty-post (en)" in result.stderr


def test_missing_required_section(clinic_copy):
    content = _clinic_content(clinic_copy)
    path = content / "en" / "kyphoplasty-post.yaml"
    edit_file(path, "  - use: bone-health\n", "")
    results = run_checks(Workspace.open(clinic_copy), TODAY, only=["en/kyphoplasty-post"])
    findings = [str(r) for r in results if isinstance(r, Finding)]
    assert "en/kyphoplasty-post.yaml: error: required section 'bone-health' is missing" in findings


def test_content_cannot_approve_itself(clinic_copy):
    """Approvals live in the clinic's approvals/ (tests/test_approvals.py), not in content."""
    path = _clinic_content(clinic_copy) / "en" / "kyphoplasty-post.yaml"
    edit_file(path, "review_status: draft", "review_status: draft\nreviewed_by: Dr. Test")
    result = run_cli("--clinic", str(clinic_copy), "check", "en/kyphoplasty-post")
    assert result.returncode == 1
    assert "reviewed_by" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_override_template_and_content_error_are_reported(clinic_copy):
    (clinic_copy / "templates").mkdir()
    (clinic_copy / "templates" / "_notes.html").write_text("{{ slots.nonexistent.x }}")
    content = _clinic_content(clinic_copy)
    edit_file(content / "es" / "kyphoplasty-pre.yaml", "{arrive_before_minutes}", "{llegada}")
    result = run_cli(
        "--clinic", str(clinic_copy), "check", "en/kyphoplasty-pre", "es/kyphoplasty-pre"
    )
    assert result.returncode == 1
    assert "_notes.html:1" in result.stderr
    assert "unknown name '{llegada}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_override_template_that_breaks_the_pdf_structure_is_an_error(clinic_copy):
    templates = clinic_copy / "templates"
    templates.mkdir()
    (templates / "_sources.html").write_text(
        '<section class="sources"><h4>Sources</h4><p>See the clinic.</p></section>\n'
    )
    results = run_checks(Workspace.open(clinic_copy), TODAY, only=["en/kyphoplasty-pre"])
    findings = [str(r) for r in results if isinstance(r, Finding)]
    assert (
        "en/kyphoplasty-pre.yaml: error: PDF/UA structure 14-003: heading level skips from H2 to H4"
    ) in findings
