"""YAML loading that remembers the line of every key, so errors can name it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Loc = tuple[int | str, ...]
#: libyaml's parser when PyYAML has it (about ten times faster), same results and lines.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlFile:
    """Parsed YAML data plus a map from key path to 1-based line number."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = path.read_text(encoding="utf-8")
        try:
            self.data: Any = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
            node = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError:
            yaml.safe_load(text)  # the pure-Python parser's wording names the problem best
            raise
        self._lines: dict[Loc, int] = {}
        if node is not None:
            self._index(node, ())

    def _index(self, node: yaml.Node, loc: Loc) -> None:
        self._lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                self._index(value_node, (*loc, str(key_node.value)))
                self._lines[(*loc, str(key_node.value))] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, (*loc, i))

    def line(self, loc: Loc) -> int:
        """Line of the deepest known part of `loc` (pydantic adds model names to paths)."""
        for end in range(len(loc), -1, -1):
            found = self._lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return 1

    def where(self, loc: Loc) -> str:
        keys = ".".join(str(p) for p in loc if not _is_union_tag(p))
        return f"{self.path}:{self.line(loc)}: {keys or '(top level)'}"


def _is_union_tag(part: int | str) -> bool:
    return isinstance(part, str) and part[:1].isupper()


def yaml_error_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else 1
