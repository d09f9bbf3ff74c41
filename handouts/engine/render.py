"""HTML from Jinja templates, PDF from WeasyPrint: the safe rendering pipeline."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pikepdf
from jinja2.sandbox import SandboxedEnvironment
from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from handouts.content.approvals import (
    ApprovalBook,
    Standing,
    fingerprint,
    review_text,
    strings_text,
)
from handouts.content.library import REFERENCE_LANGUAGE, ContentLibrary
from handouts.content.model import Tagline, TaglineDefaults
from handouts.engine.context import (
    Notice,
    approval_note,
    build_context,
    language_notice,
    left_to_right,
)
from handouts.engine.fetcher import AssetFetcher
from handouts.errors import ConfigError, RenderError
from handouts.fonts.registry import font_face_css
from handouts.locate import data_dir
from handouts.model.clinic import Clinic
from handouts.model.request import HandoutRequest, PatientDetails
from handouts.pdf.glyphs import missing_glyph_error, missing_glyphs
from handouts.pdf.repair import repair

PAGE_TEMPLATES = {"pre": "pre.html", "post": "post.html"}
STYLESHEETS = ("base.css", "print.css")
#: The two colors the pictures of styles/figures are drawn in; each clinic's brand
#: colors replace them as the pictures load.
FIGURE_PRIMARY, FIGURE_ACCENT = "#1f4e79", "#2e7d5b"
LARGE_PRINT = "large-print.css"
#: Standard print's length: six pages of instructions and the language notice.
STANDARD_PAGES = 7
#: Standard print keeps a list of up to six items, and the "What to do" box, on one page.
#: Where that runs a handout past its length (long translated items, a patient's dates),
#: they may go on over a page turn between two items; the glossary may not.
LISTS_MAY_SPLIT = """
ul:not(.terms):has(> li:nth-child(4)):not(:has(> li:nth-child(7))),
ol:has(> li:nth-child(4)):not(:has(> li:nth-child(7))),
.section-what-to-do-pre, .section-what-to-do-post { break-inside: auto; }
"""
_weasy_logger = logging.getLogger("weasyprint")


def _no_notdef(record: logging.LogRecord) -> bool:
    """Drops WeasyPrint's warnings that mention .notdef: they quote the character no
    font has, which may be a patient's. Missing glyphs are found in the PDF instead
    (pdf/glyphs.py), so no handler (the collector, the terminal's) ever sees them."""
    return ".notdef" not in record.getMessage()


_weasy_logger.addFilter(_no_notdef)
_HTML_LANG = re.compile(r'<html[^>]*\blang="([^"]+)"')


def make_environment(clinic: Clinic) -> SandboxedEnvironment:
    """Clinic templates first, then the built-ins (also reachable as default:NAME)."""
    builtin = jinja2.FileSystemLoader(data_dir("templates"))
    loaders: list[jinja2.BaseLoader] = []
    if override := clinic.override_dir("templates"):
        loaders.append(jinja2.FileSystemLoader(override))
    loaders += [builtin, jinja2.PrefixLoader({"default": builtin}, delimiter=":")]
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ltr"] = left_to_right
    return env


@dataclass(frozen=True)
class Rendered:
    """A finished PDF, what WeasyPrint warned about while making it, and its layout
    (the stamping fast path measures slots on it: stamp/measure.py)."""

    data: bytes
    pages: int
    warnings: tuple[str, ...] = ()
    document: Document | None = field(default=None, compare=False, repr=False)


class _WarningCollector(logging.Handler):
    """Collects WeasyPrint warnings raised by the current thread's render."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


class Renderer:
    """Renders handouts for one clinic; fonts, CSS and templates are loaded once.

    Keeps nothing from one call to the next: each call returns all it made.
    """

    def __init__(self, clinic: Clinic, library: ContentLibrary) -> None:
        self.clinic = clinic
        self.library = library
        self.env = make_environment(clinic)
        self.fonts = FontConfiguration()
        roots = [data_dir("styles"), data_dir("templates"), clinic.root]
        brand = clinic.config.brand
        self.fetcher = AssetFetcher(
            roots, {FIGURE_PRIMARY: brand.primary_color, FIGURE_ACCENT: brand.accent_color}
        )
        self.font_css = self.stylesheet(string=font_face_css())
        self.brand_css = self.stylesheet(
            string=f":root {{ --primary: {brand.primary_color}; --accent: {brand.accent_color}; }}"
            f"@page {{ size: {brand.page_size}; }}"
        )
        self.taglines = clinic_taglines(clinic, library)
        self.approvals = ApprovalBook(clinic.root)
        self._review_texts: dict[tuple[str, str, str], str] = {}
        normal = [self.font_css, *(self.stylesheet(name) for name in STYLESHEETS), self.brand_css]
        self._styles = {False: normal, True: [*normal, self.stylesheet(LARGE_PRINT)]}
        self._lists_may_split = self.stylesheet(string=LISTS_MAY_SPLIT)

    def _css(self, **source: str | Path) -> CSS:
        try:
            return CSS(**source, font_config=self.fonts, url_fetcher=self.fetcher)
        except FatalURLFetchingError as exc:
            raise RenderError(f"stylesheet asset failed to load: {exc.__cause__}") from None

    def styles(self, large_print: bool) -> list[CSS]:
        return self._styles[large_print]

    @staticmethod
    def page_budget(large_print: bool) -> int | None:
        """The most pages a handout may take before its short lists may split."""
        return None if large_print else STANDARD_PAGES

    def logo_url(self) -> str | None:
        logo = self.clinic.logo_path
        return logo.resolve().as_uri() if logo else None

    def figure_url(self, name: str) -> str:
        """A picture of styles/figures (the clinic's own styles/figures/ first)."""
        path = self.library.figure(name)
        if path is None:
            raise RenderError(f"no picture '{name}.svg' in styles/figures")
        return path.resolve().as_uri()

    def template(self, name: str, context: Mapping[str, Any]) -> str:
        """A template rendered in the sandbox; errors name the template file and line."""
        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{_template_location(exc)}: {exc.message}") from None

    def context(
        self, request: HandoutRequest, slot_text: str | None = None, review: str | None = None
    ) -> dict[str, Any]:
        """`review` stands in for the footer's approval note (None: from the approvals)."""
        handout = self.library.handout(*_content_key(request))
        strings = self.library.strings(request.language)
        english = self.library.strings(REFERENCE_LANGUAGE)
        if review is None:
            review = approval_note(
                self.standing(request.procedure, request.phase, request.language),
                request.language,
                strings,
                english,
                self.clinic.config.approvals.review_interval_months,
            )
        return build_context(
            self.clinic,
            handout,
            strings,
            request,
            self.logo_url(),
            self.notice(request),
            slot_text=slot_text,
            english=english,
            figure_url=self.figure_url,
            review=review,
        )

    def review_text(self, procedure: str, phase: str, language: str) -> str:
        """The text a reviewer approves: the blank handout's words (approvals.py)."""
        key = (procedure, phase, language)
        if key not in self._review_texts:
            blank = HandoutRequest(procedure, phase, language, False, PatientDetails())
            context = self.context(blank, review="")
            html = self.template(PAGE_TEMPLATES[phase], context)
            strings = self.library.strings(language)
            self._review_texts[key] = review_text(html) + strings_text(
                strings, context["text"].values
            )
        return self._review_texts[key]

    def standing(self, procedure: str, phase: str, language: str) -> Standing:
        """The approvals that hold for this handout's current text in this language."""
        texts = {
            lang: fingerprint(self.review_text(procedure, phase, lang))
            for lang in {REFERENCE_LANGUAGE, language}
        }
        return self.approvals.standing(f"{procedure}-{phase}", language, texts)

    def notice(self, request: HandoutRequest) -> Notice | None:
        """The "Help in your language" notice of this request's handout (or None)."""
        return language_notice(
            self.clinic,
            request.phase,
            request.language,
            self.library.strings(request.language),
            self.library.strings(REFERENCE_LANGUAGE),
            self.taglines,
        )

    def html(self, request: HandoutRequest, slot_text: str | None = None) -> str:
        """The handout's HTML: the one builder for the full render and the fast path
        (`slot_text` stands in for every filled patient value; see build_context)."""
        return self.template(PAGE_TEMPLATES[request.phase], self.context(request, slot_text))

    def title(self, request: HandoutRequest) -> str:
        """The handout's title as printed (clinic values filled in), never patient data."""
        return str(self.context(request)["title"])

    def pdf(self, request: HandoutRequest) -> bytes:
        return self.render(request).data

    def render(self, request: HandoutRequest) -> Rendered:
        """The PDF, its page count and the renderer's warnings."""
        return self.render_html(
            self.html(request),
            self.styles(request.large_print),
            repr(request.layout_key),
            self.page_budget(request.large_print),
        )

    def render_html(
        self, html: str, styles: list[CSS], layout: str, budget: int | None = None
    ) -> Rendered:
        """HTML to PDF/UA-1 with the shared fonts and fetcher; `layout` seeds the /ID.
        Past `budget` pages, laid out again with LISTS_MAY_SPLIT."""
        identifier = hashlib.sha256(layout.encode()).hexdigest()[:32]
        with self._collect_warnings() as collector:
            try:
                document = self._lay_out(html, styles)
                if budget is not None and len(document.pages) > budget:
                    collector.messages.clear()
                    document = self._lay_out(html, [*styles, self._lists_may_split])
                pdf = document.write_pdf(pdf_identifier=identifier.encode(), pdf_variant="pdf/ua-1")
            except FatalURLFetchingError as exc:
                raise RenderError(f"asset failed to load: {exc.__cause__}") from None
        assert pdf is not None
        with pikepdf.open(io.BytesIO(pdf)) as opened:  # read once: checked, then repaired
            if missing := missing_glyphs(opened):  # in the PDF: the log may be silenced
                raise missing_glyph_error(missing, _document_language(html))
            data = repair(opened, html)
        return Rendered(data, len(document.pages), tuple(collector.messages), document)

    def _lay_out(self, html: str, styles: list[CSS]) -> Document:
        return HTML(
            string=html, base_url=self.clinic.root.as_uri() + "/", url_fetcher=self.fetcher
        ).render(stylesheets=styles, font_config=self.fonts, pdf_variant="pdf/ua-1")

    def stylesheet(self, name: str | None = None, string: str | None = None) -> CSS:
        """A built-in (or clinic-overridden) stylesheet by file name, or CSS text."""
        if string is not None:
            return self._css(string=string, base_url=str(data_dir("styles")) + "/")
        assert name is not None
        override = self.clinic.override_dir("styles")
        path = override / name if override and (override / name).is_file() else None
        return self._css(filename=path or data_dir("styles") / name)

    @contextmanager
    def _collect_warnings(self) -> Iterator[_WarningCollector]:
        collector = _WarningCollector()
        _weasy_logger.addHandler(collector)
        try:
            yield collector
        finally:
            _weasy_logger.removeHandler(collector)


def notice_list(clinic: Clinic, library: ContentLibrary) -> TaglineDefaults:
    """The shipped list of notice languages the clinic uses: its state's, else the
    national one; a state with no shipped list is a clear error."""
    state = clinic.config.language_help.state
    if state is None:
        return library.tagline_defaults()
    if state not in (shipped := library.tagline_states()):
        raise ConfigError(
            f"{clinic.root / 'clinic.toml'}: language_help.state: no verified language list "
            f"for {state} is shipped (lists: {', '.join(shipped)}); set "
            "language_help.languages from a published table for your state"
        )
    return library.tagline_state(state)


def clinic_taglines(clinic: Clinic, library: ContentLibrary) -> list[Tagline]:
    """The taglines of the clinic's notice languages (its list, or the default one)."""
    settings = clinic.config.language_help
    if settings.show == "off":
        return []
    codes = settings.languages or notice_list(clinic, library).languages
    known = library.tagline_languages()
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ConfigError(
            f"{clinic.root / 'clinic.toml'}: language_help.languages: no tagline for "
            f"{', '.join(unknown)} (content/language-help/ has: {', '.join(known)})"
        )
    return [library.tagline(code) for code in codes]


def _template_location(exc: jinja2.TemplateError) -> str:
    """file:line of a template error; Jinja puts template frames into the traceback."""
    if filename := getattr(exc, "filename", None):
        return f"{filename}:{getattr(exc, 'lineno', '?')}"
    where = "template"
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith(".html"):
            where = f"{frame.f_code.co_filename}:{line}"
    return where


def _document_language(html: str) -> str:
    match = _HTML_LANG.search(html)
    return match.group(1) if match else "unknown"


def _content_key(request: HandoutRequest) -> tuple[str, str, str]:
    return (request.language, request.procedure, request.phase)
