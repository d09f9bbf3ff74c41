"""One exception tree for user-facing errors, in plain Python.

The command line (cli.py) turns them into click errors: "Error: <message>" on stderr,
exit code 2, no traceback; the web form and the batch catch them as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError


class HandoutError(Exception):
    """Base of every error a user can cause; exit code 2 (usage or config)."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.message = message
        self.problems = problems or []
        super().__init__(message)

    def __str__(self) -> str:
        return self.format_message()

    def format_message(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        return "\n".join(lines)


class ConfigError(HandoutError):
    """The clinic configuration is missing or invalid."""


class ContentError(HandoutError):
    """A content file is missing or invalid."""


class RecordError(HandoutError):
    """A patient value (command-line option or record) is invalid."""


class RenderError(HandoutError):
    """A template or the PDF renderer failed."""


class LayoutError(RenderError):
    """A layout class whose probe render cannot be measured (a slot's markup or box the
    stamper does not know): its records take the full render instead."""


class OutputError(HandoutError):
    """The output could not be written or sent."""


class InputError(HandoutError):
    """The input file as a whole cannot be used (exit 2, nothing written)."""


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
