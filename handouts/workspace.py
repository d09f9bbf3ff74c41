"""The workspace: one clinic, its content and its renderer, loaded once and shared.

It is also where a handout's PDF is made: `Workspace.make_pdf` is the one entry point
that build, the web form and the batch workers call, stamped or rendered in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from handouts.content.library import ContentLibrary
from handouts.locate import data_dir, default_clinic_dir
from handouts.model.clinic import Clinic, load_clinic
from handouts.options import Engine

if TYPE_CHECKING:
    from handouts.engine.render import Renderer
    from handouts.model.request import HandoutRequest


@dataclass(frozen=True)
class Made:
    """A handout's PDF, however it was made."""

    data: bytes
    pages: int
    warnings: tuple[str, ...] = ()
    """What WeasyPrint warned about (a stamped PDF has none: its layout was checked)."""
    engine: Engine = Engine.FULL
    """FULL: rendered by WeasyPrint; FAST: stamped on its layout's template. Never AUTO."""


class Stamper(Protocol):
    """Stamps a request's values on its layout (stamp/handout.py HandoutStamper)."""

    def pdf(self, request: HandoutRequest) -> Made | None:
        """The stamped PDF, or None when the request needs the full render."""


@dataclass
class Workspace:
    """One clinic with its content and a renderer, loaded on first use.

    Holds no per-call results: everything a render produces is returned to its caller,
    so one Workspace may serve many records one after the other.
    """

    clinic: Clinic

    @classmethod
    def open(cls, clinic_dir: Path | None = None) -> Workspace:
        return cls(load_clinic(clinic_dir or default_clinic_dir()))

    @cached_property
    def library(self) -> ContentLibrary:
        folders = [data_dir("content")]
        if override := self.clinic.override_dir("content"):
            folders.insert(0, override)
        figures = [data_dir("styles") / "figures"]
        if styles := self.clinic.override_dir("styles"):
            figures.insert(0, styles / "figures")
        return ContentLibrary(folders, figures)

    @cached_property
    def renderer(self) -> Renderer:
        """The renderer, made on first use (it loads WeasyPrint: a stamped handout from
        the layout cache never needs it)."""
        from handouts.engine.render import Renderer

        return Renderer(self.clinic, self.library)

    def languages(self) -> list[str]:
        return self.library.languages()

    def make_pdf(self, request: HandoutRequest, stamper: Stamper | None = None) -> Made:
        """The handout's PDF: stamped when `stamper` can (no stamper: always the full
        render), rendered in full by this workspace otherwise."""
        stamped = stamper.pdf(request) if stamper is not None else None
        if stamped is not None:
            return stamped
        rendered = self.renderer.render(request)
        return Made(rendered.data, rendered.pages, rendered.warnings, Engine.FULL)
