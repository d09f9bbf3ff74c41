"""Mailing: window-envelope letters, preflight, ZIP order, duplex padding, previews."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from helpers import (
    extend_clinic_stylesheet,
    page_texts,
    points,
    read_manifest,
    run_cli,
    set_mailer_id,
    text_of,
    window_box,
)

from handouts.commands.build import SAMPLE_PATIENT
from handouts.mail.address import validate_address
from handouts.mail.assemble import printed_pages
from handouts.mail.letter import LetterJob, render_letter
from handouts.mail.preflight import preflight_letter
from handouts.model.clinic import Window
from handouts.model.request import HandoutRequest
from handouts.workspace import Workspace

HEADER = (
    "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time,"
    "address_line1,address_line2,city,state,postal_code\n"
)
ROWS = [
    "M1,kyphoplasty,pre,en,Maria Garcia,2026-11-12,07:30,12 Elm St,,Springfield,IL,62704",
    "M2,vertebroplasty,pre,es,José Hernández,2026-12-02,8:15 AM,45 Oak Ave,Apt 3,Chicago,IL,"
    "60601-1234",
    "M3,kyphoplasty,post,en,Bartholomew Alexander Featherstonehaugh-Montgomery III,2026-12-03,,"
    "1234 North Westminster Boulevard Extension,Building 7 Apartment 1402 Rear Entrance,"
    "Rancho Palos Verdes,CA,90275",
    "M4,kyphoplasty,pre,en,No State,2026-12-03,09:00,1 Main St,,Town,,12345",
    "M5,kyphoplasty,pre,en,Bad Zip,2026-12-03,09:00,1 Main St,,Town,NY,1234",
    "M6,vertebroplasty,post,en,Ann Lee,2026-12-04,,9 Pine Rd,Unit 2,Boston,MA,02118",
]
NAMES = {
    "M1": "Maria Garcia",
    "M2": "José Hernández",
    "M3": "Featherstonehaugh-Montgomery",
    "M6": "Ann Lee",
}


def _mail(tmp_path: Path, *args: str, rows: list[str] = ROWS, clinic: Path | None = None):
    source = tmp_path / "mail.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    prefix = ["--clinic", str(clinic)] if clinic else []
    result = run_cli(
        *prefix,
        "batch",
        str(source),
        "-o",
        str(out),
        "--for",
        "mail",
        "--letter-date",
        "2026-11-21",
        *args,
    )
    return result, out


@pytest.fixture(scope="module")
def mailed(tmp_path_factory):
    return _mail(tmp_path_factory.mktemp("mail"), "--preview")


def test_bad_addresses_fail_their_row_only(mailed):
    result, out = mailed
    assert result.returncode == 1
    errors = (out / "errors.csv").read_text().splitlines()
    assert "4,5,M4,state,required for mail" in errors
    assert any(e.startswith("5,6,M5,postal_code,") for e in errors)
    assert sorted(r for r, e in read_manifest(out).items() if e["status"] == "rendered") == [
        "M1",
        "M2",
        "M3",
        "M6",
    ]


def test_mailing_file_is_in_zip_order_with_duplex_padding(mailed):
    _, out = mailed
    manifest = read_manifest(out)
    mailing = pikepdf.open(out / "mailing.pdf")
    texts = page_texts(out / "mailing.pdf")
    assert "Mail room" in texts[0] and texts[1] == ""  # cover sheet, blank back
    ranges = []
    odd_letters = []
    for record_id, name in NAMES.items():
        first, last = map(int, manifest[record_id]["mailing_pages"].split("-"))
        assert last - first + 1 == manifest[record_id]["pages"]
        assert first % 2 == 1  # starts on a front side
        assert name in texts[first - 1]  # its own cover letter
        for page in range(first, last + 1):  # nobody else's name in this letter
            assert all(
                other not in texts[page - 1] for rid, other in NAMES.items() if rid != record_id
            )
        pad = (last - first + 1) % 2  # an odd letter gets a blank back page
        assert texts[last : last + pad] == [""] * pad
        odd_letters.append(bool(pad))
        ranges.append((first, record_id))
    # every letter here has 8 pages (the cover letter and 7): no blank back page
    assert odd_letters == [False] * len(NAMES)
    assert [rid for _, rid in sorted(ranges)] == ["M6", "M2", "M1", "M3"]  # 02118 < 60601 < ...
    # the file ends with the last letter, and its blank back page when it is odd
    last_letter = max(ranges)[1]
    last_page = int(manifest[last_letter]["mailing_pages"].split("-")[1])
    assert len(mailing.pages) == last_page + odd_letters[list(NAMES).index(last_letter)]
    cover = texts[0]
    assert "Letters 4" in cover and f"Pages in this file {len(mailing.pages)}" in cover
    assert f"Sheets of paper {len(mailing.pages) // 2}" in cover
    assert "from 02118 to 90275" in cover


def test_no_duplex_adds_no_blank_pages(tmp_path):
    result, out = _mail(tmp_path, "--no-duplex", rows=ROWS[:2])
    assert result.returncode == 0, result.stderr
    manifest = read_manifest(out)
    assert manifest["M2"]["mailing_pages"] == f"2-{1 + manifest['M2']['pages']}"
    total = 1 + sum(e["pages"] for e in manifest.values())
    assert len(pikepdf.open(out / "mailing.pdf").pages) == total


def test_verbose_logs_the_tools_lines_not_a_pdf_parsers_trace(tmp_path):
    """`-v` shows the batch's own lines; pdfminer (read by the preflight) traces every
    token of a page at DEBUG, letters' text included: it stays out of the log."""
    source = tmp_path / "mail.csv"
    source.write_text(HEADER + "\n".join(ROWS[:2]) + "\n")
    out = tmp_path / "out"
    result = run_cli("-v", "--no-cache", "batch", str(source), "-o", str(out),
                     "--for", "mail", "--letter-date", "2026-11-21")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fast path:" in result.stderr
    assert "nexttoken" not in result.stderr
    assert "get_unichr" not in result.stderr
    for row in ROWS[:2]:  # nor a patient's name or street
        name, street = row.split(",")[4], row.split(",")[7]
        assert name not in result.stderr and street not in result.stderr


def test_each_letter_is_its_own_pdf_with_cover_letter_first(mailed):
    _, out = mailed
    letter = (out / "M2-vertebroplasty-pre-es.pdf").read_bytes()
    with pdfplumber.open(io.BytesIO(letter)) as plumber:
        first = plumber.pages[0].extract_text().replace("\xa0", " ")
        second = plumber.pages[1].extract_text()
    assert "Hola:" in first and "Paciente José Hernández" in first
    assert "Fecha miércoles, 2 de diciembre de 2026" in first
    assert "Hora de llegada 8:15 a.m." in first
    assert "Cómo prepararse para su vertebroplastia" in second


def _words_in(pdf: bytes, window: Window) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as plumber:
        words = plumber.pages[0].extract_words()
    x0, top, x1, bottom = window_box(window)
    return [
        w["text"]
        for w in words
        if w["x1"] > x0 and w["x0"] < x1 and w["bottom"] > top and w["top"] < bottom
    ]


def test_windows_show_only_the_addresses(mailed, workspace):
    _, out = mailed
    mail = workspace.clinic.config.mail
    pdf = (out / "M3-kyphoplasty-post-en.pdf").read_bytes()
    shown = " ".join(_words_in(pdf, mail.recipient_window))
    assert "Featherstonehaugh-Montgomery" in shown and "90275" in shown
    upper = " ".join(_words_in(pdf, mail.return_window))
    assert upper == "Riverbend Spine Center 1200 Riverbend Parkway, Suite 300 Springfield, IL 62704"
    for secret in ("kyphoplasty", "Kyphoplasty", "fracture", "procedure", "December"):
        assert secret not in shown and secret not in upper


def test_preview_images_show_the_first_letters(mailed):
    _, out = mailed
    from PIL import Image

    previews = sorted(out.glob("preview-*.png"))
    assert [p.name for p in previews] == ["preview-1.png", "preview-2.png", "preview-3.png"]
    image = Image.open(previews[0]).convert("RGB")
    assert image.size == (612, 792)
    outline = (int(points(0.875)), int(points(2.6)))  # the preview is 72 dpi: a pixel a point
    assert image.getpixel(outline) == (214, 39, 40)  # window outline


def _letter(workspace: Workspace, address_cells: dict[str, str], lang: str = "en") -> bytes:
    address, problems = validate_address(address_cells)
    assert not problems
    job = LetterJob(
        HandoutRequest("kyphoplasty", "pre", lang, False, SAMPLE_PATIENT),
        address,
        dt.date(2026, 11, 21),
        7,
    )
    return render_letter(workspace.renderer, job).data


ADDRESS = {
    "patient_name": "Maria Garcia",
    "address_line1": "12 Elm St",
    "city": "Springfield",
    "state": "il",
    "postal_code": "627041234",
}


def test_preflight_passes_and_fails_when_the_address_moves(workspace, clinic_copy):
    mail = workspace.clinic.config.mail
    clinic = workspace.clinic.config.clinic
    returned = [clinic.name, *clinic.address]
    address, _ = validate_address(ADDRESS)
    pdf = _letter(workspace, ADDRESS)
    assert preflight_letter(pdf, mail, address.lines, returned) == []
    assert address.postal_code == "62704-1234" and address.state == "IL"

    extend_clinic_stylesheet(clinic_copy, "letter.css", ".window-recipient { margin-left: 2in; }")
    moved = _letter(Workspace.open(clinic_copy), ADDRESS)
    problems = preflight_letter(moved, mail, address.lines, returned)
    assert "the address is not fully inside the recipient window's safe zone" in problems
    assert all("Garcia" not in p for p in problems)


def test_moved_address_fails_the_row_in_a_batch(tmp_path, clinic_copy):
    # body text sliding into the window
    extend_clinic_stylesheet(clinic_copy, "letter.css", ".letter-body { top: 2.3in; }")
    result, out = _mail(tmp_path, rows=ROWS[:1], clinic=clinic_copy)
    assert result.returncode == 1
    assert (
        "preflight: the recipient window shows text other than the address"
        in (out / "errors.csv").read_text()
    )
    assert not (out / "mailing.pdf").exists()


def test_a_letter_layout_the_preflight_refuses_is_rendered_once(tmp_path, clinic_copy):
    """Three letters of one class whose layout fails the preflight: the layout is
    rendered and refused once, not once a letter; each letter is still reported."""
    extend_clinic_stylesheet(clinic_copy, "letter.css", ".letter-body { top: 2.3in; }")
    rows = [ROWS[0].replace("M1,", f"M{n},", 1) for n in (1, 7, 8)]
    source = tmp_path / "mail.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n")
    result = run_cli("--clinic", str(clinic_copy), "-v", "--no-cache", "batch", str(source),
                     "-o", str(tmp_path / "out"), "--for", "mail",
                     "--letter-date", "2026-11-21")  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("a letter layout failed the preflight") == 1, result.stderr
    errors = (tmp_path / "out" / "errors.csv").read_text()
    assert errors.count("preflight: the recipient window shows text") == 3


def test_intelligent_mail_barcode_only_with_a_mailer_id(workspace, clinic_copy):
    def bars(pdf: bytes) -> int:
        with pdfplumber.open(io.BytesIO(pdf)) as plumber:
            page = plumber.pages[0]
            _, top, _, bottom = window_box(workspace.clinic.config.mail.recipient_window)
            return sum(1 for r in page.rects if top < r["top"] < bottom)

    assert bars(_letter(workspace, ADDRESS)) == 0
    set_mailer_id(clinic_copy, "123456")
    with_barcode = _letter(Workspace.open(clinic_copy), ADDRESS)
    assert bars(with_barcode) == 65
    mail = Workspace.open(clinic_copy).clinic.config.mail
    address, _ = validate_address(ADDRESS)
    assert (
        preflight_letter(
            with_barcode,
            mail,
            address.lines,
            [
                "Riverbend",
                "Spine",
                "Center",
                "1200 Riverbend Parkway, Suite 300",
                "Springfield, IL 62704",
            ],
        )
        == []
    )


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ({**ADDRESS, "state": ""}, ("state", "required for mail")),
        ({**ADDRESS, "state": "XX"}, ("state", "use the 2-letter USPS state code, e.g. IL")),
        (
            {**ADDRESS, "postal_code": "6270"},
            ("postal_code", "use a 5-digit ZIP or ZIP+4, e.g. 62704 or 62704-1234"),
        ),
        ({**ADDRESS, "address_line1": ""}, ("address_line1", "required for mail")),
        ({**ADDRESS, "patient_name": "x" * 70}, ("patient_name", "longer than 64 characters")),
    ],
)
def test_address_validation(cells, problem):
    address, problems = validate_address(cells)
    assert address is None and problem in problems


def test_spanish_letter_and_accents_fit(workspace):
    pdf = _letter(
        workspace,
        {**ADDRESS, "patient_name": "María José Ñúñez de la Peña", "address_line2": "Apto. 4B"},
        lang="es",
    )
    text = text_of(pdf)
    assert "Paciente María José Ñúñez de la Peña" in text
    assert "Apto. 4B" in text


def test_fast_path_draws_the_same_65_bars(tmp_path, clinic_copy):
    set_mailer_id(clinic_copy, "123456")
    _, top, _, bottom = window_box(Workspace.open(clinic_copy).clinic.config.mail.recipient_window)
    counts = {}
    for engine in ("fast", "full"):
        run = tmp_path / engine
        run.mkdir()
        result, out = _mail(run, "--engine", engine, rows=ROWS[:1], clinic=clinic_copy)
        assert result.returncode == 0, result.stderr
        assert read_manifest(out)["M1"]["engine"] == engine
        with pdfplumber.open(out / "M1-kyphoplasty-pre-en.pdf") as document:
            rects = document.pages[0].rects
        counts[engine] = sum(1 for r in rects if top < r["top"] < bottom)
    assert counts == {"fast": 65, "full": 65}


def test_resume_renders_again_when_the_address_changes(tmp_path):
    result, out = _mail(tmp_path, rows=[ROWS[0]])
    assert result.returncode == 0, result.stderr
    moved = ROWS[0].replace("12 Elm St,,Springfield,IL,62704", "99 New Rd,,Madison,WI,53703")
    result, out = _mail(tmp_path, "--resume", rows=[moved])
    assert result.returncode == 0, result.stderr
    (entry,) = read_manifest(out).values()
    assert entry["status"] == "rendered"  # not "resumed": the old letter had the old address
    letter = text_of((out / entry["file"]).read_bytes())
    assert "99 New Rd" in letter and "12 Elm St" not in letter


def test_duplex_pads_odd_letters_only():
    assert printed_pages([7, 8, 14, 13], duplex=True) == 2 + 8 + 8 + 14 + 14
    assert printed_pages([7, 8], duplex=False) == 1 + 7 + 8
