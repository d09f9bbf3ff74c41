"""The options of each command, typed and checked in one place.

The CLI, the web app and the Python API build these models, so a rule such as "--jobs
is at least 1" holds for every caller. Like mkdocs' config, every problem is collected
and reported at once, each named as the command-line option.
"""

from __future__ import annotations

import datetime as dt
import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handouts.errors import HandoutError


class Target(StrEnum):
    """portal: one tagged PDF per record. mail: cover letter + handout, and mailing.pdf."""

    PORTAL = "portal"
    MAIL = "mail"


class Engine(StrEnum):
    """full: WeasyPrint per record. fast/auto: stamp the values on each layout class's
    template, records that need it taking the full render (the manifest says which)."""

    AUTO = "auto"
    FULL = "full"
    FAST = "fast"


class ProgressMode(StrEnum):
    """auto: a bar on a terminal, lines otherwise."""

    AUTO = "auto"
    BAR = "bar"
    LOG = "log"
    NONE = "none"


class FhirMode(StrEnum):
    """url: the DocumentReference points at the PDF beside it. data: embeds it (base64)."""

    URL = "url"
    DATA = "data"


class OptionsError(HandoutError):
    """Options that cannot work together or are out of range; nothing was done."""


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    @classmethod
    def create(cls, **values: Any) -> Self:
        """The validated options, or an OptionsError listing every problem by option name."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            lines = [
                _option_line(err) for err in exc.errors(include_input=False, include_url=False)
            ]
            if len(lines) == 1:
                raise OptionsError(lines[0]) from None
            raise OptionsError(f"{len(lines)} invalid options:", lines) from None


def _option_line(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:
        return message  # a rule across options names them itself
    return f"--{str(err['loc'][0]).replace('_', '-')}: {message}"


class LayoutCacheOptions(_Options):
    """Where layout templates are kept between runs (stamp/cache.py)."""

    folder: Path | None = Field(default=None, description="Default: the user's cache folder.")
    enabled: bool = True


class BatchOptions(_Options):
    input: Path = Field(description="CSV or JSON file of records.")
    out_dir: Path = Field(description="Folder for the PDFs, manifest and errors.")
    jobs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    resume: bool = Field(default=False, description="Skip records already rendered.")
    encoding: str | None = Field(default=None, description="Input encoding (default UTF-8).")
    fhir: FhirMode | None = Field(default=None, description="Also write DocumentReferences.")
    timeout: float = Field(default=120.0, ge=0.1, le=3600, description="Seconds per record.")
    recycle_after: int = Field(default=200, ge=1, description="Tasks per worker process.")
    progress: ProgressMode = ProgressMode.AUTO
    target: Target = Target.PORTAL
    duplex: bool = Field(default=True, description="mail: every letter starts on a front.")
    preview: int = Field(default=0, ge=0, le=50, description="mail: PNG previews to write.")
    letter_date: dt.date = Field(default_factory=dt.date.today, description="mail: dated.")
    engine: Engine = Engine.AUTO
    cache: LayoutCacheOptions = Field(default_factory=lambda: LayoutCacheOptions())
    to_printer: bool = Field(default=False, description="mail: print mailing.pdf (CUPS).")
    printer: str | None = Field(default=None, description="mail: the queue for it.")

    @model_validator(mode="after")
    def _print_needs_mail(self) -> Self:
        if (self.to_printer or self.printer) and self.target is not Target.MAIL:
            raise ValueError("--print and --printer need --for mail (portal PDFs are for messages)")
        if self.printer and not self.to_printer:
            raise ValueError("--printer needs --print")
        return self

    @property
    def stamping(self) -> bool:
        """Whether records go down the stamping path (fast or auto)."""
        return self.engine in (Engine.FAST, Engine.AUTO)


class ServeOptions(_Options):
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8080, ge=1, le=65535)
    threads: int = Field(default=4, ge=1, le=32)
    allowed_hosts: tuple[str, ...] = Field(
        default=(), description="Other host names the nurses' browsers use for the server."
    )
    cache: LayoutCacheOptions = Field(default_factory=lambda: LayoutCacheOptions())
