"""Finds and loads content files: clinic overrides first, then the built-in ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import RootModel

from handouts.content.model import (
    BUILTIN_FIGURES,
    Handout,
    Section,
    SectionRef,
    SharedSections,
    Tagline,
    TaglineDefaults,
    find_figure,
    read_yaml,
    validate,
)
from handouts.errors import ContentError
from handouts.model.request import PHASES, PROCEDURES

#: The language every other strings.yaml must match key for key.
REFERENCE_LANGUAGE = "en"
#: Its folder of per-state language lists (language-help/states/IL.yaml).
STATES = "states"
#: The folder of the "Help in your language" taglines, beside the language folders.
TAGLINES = "language-help"


class Strings(RootModel[dict[str, str]]):
    """Fixed labels of the templates for one language (strings.yaml)."""


class ContentLibrary:
    """Content for one clinic: its own content/ folder, then the built-in one."""

    def __init__(
        self, folders: list[Path], figure_folders: Sequence[Path] = BUILTIN_FIGURES
    ) -> None:
        self.folders = folders
        #: Where pictures are found (a clinic's styles/figures first): content names
        #: them by `image:` / `icon:`, the renderer loads them.
        self.figure_folders = figure_folders
        self._cache: dict[tuple[str, ...], object] = {}

    def path(self, *parts: str) -> Path:
        for folder in self.folders:
            candidate = folder.joinpath(*parts)
            if candidate.is_file():
                return candidate
        raise ContentError(
            f"content file not found: {'/'.join(parts)} (looked in "
            f"{', '.join(str(f) for f in self.folders)})"
        )

    def figure(self, stem: str) -> Path | None:
        return find_figure(stem, self.figure_folders)

    def languages(self) -> list[str]:
        """Every language with a strings.yaml: adding a language is adding data files."""
        found = {
            d.name
            for f in self.folders
            if f.is_dir()
            for d in f.iterdir()
            if (d / "strings.yaml").is_file()
        }
        return sorted(found)

    def strings(self, lang: str) -> dict[str, str]:
        key = ("strings", lang)
        if key not in self._cache:
            doc = read_yaml(self.path(lang, "strings.yaml"))
            strings = validate(Strings, doc).root
            if lang != REFERENCE_LANGUAGE:
                missing = sorted(set(self.strings(REFERENCE_LANGUAGE)) - set(strings))
                if missing:
                    raise ContentError(
                        f"{doc.path}: missing {len(missing)} label(s) that "
                        f"{REFERENCE_LANGUAGE}/strings.yaml has",
                        missing,
                    )
            self._cache[key] = strings
        return self._cache[key]  # type: ignore[return-value]

    def tagline(self, lang: str) -> Tagline:
        """The "Help in your language" line of one language (content/language-help/)."""
        key = ("tagline", lang)
        if key not in self._cache:
            doc = read_yaml(self.path(TAGLINES, f"{lang}.yaml"))
            tagline = validate(Tagline, doc)
            if tagline.language != lang:
                raise ContentError(
                    f"{doc.where(('language',))}: is '{tagline.language}' but the file "
                    f"name says '{lang}'"
                )
            self._cache[key] = tagline
        return self._cache[key]  # type: ignore[return-value]

    def tagline_languages(self) -> list[str]:
        """Every language with a tagline file."""
        return sorted(
            {
                p.stem
                for f in self.folders
                if (f / TAGLINES).is_dir()
                for p in (f / TAGLINES).glob("*.yaml")
                if p.stem != "defaults"
            }
        )

    def tagline_defaults(self) -> TaglineDefaults:
        key = ("tagline-defaults",)
        if key not in self._cache:
            doc = read_yaml(self.path(TAGLINES, "defaults.yaml"))
            self._cache[key] = validate(TaglineDefaults, doc)
        return self._cache[key]  # type: ignore[return-value]

    def tagline_states(self) -> list[str]:
        """The states whose list of notice languages is shipped (language-help/states/)."""
        return sorted(
            {
                p.stem
                for f in self.folders
                if (f / TAGLINES / STATES).is_dir()
                for p in (f / TAGLINES / STATES).glob("*.yaml")
            }
        )

    def tagline_state(self, state: str) -> TaglineDefaults:
        """A state's list of notice languages (the 15 most spoken by people with limited
        English there), with its source."""
        key = ("tagline-state", state)
        if key not in self._cache:
            doc = read_yaml(self.path(TAGLINES, STATES, f"{state}.yaml"))
            self._cache[key] = validate(TaglineDefaults, doc)
        return self._cache[key]  # type: ignore[return-value]

    def shared(self, lang: str) -> dict[str, Section]:
        key = ("shared", lang)
        if key not in self._cache:
            doc = read_yaml(self.path(lang, "shared.yaml"))
            sections = validate(SharedSections, doc, self.figure_folders).sections
            self._cache[key] = {s.id: s for s in sections}
        return self._cache[key]  # type: ignore[return-value]

    def handout(self, lang: str, procedure: str, phase: str) -> Handout:
        key = ("handout", lang, procedure, phase)
        if key not in self._cache:
            self._cache[key] = self._load_handout(lang, procedure, phase)
        return self._cache[key]  # type: ignore[return-value]

    def _load_handout(self, lang: str, procedure: str, phase: str) -> Handout:
        doc = read_yaml(self.path(lang, f"{procedure}-{phase}.yaml"))
        handout = validate(Handout, doc, self.figure_folders)
        expected = {"procedure": procedure, "phase": phase, "language": lang}
        problems = [
            f"{doc.where((k,))}: is '{getattr(handout, k)}' but the file name says '{v}'"
            for k, v in expected.items()
            if getattr(handout, k) != v
        ]
        shared = (
            self.shared(lang) if any(isinstance(s, SectionRef) for s in handout.sections) else {}
        )
        sections: list[Section] = []
        for i, section in enumerate(handout.sections):
            if isinstance(section, Section):
                sections.append(section)
            elif section.use in shared:
                sections.append(shared[section.use])
            else:
                problems.append(
                    f"{doc.where(('sections', i, 'use'))}: no section "
                    f"'{section.use}' in {lang}/shared.yaml"
                )
        if problems:
            raise ContentError(f"{doc.path}: {len(problems)} problem(s)", problems)
        return handout.model_copy(update={"sections": sections})

    def catalog(self) -> list[Handout]:
        """Every handout available, in a stable order."""
        found = []
        for lang in self.languages():
            for procedure in PROCEDURES:
                for phase in PHASES:
                    if any(
                        (f / lang / f"{procedure}-{phase}.yaml").is_file() for f in self.folders
                    ):
                        found.append(self.handout(lang, procedure, phase))
        return found
