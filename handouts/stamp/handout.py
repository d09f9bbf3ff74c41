"""Tagged stamping of one handout at a time: `build`, the web form and portal batches.

A record's handout is its layout class's Layout (from the layout cache, or rendered
once and stored there) with the patient values written into their slots
(stamp/splice.py): the same pages, structure tree and fonts a full render makes.
`pdf` returns None when the record needs the full render instead: notes longer than
the notes box (they grow it, and so change the flow of the page), a value wider than
its slot, a character none of the bundled faces has, a script that needs shaping, a
language whose dates need another font, notes and a layout without the notes box, or a
layout class whose probe render cannot be measured (LayoutError).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handouts.engine.formats import locale_of
from handouts.errors import LayoutError
from handouts.model.request import HandoutRequest
from handouts.options import Engine
from handouts.stamp.cache import LayoutCache, fingerprint, open_cache
from handouts.stamp.layouts import HandoutClass, handout_class, plan_handout
from handouts.stamp.model import Layout
from handouts.stamp.splice import stamp
from handouts.workspace import Made

if TYPE_CHECKING:
    from pathlib import Path

    from babel import Locale

    from handouts.options import LayoutCacheOptions
    from handouts.workspace import Workspace


def workspace_fingerprint(workspace: Workspace) -> str:
    """The layout cache's fingerprint of a clinic and its content."""
    clinic = workspace.clinic
    files = [clinic.root / "clinic.toml"]
    if clinic.logo_path:
        files.append(clinic.logo_path)
    folders = ("content", "templates", "styles", "approvals")  # approvals: the footer
    files += [d for name in folders if (d := clinic.override_dir(name))]
    return fingerprint(workspace.library.folders, clinic.root, files)


def open_layout_cache(workspace: Workspace, folder: Path | None, enabled: bool) -> LayoutCache:
    return open_cache(folder, enabled, lambda: workspace_fingerprint(workspace))


@dataclass(frozen=True)
class LayoutTask:
    """One layout class to render (in a batch worker): a handout's; a cover letter's is
    mail/fastpath.LetterLayoutTask."""

    kind: str  # the cache's word for what it is: "handout" ("letter")
    key: Any  # the layout class
    request: HandoutRequest

    def render(self, workspace: Workspace) -> Layout:
        from handouts.stamp.probe import handout_layout  # WeasyPrint

        return handout_layout(workspace.renderer, self.request)


def uncached(cache: LayoutCache, tasks: Iterable[LayoutTask]) -> list[LayoutTask]:
    """Each layout class of `tasks` once, if the cache does not have it yet."""
    seen: set[tuple[str, Any]] = set()
    missing = []
    for task in tasks:
        if (task.kind, task.key) not in seen:
            seen.add((task.kind, task.key))
            if cache.get(cache.key(task.kind, task.key)) is None:
                missing.append(task)
    return missing


def render_layout(workspace: Workspace, task: LayoutTask) -> Layout:
    return task.render(workspace)


class HandoutStamper:
    """Stamps handouts of one clinic; safe to share between threads."""

    def __init__(self, workspace: Workspace, cache: LayoutCache) -> None:
        self.workspace = workspace
        self.cache = cache
        self._render_lock = threading.Lock()
        #: Layout classes the probe render could not measure: their records render in full.
        self._unmeasurable: set[HandoutClass] = set()

    def _class(self, request: HandoutRequest) -> tuple[HandoutClass | None, Locale]:
        """The request's layout class (None: the full render) and its locale."""
        strings = self.workspace.library.strings(request.language)
        locale = locale_of(request.language, strings)
        return handout_class(request, self.workspace.clinic.config, locale, strings), locale

    def pdf(self, request: HandoutRequest) -> Made | None:
        """The stamped PDF, or None when this record takes the full render."""
        key, locale = self._class(request)
        layout = self.measured(key, request) if key is not None else None
        if key is None or layout is None:
            return None
        clinic = self.workspace.clinic.config
        strings = self.workspace.library.strings(request.language)
        stamps = plan_handout(layout, request, clinic, locale, strings)
        data = stamp(layout, stamps) if stamps is not None else None
        if data is None:
            return None
        return Made(data, len(layout.sizes), engine=Engine.FAST)

    def measured(self, key: HandoutClass, request: HandoutRequest) -> Layout | None:
        """The class's layout, or None when its probe render cannot be measured (then
        once per class: its records take the full render)."""
        if key in self._unmeasurable:
            return None
        try:
            return self.layout(key, request)
        except LayoutError:
            self._unmeasurable.add(key)
            return None

    def layout(self, key: HandoutClass, request: HandoutRequest) -> Layout:
        """The class's layout from the cache, or rendered and stored. Renders take
        turns (one renderer; they happen once per layout class), and a thread wanting a
        layout another is rendering waits and reads it."""
        cache_key = self.cache.key("handout", key)
        found = self.cache.get(cache_key)
        if found is not None:
            return found
        with self._render_lock:
            found = self.cache.get(cache_key)
            if found is None:
                found = render_layout(self.workspace, LayoutTask("handout", key, request))
                self.cache.put(cache_key, found)
        return found

    def layout_class(self, request: HandoutRequest) -> HandoutClass | None:
        """The request's layout class (None: it takes the full render)."""
        return self._class(request)[0]

    def missing(self, requests: list[HandoutRequest]) -> list[LayoutTask]:
        """The layout classes of these requests that the cache does not have yet."""
        classes = ((self._class(request)[0], request) for request in requests)
        tasks = (LayoutTask("handout", key, r) for key, r in classes if key is not None)
        return uncached(self.cache, tasks)

    def accept(self, task: LayoutTask, layout: Layout) -> None:
        """A layout rendered elsewhere (a batch worker), stored for every process."""
        self.cache.put(self.cache.key(task.kind, task.key), layout)


def stamper_for(workspace: Workspace, options: LayoutCacheOptions) -> HandoutStamper:
    """Stamping from the layout cache of `options`. With the cache off (--no-cache) the
    stamper keeps the layouts it renders in memory, for this process only: the cache
    changes where layouts are kept, never which records are stamped."""
    return HandoutStamper(workspace, open_layout_cache(workspace, options.folder, options.enabled))
