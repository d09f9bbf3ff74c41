"""One exception tree for user-facing errors: click prints them without a traceback."""

from __future__ import annotations

import click


class HandoutError(click.ClickException):
    """Base of every error a user can cause; exit code 2 (usage or config)."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
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


class OutputError(HandoutError):
    """The output could not be written or sent."""
