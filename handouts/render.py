"""HTML from Jinja templates, PDF from WeasyPrint: the safe rendering pipeline."""

from __future__ import annotations

import hashlib
import logging
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from .clinic import Clinic
from .context import HandoutRequest, build_context
from .errors import RenderError
from .fetcher import AssetFetcher
from .library import ContentLibrary
from .locate import data_dir

PAGE_TEMPLATES = {"pre": "pre.html", "post": "post.html"}
STYLESHEETS = ("base.css", "print.css")
LARGE_PRINT = "large-print.css"
_weasy_logger = logging.getLogger("weasyprint")


def make_environment(clinic: Clinic) -> SandboxedEnvironment:
    """Clinic templates first, then the built-ins (also reachable as default:NAME)."""
    builtin = jinja2.FileSystemLoader(data_dir("templates"))
    loaders: list[jinja2.BaseLoader] = []
    if override := clinic.override_dir("templates"):
        loaders.append(jinja2.FileSystemLoader(override))
    loaders += [builtin, jinja2.PrefixLoader({"default": builtin}, delimiter=":")]
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Rendered:
    data: bytes
    pages: int


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
    """Renders handouts for one clinic; fonts, CSS and templates are loaded once."""

    def __init__(self, clinic: Clinic, library: ContentLibrary) -> None:
        self.clinic = clinic
        self.library = library
        self.env = make_environment(clinic)
        self.fonts = FontConfiguration()
        roots = [data_dir("styles"), data_dir("templates"), clinic.root]
        self.fetcher = AssetFetcher(roots)
        self._styles = self._builtin_styles()
        self.warnings: list[str] = []

    def _css(self, **source: str | Path) -> CSS:
        try:
            return CSS(**source, font_config=self.fonts, url_fetcher=self.fetcher)  # type: ignore[arg-type]
        except FatalURLFetchingError as exc:
            raise RenderError(f"stylesheet asset failed to load: {exc.__cause__}") from None

    def _builtin_styles(self) -> dict[str, list[CSS]]:
        brand = self.clinic.config.brand
        self.brand_css = self.stylesheet(
            string=f":root {{ --primary: {brand.primary_color}; --accent: {brand.accent_color}; }}"
            f"@page {{ size: {brand.page_size}; }}"
        )
        normal = [self.stylesheet(name) for name in STYLESHEETS] + [self.brand_css]
        return {"normal": normal, "large": [*normal, self.stylesheet(LARGE_PRINT)]}

    def styles(self, large_print: bool) -> list[CSS]:
        return self._styles["large" if large_print else "normal"]

    def logo_url(self) -> str | None:
        logo = self.clinic.logo_path
        return logo.resolve().as_uri() if logo else None

    def html(self, request: HandoutRequest) -> str:
        handout = self.library.handout(*_content_key(request))
        strings = self.library.strings(request.language)
        logo = self.clinic.logo_path
        context = build_context(
            self.clinic,
            handout,
            strings,
            request,
            logo.resolve().as_uri() if logo else None,
            self.library.assist_lines(request.language),
        )
        try:
            return self.env.get_template(PAGE_TEMPLATES[request.phase]).render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{_template_location(exc)}: {exc.message}") from None

    def title(self, request: HandoutRequest) -> str:
        """The handout's title as printed (clinic values filled in), never patient data."""
        handout = self.library.handout(*_content_key(request))
        strings = self.library.strings(request.language)
        return str(build_context(self.clinic, handout, strings, request, None)["title"])

    def pdf(self, request: HandoutRequest) -> bytes:
        return self.render(request).data

    def render(self, request: HandoutRequest) -> Rendered:
        """The PDF and its page count (for manifests and mail assembly)."""
        styles = self._styles["large" if request.large_print else "normal"]
        return self.render_html(self.html(request), styles, repr(request.layout_key))

    def render_html(self, html: str, styles: list[CSS], layout: str) -> Rendered:
        """HTML to PDF/UA-1 with the shared fonts and fetcher; `layout` seeds the /ID."""
        identifier = hashlib.sha256(layout.encode()).hexdigest()[:32]
        with self._collect_warnings() as collector:
            try:
                document = HTML(
                    string=html, base_url=self.clinic.root.as_uri() + "/", url_fetcher=self.fetcher
                ).render(stylesheets=styles, font_config=self.fonts, pdf_variant="pdf/ua-1")
                pdf = document.write_pdf(pdf_identifier=identifier.encode(), pdf_variant="pdf/ua-1")
            except FatalURLFetchingError as exc:
                raise RenderError(f"asset failed to load: {exc.__cause__}") from None
        self.warnings = collector.messages
        self.last_document = document  # the stamping fast path measures its layout
        assert pdf is not None
        return Rendered(pdf, len(document.pages))

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


def _template_location(exc: jinja2.TemplateError) -> str:
    """file:line of a template error; Jinja puts template frames into the traceback."""
    if filename := getattr(exc, "filename", None):
        return f"{filename}:{getattr(exc, 'lineno', '?')}"
    where = "template"
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith(".html"):
            where = f"{frame.f_code.co_filename}:{line}"
    return where


def _content_key(request: HandoutRequest) -> tuple[str, str, str]:
    return (request.language, request.procedure, request.phase)
