"""Command line: parses options, calls the plain functions in build.py, reports."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import click

from . import PHASES, PROCEDURES, __version__
from .batch import BatchOptions, run_batch
from .build import Workspace, build_handout, list_rows, render_demo
from .checks import Finding, Score, run_checks
from .context import HandoutRequest
from .patients import patient_details
from .printing import send_to_printer
from .subsetting import warn_if_slow_subsetting

log = logging.getLogger("handouts")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--clinic",
    "clinic_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Clinic folder with clinic.toml (default: the built-in demo clinic).",
)
@click.option("-v", "--verbose", count=True, help="Show details (renderer warnings, timings).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.version_option(__version__, prog_name="make-handouts")
@click.pass_context
def main(ctx: click.Context, clinic_dir: Path | None, verbose: int, quiet: bool) -> None:
    """Build patient handouts for vertebroplasty and kyphoplasty."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING if verbose else logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    ctx.obj = clinic_dir


def _workspace(ctx: click.Context) -> Workspace:
    return Workspace.open(ctx.obj)


@main.command("list")
@click.pass_context
def list_command(ctx: click.Context) -> None:
    """List the handouts, languages, versions and review dates."""
    rows = list_rows(_workspace(ctx))
    click.echo(f"{'HANDOUT':<22} {'LANG':<5} {'VERSION':<8} {'REVIEWED':<11} {'STATUS':<20} TITLE")
    for r in rows:
        click.echo(
            f"{r['handout']:<22} {r['language']:<5} {r['version']:<8} {r['reviewed']:<11} "
            f"{r['status']:<20} {r['title']}"
        )


@main.command()
@click.argument("procedure", type=click.Choice(PROCEDURES, case_sensitive=False))
@click.argument("phase", type=click.Choice(PHASES, case_sensitive=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file (default: ./PROCEDURE-PHASE-LANG.pdf).",
)
@click.option("--lang", default="en", show_default=True, help="Language code, e.g. en.")
@click.option("--large-print", is_flag=True, help="Large print (needs large-print styles).")
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF.")
@click.option("--patient-name", help="Printed in the appointment card only.")
@click.option("--procedure-date", help="YYYY-MM-DD (or MM/DD/YYYY).")
@click.option("--arrival-time", help="HH:MM (24-hour) or h:mm AM/PM.")
@click.option("--physician", help="Doctor's name.")
@click.option("--levels", help='Spine levels, e.g. "T12, L1".')
@click.option("--notes", help="Care-team notes, printed in the notes box.")
@click.option("--print", "to_printer", is_flag=True, help="Send the PDF to the printer (lp).")
@click.option("--printer", help="Printer name for --print (default: the system default).")
@click.pass_context
def build(
    ctx: click.Context,
    procedure: str,
    phase: str,
    output: Path | None,
    lang: str,
    large_print: bool,
    as_html: bool,
    to_printer: bool,
    printer: str | None,
    **fields: str | None,
) -> None:
    """Build one handout, blank or personalized."""
    patient = patient_details(fields, name=lambda field: "--" + field.replace("_", "-"))
    workspace = _workspace(ctx)
    if lang not in workspace.library.languages():
        raise click.BadParameter(
            f"no content for '{lang}' (have: {', '.join(workspace.library.languages())})",
            param_hint="--lang",
        )
    request = HandoutRequest(procedure.lower(), phase.lower(), lang, large_print, patient)
    if to_printer:
        job = send_to_printer(workspace.renderer.pdf(request), printer)
        log.info("sent to printer: %s", job or "ok")
        return
    path = build_handout(workspace, request, output, html=as_html)
    _log_warnings(workspace)
    log.info("wrote %s", path)


@main.command()
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PDFs.",
)
@click.option(
    "--for",
    "target",
    type=click.Choice(["portal", "mail"]),
    default="portal",
    show_default=True,
    help="portal: one tagged PDF per record, to attach to messages. mail: a cover letter "
    "for a #10 double-window envelope in front of each handout, and mailing.pdf.",
)
@click.option(
    "--duplex/--no-duplex",
    default=True,
    show_default=True,
    help="mail: every letter starts on a front side (blank page after odd page counts).",
)
@click.option(
    "--preview",
    type=click.IntRange(0, 50),
    is_flag=False,
    flag_value=3,
    default=0,
    help="mail: write preview-N.png of the first letters (3, or the number given) with the "
    "envelope windows drawn on, to check the fold before a big run.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "full", "fast"]),
    default="auto",
    show_default=True,
    help="full: WeasyPrint per record. fast: render each layout once and stamp the patient "
    "values (mail only; portal PDFs stay fully rendered to keep them tagged). auto: fast "
    "for mail, full for portal.",
)
@click.option(
    "--letter-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="mail: the date printed on the letters (default: today).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (default: the number of CPUs).",
)
@click.option(
    "--resume", is_flag=True, help="Skip records already rendered from the same inputs and content."
)
@click.option("--encoding", help="Input encoding, e.g. cp1252 (default: UTF-8).")
@click.option(
    "--fhir",
    type=click.Choice(["url", "data"]),
    is_flag=False,
    flag_value="url",
    default=None,
    help="Also write a FHIR R4 DocumentReference per PDF; '--fhir data' embeds the PDF as base64.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 3600),
    default=120,
    show_default=True,
    help="Seconds one record may take before it is marked failed.",
)
@click.option(
    "--recycle-after",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Restart each worker after this many records (keeps memory flat).",
)
@click.pass_context
def batch(
    ctx: click.Context,
    input_file: Path,
    out_dir: Path,
    target: str,
    jobs: int | None,
    resume: bool,
    encoding: str | None,
    fhir: str | None,
    timeout: float,
    recycle_after: int,
    duplex: bool,
    preview: int,
    letter_date: dt.datetime | None,
    engine: str,
) -> None:
    """Render one PDF per patient record of a CSV or JSON file (or letters to mail)."""
    warn_if_slow_subsetting()
    quiet = logging.getLogger("handouts").getEffectiveLevel() > logging.INFO
    options = BatchOptions(
        input=input_file,
        out_dir=out_dir,
        jobs=jobs or os.cpu_count() or 1,
        resume=resume,
        encoding=encoding,
        fhir=fhir,
        timeout=timeout,
        recycle_after=recycle_after,
        progress="none" if quiet else "auto",
        target=target,
        duplex=duplex,
        preview=preview,
        letter_date=letter_date.date() if letter_date else dt.date.today(),
        engine=engine,
    )
    if engine == "fast" and target == "portal":
        raise click.UsageError(
            "--engine fast is for --for mail: portal PDFs keep the full render so they stay "
            "tagged for screen readers"
        )
    try:
        result = run_batch(_workspace(ctx), options)
    except KeyboardInterrupt:
        click.echo("interrupted: finished files are complete; rerun with --resume", err=True)
        ctx.exit(130)
    log.info(
        "%d rendered, %d already done, %d failed, %d invalid row(s); see %s",
        result.rendered,
        result.resumed,
        result.failed,
        result.invalid_rows,
        out_dir / ("errors.csv" if result.errors else "manifest.csv"),
    )
    ctx.exit(result.exit_code)


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback exposes patient data.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Requests rendered at the same time.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Start the nurse-station web form (preview, download, print)."""
    from .web import serve as run_server
    from .web import warning_for

    warn_if_slow_subsetting()
    if warning := warning_for(host):
        click.echo(warning, err=True)
    run_server(ctx.obj, host, port, threads)


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Lint content, templates and clinic config; exit 1 on any error."""
    results = run_checks(_workspace(ctx))
    findings = [r for r in results if isinstance(r, Finding)]
    for score in (r for r in results if isinstance(r, Score)):
        mark = "ok  " if score.passed else "FAIL"
        log.info(
            "%s %s (%s): %s, score %.1f",
            mark,
            score.handout,
            score.language,
            score.rule,
            score.value,
        )
    for finding in findings:
        click.echo(str(finding), err=True)
    errors = sum(f.level == "error" for f in findings)
    log.info("%d error(s), %d warning(s)", errors, len(findings) - errors)
    if errors:
        ctx.exit(1)


@main.command()
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Folder for the PDFs.",
)
@click.pass_context
def demo(ctx: click.Context, out_dir: Path) -> None:
    """Render every handout for the clinic (blank and a sample patient)."""
    warn_if_slow_subsetting()
    workspace = _workspace(ctx)
    written = render_demo(workspace, out_dir)
    _log_warnings(workspace)
    log.info("wrote %d handouts to %s", len(written), out_dir)


def _log_warnings(workspace: Workspace) -> None:
    for message in workspace.renderer.warnings:
        log.debug("renderer: %s", message)
