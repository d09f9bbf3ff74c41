"""Printing through CUPS: the desk queue for handouts, the mail-room queue for mailings.

The tool talks to the CUPS scheduler through CUPS' own command-line clients (`lp`,
`lpstat`, `lpoptions` from Debian's cups-client) rather than pycups: they need no C
build and no Python dependency beyond the standard library, they honour CUPS_SERVER
and the machine's client.conf like every other program, and `lp` reads the PDF from its
standard input, so no copy of a patient's handout is written to disk. Their messages
are read with LC_ALL=C, so the parsing does not depend on the user's language.

Every job is sent at actual size (print-scaling=none, fit-to-page=false) on the
clinic's media; a mailing adds sides=two-sided-long-edge when its letters are laid out
for duplex. The job title is never patient data: "handout" or "mailing".
CUPS reads queue names without regard to case (`Desk` is `desk`); messages use the
server's spelling. A print has one deadline for all its commands, so the web form's
thread never waits on a hung print server for long.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from handouts.errors import OutputError
from handouts.mail.assemble import HOW_TO_PRINT
from handouts.model.clinic import QUEUE_NAME, QUEUE_NAME_RULE, ClinicConfig

#: PWG media names (PWG 5101.1), which every CUPS queue maps to its own sizes.
MEDIA = {"letter": "na_letter_8.5x11in", "A4": "iso_a4_210x297mm"}
Sides = Literal["one-sided", "two-sided-long-edge"]
#: Seconds a whole print (or `printers`) may take from the command line, and from the
#: web form, whose server thread waits meanwhile; a live scheduler answers in milliseconds.
TIMEOUT = 60.0
WEB_TIMEOUT = 15.0


class PrintError(OutputError):
    """The job could not be handed to the print server (exit 2)."""


@dataclass(frozen=True)
class JobSettings:
    """What goes with the PDF: the title (never patient data) and the IPP options."""

    title: Literal["handout", "mailing"]
    media: str
    sides: Sides | None = None  # None: the queue's own default

    def options(self) -> list[str]:
        values = [f"media={self.media}", "print-scaling=none", "fit-to-page=false"]
        if self.sides:
            values.append(f"sides={self.sides}")
        return [arg for value in values for arg in ("-o", value)]


@dataclass(frozen=True)
class PrintJob:
    """A job the scheduler accepted: `desk-12` is job 12 on queue desk."""

    queue: str
    number: int

    @property
    def id(self) -> str:
        return f"{self.queue}-{self.number}"


class Deadline:
    """One time limit shared by every CUPS command of a print."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.end - time.monotonic(), 0.001)


def desk_queue(config: ClinicConfig, printer: str | None) -> str | None:
    """The queue for a handout: the one asked for, else the clinic's (first) desk queue,
    else None (the print server's default)."""
    return printer or next(iter(config.printing.desk_queues), None)


def mail_queue(config: ClinicConfig, printer: str | None) -> str | None:
    """The queue for a mailing: the one asked for, else the clinic's mail room, else None
    (the print server's default)."""
    return printer or config.printing.mail_room or None


def handout_settings(config: ClinicConfig) -> JobSettings:
    """A handout (normal or large print): actual size on the clinic's paper."""
    return JobSettings("handout", MEDIA[config.brand.page_size])


def mailing_settings(config: ClinicConfig, duplex: bool) -> JobSettings:
    """mailing.pdf: its letters start on a front side only when printed two-sided."""
    sides: Sides = "two-sided-long-edge" if duplex else "one-sided"
    return JobSettings("mailing", MEDIA[config.brand.page_size], sides)


def send_to_printer(
    pdf: bytes, queue: str | None, settings: JobSettings, seconds: float = TIMEOUT
) -> PrintJob:
    """Prints via `lp`, reading the PDF from stdin, all within `seconds`; checks the
    queue first, because `lp` queues a job on a paused printer without a word and blames
    a dead scheduler on the queue's name."""
    lp = tool("lp")
    if queue is not None:
        check_queue_name(queue)
    deadline = Deadline(seconds)
    server_running(queue, deadline)
    state = queue_state(queue or default_queue(deadline), deadline)
    queue = state.name  # the server's spelling
    if not state.accepting:
        raise PrintError(f"cannot print to {queue}: the queue is rejecting jobs{state.why}")
    if not state.enabled:
        raise PrintError(f"cannot print to {queue}: the queue is paused (disabled){state.why}")
    command = [lp, "-d", queue, "-t", settings.title, *settings.options()]
    done = run(command, pdf, queue, deadline)
    if done.returncode != 0:
        raise PrintError(f"cannot print to {queue}: lp said: {said(done)}")
    found = re.search(rf"request id is {re.escape(queue)}-(\d+)", done.stdout, re.IGNORECASE)
    if found is None:
        raise PrintError(f"cannot print to {queue}: lp gave no job id ({said(done)})")
    return PrintJob(queue, int(found.group(1)))


def check_queue_name(queue: str) -> None:
    if not re.fullmatch(QUEUE_NAME, queue):
        raise PrintError(f"cannot print: not a CUPS queue name ({QUEUE_NAME_RULE})")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise PrintError(
            f"cannot print: the '{name}' command was not found (install CUPS' client, "
            "e.g. 'sudo apt-get install cups-client', or save the PDF with -o and print it)"
        )
    return found


def run(
    command: list[str], data: bytes | None, queue: str | None, deadline: Deadline
) -> subprocess.CompletedProcess[str]:
    """A CUPS command in the C locale (its messages parsed in English), stopped at the
    deadline."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    where = f" to {queue}" if queue else ""
    try:
        done = subprocess.run(
            command, input=data, capture_output=True, timeout=deadline.left(), env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise PrintError(
            f"cannot print{where}: the print server did not answer within {deadline.seconds:g} s"
        ) from None
    except OSError as exc:
        raise PrintError(f"cannot print{where}: {command[0]} failed to run ({exc})") from None
    return subprocess.CompletedProcess(
        command,
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
    )


def said(done: subprocess.CompletedProcess[str]) -> str:
    """The command's message on one line."""
    text = " ".join((done.stderr or done.stdout).split())
    return text.removeprefix("lp: ").removeprefix("Error - ") or f"exit code {done.returncode}"


def server_running(queue: str | None, deadline: Deadline) -> None:
    """Fails with one line naming the server (and the queue) when the scheduler is down."""
    done = run([tool("lpstat"), "-H", "-r"], None, queue, deadline)
    lines = done.stdout.splitlines()
    server = lines[0].strip() if lines else "localhost"
    if "scheduler is running" not in done.stdout:
        target = f" to {queue}" if queue else ""
        raise PrintError(
            f"cannot print{target}: the print server (CUPS at {server}) is not running "
            "or cannot be reached"
        )


def default_queue(deadline: Deadline) -> str:
    found = server_default(deadline)
    if found is None:
        raise PrintError(
            "cannot print: no queue given and the print server has no default queue "
            "(use --printer, or set [printing] in clinic.toml; see `make-handouts printers`)"
        )
    return found


def server_default(deadline: Deadline) -> str | None:
    """The print server's default queue (`lpstat -d`), or None when it has none."""
    done = run([tool("lpstat"), "-d"], None, None, deadline)
    found = re.search(r"system default destination: (\S+)", done.stdout)
    return found.group(1) if found else None


State = Literal["idle", "printing", "disabled"]
#: What lpstat says under a queue stopped without a message (cupsdisable, cupsreject).
DEFAULT_REASONS = ("", "Paused", "Rejecting Jobs")
STATES: dict[str, State] = {"is idle": "idle", "now printing": "printing", "disabled": "disabled"}


@dataclass(frozen=True)
class QueueState:
    """A queue as `lpstat -p -a` shows it."""

    name: str
    state: State
    accepting: bool
    reason: str = ""  # the operator's message (cupsdisable -r / cupsreject -r)

    @property
    def enabled(self) -> bool:
        return self.state != "disabled"

    @property
    def why(self) -> str:
        return f' ("{self.reason}")' if self.reason else ""


def queue_state(queue: str, deadline: Deadline) -> QueueState:
    """The queue's state, its name in the server's spelling (CUPS ignores case)."""
    done = run([tool("lpstat"), "-p", queue, "-a", queue], None, queue, deadline)
    states = parse_queues(done.stdout)
    found = [state for name, state in states.items() if name.lower() == queue.lower()]
    if done.returncode != 0 or not found:
        raise PrintError(
            f"cannot print to {queue}: the print server has no such queue "
            "(see `make-handouts printers`)"
        )
    return found[0]


def parse_queues(text: str) -> dict[str, QueueState]:
    """Queues from `lpstat -p -a` output (C locale): state, acceptance, operator message."""
    states: dict[str, State] = {}
    accepting: dict[str, bool] = {}
    reasons: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if printer := re.match(r"printer (\S+) (is idle|now printing|disabled)", line):
            last = printer.group(1)
            states[last] = STATES[printer.group(2)]
        elif accept := re.match(r"(\S+) (not )?accepting requests", line):
            last = accept.group(1)
            accepting[last] = accept.group(2) is None
        elif line.startswith("\t") and last and line.strip() not in DEFAULT_REASONS:
            reasons.setdefault(last, line.strip())
    return {
        name: QueueState(name, state, accepting.get(name, True), reasons.get(name, ""))
        for name, state in states.items()
    }


@dataclass(frozen=True)
class QueueInfo:
    """A queue for `make-handouts printers`: its state and what its driver offers."""

    state: QueueState
    default: bool
    two_sided: tuple[str, ...]  # choices of the Duplex/sides option; () if it has none
    media: tuple[str, ...]  # choices of the PageSize/media option, the default marked *


def list_queues() -> list[QueueInfo]:
    """Every queue of the print server, with its state and options (`lpoptions -l`)."""
    deadline = Deadline(TIMEOUT)
    server_running(None, deadline)
    done = run([tool("lpstat"), "-p", "-a"], None, None, deadline)
    states = parse_queues(done.stdout)
    default_name = server_default(deadline)
    queues = []
    for name, state in sorted(states.items()):
        options = queue_options(name, deadline)
        queues.append(
            QueueInfo(
                state,
                name == default_name,
                options.get("duplex", options.get("sides", ())),
                options.get("pagesize", options.get("media", ())),
            )
        )
    return queues


def queue_options(queue: str, deadline: Deadline) -> dict[str, tuple[str, ...]]:
    """{option keyword in lower case: its choices} from `lpoptions -p QUEUE -l`; a raw
    queue (no driver) lists none."""
    done = run([tool("lpoptions"), "-p", queue, "-l"], None, queue, deadline)
    options = {}
    for line in done.stdout.splitlines():
        key, colon, choices = line.partition(":")
        if colon:
            options[key.split("/")[0].strip().lower()] = tuple(choices.split())
    return options


class MailingOptions(Protocol):
    """What printing a mailing needs of the batch's options."""

    duplex: bool
    printer: str | None


def print_mailing(config: ClinicConfig, mailing: Path, options: MailingOptions) -> PrintJob:
    """Sends mailing.pdf to the mail room's queue; on failure it stays where it is and the
    message says how to print it by hand."""
    how = HOW_TO_PRINT[options.duplex]
    if not mailing.is_file():
        raise PrintError(f"nothing to print: no letter was written, so there is no {mailing}")
    queue = mail_queue(config, options.printer)
    try:
        return send_to_printer(
            mailing.read_bytes(), queue, mailing_settings(config, options.duplex)
        )
    except PrintError as exc:
        raise PrintError(f"{exc.message}; {mailing} is kept: print it {how}") from None
