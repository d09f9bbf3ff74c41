"""Turns pydantic validation errors into one readable line per problem."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError


def key_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def error_lines(exc: ValidationError, where: Callable[[tuple[int | str, ...]], str]) -> list[str]:
    """One line per error; `where` turns an error location into 'file:line: key' text.

    The offending value is never printed: it may be patient data.
    """
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against the README reference)"
        elif err["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{where(loc)}: {message}")
    return lines
