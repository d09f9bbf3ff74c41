"""The command line as a nurse or an admin uses it: outputs, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from helpers import run_cli, text_of

from handouts.cli import HandoutGroup, main
from handouts.errors import HandoutError, OutputError, RecordError

REPO = Path(__file__).resolve().parents[1]


def test_build_personalized_handout_to_default_name(tmp_path):
    result = run_cli(
        "build",
        "kyphoplasty",
        "pre",
        "--patient-name",
        "Ana López",
        "--procedure-date",
        "12/01/2026",
        "--arrival-time",
        "7:15 pm",
        "--physician",
        "Dr. Lee",
        "--levels",
        "L2",
        "--notes",
        "Bring your brace.",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    target = tmp_path / "kyphoplasty-pre-en.pdf"
    assert list(tmp_path.iterdir()) == [target]  # no temp files, no name in the file name
    text = text_of(target.read_bytes())
    for value in (
        "Ana López",
        "Tuesday, December 1, 2026",
        "7:15 PM",
        "Dr. Lee",
        "L2",
        "Bring your brace.",
    ):
        assert value in text
    assert "Ana" not in result.stderr + result.stdout


def test_blank_handout_has_lines_to_write_on(tmp_path):
    out = tmp_path / "blank.pdf"
    assert run_cli("build", "vertebroplasty", "post", "-o", str(out)).returncode == 0
    html = tmp_path / "blank.html"
    assert run_cli("build", "vertebroplasty", "post", "--html", "-o", str(html)).returncode == 0
    page = html.read_text()
    assert page.count('class="slot slot-') == 5  # the card: name, date, doctor, levels, visit
    assert page.count('class="slot inline') == 7  # "What to do": the computed dates
    assert page.count(' blank" data-slot=') == 5 + 7
    assert "Notes from your care team" in text_of(out.read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "fusion", "pre"], "PROCEDURE: must be one of: vertebroplasty, kyphoplasty"),
        (["build", "kyphoplasty", "during"], "PHASE: must be one of: pre, post"),
        (["build", "kyphoplasty", "pre", "--procedure-date", "2026-13-45"], "not a valid date"),
        (["build", "kyphoplasty", "pre", "--arrival-time", "25:00"], "not a valid time"),
        (
            ["build", "kyphoplasty", "pre", "--lang", "xx"],
            "--lang: must be one of: en, es, vi, zh-Hans",
        ),
        (["build", "kyphoplasty", "pre", "--patient-name", "x" * 101], "at most 100 characters"),
    ],
)
def test_bad_values_give_one_clear_line_and_exit_2(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.pdf"))


def test_bad_date_error_does_not_echo_the_value(tmp_path):
    result = run_cli("build", "kyphoplasty", "pre", "--procedure-date", "Maria-1961", cwd=tmp_path)
    assert result.returncode == 2
    assert "--procedure-date: not a valid date" in result.stderr
    assert "Maria" not in result.stderr


def test_print_without_lp_fails_clearly(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no lp anywhere on PATH
    exe = Path(sys.executable).with_name("make-handouts")
    result = subprocess.run(
        [str(exe), "build", "kyphoplasty", "post", "--print"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "the 'lp' command was not found" in result.stderr


def test_printer_without_print_is_a_usage_error(tmp_path):
    """As batch refuses it: a --printer alone would otherwise write a file, not print."""
    result = CliRunner().invoke(
        main, ["build", "kyphoplasty", "post", "--printer", "desk", "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 2
    assert "Error: --printer needs --print" in result.output
    assert list(tmp_path.iterdir()) == []


def test_list_shows_versions_and_review_dates():
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    handouts = list((REPO / "content").glob("*/*-p*.yaml"))  # e.g. en/kyphoplasty-pre.yaml
    assert len(handouts) >= 16
    assert len(lines) == 1 + len(handouts)
    assert any(
        line.split()[:5] == ["kyphoplasty-post", "en", "1.1", "-", "draft"] for line in lines
    )


def test_demo_renders_every_handout(tmp_path):
    result = run_cli("demo", "-o", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (tmp_path / "demo").iterdir())
    handouts = list((REPO / "content").glob("*/*-p*.yaml"))
    assert len(files) == 3 * len(handouts)  # blank, large-print blank, sample patient
    for name in (
        "vertebroplasty-pre-en.pdf",
        "kyphoplasty-post-es-sample.pdf",
        "kyphoplasty-pre-es-large.pdf",
    ):
        assert name in files


def test_python_entry_point_runs_the_same_group():
    result = subprocess.run(
        [sys.executable, str(REPO / "make_handouts.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    for command in ("build", "demo", "list"):
        assert command in result.stdout


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("build", "kyphoplasty", "pre", "-o", str(blocker / "sub" / "out.pdf"))
    assert result.returncode == 2
    assert "cannot write here" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_errors_are_plain_python_and_load_no_click():
    """The web app and the batch catch HandoutError without knowing the command line."""
    assert not [c for c in HandoutError.__mro__ if c.__module__.startswith("click")]
    assert issubclass(HandoutError, Exception)
    code = "import sys, handouts.errors; print('click' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
    error = RecordError("2 bad values:", ["--a: no", "--b: no"])
    assert str(error) == error.format_message() == "2 bad values:\n  --a: no\n  --b: no"
    assert (error.message, error.problems, error.exit_code) == (
        "2 bad values:",
        ["--a: no", "--b: no"],
        2,
    )


def _refuse(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        raise RecordError(f"--when: {value} is not a day we open")
    return value


class _Busy(HandoutError):
    exit_code = 3


WRITE = "Error: cannot write here:\n  out/a.pdf\n  out/b.pdf\n"
WHEN = "Error: --when: sunday is not a day we open\n"


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (["run"], 2, WRITE),
        (["run", "--when", "sunday"], 2, WHEN),
        (["--when", "sunday", "run"], 2, WHEN),
        (["sub", "deep"], 2, WRITE),
        (["busy"], 3, "Error: the printer is busy\n"),
    ],
)
def test_cli_turns_a_handout_error_into_a_click_error(args, code, stderr):
    """Raised by a command, a subgroup's command or an option callback while parsing:
    "Error: ..." on stderr, the error's exit code (2 for every error in errors.py)."""

    @click.group(cls=HandoutGroup)
    @click.option("--when", callback=_refuse)
    def group(when: str | None) -> None:
        pass

    @group.command()
    @click.option("--when", callback=_refuse)
    def run(when: str | None) -> None:
        raise OutputError("cannot write here:", ["out/a.pdf", "out/b.pdf"])

    @group.command()
    def busy() -> None:
        raise _Busy("the printer is busy")

    @group.group()
    def sub() -> None:
        pass

    sub.add_command(run, "deep")
    result = CliRunner().invoke(group, args)
    assert result.exit_code == code
    assert result.stderr == stderr
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_a_real_command_error_exits_2_with_one_line():
    result = CliRunner().invoke(
        main, ["approve", "no-such", "--lang", "en", "--role", "clinician", "--by", "A"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no such handout 'no-such' (one of: ")
    assert "Traceback" not in result.output
