"""One request parser: the command line, the batch and the web form give the same answer
and the same message for the same bad value (model/request.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from handouts.cli import main
from handouts.web.app import create_app

GOOD = {
    "procedure": "kyphoplasty",
    "phase": "pre",
    "language": "en",
    "large_print": "no",
    "procedure_date": "2026-12-01",
    "arrival_time": "07:30",
}
#: field, bad value, the message every surface must give (written out, not computed).
CASES = [
    ("large_print", "maybe", "use yes or no"),
    (
        "procedure_date",
        "2026-13-45",
        "not a valid date (use YYYY-MM-DD, e.g. 2026-12-01, or MM/DD/YYYY)",
    ),
    (
        "arrival_time",
        "25:00",
        "not a valid time (use HH:MM on a 24-hour clock, e.g. 07:30, or 7:30 AM)",
    ),
    ("procedure", "fusion", "must be one of: vertebroplasty, kyphoplasty"),
    ("phase", "during", "must be one of: pre, post"),
    ("language", "xx", "must be one of: en, es, vi, zh-Hans"),
]
CLI_NAMES = {"procedure": "PROCEDURE", "phase": "PHASE", "language": "--lang"}


def _cli_args(values: dict[str, str]) -> list[str]:
    args = ["build", values["procedure"], values["phase"], "--lang", values["language"]]
    args += [f"--large-print={values['large_print']}"]
    args += ["--procedure-date", values["procedure_date"], "--arrival-time", values["arrival_time"]]
    return args


@pytest.fixture(scope="module")
def web():
    app = create_app()
    app.config["TESTING"] = True
    return app.test_client()


@pytest.mark.parametrize(("field", "bad", "message"), CASES)
def test_same_bad_value_same_message_everywhere(tmp_path, web, field, bad, message):
    values = {**GOOD, field: bad}

    result = CliRunner().invoke(main, [*_cli_args(values), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    name = CLI_NAMES.get(field, "--" + field.replace("_", "-"))
    assert f"Error: {name}: {message}\n" in result.output
    assert not (tmp_path / "x.pdf").exists()

    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["record_id", *values])
        writer.writeheader()
        writer.writerow({"record_id": "R1", **values})
        writer.writerow({"record_id": "R2", **GOOD})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["-q", "batch", str(source), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    errors = list(csv.DictReader((out / "errors.csv").read_text().splitlines()))
    assert [(e["record_id"], e["column"], e["message"]) for e in errors] == [("R1", field, message)]
    assert sorted(p.name for p in out.glob("*.pdf")) == ["R2-kyphoplasty-pre-en.pdf"]

    response = web.post("/handout", data=values)
    assert response.status_code == 400
    sentence = message[0].upper() + message[1:] + "."
    assert f'<p class="error" id="{field}-error">{sentence}</p>' in response.get_data(as_text=True)


def test_every_bad_option_is_named_and_nothing_runs(tmp_path):
    source = Path(__file__).parent.parent / "examples" / "patients.csv"
    out = tmp_path / "o"
    args = ["batch", str(source), "-o", str(out), "--jobs", "0", "--timeout", "0"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "2 invalid options:" in result.output
    assert "--jobs: Input should be greater than or equal to 1" in result.output
    assert "--timeout: Input should be greater than or equal to 0.1" in result.output
    assert not out.exists()
