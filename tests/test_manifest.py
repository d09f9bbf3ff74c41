"""The manifest files, written row by row: the same text as writing them whole."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict

import pytest

from handouts.batch.manifest import Entry, write_errors, write_manifest
from handouts.batch.records import RowError


def _entry(record_id: str, message: str = "") -> Entry:
    return Entry(
        record_id=record_id,
        file=f"{record_id}-kyphoplasty-pre-es.pdf",
        procedure="kyphoplasty",
        phase="pre",
        language="es",
        pages=8,
        bytes=131072,
        sha256="a" * 64,
        content_id="kyphoplasty-pre",
        content_version="3",
        status="failed" if message else "rendered",
        message=message,
        input_hash="b" * 64,
        mailing_pages="3-10",
        engine="fast",
    )


@pytest.mark.parametrize("count", [0, 1, 3])
def test_manifest_json_is_what_json_dumps_writes(tmp_path, count):
    entries = [_entry(f"R{i}", 'line\n"quoted" Peña 中文' if i == 1 else "") for i in range(count)]
    write_manifest(tmp_path, list(reversed(entries)))
    text = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    rows = [asdict(e) for e in entries]  # sorted by record id, as written
    assert text == json.dumps({"records": rows}, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(text)["records"] == rows


def test_manifest_csv_rows_and_formula_guard(tmp_path):
    write_manifest(tmp_path, [_entry("R2"), _entry("R1", "=HYPERLINK(1)\r\nnext, line")])
    raw = (tmp_path / "manifest.csv").read_bytes()
    assert raw.split(b"\r\n")[:2] == [
        b"record_id,file,procedure,phase,language,pages,bytes,sha256,content_id,"
        b"content_version,status,message,input_hash,mailing_pages,engine",
        b"R1,R1-kyphoplasty-pre-es.pdf,kyphoplasty,pre,es,8,131072," + b"a" * 64
        + b",kyphoplasty-pre,3,failed,\"'=HYPERLINK(1)",
    ]  # fmt: skip
    with open(tmp_path / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["record_id"] for r in rows] == ["R1", "R2"]
    assert rows[0]["message"] == "'=HYPERLINK(1)\r\nnext, line"
    assert rows[1]["mailing_pages"] == "3-10" and rows[1]["pages"] == "8"


def test_errors_csv(tmp_path):
    write_errors(tmp_path, [RowError(4, 5, "postal_code", "use a 5-digit ZIP", "Ñ1")])
    with open(tmp_path / "errors.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "row": "4",
            "line": "5",
            "record_id": "Ñ1",
            "column": "postal_code",
            "message": "use a 5-digit ZIP",
        }
    ]
    write_errors(tmp_path, [])
    assert (tmp_path / "errors.csv").read_bytes() == b"row,line,record_id,column,message\r\n"
