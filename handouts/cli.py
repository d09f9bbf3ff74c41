"""Command line: parses options, calls the plain functions in commands/, reports.

Each command imports what only it needs when it runs: `build` from a warm layout cache
loads neither WeasyPrint nor the batch engine, and starts faster than WeasyPrint alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from handouts import __version__
from handouts.commands.build import build_handout, list_rows, render_demo
from handouts.errors import HandoutError
from handouts.model.request import request_or_error
from handouts.options import (
    BatchOptions,
    Engine,
    FhirMode,
    LayoutCacheOptions,
    ProgressMode,
    ServeOptions,
    Target,
)
from handouts.stamp import cache as layout_cache
from handouts.stamp.handout import stamper_for
from handouts.workspace import Workspace

log = logging.getLogger("handouts")
#: What --no-cache means, said the same way by every command that makes handouts.
NO_CACHE_HELP = (
    "Neither read nor write the layout cache folder: the layouts this run renders are "
    "kept only until it ends (build, serve and batch alike)."
)
#: The end of the help of build, serve and batch: the group's cache options apply.
CACHE_EPILOG = (
    f"With --no-cache before the command (make-handouts --no-cache COMMAND ...): {NO_CACHE_HELP}"
)


class CommandError(click.ClickException):
    """A HandoutError as click reports it: "Error: <message>" (and its problem lines) on
    stderr, the error's exit code, no traceback."""

    def __init__(self, error: HandoutError) -> None:
        super().__init__(error.format_message())
        self.exit_code = error.exit_code  # type: ignore[misc]  # click reads the instance's


@contextmanager
def _reported() -> Iterator[None]:
    try:
        yield
    except HandoutError as exc:
        raise CommandError(exc) from exc


class HandoutGroup(click.Group):
    """The make-handouts group: a HandoutError raised while parsing the options (a type or
    a callback) or running any command, subcommands included, becomes a CommandError."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _reported():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _reported():
            return super().invoke(ctx)


@click.group(cls=HandoutGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--clinic",
    "clinic_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Clinic folder with clinic.toml (default: the built-in demo clinic).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the layout cache (default: $HANDOUTS_CACHE_DIR, else the user's cache "
    "folder). It keeps at most $HANDOUTS_CACHE_MAX_MB megabytes (default 200). Not used "
    "with --no-cache (a warning says so), but by the cache command.",
)
@click.option("--no-cache", is_flag=True, help=NO_CACHE_HELP)
@click.option("-v", "--verbose", count=True, help="Show details (renderer warnings, timings).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.version_option(__version__, prog_name="make-handouts")
@click.pass_context
def main(
    ctx: click.Context,
    clinic_dir: Path | None,
    cache_dir: Path | None,
    no_cache: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Build patient handouts for vertebroplasty and kyphoplasty."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING if verbose else logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # pdfminer (pdfplumber, the mail preflight) traces every token it reads at DEBUG:
    # page text, which must not reach a log
    logging.getLogger("pdfminer").setLevel(max(level, logging.WARNING))
    if not no_cache:
        layout_cache.size_limit()  # a bad $HANDOUTS_CACHE_MAX_MB: exit 2, nothing written
    elif cache_dir is not None and ctx.invoked_subcommand != "cache":
        log.warning("--cache-dir is not used with --no-cache: no layout is read or written")
    ctx.obj = App(clinic_dir, LayoutCacheOptions(folder=cache_dir, enabled=not no_cache))


@dataclass
class App:
    """What every command shares: the clinic folder and the layout cache settings, and
    the workspace once opened."""

    clinic_dir: Path | None
    cache: LayoutCacheOptions
    _workspace: Workspace | None = field(default=None, repr=False)

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace.open(self.clinic_dir)
        return self._workspace


pass_app = click.make_pass_decorator(App)


def _choices(enum: type[Target] | type[Engine] | type[FhirMode]) -> click.Choice[str]:
    return click.Choice([member.value for member in enum])


@main.command("list")
@pass_app
def list_command(app: App) -> None:
    """List the handouts, languages, versions and next review dates."""
    rows = list_rows(app.workspace)
    click.echo(
        f"{'HANDOUT':<22} {'LANG':<5} {'VERSION':<8} {'NEXT REVIEW':<11} {'STATUS':<20} TITLE"
    )
    for r in rows:
        click.echo(
            f"{r['handout']:<22} {r['language']:<5} {r['version']:<8} {r['reviewed']:<11} "
            f"{r['status']:<20} {r['title']}"
        )


#: How the build command names each request field in its messages.
BUILD_NAMES = {
    "procedure": "PROCEDURE",
    "phase": "PHASE",
    "language": "--lang",
    "medicines": "--medicine",
}


@main.command(epilog=CACHE_EPILOG)
@click.argument("procedure", metavar="PROCEDURE")
@click.argument("phase", metavar="PHASE")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file (default: ./PROCEDURE-PHASE-LANG.pdf).",
)
@click.option("--lang", "language", default="en", show_default=True, help="Language code.")
@click.option(
    "--large-print",
    is_flag=False,
    flag_value="yes",
    default=None,
    metavar="[yes|no]",
    help="Large print (17 pt, wider spacing); --large-print alone means yes.",
)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF.")
@click.option("--patient-name", help="Printed in the appointment card only.")
@click.option("--procedure-date", help="YYYY-MM-DD (or MM/DD/YYYY).")
@click.option("--arrival-time", help="HH:MM (24-hour) or h:mm AM/PM.")
@click.option("--physician", help="Doctor's name.")
@click.option("--levels", help='Spine levels, e.g. "T12, L1".')
@click.option("--notes", help="Care-team notes, printed in the notes box.")
@click.option(
    "--medicine",
    "medicines",
    multiple=True,
    metavar="NAME|MORNING|LAST_DOSE|RESTART",
    help='One medicine of the plan (repeat for each), e.g. "Eliquis (apixaban)|no|2026-11-28|'
    '2026-12-03": take it the morning of the procedure (yes/no), the last dose before, the '
    "day to start again; leave a field empty when not known.",
)
@click.option("--diabetes-plan", help="The care team's diabetes plan for the procedure day.")
@click.option(
    "--medicine-plan",
    type=click.Choice(["listed", "none", "call"]),
    help="listed (the --medicine entries), none (no medicine to stop) or call (we will call "
    "about medicines). Default: listed with --medicine, else the clinic's default_plan.",
)
@click.option(
    "--print",
    "to_printer",
    is_flag=True,
    help="Send the PDF to a CUPS queue at actual size, on the clinic's paper (nothing is "
    "written to disk).",
)
@click.option(
    "--printer",
    help="Queue for --print (default: the clinic's [printing] desk, else the CUPS default).",
)
@pass_app
def build(
    app: App,
    /,
    output: Path | None,
    as_html: bool,
    to_printer: bool,
    printer: str | None,
    **fields: str | bool | None,
) -> None:
    """Build one handout, blank or personalized.

    PROCEDURE is vertebroplasty or kyphoplasty; PHASE is pre or post.
    """
    if printer and not to_printer:
        raise click.UsageError("--printer needs --print")
    workspace = app.workspace
    request = request_or_error(
        fields,
        workspace.languages(),
        lambda name: BUILD_NAMES.get(name, "--" + name.replace("_", "-")),
        large_print_default=workspace.clinic.config.options.large_print,
        default_plan=workspace.clinic.config.medicines.default_plan,
    )
    stamper = None if as_html else stamper_for(workspace, app.cache)
    if to_printer:
        from handouts.commands.printing import desk_queue, handout_settings, send_to_printer

        made = workspace.make_pdf(request, stamper)
        _log_warnings(made.warnings)
        config = workspace.clinic.config
        job = send_to_printer(made.data, desk_queue(config, printer), handout_settings(config))
        log.info("sent to %s, job %s", job.queue, job.id)
        return
    built = build_handout(workspace, request, output, html=as_html, stamper=stamper)
    _log_warnings(built.warnings)
    log.info("wrote %s", built.path)
    if built.made is not None:
        fast = built.made.engine is Engine.FAST
        log.debug("made by the %s path", "stamping" if fast else "full render")


@main.command(epilog=CACHE_EPILOG)
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
    type=_choices(Target),
    default=Target.PORTAL.value,
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
    type=int,
    is_flag=False,
    flag_value=3,
    default=0,
    help="mail: write preview-N.png of the first letters (3, or the number given) with the "
    "envelope windows drawn on, to check the fold before a big run.",
)
@click.option(
    "--engine",
    type=_choices(Engine),
    default=Engine.AUTO.value,
    show_default=True,
    help="full: WeasyPrint per record. fast or auto: each layout rendered once (kept in the "
    "layout cache) and the patient values stamped into it, tagged like a full render; "
    "records with notes longer than the notes box, or a value that does not fit its "
    "slot, take the full render "
    "(the manifest's engine column says which).",
)
@click.option(
    "--letter-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="mail: the date printed on the letters (default: today).",
)
@click.option(
    "--print",
    "to_printer",
    is_flag=True,
    help="mail: send mailing.pdf to the mail-room queue at actual size, two-sided long "
    "edge with --duplex (the file stays in the output folder).",
)
@click.option(
    "--printer",
    help="Queue for --print (default: the clinic's [printing] mail_room, else the CUPS default).",
)
@click.option("--jobs", type=int, default=None, help="Worker processes (default: CPU count).")
@click.option(
    "--resume", is_flag=True, help="Skip records already rendered from the same inputs and content."
)
@click.option("--encoding", help="Input encoding, e.g. cp1252 (default: UTF-8).")
@click.option(
    "--fhir",
    type=_choices(FhirMode),
    is_flag=False,
    flag_value=FhirMode.URL.value,
    default=None,
    help="Also write a FHIR R4 DocumentReference per PDF; '--fhir data' embeds the PDF as base64.",
)
@click.option(
    "--timeout",
    type=float,
    default=120,
    show_default=True,
    help="Seconds one record may take before it is marked failed.",
)
@click.option(
    "--recycle-after",
    type=int,
    default=200,
    show_default=True,
    help="Restart each worker after this many records (keeps memory flat); stamped portal "
    "records, which hold no memory, count a tenth (they go in chunks of 10).",
)
@click.pass_context
def batch(
    ctx: click.Context,
    /,
    input_file: Path,
    out_dir: Path,
    letter_date: dt.datetime | None,
    **values: object,
) -> None:
    """Render one PDF per patient record of a CSV or JSON file (or letters to mail)."""
    quiet = logging.getLogger("handouts").getEffectiveLevel() > logging.INFO
    given = {k: v for k, v in values.items() if v is not None}
    if letter_date:
        given["letter_date"] = letter_date.date()
    options = BatchOptions.create(
        input=input_file,
        out_dir=out_dir,
        progress=ProgressMode.NONE if quiet else ProgressMode.AUTO,
        cache=ctx.find_object(App).cache,  # type: ignore[union-attr]
        **given,
    )
    from handouts.batch.run import run_batch  # the batch engine and its pool
    from handouts.fonts.registry import warn_if_slow_subsetting

    warn_if_slow_subsetting()
    try:
        result = run_batch(ctx.find_object(App).workspace, options)  # type: ignore[union-attr]
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
    if options.to_printer:  # mailing.pdf holds only the good letters; exit 1 all the same
        _print_mailing(ctx.find_object(App).workspace, options)  # type: ignore[union-attr]
    ctx.exit(result.exit_code)


def _print_mailing(workspace: Workspace, options: BatchOptions) -> None:
    """Sends mailing.pdf to the mail room; on failure the file stays and the message
    says how to print it by hand."""
    from handouts.commands.printing import print_mailing

    job = print_mailing(workspace.clinic.config, options.out_dir / "mailing.pdf", options)
    log.info("sent mailing.pdf to %s, job %s", job.queue, job.id)


@main.command(epilog=CACHE_EPILOG)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback exposes patient data.",
)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--threads", type=int, default=4, show_default=True, help="Requests at once.")
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Another host name or address the nurses' browsers use for this server (repeat); "
    "requests naming any other host are refused.",
)
@pass_app
def serve(app: App, host: str, port: int, threads: int, allowed_hosts: tuple[str, ...]) -> None:
    """Start the nurse-station web form (preview, download, print)."""
    from handouts.fonts.registry import warn_if_slow_subsetting
    from handouts.web.app import serve as run_server
    from handouts.web.app import warning_for

    options = ServeOptions.create(
        host=host, port=port, threads=threads, allowed_hosts=allowed_hosts, cache=app.cache
    )
    warn_if_slow_subsetting()
    if warning := warning_for(options.host):
        click.echo(warning, err=True)
    run_server(app.workspace, options)


@main.command()
def printers() -> None:
    """List the print server's queues (CUPS_SERVER, else this machine's CUPS): state,
    whether they accept jobs, and the two-sided and media choices their driver offers."""
    from handouts.commands.printing import list_queues

    queues = list_queues()
    if not queues:
        click.echo("the print server has no queues (add one with lpadmin; see the README)")
        return
    click.echo(f"{'QUEUE':<24} {'STATE':<9} {'JOBS':<10} {'TWO-SIDED':<32} MEDIA")
    for queue in queues:
        name = queue.state.name + (" (default)" if queue.default else "")
        jobs = "accepting" if queue.state.accepting else "rejecting"
        two_sided = " ".join(queue.two_sided) or "not listed (raw queue?)"
        media = " ".join(queue.media) or "not listed"
        click.echo(f"{name:<24} {queue.state.state:<9} {jobs:<10} {two_sided:<32} {media}")


@main.command()
@click.argument("handouts", nargs=-1, metavar="[HANDOUT]...")
@click.pass_context
def check(ctx: click.Context, handouts: tuple[str, ...]) -> None:
    """Lint content, templates and clinic config; exit 1 on any error.

    HANDOUT (e.g. en/kyphoplasty-pre) checks only those handouts; the clinic's config
    and language list are always checked."""
    from handouts.commands.check import Finding, Score, handout_names, run_checks

    workspace = ctx.find_object(App).workspace  # type: ignore[union-attr]
    known = handout_names(workspace)
    if unknown := [name for name in handouts if name not in known]:
        raise click.BadParameter(
            f"no such handout: {', '.join(unknown)} (one of: {', '.join(known)})",
            param_hint="HANDOUT",
        )
    results = run_checks(workspace, only=handouts)
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
    findings = [r for r in results if isinstance(r, Finding)]
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
    required=True,
    help="Folder for the review packet.",
)
@click.option("--lang", "languages", multiple=True, help="Only this language (repeat).")
@pass_app
def review(app: App, out_dir: Path, languages: tuple[str, ...]) -> None:
    """Write a review packet: for each handout and language the blank PDF, its text,
    what changed since the last approval, English and the translation side by side, and
    a sign-off sheet naming the text's fingerprint."""
    from handouts.commands.review import write_packet

    known = app.workspace.library.languages()
    if unknown := [code for code in languages if code not in known]:
        raise click.BadParameter(
            f"no language {', '.join(unknown)} (one of: {', '.join(known)})", param_hint="--lang"
        )
    items = write_packet(app.workspace, out_dir, list(languages) or known)
    for item in items:
        state = "approved" if item.approved else "to review"
        log.info("%s (%s): %s, %d files", item.handout, item.lang, state, len(item.files))
    log.info("wrote the review packet of %d handouts to %s", len(items), out_dir)


@main.command()
@click.argument("handout_id", metavar="HANDOUT_ID")
@click.option("--lang", required=True, help="The language of the text approved.")
@click.option(
    "--role",
    type=click.Choice(["clinician", "translator"]),
    required=True,
    help="clinician (the English text) or translator (a translation).",
)
@click.option("--by", "by", required=True, help='Name and credentials: "Ana Ruiz, RN".')
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date of the approval, YYYY-MM-DD (default: today).",
)
@click.option(
    "--fingerprint",
    "expected",
    default=None,
    help="The fingerprint on the sign-off sheet: refuse if the text changed since.",
)
@pass_app
def approve(
    app: App,
    handout_id: str,
    lang: str,
    role: str,
    by: str,
    on: dt.datetime | None,
    expected: str | None,
) -> None:
    """Record an approval of a handout's current text (HANDOUT_ID: e.g. kyphoplasty-pre)."""
    from handouts.commands.review import approve as record_approval
    from handouts.content.approvals import short_fingerprint

    day = on.date() if on else dt.date.today()
    approval, path = record_approval(
        app.workspace,
        handout_id,
        lang,
        "clinician" if role == "clinician" else "translator",
        by,
        day,
        expected,
    )
    log.info(
        "recorded: %s (%s) approved by %s on %s, text %s, in %s",
        approval.handout,
        approval.lang,
        approval.by,
        approval.on,
        short_fingerprint(approval.fingerprint),
        path,
    )


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
@pass_app
def demo(app: App, out_dir: Path) -> None:
    """Render every handout for the clinic (blank and a sample patient)."""
    from handouts.fonts.registry import warn_if_slow_subsetting

    warn_if_slow_subsetting()
    built = render_demo(app.workspace, out_dir)
    for item in built:
        _log_warnings(item.warnings)
    log.info("wrote %d handouts to %s", len(built), out_dir)


@main.group("cache")
def cache_group() -> None:
    """Show or empty the layout cache (--cache-dir, else $HANDOUTS_CACHE_DIR, else the
    user's cache folder). It holds page layouts only, never patient data."""


@cache_group.command("info")
@pass_app
def cache_info(app: App) -> None:
    """Where the layout cache is, how many layouts it holds and its size limit."""
    folder = app.cache.folder or layout_cache.default_dir()
    found = layout_cache.usage(folder)
    limit = layout_cache.size_limit()
    click.echo(f"folder:  {folder}")
    click.echo(f"layouts: {found.entries}")
    click.echo(f"size:    {_megabytes(found.size)} (limit {limit // layout_cache.MB} MB)")
    versions = layout_cache.library_versions().items()
    log.debug(
        "keyed by: handouts code %s, %s",
        layout_cache.source_digest()[:12],
        ", ".join(f"{name} {value}" for name, value in versions),
    )


@cache_group.command("clear")
@pass_app
def cache_clear(app: App) -> None:
    """Remove every layout from the cache (each is rendered again when next needed);
    exit 1 if some could not be removed."""
    folder = app.cache.folder or layout_cache.default_dir()
    removal = layout_cache.clear(folder)
    noun = "layout" if removal.entries == 1 else "layouts"
    log.info("removed %d %s (%s) from %s", removal.entries, noun, _megabytes(removal.size), folder)
    for problem in removal.failed:
        click.echo(f"could not remove {problem}", err=True)
    if removal.failed:
        click.get_current_context().exit(1)


def _megabytes(size: int) -> str:
    return f"{size / layout_cache.MB:.1f} MB"


def _log_warnings(warnings: tuple[str, ...]) -> None:
    for message in warnings:
        log.debug("renderer: %s", message)
