"""The patient's medicine plan: the same table rows and "What to do" lines from every
input (command line, CSV, JSON, web form); no personalized pre handout without a plan;
the pre handout's 911 box; dates across New Year; spine levels explained in the card.

Every expected line is written out by hand (the demo clinic: call_days_before = 10,
restart_call_days_after = 1, fasting 8 hours, main phone (555) 010-4400).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from helpers import (
    append_clinic_toml,
    edit_clinic_toml,
    page_texts,
    pdf_text,
    read_manifest,
    run_cli,
)

from handouts.pdf.structure import structure
from handouts.web.app import create_app

NAME = "Quentin Zabriskie"
PATIENT = {"patient_name": NAME, "procedure_date": "2026-12-01", "arrival_time": "07:30"}
ELIQUIS = "Eliquis (apixaban)|no|2026-11-28|2026-12-03"
LISINOPRIL = "Lisinopril|yes||"
DIABETES = "Check your blood sugar when you wake up."

# What a pre handout with that plan prints, written out by hand.
PRE_LINES = [
    "Your medicine plan from your care team:",
    "Last dose of Eliquis (apixaban): Saturday, November 28",
    "Take that morning, with a small sip of water: Lisinopril",
    f"Your diabetes plan from your care team: {DIABETES}",
    # the medicine table: name, morning, last dose, start again
    "Eliquis (apixaban) No Sat, Nov 28 Thu, Dec 3",
    "Lisinopril Yes",
]


def words(pdf: bytes) -> str:
    """The PDF's text in drawing order, line breaks folded, and the gap a slot leaves
    before a colon or a period closed ("Eliquis (apixaban) : Saturday" reads
    "Eliquis (apixaban): Saturday")."""
    return re.sub(r" ([:.,])", r"\1", " ".join(pdf_text(pdf, raw=True).split()))


def cli_args(fields: dict[str, str]) -> list[str]:
    return [arg for name, value in fields.items() for arg in (f"--{name.replace('_', '-')}", value)]


def build(tmp_path: Path, *args: str, clinic: Path | None = None) -> bytes:
    out = tmp_path / "out.pdf"
    where = ["--clinic", str(clinic)] if clinic else []
    done = run_cli(*where, "build", *args, "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def batch(tmp_path: Path, source: Path, *extra: str, code: int = 0) -> tuple[Path, str]:
    out = tmp_path / "batch"
    done = run_cli(*extra, "batch", str(source), "-o", str(out), "--jobs", "1")
    assert done.returncode == code, done.stderr
    return out, done.stderr


def from_cli(tmp_path: Path) -> bytes:
    plan = ["--medicine", ELIQUIS, "--medicine", LISINOPRIL, "--diabetes-plan", DIABETES]
    return build(tmp_path, "vertebroplasty", "pre", *cli_args(PATIENT), *plan)


def from_csv(tmp_path: Path) -> bytes:
    source = tmp_path / "records.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "procedure", "phase", *PATIENT, "medicines", "diabetes_plan"])
        writer.writerow(
            ["r1", "vertebroplasty", "pre", *PATIENT.values(), f"{ELIQUIS}; {LISINOPRIL}", DIABETES]
        )
    out, _ = batch(tmp_path, source)
    return (out / read_manifest(out)["r1"]["file"]).read_bytes()


def from_json(tmp_path: Path) -> bytes:
    source = tmp_path / "records.json"
    medicines = [
        {"name": "Eliquis (apixaban)", "morning": "no", "last_dose": "2026-11-28"}
        | {"restart": "2026-12-03"},
        {"name": "Lisinopril", "morning": "yes"},
    ]
    record = {"record_id": "r1", "procedure": "vertebroplasty", "phase": "pre", **PATIENT}
    record |= {"medicines": medicines, "diabetes_plan": DIABETES}
    source.write_text(json.dumps([record]))
    out, _ = batch(tmp_path, source)
    return (out / read_manifest(out)["r1"]["file"]).read_bytes()


def from_web(tmp_path: Path) -> bytes:
    client = create_app().test_client()
    rows = {
        "med-1-name": "Eliquis (apixaban)",
        "med-1-morning": "no",
        "med-1-last_dose": "2026-11-28",
        "med-1-restart": "2026-12-03",
        "med-3-name": "Lisinopril",  # an empty row between is skipped
        "med-3-morning": "yes",
    }
    data = {"procedure": "vertebroplasty", "phase": "pre", "language": "en", **PATIENT, **rows}
    response = client.post("/handout", data=data | {"diabetes_plan": DIABETES})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data()


@pytest.mark.parametrize("source", [from_cli, from_csv, from_json, from_web])
def test_every_input_prints_the_same_plan(tmp_path, source):
    text = words(source(tmp_path))
    for line in PRE_LINES:
        assert line in text
    # the plan replaces the generic "ask which medicines" line and its write-on lines
    assert "Ask your care team about your medicines." not in text


def test_bad_entries_are_named_by_number_and_field_never_by_value(tmp_path):
    done = run_cli(
        "build",
        "kyphoplasty",
        "pre",
        *cli_args(PATIENT),
        "--medicine",
        "Zyxwvutal|maybe|2026-13-01|",
        "--medicine",
        "|yes",
        "-o",
        str(tmp_path / "x.pdf"),
    )
    assert done.returncode == 2
    assert "--medicine: entry 1, morning: use yes or no, last_dose: not a valid date" in done.stderr
    assert "entry 2, name: required" in done.stderr
    assert "Zyxwvutal" not in done.stderr and "2026-13-01" not in done.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_dates_that_do_not_add_up_are_refused(tmp_path):
    done = run_cli(
        "build",
        "kyphoplasty",
        "pre",
        *cli_args(PATIENT),
        "--medicine",
        "Warfarin|no|2026-12-05|2026-11-30",
        "-o",
        str(tmp_path / "x.pdf"),
    )
    assert done.returncode == 2
    assert "entry 1, restart: before the last dose" in done.stderr
    assert "entry 1, last_dose: after the procedure date" in done.stderr
    assert "entry 1, restart: before the procedure date" in done.stderr


@pytest.fixture
def no_default(clinic_copy: Path) -> Path:
    """A clinic that declares no default medicine plan."""
    edit_clinic_toml(clinic_copy, 'default_plan = "call"\n', "")
    return clinic_copy


REQUIRED = "required for a personalized handout before the procedure"


def test_a_personalized_pre_handout_without_a_plan_fails(tmp_path, no_default):
    done = run_cli(
        "--clinic",
        str(no_default),
        "build",
        "kyphoplasty",
        "pre",
        *cli_args(PATIENT),
        "-o",
        str(tmp_path / "x.pdf"),
    )
    assert done.returncode == 2
    assert f"--medicine-plan: {REQUIRED}" in done.stderr
    assert NAME not in done.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_blank_and_post_handouts_need_no_plan(tmp_path, no_default):
    blank = words(build(tmp_path, "kyphoplasty", "pre", clinic=no_default))
    assert "Your care team will fill in this table with you." in blank
    assert "Ask your care team about your medicines." in blank
    post = words(build(tmp_path, "kyphoplasty", "post", *cli_args(PATIENT), clinic=no_default))
    assert NAME in post


def test_the_batch_fails_only_the_row_without_a_plan(tmp_path, no_default):
    source = tmp_path / "records.csv"
    header = "record_id,procedure,phase,patient_name,procedure_date,medicine_plan\n"
    rows = [
        "a,kyphoplasty,pre,Ann Lee,2026-12-01,none",
        f"b,kyphoplasty,pre,{NAME},2026-12-01,",
        "c,kyphoplasty,pre,Cy Wu,2026-12-01,call",
    ]
    source.write_text(header + "\n".join(rows) + "\n")
    out, stderr = batch(tmp_path, source, "--clinic", str(no_default), code=1)
    assert sorted(read_manifest(out)) == ["a", "c"]
    errors = list(csv.DictReader((out / "errors.csv").read_text().splitlines()))
    assert [(e["row"], e["record_id"], e["column"]) for e in errors] == [
        ("2", "b", "medicine_plan")
    ]
    assert errors[0]["message"].startswith(REQUIRED)
    assert NAME not in stderr and NAME not in (out / "errors.csv").read_text()


def test_the_web_form_shows_the_field_error(no_default):
    client = create_app(no_default).test_client()
    data = {"procedure": "kyphoplasty", "phase": "pre", "language": "en", **PATIENT}
    response = client.post("/handout", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<p class="error" id="medicine_plan-error">' in html
    assert "Required for a personalized handout before the procedure" in html


NONE_LINE = "You do not need to stop any medicines for this procedure."
CALL_LINE = (
    "We will call you about your medicines by Saturday, November 21. "
    "If we have not called you by then, call us at (555) 010-4400."
)


@pytest.mark.parametrize(
    ("plan", "expected", "absent"),
    [
        (["--medicine-plan", "none"], NONE_LINE, CALL_LINE),
        (["--medicine-plan", "call"], CALL_LINE, NONE_LINE),
        ([], CALL_LINE, NONE_LINE),  # the demo clinic's default_plan = "call"
    ],
)
def test_none_call_and_the_clinic_default(tmp_path, plan, expected, absent):
    text = words(build(tmp_path, "kyphoplasty", "pre", *cli_args(PATIENT), *plan))
    assert expected in text
    assert absent not in text
    # nothing listed: the morning medicines are still asked about and written in
    assert "Ask your care team about your medicines." in text


def test_post_restart_dates_and_the_call_by_line(tmp_path):
    plan = ["--medicine", ELIQUIS, "--medicine", "Plavix (clopidogrel)|no|2026-11-24|"]
    text = words(build(tmp_path, "kyphoplasty", "post", *cli_args(PATIENT), *plan))
    assert "Start Eliquis (apixaban) again on Thursday, December 3." in text
    assert "Start Plavix (clopidogrel) again only when we tell you." in text
    assert "If we have not told you by Wednesday, December 2, call us at (555) 010-4400." in text
    assert "Too early can cause bleeding. Too late can cause blood clots." in text
    assert "Write the date here" not in text  # the generic write-on line is replaced


def test_post_without_a_restart_unknown_has_no_call_by_line(tmp_path):
    text = words(build(tmp_path, "kyphoplasty", "post", *cli_args(PATIENT), "--medicine", ELIQUIS))
    assert "Start Eliquis (apixaban) again on Thursday, December 3." in text
    assert "If we have not told you by" not in text


def test_a_year_is_printed_on_dates_in_another_year(tmp_path):
    fields = {"procedure_date": "2027-01-01", "arrival_time": "07:00", "patient_name": NAME}
    plan = ["--medicine", "Eliquis (apixaban)|no|2026-12-29|2027-01-02"]
    pre = words(build(tmp_path, "kyphoplasty", "pre", *cli_args(fields), *plan))
    assert "Stop eating and drinking at 11:00 PM on December 31, 2026." in pre
    assert "Last dose of Eliquis (apixaban): December 29, 2026" in pre
    assert "Eliquis (apixaban) No Tue, Dec 29, 2026 Sat, Jan 2" in pre
    assert "Arrive at 7:00 AM on Friday, January 1." in pre  # the procedure's year: none
    post_fields = {"procedure_date": "2026-12-30", "patient_name": NAME}
    post = words(build(tmp_path, "vertebroplasty", "post", *cli_args(post_fields)))
    assert "Thu, Dec 31" in post and "Fri, Jan 1, 2027" in post  # the recovery log: one line each


@pytest.mark.parametrize(
    ("levels", "meaning", "time"),
    [
        (
            "T12, L1",
            "T means the middle of the back. L means the lower back.",
            "For 2 bones: about 2 to 4 hours",
        ),
        ("L2", "L means the lower back.", "For 1 bone: about 1 to 2 hours"),
        ("T11-L2", "T means the middle of the back. L means the lower back.", None),
    ],
)
def test_the_card_explains_the_levels_and_the_time(tmp_path, levels, meaning, time):
    text = words(build(tmp_path, "kyphoplasty", "pre", *cli_args(PATIENT), "--levels", levels))
    assert meaning in text
    if time is None:  # a range: how many bones is not guessed
        assert "bones: about" not in text and "bone: about" not in text
        assert "How long it takes" in text
    else:
        assert f"How long it takes {time}" in text
    vertebro = words(
        build(tmp_path, "vertebroplasty", "pre", *cli_args(PATIENT), "--levels", levels)
    )
    assert meaning in vertebro and "How long it takes" not in vertebro


def test_a_second_spine_letter_is_printed_after_a_record_with_one(tmp_path):
    """Records differing in how many letters their levels use do not share a layout: the
    card's second line is printed even when a one-letter record came first."""
    first = words(build(tmp_path, "kyphoplasty", "pre", *cli_args(PATIENT), "--levels", "L2"))
    assert "L means the lower back." in first and "T means" not in first
    second = words(build(tmp_path, "kyphoplasty", "pre", *cli_args(PATIENT), "--levels", "T12, L1"))
    assert "T means the middle of the back. L means the lower back." in second


# The pre handout's emergency box, in each language's words (written out by hand).
EMERGENCY = {
    "en": (
        "Call 911 or go to the nearest emergency department if you have:",
        "Do not drive yourself.",
    ),
    "es": (
        "Llame al 911 o vaya a la sala de emergencias más cercana si tiene:",
        "No maneje usted mismo.",
    ),
    "zh-Hans": ("如果您有以下情况，请拨打911或去最近的急诊室：", "不要自己开车。"),
    "vi": (
        "Gọi 911 hoặc đến phòng cấp cứu gần nhất nếu quý vị có các dấu hiệu sau:",
        "Không tự lái xe.",
    ),
}


# The appointment card, and the first section after the warning boxes (the notes box
# comes between the card and the boxes).
CARD_AND_NEXT = {
    "en": ("Your appointment", "Your medicines"),
    "es": ("Su cita", "Sus medicinas"),
    "zh-Hans": ("您的预约", "您的药物"),
    "vi": ("Cuộc hẹn của quý vị", "Thuốc của quý vị"),
}


def squeezed(text: str, lang: str) -> str:
    """Chinese text without the spaces extraction puts between characters."""
    return re.sub(r"\s+", "", text) if lang == "zh-Hans" else " ".join(text.split())


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", sorted(EMERGENCY))
@pytest.mark.parametrize("procedure", ["vertebroplasty", "kyphoplasty"])
def test_every_pre_handout_has_the_911_box_near_the_top(render, procedure, lang, large):
    """Right after the appointment card (on page 1 with it, or opening page 2), before
    any other section."""
    pages = page_texts(render(procedure, "pre", lang=lang, large=large))
    heading, no_driving = (squeezed(t, lang) for t in EMERGENCY[lang])
    card, first_section = CARD_AND_NEXT[lang]
    text = squeezed(" ".join(pages), lang)
    assert text.index(squeezed(card, lang)) < text.index(heading)
    assert text.index(heading) < text.index(no_driving) < text.index(squeezed(first_section, lang))
    if not large:
        assert heading in squeezed(pages[0], lang) + squeezed(pages[1], lang)
    if lang == "en":
        box = text[text.index(heading) : text.index(first_section)]
        for sign in (
            "Chest pain or trouble breathing.",
            "Sudden weakness or numbness in your legs, or you cannot walk.",
            "You cannot control your bladder or bowels.",
            "A fever of 100.4 °F (38 °C) or higher, chills, or a new infection.",
        ):
            assert sign in box


def test_check_warns_about_the_medicine_settings(no_default):
    edit_clinic_toml(no_default, "call_days_before = 10", "call_days_before = 5")
    done = run_cli("--clinic", str(no_default), "check", "en/kyphoplasty-pre")
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "medicines.default_plan: warning: not set" in said
    assert "medicines.call_days_before: warning: 5 days" in said


def test_the_demo_clinic_declares_its_default_and_check_is_quiet_about_it():
    done = run_cli("check", "en/kyphoplasty-pre")
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "medicines." not in said


# -- the second edition's other changes (the committee's list) ---------------------------


def test_the_main_message_opens_page_one_in_bold(sample_pdfs):
    pre = (
        "Stop eating and drinking at the times below, follow your medicine plan, and "
        "bring an adult to drive you home."
    )
    post = "Know these warning signs, and get help fast if you have one."
    for (procedure, phase), pdf in sample_pdfs.items():
        message = pre if phase == "pre" else post
        text = words(pdf)  # in drawing order
        first = "What to do" if phase == "pre" else "When to get help"
        assert message in text, (procedure, phase)
        assert text.index(message) < text.index(first)  # before everything else
        with pdfplumber.open(io.BytesIO(pdf)) as document:
            chars = [c for c in document.pages[0].chars if c["text"].strip()]
        joined = "".join(c["text"] for c in chars)
        start = joined.index(message.replace(" ", "")[:30])  # on page 1
        assert all("Bold" in c["fontname"] for c in chars[start : start + 30])


def test_source_titles_are_in_plain_words(workspace):
    jargon = ("meta-analysis", "vertebral augmentation", "consensus statement", "percutaneous")
    for handout in workspace.library.catalog():
        if handout.language == "en":
            for source in handout.sources:
                assert not any(word in source.title.lower() for word in jargon), source.title


def test_reasons_for_the_key_instructions(sample_pdfs):
    pre = words(sample_pdfs[("vertebroplasty", "pre")])
    post = words(sample_pdfs[("kyphoplasty", "post")])
    assert "An empty stomach keeps you safe" in pre
    assert "This gives your back time to heal." in pre  # the lifting limit, before too
    for reason in (
        "Too much can hurt your liver.",
        "Too early can cause bleeding. Too late can cause blood clots.",
        "Germs in the water can get into the needle spot.",
        "It needs to stay clean and dry to heal.",
        "ask your care team what to take for it",  # constipation from opioids
    ):
        assert reason in post


def test_the_tub_and_lifting_dates_are_in_what_to_do(sample_pdfs):
    post = words(sample_pdfs[("kyphoplasty", "post")])
    assert "Do not soak in a bathtub, pool or hot tub until Tuesday, December 15." in post
    pre = words(sample_pdfs[("kyphoplasty", "pre")])
    assert "do not lift more than 5 pounds until January 12, 2027." in pre


def test_how_the_fracture_was_confirmed_and_who_it_is_not_for(sample_pdfs):
    for procedure in ("vertebroplasty", "kyphoplasty"):
        text = words(sample_pdfs[(procedure, "pre")])
        assert "an MRI scan, or a bone scan if you cannot have an MRI" in text
        assert "It is not for people who have:" in text
        assert "A bleeding problem that is not under control." in text


def test_blank_notes_follow_the_card(blank_pdfs):
    text = words(blank_pdfs[("vertebroplasty", "pre")])
    card, notes = text.index("Your appointment"), text.index("Notes from your care team")
    assert card < notes < text.index("Your medicines")


def test_the_log_length_is_a_clinic_setting(clinic_copy, tmp_path):
    append_clinic_toml(clinic_copy, "[options]\nrecovery_log_days = 10\n")
    fields = {"procedure_date": "2026-12-01", "patient_name": NAME}
    text = words(build(tmp_path, "vertebroplasty", "post", *cli_args(fields), clinic=clinic_copy))
    assert "Your 10-day recovery log" in text
    assert "Fri, Dec 11" in text and "Sat, Dec 12" not in text  # days 1 to 10


def test_the_main_message_has_pictures_of_what_it_asks(sample_pdfs):
    expected = {
        "pre": ["No food or drink", "Medicine plan", "Adult driver"],
        "post": ["Call 911", "Call us"],
    }
    for (procedure, phase), pdf in sample_pdfs.items():
        with pikepdf.open(io.BytesIO(pdf)) as document:
            root = structure(document)
            assert root is not None
            alts = [str(e.obj.Alt) for e in root.walk() if e.role == "Figure" and e.has_alt]
        for caption in expected[phase]:  # each picture is named for a screen reader
            assert caption in alts, (procedure, phase)
        text = words(pdf)
        first = "What to do" if phase == "pre" else "When to get help"
        for caption in expected[phase]:  # printed under each picture, before the boxes
            assert text.index(caption) < text.index(first)
