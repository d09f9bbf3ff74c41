"""Batch for patient portals: bad rows reported, good rows rendered, nothing mixed up."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import (
    DEADLINE,
    LONG_NOTE,
    batch_claims,
    open_pdf,
    read_manifest,
    record_pdfs,
    resume_counts,
    run_cli,
    text_of,
    wait_group_gone,
)

from handouts.batch import pool as pool_module
from handouts.batch.run import run_batch
from handouts.options import BatchOptions, LayoutCacheOptions, ProgressMode, Target
from handouts.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "patients.csv"
HEADER = "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time,notes\n"


def _batch(tmp_path: Path, text: str | bytes, *args: str, name: str = "in.csv"):
    source = tmp_path / name
    source.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "out"
    return run_cli("batch", str(source), "-o", str(out), "--jobs", "2", *args), out


def _errors(out: Path) -> list[dict[str, str]]:
    with open(out / "errors.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("example") / "out"
    result = run_cli("batch", str(EXAMPLE), "-o", str(out), "--jobs", "2")
    return result, out


def test_example_file_renders_good_rows_and_reports_bad_ones(example_run):
    result, out = example_run
    assert result.returncode == 1
    pdfs = sorted(p.name for p in out.glob("*.pdf"))
    assert pdfs == [
        "A1001-vertebroplasty-pre-en.pdf",
        "A1002-kyphoplasty-pre-es.pdf",
        "A1003-kyphoplasty-post-en.pdf",
        "A1004-vertebroplasty-post-es.pdf",
        "A1009-kyphoplasty-post-en.pdf",
    ]
    found = {(e["row"], e["line"], e["column"]) for e in _errors(out)}
    assert found == {
        ("5", "7", "procedure"),
        ("6", "8", "procedure_date"),
        ("6", "8", "arrival_time"),
        ("7", "9", "record_id"),
        ("8", "10", ""),
    }
    assert "2026-13-45" not in (out / "errors.csv").read_text()
    assert "5 rendered" in result.stderr and "4 invalid row(s)" in result.stderr


def test_each_pdf_holds_its_own_patient_and_nobody_else(example_run):
    _, out = example_run
    names = {
        "A1001": "Maria Garcia",
        "A1002": "José Hernández",
        "A1003": "Nguyễn Thị Ánh",
        "A1004": "Ελένη Παπαδοπούλου",
    }
    manifest = read_manifest(out)
    for record_id in names:
        text = text_of((out / manifest[record_id]["file"]).read_bytes())
        assert names[record_id] in text
        assert all(other not in text for rid, other in names.items() if rid != record_id)
    assert "Traiga su faja." in text_of((out / "A1002-kyphoplasty-pre-es.pdf").read_bytes())


def test_manifest_matches_the_files(example_run):
    _, out = example_run
    manifest = read_manifest(out)
    assert len(manifest) == 5
    for entry in manifest.values():
        data = (out / entry["file"]).read_bytes()
        assert entry["status"] == "rendered"
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data) < 1_000_000
        assert entry["pages"] == len(open_pdf(data).pages)
        assert entry["content_id"] == f"{entry['procedure']}-{entry['phase']}"
        assert open_pdf(data).Root.MarkInfo.Marked is True
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = {r["record_id"]: r for r in csv.DictReader(handle)}
    assert rows.keys() == manifest.keys()
    assert not list(out.glob(".handout-tmp-*")) and not (out / ".batch-journal.jsonl").exists()


def test_csv_variants_crlf_bom_quotes_and_json(tmp_path):
    rows = [
        'R1,kyphoplasty,pre,en,"Smith, Jane",2026-12-01,07:30,"line one\r\nline, two"',
        "R2,vertebroplasty,post,es,Ana,01/12/2026,7:30 pm,",
    ]
    text = "\ufeff" + HEADER.replace("\n", "\r\n") + "\r\n".join(rows) + "\r\n"
    result, out = _batch(tmp_path, text)
    assert result.returncode == 0, result.stderr
    pdf = text_of((out / "R1-kyphoplasty-pre-en.pdf").read_bytes())
    assert "Smith, Jane" in pdf and "line, two" in pdf

    records = [
        {
            "Record ID": "J1",
            "procedure": "kyphoplasty",
            "phase": "post",
            "large_print": True,
            "patient_name": "Jon",
        }
    ]
    json_path = tmp_path / "j"
    json_path.mkdir()
    result, out = _batch(json_path, json.dumps(records), name="in.json")
    assert result.returncode == 0, result.stderr
    assert (out / "J1-kyphoplasty-post-en.pdf").is_file()
    assert read_manifest(out)["J1"]["pages"] > 4  # large print


def test_encoding_option_and_undecodable_bytes(tmp_path):
    data = (HEADER + "E1,kyphoplasty,pre,en,José,2026-12-01,07:30,\n").encode("cp1252")
    result, out = _batch(tmp_path, data)
    assert result.returncode == 2
    assert "line 2: not valid UTF-8 text" in result.stderr and "--encoding cp1252" in result.stderr
    assert not out.exists()
    result, out = _batch(tmp_path, data, "--encoding", "cp1252")
    assert result.returncode == 0
    assert "José" in text_of((out / "E1-kyphoplasty-pre-en.pdf").read_bytes())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("R1,kyphoplasty,pre\n", "missing required column(s): record_id, procedure, phase"),
        ("record_id,procedure\nR1,kyphoplasty\n", "missing required column(s): phase"),
        (b"%PDF-1.7\x00\x00binary", "not a text file"),
        ('{"record_id": "x"}', "must be a list of objects"),
        ("record_id,procedure,phase,Phase\n", "the header repeats column(s): phase"),
    ],
)
def test_file_level_problems_stop_before_writing(tmp_path, content, message):
    name = "in.json" if isinstance(content, str) and content.startswith("{") else "in.csv"
    result, out = _batch(tmp_path, content, name=name)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_row_problems_never_stop_the_good_rows(tmp_path):
    text = (
        HEADER
        + "\n".join(
            [
                "G1,kyphoplasty,pre,en,Ok One,2026-12-01,07:30,",
                "D1,kyphoplasty,pre,en,Dup A,2026-12-01,07:30,",
                "D1,kyphoplasty,post,en,Dup B,2026-12-01,07:30,",
                "L1,kyphoplasty,pre,en," + "x" * 1500 + ",2026-12-01,07:30,",
                "X1,kyphoplasty,pre,fr,Nobody,2026-12-01,07:30,",
                'Q1,kyphoplasty,pre,en,"Broken quote,2026-12-01,07:30,',
                "G2,vertebroplasty,post,en,Ok Two,2026-12-02,,",
                "G3,kyphoplasty,post,es,Ok Three,2026-12-03,,",
            ]
        )
        + "\n"
    )
    result, out = _batch(tmp_path, text)
    assert result.returncode == 1
    assert sorted(read_manifest(out)) == ["G1", "G2", "G3"]
    problems = {(e["row"], e["record_id"], e["column"]): e["message"] for e in _errors(out)}
    assert "same record_id is on rows 2, 3" in problems[("2", "D1", "record_id")]
    assert "same record_id is on rows 2, 3" in problems[("3", "D1", "record_id")]
    assert problems[("4", "L1", "patient_name")] == "longer than 1000 characters"
    assert problems[("5", "X1", "language")] == "must be one of: en, es, vi, zh-Hans"
    assert problems[("6", "", "")] == "not valid CSV: a quoted field is never closed"
    assert "xxxxxxxxxx" not in (out / "errors.csv").read_text()


def test_spreadsheet_formulas_are_neutralized(tmp_path):
    text = HEADER + "=cmd|calc,kyphoplasty,pre,en,Ann,2026-12-01,07:30,\n"
    text += "@SUM(1),kyphoplasty,sideways,en,Bob,2026-12-01,07:30,\n"
    result, out = _batch(tmp_path, text)
    assert result.returncode == 1
    manifest_csv = (out / "manifest.csv").read_text()
    assert "'=cmd|calc" in manifest_csv and "\n=cmd" not in manifest_csv
    assert "'@SUM(1)" in (out / "errors.csv").read_text()
    assert (out / "cmd_calc-kyphoplasty-pre-en.pdf").is_file()


def test_fhir_document_references_validate(tmp_path):
    from fhir.resources.R4B.documentreference import DocumentReference

    text = HEADER + "F1,kyphoplasty,pre,es,Ana,2026-12-01,07:30,\n"
    result, out = _batch(tmp_path, text, "--fhir")
    assert result.returncode == 0, result.stderr
    pdf = (out / "F1-kyphoplasty-pre-es.pdf").read_bytes()
    resource = json.loads((out / "F1-kyphoplasty-pre-es.fhir.json").read_text())
    document = DocumentReference.model_validate(resource)
    attachment = document.content[0].attachment
    assert document.status == "current"
    assert attachment.contentType == "application/pdf" and attachment.language == "es"
    assert attachment.url == "F1-kyphoplasty-pre-es.pdf"
    assert attachment.size == len(pdf)
    assert attachment.hash == hashlib.sha1(pdf).digest()  # the model decodes base64
    assert (
        resource["content"][0]["attachment"]["hash"]
        == base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    )
    assert attachment.title == "Cómo prepararse para su cifoplastia"
    assert "Ana" not in json.dumps(resource)

    embedded = tmp_path / "embed"
    embedded.mkdir()
    result, out = _batch(embedded, text, "--fhir", "data")
    resource = json.loads((out / "F1-kyphoplasty-pre-es.fhir.json").read_text())
    document = DocumentReference.model_validate(resource)
    assert document.content[0].attachment.data == (out / "F1-kyphoplasty-pre-es.pdf").read_bytes()
    assert "url" not in resource["content"][0]["attachment"]


def test_per_record_timeout_marks_failed_and_goes_on(tmp_path):
    text = HEADER + "T1,kyphoplasty,pre,en,A,2026-12-01,07:30,\nT2,kyphoplasty,post,en,B,,,\n"
    result, out = _batch(tmp_path, text, "--timeout", "0.1", "--engine", "full")
    assert result.returncode == 1
    messages = [e["message"] for e in _errors(out)]
    assert messages == ["took longer than 0.1 s; stopped"] * 2
    assert {e["status"] for e in read_manifest(out).values()} == {"failed"}
    assert not list(out.glob("*.pdf")) and not list(out.glob(".handout-tmp-*"))


def test_a_stamped_chunk_that_times_out_is_tried_again_record_by_record(tmp_path):
    """Portal records of one layout class go to a worker in one chunk, which may take
    `--timeout` per record. Notes longer than the notes box take the full render (over a
    second each), so with `--timeout 0.7` a chunk of one short record and three long
    ones (2.8 s) times out; each of its records is then tried alone: the stamped one is
    written, and only the long ones fail."""
    long_notes = "Bring your walker and your medicine list. " * 6
    rows = ["C1,kyphoplasty,post,en,Patient One,2026-12-01,,"]
    rows += [f'C{i},kyphoplasty,post,en,Long {i},2026-12-01,,"{long_notes}"' for i in (2, 3, 4)]
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    warm = run_cli(*cache, "batch", str(source), "-o", str(tmp_path / "warm"), "--jobs", "1")
    assert warm.returncode == 0, warm.stderr  # the layout is cached: no render times out
    out = tmp_path / "out"
    args = ["-o", str(out), "--jobs", "1", "--timeout", "0.7"]
    result = run_cli(*cache, "batch", str(source), *args)
    assert result.returncode == 1, result.stderr
    assert [(e["record_id"], e["message"]) for e in _errors(out)] == [
        (f"C{i}", "took longer than 0.7 s; stopped") for i in (2, 3, 4)
    ]
    manifest = read_manifest(out)
    assert (manifest["C1"]["status"], manifest["C1"]["engine"]) == ("rendered", "fast")
    assert "Patient One" in text_of((out / manifest["C1"]["file"]).read_bytes())


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("batch", str(EXAMPLE), "-o", str(blocker / "out"))
    assert result.returncode == 2
    assert "cannot write here" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds workers via /proc")
def test_resume_after_kill_renders_only_what_is_missing(tmp_path):
    ids = {f"K{i:02d}" for i in range(14)}
    rows = [
        f"K{i:02d},kyphoplasty,{'pre' if i % 2 else 'post'},en,P{i},2026-12-01,07:30,"
        for i in range(14)
    ]
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".handout-tmp-stale.part").write_bytes(b"half a pdf")
    exe = Path(sys.executable).with_name("make-handouts")
    full = ("--engine", "full")  # seconds a record: the kill finds the worker mid-render
    process = subprocess.Popen(
        [str(exe), "batch", str(source), "-o", str(out), "--jobs", "1", *full],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, which its workers join
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while len(record_pdfs(out)) < 4:
            assert process.poll() is None, f"the batch ended (exit {process.returncode})"
            assert time.monotonic() < deadline, "4 PDFs not written in time"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=DEADLINE) == -signal.SIGKILL  # killed, not finished
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    at_death = record_pdfs(out)
    wait_group_gone(process.pid, "workers of the killed batch")
    # Nothing is written once the batch is dead. (A rename(2) already under way when it
    # died completes, but listing the folder waits for the lock that the rename holds.)
    assert record_pdfs(out) == at_death, "a worker wrote a file after the batch died"
    files = {name.split("-")[0]: name for name in at_death}
    first = {name: (out / name).stat().st_mtime_ns for name in at_death}
    claimed = batch_claims(out, "after the kill")  # each claim's file is on disk, as given
    # A file that a worker renamed into place but the batch had not journalled when it was
    # killed is on disk, claimed by nobody: --resume must remove it and render it again.
    unclaimed = set(files) - claimed

    result = run_cli("batch", str(source), "-o", str(out), "--jobs", "2", "--resume", *full)
    assert result.returncode == 0, result.stderr
    assert resume_counts(result.stderr) == (len(claimed), 14 - len(claimed), len(unclaimed))
    manifest = read_manifest(out)
    assert set(manifest) == ids
    assert {r for r, e in manifest.items() if e["status"] == "resumed"} == claimed
    assert {r for r, e in manifest.items() if e["status"] == "rendered"} == ids - claimed
    for entry in manifest.values():
        data = (out / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert f"P{int(entry['record_id'][1:])}" in text_of(data)
    for record_id in claimed:  # kept, not rendered again
        assert (out / files[record_id]).stat().st_mtime_ns == first[files[record_id]]
    for record_id in unclaimed:  # rendered again, not trusted
        assert (out / files[record_id]).stat().st_mtime_ns != first[files[record_id]]
    assert record_pdfs(out) == {e["file"] for e in manifest.values()}
    assert not list(out.glob(".handout-tmp-*"))
    assert not (out / ".batch-journal.jsonl").exists()

    again = run_cli("batch", str(source), "-o", str(out), "--resume", *full)
    assert resume_counts(again.stderr) == (14, 0, 0)


def test_resume_removes_a_file_no_claim_vouches_for_even_if_its_record_fails(tmp_path, clinic_copy):
    strings = (REPO / "content" / "en" / "strings.yaml").read_text(encoding="utf-8")
    (clinic_copy / "content" / "tl").mkdir(parents=True)
    (clinic_copy / "content" / "tl" / "strings.yaml").write_text(strings, encoding="utf-8")
    source, out = tmp_path / "in.csv", tmp_path / "out"
    source.write_text(HEADER + "V1,kyphoplasty,pre,en,,,,\n")
    batch = ("--clinic", str(clinic_copy), "batch", str(source), "-o", str(out), "--resume")
    assert run_cli(*batch).returncode == 0
    kept = (out / "V1-kyphoplasty-pre-en.pdf").stat().st_mtime_ns
    # As a worker leaves it when the batch dies before journalling its record:
    (out / "V2-kyphoplasty-pre-tl.pdf").write_bytes(b"%PDF-1.7 claimed by nobody")
    source.write_text(HEADER + "V1,kyphoplasty,pre,en,,,,\nV2,kyphoplasty,pre,tl,,,,\n")

    result = run_cli(*batch)  # V2 fails now: tl has no kyphoplasty-pre handout
    assert result.returncode == 1, result.stderr
    assert resume_counts(result.stderr) == (1, 0, 1)
    manifest = read_manifest(out)
    assert {r: e["status"] for r, e in manifest.items()} == {"V1": "resumed", "V2": "failed"}
    assert record_pdfs(out) == {"V1-kyphoplasty-pre-en.pdf"}
    assert (out / "V1-kyphoplasty-pre-en.pdf").stat().st_mtime_ns == kept


def test_resume_rerenders_when_the_inputs_change(tmp_path):
    text = HEADER + "C1,kyphoplasty,pre,en,Ann,2026-12-01,07:30,\n"
    _batch(tmp_path, text)
    result, out = _batch(tmp_path, text.replace("07:30", "08:30"), "--resume")
    assert "resume: 0 record(s) already done, 1 to render" in result.stderr
    assert "8:30 AM" in text_of((out / "C1-kyphoplasty-pre-en.pdf").read_bytes())


def test_no_patient_data_in_logs_errors_names_or_metadata(tmp_path):
    canaries = ["Zzcanaryname Qqsurname", "77 Canary Lane", "Canaryville", "2026-11-29"]
    text = (
        "record_id,procedure,phase,patient_name,procedure_date,address_line1,city,notes\n"
        f"P1,kyphoplasty,pre,{canaries[0]},{canaries[3]},{canaries[1]},{canaries[2]},n\n"
        f"P2,kyphoplasty,pre,{canaries[0]},29/11/2026,{canaries[1]},{canaries[2]},n\n"
        f"P3,kyphoplasty,bogus,{canaries[0]},{canaries[3]},{canaries[1]},{canaries[2]},n\n"
    )
    result, out = _batch(tmp_path, text, "--jobs", "1")
    verbose = run_cli("-v", "batch", str(tmp_path / "in.csv"), "-o", str(tmp_path / "v"))
    assert result.returncode == 1
    logs = result.stdout + result.stderr + verbose.stdout + verbose.stderr
    files = " ".join(p.name for p in out.rglob("*"))
    tables = "".join((out / n).read_text() for n in ("errors.csv", "manifest.csv", "manifest.json"))
    pdf = open_pdf((out / "P1-kyphoplasty-pre-en.pdf").read_bytes())
    metadata = str(dict(pdf.docinfo)) + pdf.Root.Metadata.read_bytes().decode()
    for canary in [*canaries, "Zzcanaryname", "29/11/2026", "November 29"]:
        for where, text_found in (
            ("logs", logs),
            ("file names", files),
            ("tables", tables),
            ("metadata", metadata),
        ):
            assert canary not in text_found, (canary, where)
    assert "Zzcanaryname Qqsurname" in text_of((out / "P1-kyphoplasty-pre-en.pdf").read_bytes())


def test_a_language_without_this_handout_fails_its_row_only(tmp_path, clinic_copy):
    strings = (REPO / "content" / "en" / "strings.yaml").read_text(encoding="utf-8")
    (clinic_copy / "content" / "tl").mkdir(parents=True)
    (clinic_copy / "content" / "tl" / "strings.yaml").write_text(strings, encoding="utf-8")
    source = tmp_path / "in.csv"
    source.write_text(HEADER + "V1,kyphoplasty,pre,tl,,,,\nE1,kyphoplasty,post,en,,,,\n")
    out = tmp_path / "out"
    result = run_cli("--clinic", str(clinic_copy), "batch", str(source), "-o", str(out))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = (out / "errors.csv").read_text(encoding="utf-8")
    assert "V1" in errors and "content file not found: tl/kyphoplasty-pre.yaml" in errors
    assert read_manifest(out)["E1"]["status"] == "rendered"
    assert read_manifest(out)["V1"]["status"] == "failed"


ONE_POOL_ROWS = (
    "record_id,procedure,phase,language,patient_name,procedure_date,arrival_time,notes,"
    "address_line1,city,state,postal_code\n"
    "P1,kyphoplasty,post,en,Maria Garcia,2026-11-12,07:30,,12 Elm St,Springfield,IL,62704\n"
    "P2,vertebroplasty,post,es,Ana Lopez,2026-11-13,08:00,,9 Pine Rd,Boston,MA,02118\n"
    f"P3,kyphoplasty,post,en,Eve Stone,2026-11-15,10:00,{LONG_NOTE},5 Oak Ln,Troy,NY,12180\n"
)


@pytest.mark.parametrize("target", [Target.MAIL, Target.PORTAL])
def test_a_batch_starts_one_pool_for_layouts_stamping_and_full_renders(
    tmp_path, monkeypatch, target
):
    """Layouts to render, two records to stamp and one with long notes for the full
    render: all on the workers of one pool, started once."""
    started: list[int] = []

    class Counted(pool_module.ProcessPool):  # type: ignore[misc]
        def __init__(self, *args, **kwargs) -> None:
            started.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pool_module, "ProcessPool", Counted)
    source = tmp_path / "records.csv"
    source.write_text(ONE_POOL_ROWS)
    out = tmp_path / "out"
    options = BatchOptions(
        input=source,
        out_dir=out,
        jobs=2,
        target=target,
        progress=ProgressMode.NONE,
        cache=LayoutCacheOptions(folder=tmp_path / "cache"),
    )
    result = run_batch(Workspace.open(), options)
    assert (result.rendered, result.failed) == (3, 0)
    manifest = json.loads((out / "manifest.json").read_text())["records"]
    assert {e["record_id"]: e["engine"] for e in manifest} == {
        "P1": "fast", "P2": "fast", "P3": "full",
    }  # fmt: skip
    # the two stamped handouts' layouts (P3's notes are longer than any box of two lines
    # can hold: no layout of their own), and for mail two cover letters' (en, es)
    layouts = 4 if target is Target.MAIL else 2
    assert len(list((tmp_path / "cache").rglob("*.json"))) == layouts
    assert started == [2]
