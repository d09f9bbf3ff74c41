"""Command line: parses options, calls the plain functions in build.py, reports."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from . import PHASES, PROCEDURES, __version__
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
