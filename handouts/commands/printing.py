"""Sends a PDF to the system printer with lp (CUPS)."""

from __future__ import annotations

import shutil
import subprocess

from handouts.errors import OutputError


def send_to_printer(pdf: bytes, printer: str | None = None) -> str:
    """Prints via `lp`, reading the PDF from stdin so no copy lands on disk."""
    lp = shutil.which("lp")
    if lp is None:
        raise OutputError(
            "cannot print: the 'lp' command was not found (install CUPS, "
            "e.g. 'sudo apt-get install cups-client', or save the PDF with -o and print it)"
        )
    command = [lp, "-t", "handout"]
    if printer:
        command += ["-d", printer]
    try:
        done = subprocess.run(command, input=pdf, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OutputError(f"cannot print: lp failed to run ({exc})") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise OutputError(f"cannot print: lp said: {reason}")
    return done.stdout.decode(errors="replace").strip()
