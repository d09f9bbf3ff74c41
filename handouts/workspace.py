"""The workspace: one clinic, its content and its renderer, loaded once and shared."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from handouts.content.library import ContentLibrary
from handouts.engine.clinic import Clinic, load_clinic
from handouts.locate import data_dir, default_clinic_dir

if TYPE_CHECKING:
    from handouts.engine.render import Renderer


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
