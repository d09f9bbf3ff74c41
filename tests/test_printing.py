"""Printing against a real CUPS scheduler the tests start themselves (cups_server.py):
what arrives (the spooled document and the job's attributes, read back over IPP), the
queue choice, `printers`, the mail room's job, the web form's job, and each failure."""

from __future__ import annotations

import csv
import itertools
import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cups_server import CupsServer, find, refused_address, silent_address
from helpers import append_clinic_toml, edit_clinic_toml, open_pdf, page_texts, run_cli

from handouts.web.app import create_app

NAME = "Zelda Quixote-Nakamura"
PATIENT = ["--patient-name", NAME, "--procedure-date", "2026-12-01", "--arrival-time", "07:30"]
LETTER, A4 = "na_letter_8.5x11in", "iso_a4_210x297mm"
_names = itertools.count(1)


def new_queue(cups: CupsServer, kind: str, duplex_driver: bool = False) -> str:
    """A queue of its own for each test: no test sees another's state or jobs."""
    return cups.add_queue(f"{kind}-{next(_names)}", duplex_driver=duplex_driver)


def only_new_job(cups: CupsServer, before: set[int]) -> int:
    new = cups.jobs() - before
    assert len(new) == 1, f"expected one new job, the server holds {sorted(new)}"
    return new.pop()


def build_print(cups: CupsServer, cwd: Path, *args: str, env: dict[str, str] | None = None):
    command = ["build", "kyphoplasty", "pre", *PATIENT, "--print", *args]
    return run_cli(*command, cwd=cwd, env=env or cups.env)


def with_empty_tmpdir(env: dict[str, str], cwd: Path) -> tuple[dict[str, str], Path]:
    """The environment with TMPDIR an empty folder of its own, to see that nothing (no
    copy of the PDF) is written there either."""
    tmp = cwd / "tmp"
    tmp.mkdir()
    return {**env, "TMPDIR": str(tmp)}, tmp


def assert_same_document(spooled: bytes, written: bytes) -> None:
    """Same pages and the same text, page by page (the bytes differ: ids and dates)."""
    assert len(open_pdf(spooled).pages) == len(open_pdf(written).pages)
    assert page_texts(spooled) == page_texts(written)


def test_build_print_sends_the_handout_at_actual_size(cups, tmp_path):
    desk = new_queue(cups, "desk")
    env, tmp = with_empty_tmpdir(cups.env, tmp_path)
    before = cups.jobs()
    result = build_print(cups, tmp_path, "--printer", desk, env=env)
    assert result.returncode == 0, result.stderr
    job = only_new_job(cups, before)
    assert f"sent to {desk}, job {desk}-{job}" in result.stderr
    assert list(tmp_path.iterdir()) == [tmp]  # no copy of the PDF on disk
    assert list(tmp.iterdir()) == []

    written = tmp_path / "written.pdf"
    built = run_cli("build", "kyphoplasty", "pre", *PATIENT, "-o", str(written), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    spooled = cups.document(job)
    assert_same_document(spooled, written.read_bytes())
    assert NAME in page_texts(spooled)[0]

    attributes = cups.attributes(desk, job)
    assert attributes["job-name"] == "handout"
    assert attributes["media"] == LETTER
    assert attributes["print-scaling"] == "none"
    assert attributes["fit-to-page"] is False
    assert "sides" not in attributes  # a handout takes the desk printer's own default
    assert NAME not in str(attributes)


def test_clinic_desk_queue_a4_and_large_print(cups, clinic_copy, tmp_path):
    desk = new_queue(cups, "a4-desk")
    edit_clinic_toml(clinic_copy, 'page_size = "letter"', 'page_size = "A4"')
    append_clinic_toml(clinic_copy, f'[printing]\ndesk = ["{desk}", "other-desk"]\n')
    before = cups.jobs()
    result = run_cli(
        "--clinic",
        str(clinic_copy),
        *("build", "vertebroplasty", "post", "--large-print", "--print"),
        cwd=tmp_path,
        env=cups.env,
    )
    assert result.returncode == 0, result.stderr
    job = only_new_job(cups, before)
    attributes = cups.attributes(desk, job)
    assert attributes["media"] == A4
    assert attributes["print-scaling"] == "none"
    assert attributes["job-name"] == "handout"
    spooled = open_pdf(cups.document(job))
    width, height = spooled.pages[0].mediabox[2:]
    assert (round(float(width)), round(float(height))) == (595, 842)


def test_without_queue_the_server_default_prints(cups, tmp_path):
    default = new_queue(cups, "default")
    cups.run("lpadmin", "-d", default)
    before = cups.jobs()
    result = run_cli("build", "kyphoplasty", "post", "--print", cwd=tmp_path, env=cups.env)
    assert result.returncode == 0, result.stderr
    job = only_new_job(cups, before)
    assert f"sent to {default}, job {default}-{job}" in result.stderr


@pytest.fixture
def refused() -> Iterator[str]:
    """An address where no print server answers, for the test's duration."""
    with refused_address() as address:
        yield address


def make_trouble(cups: CupsServer, case: str, queue: str, refused: str) -> dict[str, str]:
    """The environment of a print that must fail; the queue broken as the case says."""
    if case == "scheduler down":
        return {**cups.env, "CUPS_SERVER": refused}
    if case == "cupsdisable":
        cups.run("cupsdisable", "-r", "out of toner", queue)
    elif case == "cupsreject":
        cups.run("cupsreject", "-r", "tray removed", queue)
    return cups.env


FAILURES = {
    "scheduler down": "the print server (CUPS at {server}) is not running or cannot be reached",
    "unknown queue": "the print server has no such queue (see `make-handouts printers`)",
    "cupsdisable": 'the queue is paused (disabled) ("out of toner")',
    "cupsreject": 'the queue is rejecting jobs ("tray removed")',
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_each_failure_is_one_clear_line_naming_the_queue(cups, tmp_path, case, refused):
    queue = new_queue(cups, "broken")
    target = "no-such-queue" if case == "unknown queue" else queue
    env, tmp = with_empty_tmpdir(make_trouble(cups, case, queue, refused), tmp_path)
    before = cups.jobs()
    result = run_cli(
        "build", "kyphoplasty", "pre", *PATIENT, "--print", "--printer", target,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 2
    expected = FAILURES[case].format(server=env["CUPS_SERVER"])
    assert result.stderr == f"Error: cannot print to {target}: {expected}\n"
    assert NAME not in result.stderr
    assert cups.jobs() == before
    assert list(tmp_path.iterdir()) == [tmp]
    assert list(tmp.iterdir()) == []


def test_queue_names_are_matched_without_regard_to_case(cups, tmp_path):
    """CUPS reads `mixed-case-desk` as `Mixed-Case-Desk`; the tool says the server's name."""
    desk = new_queue(cups, "Mixed-Case-Desk")
    before = cups.jobs()
    result = build_print(cups, tmp_path, "--printer", desk.lower())
    assert result.returncode == 0, result.stderr
    job = only_new_job(cups, before)
    assert f"sent to {desk}, job {desk}-{job}" in result.stderr
    assert cups.attributes(desk, job)["job-name"] == "handout"


HEADER = "record_id,procedure,phase,language,patient_name,address_line1,city,state,postal_code\n"
ROWS = "P1,kyphoplasty,pre,en,Maria Garcia,12 Elm St,Springfield,IL,62704\n"
ROWS += "P2,vertebroplasty,post,en,Ann Lee,9 Pine Rd,Boston,MA,02118\n"


def _mail(cups: CupsServer, clinic: Path, tmp_path: Path, *args: str):
    source = tmp_path / "mail.csv"
    source.write_text(HEADER + ROWS)
    out = tmp_path / "out"
    command = ["--clinic", str(clinic), "batch", str(source), "-o", str(out), "--for", "mail"]
    return run_cli(*command, "--print", *args, env=cups.env), out


def test_mailing_goes_to_the_mail_room_two_sided(cups, clinic_copy, tmp_path):
    mail_room = new_queue(cups, "mail-room", duplex_driver=True)
    append_clinic_toml(clinic_copy, f'[printing]\nmail_room = "{mail_room}"\n')
    before = cups.jobs()
    result, out = _mail(cups, clinic_copy, tmp_path)
    assert result.returncode == 0, result.stderr
    job = only_new_job(cups, before)
    assert f"sent mailing.pdf to {mail_room}, job {mail_room}-{job}" in result.stderr
    assert cups.document(job) == (out / "mailing.pdf").read_bytes()
    attributes = cups.attributes(mail_room, job)
    assert attributes["sides"] == "two-sided-long-edge"
    assert attributes["media"] == LETTER
    assert attributes["print-scaling"] == "none"
    assert attributes["fit-to-page"] is False
    assert attributes["job-name"] == "mailing"
    cover = page_texts(out / "mailing.pdf")[0]
    assert "Print at actual size (100%), on both sides, long edge." in cover


def test_one_sided_mailing_says_so(cups, clinic_copy, tmp_path):
    mail_room = new_queue(cups, "mail-room")
    before = cups.jobs()
    result, out = _mail(cups, clinic_copy, tmp_path, "--no-duplex", "--printer", mail_room)
    assert result.returncode == 0, result.stderr
    attributes = cups.attributes(mail_room, only_new_job(cups, before))
    assert attributes["sides"] == "one-sided"
    assert (
        "Print at actual size (100%), on one side of the paper."
        in page_texts(out / "mailing.pdf")[0]
    )


def test_a_mailing_not_printed_stays_and_says_how_to_print_it(cups, clinic_copy, tmp_path):
    mail_room = new_queue(cups, "mail-room")
    cups.run("cupsreject", mail_room)
    before = cups.jobs()
    result, out = _mail(cups, clinic_copy, tmp_path, "--printer", mail_room)
    assert result.returncode == 2
    last = result.stderr.splitlines()[-1]
    assert last == (
        f"Error: cannot print to {mail_room}: the queue is rejecting jobs; "
        f"{out / 'mailing.pdf'} is kept: print it at actual size (100%), on both sides, "
        "long edge"
    )
    assert "Traceback" not in result.stderr
    assert (out / "mailing.pdf").is_file()
    assert cups.jobs() == before


def test_print_needs_the_mail_target(tmp_path):
    result = run_cli("batch", str(tmp_path / "x.csv"), "-o", str(tmp_path / "o"), "--print")
    assert result.returncode == 2
    assert "--print and --printer need --for mail" in result.stderr


def test_printers_lists_state_and_options(cups):
    idle = new_queue(cups, "list-idle")
    duplex = new_queue(cups, "list-duplex", duplex_driver=True)
    paused = new_queue(cups, "list-paused")
    cups.run("cupsdisable", paused)
    cups.run("cupsreject", paused)
    result = run_cli("printers", env=cups.env)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows[idle][1:3] == ["idle", "accepting"]
    assert rows[paused][1:3] == ["disabled", "rejecting"]
    assert rows[duplex][1:] == [
        *("idle", "accepting", "*None", "DuplexNoTumble", "DuplexTumble", "*Letter", "A4")
    ]


def test_printers_without_server_is_one_line(cups, refused):
    result = run_cli("printers", env={**cups.env, "CUPS_SERVER": refused})
    assert result.returncode == 2
    assert result.stderr == (
        f"Error: cannot print: the print server (CUPS at {refused}) "
        "is not running or cannot be reached\n"
    )


# -- the web form ---------------------------------------------------------------------


@pytest.fixture
def desk_app(cups, clinic_copy, monkeypatch):
    """The form of a clinic with two desk queues, printing to the test server."""
    queues = [new_queue(cups, "web-desk"), new_queue(cups, "web-desk")]
    append_clinic_toml(clinic_copy, f"[printing]\ndesk = {queues!r}\n".replace("'", '"'))
    monkeypatch.setenv("CUPS_SERVER", cups.address)
    app = create_app(clinic_copy)
    app.testing = True
    return app.test_client(), queues


FORM = {"procedure": "kyphoplasty", "phase": "pre", "language": "en", "patient_name": NAME}


def form_token(client) -> str:
    """The token of the form the server serves (a print must carry it)."""
    found = re.search(
        r'name="token" value="([0-9a-f]{64})"', client.get("/").get_data(as_text=True)
    )
    assert found, "the form has no token"
    return found.group(1)


def test_web_form_prints_to_the_chosen_desk_queue(cups, desk_app, caplog):
    client, queues = desk_app
    form = client.get("/").get_data(as_text=True)
    assert all(f'<option value="{q}"' in form for q in queues)
    assert 'name="print" value="1"' in form
    assert "print-frame" not in form  # the server prints, not the browser
    before = cups.jobs()
    data = {**FORM, "print": "1", "printer": queues[1], "token": form_token(client)}
    with caplog.at_level(logging.DEBUG, logger="handouts"):
        response = client.post("/handout", data=data)
    job = only_new_job(cups, before)
    # On to a page without the patient, which reloading does not print again.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/printed?queue={queues[1]}&job={job}"
    notice = client.get(response.headers["Location"])
    assert notice.status_code == 200
    assert f"Sent to {queues[1]}, job {job}." in notice.get_data(as_text=True)
    assert NAME not in notice.get_data(as_text=True)
    assert cups.jobs() == before | {job}
    shown = client.post("/handout", data=FORM)
    assert_same_document(cups.document(job), shown.get_data())
    attributes = cups.attributes(queues[1], job)
    assert attributes["job-name"] == "handout"
    assert attributes["print-scaling"] == "none"
    assert attributes["media"] == LETTER
    assert NAME not in caplog.text
    assert f"sent a handout to {queues[1]}, job {queues[1]}-{job}" in caplog.text


def test_web_form_prints_only_to_the_clinics_queues(cups, desk_app):
    client, _ = desk_app
    other = new_queue(cups, "not-listed")
    before = cups.jobs()
    data = {**FORM, "print": "1", "printer": other, "token": form_token(client)}
    response = client.post("/handout", data=data)
    assert response.status_code == 400
    assert "Choose one of the clinic&#39;s printers." in response.get_data(as_text=True)
    assert cups.jobs() == before


def test_web_form_shows_the_print_servers_trouble(cups, desk_app, caplog):
    client, queues = desk_app
    cups.run("cupsdisable", queues[0])
    before = cups.jobs()
    data = {**FORM, "print": "1", "printer": queues[0], "token": form_token(client)}
    with caplog.at_level(logging.DEBUG, logger="handouts"):
        response = client.post("/handout", data=data)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert f"Not printed: cannot print to {queues[0]}: the queue is paused (disabled)." in page
    assert cups.jobs() == before
    assert f"cannot print to {queues[0]}: the queue is paused" in caplog.text
    assert NAME not in caplog.text


def test_a_print_without_the_forms_token_is_refused(cups, desk_app, caplog):
    """No Origin, Referer or Sec-Fetch-Site and no token: not this server's form."""
    client, queues = desk_app
    before = cups.jobs()
    for token in (None, "0" * 64):
        data = {**FORM, "print": "1", "printer": queues[0]}
        if token is not None:
            data["token"] = token
        with caplog.at_level(logging.DEBUG, logger="handouts"):
            response = client.post("/handout", data=data)
        assert response.status_code == 403
        assert response.mimetype == "text/plain"
    assert cups.jobs() == before
    assert NAME not in caplog.text


def test_a_hung_print_server_keeps_the_form_waiting_no_longer_than_its_deadline(
    desk_app, monkeypatch
):
    client, queues = desk_app
    monkeypatch.setattr("handouts.web.views.WEB_TIMEOUT", 1.0)
    with silent_address() as address:
        monkeypatch.setenv("CUPS_SERVER", address)
        data = {**FORM, "print": "1", "printer": queues[0], "token": form_token(client)}
        response = client.post("/handout", data=data)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert f"Not printed: cannot print to {queues[0]}: the print server did not answer " in page
    assert "within 1 s." in page


def test_printed_shows_only_a_desk_queue_and_a_job_number(desk_app):
    client, queues = desk_app
    assert client.get(f"/printed?queue={queues[0]}&job=7").status_code == 200
    for query in ("queue=elsewhere&job=7", f"queue={queues[0]}&job=x", "queue=%3Cb%3E&job=1"):
        assert client.get(f"/printed?{query}").status_code == 404


PAUSE_AS_ROOT = """\
{
  NAME "Pause-Printer"
  OPERATION Pause-Printer
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name root
  STATUS successful-ok
}
"""


def test_another_user_cannot_change_the_test_servers_queues(cups, tmp_path):
    """The private scheduler's admin operations need root, authenticated: `nobody`
    neither adds a queue nor pauses one by claiming to be root in the request."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    queue = new_queue(cups, "guarded")
    test = cups.root / "pause-as-root.test"
    test.write_text(PAUSE_AS_ROOT)
    test.chmod(0o644)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    uri = f"ipp://{cups.address}/printers/{queue}"
    for command in (
        ["lpadmin", "-p", "intruder", "-v", "file:///dev/null"],
        ["ipptool", uri, str(test)],
    ):
        done = subprocess.run(
            [*nobody, str(find(command[0])), *command[1:]],
            capture_output=True, text=True, env=cups.env, cwd=tmp_path, check=False,
        )  # fmt: skip
        assert done.returncode != 0, command
    listed = cups.run("lpstat", "-p").stdout
    assert "intruder" not in listed
    assert f"printer {queue} is idle" in listed


def test_a_mailing_with_a_failed_record_prints_the_good_letters_and_exits_1(
    cups, clinic_copy, tmp_path
):
    mail_room = new_queue(cups, "mail-room")
    source = tmp_path / "mail.csv"
    source.write_text(HEADER + ROWS + "P3,kyphoplasty,pre,en,Bad Zip,1 Main St,Town,NY,1234\n")
    out = tmp_path / "out"
    before = cups.jobs()
    result = run_cli(
        "--clinic", str(clinic_copy), "batch", str(source), "-o", str(out), "--for", "mail",
        "--no-duplex", "--print", "--printer", mail_room, env=cups.env,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    job = only_new_job(cups, before)
    assert f"sent mailing.pdf to {mail_room}, job {mail_room}-{job}" in result.stderr
    with (out / "errors.csv").open(newline="") as handle:
        (error,) = csv.DictReader(handle)  # the bad row, named as today
    assert (error["row"], error["record_id"], error["column"]) == ("3", "P3", "postal_code")
    assert "1 row(s) with errors" in result.stderr and "errors.csv" in result.stderr
    # The job holds the cover sheet and the two good letters, one-sided, nothing else.
    letters = sorted(out.glob("P*.pdf"))
    assert [p.name[:2] for p in letters] == ["P1", "P2"]
    spooled = cups.document(job)
    pages = page_texts(spooled)
    assert len(pages) == 1 + sum(len(open_pdf(p.read_bytes()).pages) for p in letters)
    assert "Print at actual size (100%), on one side of the paper." in pages[0]
    assert "Bad Zip" not in " ".join(pages)
