"""Approvals bound to the text approved: `approve` records one, the footer says so while
the text is the text approved, `check` fails when it changed and warns when a review is
due; `review` writes the packet a committee and a translator read.

The footer wording and dates are written out by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import pdfplumber
import pytest
from helpers import edit_clinic_toml, edit_file, page_texts, pdf_text, run_cli

from handouts.locate import data_dir

DRAFT = "Draft: not yet approved by a doctor or nurse"
TODAY = dt.date.today()


def approve(clinic: Path, *args: str) -> None:
    result = run_cli("--clinic", str(clinic), "--no-cache", "approve", *args)
    assert result.returncode == 0, result.stderr


def footer_of(clinic: Path, tmp_path: Path, procedure: str, phase: str, lang: str = "en") -> str:
    """The first page's footer line(s) under the clinic line, as one line."""
    out = tmp_path / f"{procedure}-{phase}-{lang}.pdf"
    result = run_cli(
        "--clinic", str(clinic), "--no-cache", "build", procedure, phase, "--lang", lang,
        "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first_page = pdf_text(out.read_bytes()).split("\f")[0]
    return " ".join(first_page.split())


def check(clinic: Path, *names: str):
    return run_cli("--clinic", str(clinic), "--no-cache", "check", *names)


def test_an_approval_shows_in_the_footer_until_the_text_changes(clinic_copy, tmp_path):
    assert DRAFT in footer_of(clinic_copy, tmp_path, "vertebroplasty", "post")
    approve(
        clinic_copy, "vertebroplasty-post", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
    )  # fmt: skip
    footer = footer_of(clinic_copy, tmp_path, "vertebroplasty", "post")
    assert (
        "vertebroplasty-post · version 1.1 · Approved by Dana Whitfield, MD on Nov 2, 2026 · "
        "Next review Nov 2, 2028"
    ) in footer
    assert DRAFT not in footer
    assert check(clinic_copy, "en/vertebroplasty-post").returncode == 0

    # A clinic setting the text prints: the lifting limit.
    edit_clinic_toml(clinic_copy, "lifting_limit_lb = 5", "lifting_limit_lb = 10")
    assert DRAFT in footer_of(clinic_copy, tmp_path, "vertebroplasty", "post")
    result = check(clinic_copy, "en/vertebroplasty-post")
    assert result.returncode == 1
    assert (
        "en/vertebroplasty-post.yaml: error: the text changed since the clinician approval of "
        "2026-11-02 (Dana Whitfield, MD)"
    ) in result.stderr


def test_one_changed_word_of_content_returns_the_footer_to_draft(clinic_copy, tmp_path):
    approve(
        clinic_copy, "kyphoplasty-post", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
    )  # fmt: skip
    assert DRAFT not in footer_of(clinic_copy, tmp_path, "kyphoplasty", "post")
    content = clinic_copy / "content"
    shutil.copytree(data_dir("content"), content)
    edit_file(content / "en" / "shared.yaml", "Walking helps you heal.", "Walking helps you mend.")
    assert DRAFT in footer_of(clinic_copy, tmp_path, "kyphoplasty", "post")
    result = check(clinic_copy, "en/kyphoplasty-post")
    assert result.returncode == 1
    assert "en/kyphoplasty-post.yaml: error: the text changed since" in result.stderr
    # The packet shows what changed, word for word.
    packet = tmp_path / "packet"
    assert run_cli(
        "--clinic", str(clinic_copy), "--no-cache", "review", "-o", str(packet), "--lang", "en"
    ).returncode == 0  # fmt: skip
    changes = (packet / "en" / "kyphoplasty-post-changes.txt").read_text(encoding="utf-8")
    assert re.search(r"^-.*Walking helps you heal\.", changes, re.M)
    assert re.search(r"^\+.*Walking helps you mend\.", changes, re.M)


def test_a_translation_needs_the_english_approval_and_a_translator(clinic_copy, tmp_path):
    approve(
        clinic_copy, "vertebroplasty-pre", "--lang", "es", "--role", "translator",
        "--by", "Ana Ruiz, CHI", "--on", "2026-11-20",
    )  # fmt: skip
    pending = footer_of(clinic_copy, tmp_path, "vertebroplasty", "pre", "es")
    assert (
        "Borrador: aún no aprobado por un médico o una enfermera (Draft: not yet approved "
        "by a doctor or nurse)"
    ) in pending
    approve(
        clinic_copy, "vertebroplasty-pre", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
    )  # fmt: skip
    footer = footer_of(clinic_copy, tmp_path, "vertebroplasty", "pre", "es")
    assert (
        "Aprobado por Dana Whitfield, MD el 2 nov 2026 · Traducción revisada por Ana Ruiz, CHI "
        "el 20 nov 2026 · Próxima revisión: 2 nov 2028"
    ) in footer


def test_approve_refuses_the_wrong_role_a_future_date_and_a_changed_text(clinic_copy):
    def refused(*args: str) -> str:
        result = run_cli("--clinic", str(clinic_copy), "--no-cache", "approve", *args)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        return result.stderr

    base = ("kyphoplasty-pre", "--by", "Dana Whitfield, MD")
    assert "a translator does not approve the en text" in refused(
        *base, "--lang", "en", "--role", "translator"
    )
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert "is in the future" in refused(
        *base, "--lang", "en", "--role", "clinician", "--on", tomorrow
    )
    assert "changed since the sign-off sheet (0000000000000000)" in refused(
        *base, "--lang", "en", "--role", "clinician", "--fingerprint", "0000000000000000"
    )
    assert not (clinic_copy / "approvals").exists()


def test_the_record_names_the_text_and_keeps_a_copy(clinic_copy):
    approve(
        clinic_copy, "kyphoplasty-pre", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
    )  # fmt: skip
    folder = clinic_copy / "approvals" / "en" / "kyphoplasty-pre"
    (record,) = folder.glob("*.json")
    data = json.loads(record.read_text(encoding="utf-8"))
    assert (data["handout"], data["lang"], data["role"], data["on"]) == (
        "kyphoplasty-pre", "en", "clinician", "2026-11-02",
    )  # fmt: skip
    text = (folder / f"text-{data['fingerprint'][:16]}.txt").read_text(encoding="utf-8")
    assert "Getting ready for your kyphoplasty" in text
    assert "Bring an adult to drive you home" in text


@pytest.mark.parametrize(
    ("months_ago", "days_ago", "expected"),
    [
        (23, 0, "warning: review due on"),
        (25, 0, "warning: review overdue since"),
    ],
)
def test_a_review_due_within_60_days_or_overdue_is_a_warning(
    clinic_copy, months_ago, days_ago, expected
):
    index = TODAY.month - 1 - months_ago
    on = TODAY.replace(year=TODAY.year + index // 12, month=index % 12 + 1, day=1)
    approve(
        clinic_copy, "vertebroplasty-post", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", on.isoformat(),
    )  # fmt: skip
    result = check(clinic_copy, "en/vertebroplasty-post")
    assert result.returncode == 0, result.stderr
    assert f"en/vertebroplasty-post.yaml: {expected}" in result.stderr


#: The section ids of the Spanish vertebroplasty-post handout, from its content files
#: (written out by hand), and the page's other parts.
POST_SECTIONS = [
    "red-flags", "what-to-do-post", "first-day", "pain-and-medicines", "bandage-and-bathing",
    "next-weeks", "follow-up", "bone-health", "words-post", "teach-back-post", "card",
    "notes", "recovery-log", "language-help", "sources",
]  # fmt: skip


def test_the_review_packet_sets_each_section_beside_its_translation(clinic_copy, tmp_path):
    packet = tmp_path / "packet"
    result = run_cli(
        "--clinic", str(clinic_copy), "--no-cache", "review", "-o", str(packet), "--lang", "es"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    folder = packet / "es"
    names = sorted(path.name for path in folder.glob("vertebroplasty-post*"))
    assert names == [
        "vertebroplasty-post-changes.txt",
        "vertebroplasty-post-side-by-side.pdf",
        "vertebroplasty-post-sign-off.pdf",
        "vertebroplasty-post-text.txt",
        "vertebroplasty-post.pdf",
    ]
    side = pdf_text((folder / "vertebroplasty-post-side-by-side.pdf").read_bytes())
    flat = " ".join(side.split())
    for section in POST_SECTIONS:
        assert section in flat
    assert "MISSING" not in flat
    assert "The first 24 hours" in flat
    assert "Las primeras 24 horas" in flat
    sheet = " ".join(pdf_text((folder / "vertebroplasty-post-sign-off.pdf").read_bytes()).split())
    text = (folder / "vertebroplasty-post-text.txt").read_text(encoding="utf-8")
    assert hashlib.sha256(text.encode()).hexdigest()[:40] in sheet.replace(" ", "")


def test_an_approval_reaches_handouts_stamped_from_the_layout_cache(clinic_copy, tmp_path):
    """A personalized handout stamped on a cached layout: the layout made before the
    approval is not reused after it."""
    cache = tmp_path / "cache"

    def stamped_footer() -> str:
        out = tmp_path / "stamped.pdf"
        result = run_cli(
            "--clinic", str(clinic_copy), "--cache-dir", str(cache), "build", "kyphoplasty",
            "post", "--patient-name", "Test Patient", "--procedure-date", "2026-12-01",
            "-o", str(out),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return " ".join(pdf_text(out.read_bytes()).split("\f")[0].split())

    assert DRAFT in stamped_footer()
    assert any(cache.rglob("*")), "the first build filled the layout cache"
    approve(
        clinic_copy, "kyphoplasty-post", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
    )  # fmt: skip
    footer = stamped_footer()
    assert "Approved by Dana Whitfield, MD on Nov 2, 2026" in footer
    assert DRAFT not in footer


def _large_print_footer_lines(clinic: Path, tmp_path: Path, whole: str) -> None:
    out = tmp_path / "large.pdf"
    result = run_cli(
        "--clinic", str(clinic), "--no-cache", "build", "kyphoplasty", "pre", "--lang", "es",
        "--large-print", "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pages = page_texts(out.read_bytes())
    assert len(pages) > 10
    for text in pages:
        assert whole in " ".join(re.sub(r"Página \d+ de \d+", " ", text).split())
    with pdfplumber.open(out) as document:
        lowest = max(char["bottom"] for page in document.pages for char in page.chars)
        assert lowest <= document.pages[0].height - PRINTER_MARGIN


PRINTER_MARGIN = 18  # points: a quarter inch most printers cannot print


def test_the_longest_footers_are_whole_on_every_large_print_page(clinic_copy, tmp_path):
    """At 16 pt a translation's draft note (in two languages) or its approval note runs
    to three lines: none is cut off or printed off the paper."""
    draft = (
        "kyphoplasty-pre · versión 1.1 · Borrador: aún no aprobado por un médico o una "
        "enfermera (Draft: not yet approved by a doctor or nurse)"
    )
    _large_print_footer_lines(clinic_copy, tmp_path, draft)
    for lang, role in (("en", "clinician"), ("es", "translator")):
        approve(
            clinic_copy, "kyphoplasty-pre", "--lang", lang, "--role", role,
            "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
        )  # fmt: skip
    approved = (
        "kyphoplasty-pre · versión 1.1 · Aprobado por Dana Whitfield, MD el 2 nov 2026 · "
        "Traducción revisada por Dana Whitfield, MD el 2 nov 2026 · Próxima revisión: 2 nov "
        "2028"
    )
    _large_print_footer_lines(clinic_copy, tmp_path, approved)


def test_a_line_only_a_patient_handout_prints_is_part_of_the_approved_text(clinic_copy):
    """The medicine plan's lines print only on a personalized handout: changing one
    still lapses the approval."""
    approve(
        clinic_copy, "kyphoplasty-pre", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
    )  # fmt: skip
    assert check(clinic_copy, "en/kyphoplasty-pre").returncode == 0
    shutil.copytree(data_dir("content"), clinic_copy / "content")
    edit_file(
        clinic_copy / "content" / "en" / "strings.yaml",
        "**You do not need to stop any medicines** for this procedure.",
        "**You do not need to stop any of your medicines** for this procedure.",
    )
    result = check(clinic_copy, "en/kyphoplasty-pre")
    assert result.returncode == 1
    assert "en/kyphoplasty-pre.yaml: error: the text changed since the clinician approval" in (
        result.stderr
    )


def test_a_translation_review_lapses_when_the_english_changes(clinic_copy, tmp_path):
    """A translator read the translation against one English text: a new sentence in the
    English, approved again by a clinician, leaves the translation to review again."""
    for lang, role in (("en", "clinician"), ("es", "translator")):
        approve(
            clinic_copy, "vertebroplasty-post", "--lang", lang, "--role", role,
            "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
        )  # fmt: skip
    assert "Traducción revisada por" in footer_of(
        clinic_copy, tmp_path, "vertebroplasty", "post", "es"
    )
    shutil.copytree(data_dir("content"), clinic_copy / "content")
    edit_file(
        clinic_copy / "content" / "en" / "shared.yaml",
        "Walking helps you heal.",
        "Walking helps you heal. Wear shoes that grip.",
    )
    approve(
        clinic_copy, "vertebroplasty-post", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-03",
    )  # fmt: skip
    footer = footer_of(clinic_copy, tmp_path, "vertebroplasty", "post", "es")
    assert "Traducción aún no revisada (Translation not yet reviewed)" in footer
    assert "Traducción revisada por" not in footer
    result = check(clinic_copy, "es/vertebroplasty-post")
    assert result.returncode == 1
    assert "es/vertebroplasty-post.yaml: error: the text changed since the translator approval" in (
        result.stderr
    )


def test_a_record_in_the_wrong_folder_is_a_clear_error(clinic_copy):
    approve(
        clinic_copy, "kyphoplasty-post", "--lang", "en", "--role", "clinician",
        "--by", "Dana Whitfield, MD", "--on", "2026-11-02",
    )  # fmt: skip
    source = clinic_copy / "approvals" / "en" / "kyphoplasty-post"
    target = clinic_copy / "approvals" / "en" / "kyphoplasty-pre"
    target.mkdir()
    for path in source.glob("*.json"):
        shutil.copy(path, target / path.name)
    result = check(clinic_copy, "en/kyphoplasty-pre")
    assert result.returncode != 0
    assert "an approval of kyphoplasty-post (en) in the folder of kyphoplasty-pre (en)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
