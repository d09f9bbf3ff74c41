"""Approvals bound to the text approved.

A clinic's committee approves its own handouts, with its own settings: a clinician
approves the English text of a handout, a qualified translator each translation. An
approval is a JSON record in the clinic folder, `approvals/LANG/HANDOUT_ID/`, next to a
copy of the text the reviewer read; it names that text by its fingerprint (SHA-256).

The text is the handout as this clinic renders it with no patient data: every word and
picture description of its blank HTML, in order, the running footer left out (the
footer is where the approval is printed), then every label and sentence of the
language's strings (what a personalized handout or a letter adds: the medicine plan's
lines, the procedure's duration). Content, templates, the clinic's settings and
values all show in it: edit a sentence or change the fasting hours, and the fingerprint
changes, the footer goes back to "draft" and `check` fails until the text is approved
again. The built-in content carries no approvals: it is a starting point.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from handouts.content.vocabulary import PLACEHOLDER
from handouts.errors import ConfigError

FOLDER = "approvals"
REFERENCE_LANGUAGE = "en"
Role = Literal["clinician", "translator"]
#: What each language needs: the clinician's approval of the English text and, for a
#: translation, a translator's review of the translated text.
_FINGERPRINT = r"^[0-9a-f]{64}$"
#: Hex digits that name a text: its copy's file name, the sign-off sheet, and what
#: `approve --fingerprint` needs.
FINGERPRINT_PREFIX = 16


def short_fingerprint(digest: str) -> str:
    return digest[:FINGERPRINT_PREFIX]


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    handout: str = Field(pattern=r"^[a-z]+-(pre|post)$")
    lang: str = Field(min_length=2, max_length=20)
    role: Role
    by: str = Field(min_length=3, max_length=120, description="Name and credentials.")
    on: dt.date
    fingerprint: str = Field(pattern=_FINGERPRINT)
    #: A translator's review holds for the English text it was read against: this one.
    english: str | None = Field(default=None, pattern=_FINGERPRINT)
    recorded: AwareDatetime  # when `approve` wrote it: the latest recorded one holds

    @property
    def text_file(self) -> str:
        return f"text-{short_fingerprint(self.fingerprint)}.txt"


# -- the text a reviewer reads -------------------------------------------------------------

_BLOCKS = {"p", "li", "h1", "h2", "h3", "th", "td", "tr", "dt", "dd", "div", "section", "figure"}
_ISOLATES = dict.fromkeys(range(0x2066, 0x206A))  # bidi isolates around phone numbers
_SKIPPED = {"footer", "style", "script", "title"}  # the footer prints the approval


class _TextOf(HTMLParser):
    """Words and picture descriptions of a handout's HTML, a block to a line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skipping = 0

    def flush(self) -> None:
        text = "".join(self.current).translate(_ISOLATES)
        line = re.sub(r"\s+", " ", text).strip()
        if line:
            self.lines.append(line)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.flush()
        elif tag == "img" and not self.skipping and (alt := dict(attrs).get("alt")):
            self.current.append(f" [{alt}] ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping -= 1
        elif tag in _BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)


def review_text(html: str) -> str:
    """The text a reviewer approves, from a handout's blank HTML."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    parser.flush()
    return "\n".join(parser.lines) + "\n"


def strings_text(strings: Mapping[str, str], values: Mapping[str, str]) -> str:
    """Every label and sentence of the language's strings.yaml, the clinic's values filled
    in: the lines a personalized handout or a cover letter may print (the medicine plan,
    the procedure's duration...) that a blank handout does not show."""
    fill = partial(PLACEHOLDER.sub, lambda m: values.get(m.group(1), m.group(0)))
    lines = [f"{key}: {fill(' '.join(text.split()))}" for key, text in sorted(strings.items())]
    return "\n".join([STRINGS_HEADING, *lines]) + "\n"


STRINGS_HEADING = "--- Labels and sentences printed for a patient or in a cover letter ---"


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the records -----------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@dataclass(frozen=True)
class Standing:
    """What the records say of one handout in one language, for its current text."""

    clinician: Approval | None  # of the current English text
    translator: Approval | None  # of the current translation (None for English)
    needs_translator: bool
    stale: tuple[Approval, ...]  # the latest approvals whose text has changed since

    @property
    def approved(self) -> bool:
        return self.clinician is not None and (
            not self.needs_translator or self.translator is not None
        )

    def next_review(self, months: int) -> dt.date | None:
        dates = [a.on for a in (self.clinician, self.translator) if a is not None]
        return add_months(min(dates), months) if dates and self.approved else None


class ApprovalBook:
    """The approvals of one clinic folder."""

    def __init__(self, clinic_root: Path) -> None:
        self.root = clinic_root / FOLDER

    def folder(self, handout: str, lang: str) -> Path:
        return self.root / lang / handout

    def records(self, handout: str, lang: str) -> list[Approval]:
        """Every approval of a handout in a language, oldest first."""
        folder = self.folder(handout, lang)
        if not folder.is_dir():
            return []
        found = []
        for path in sorted(folder.glob("*.json")):
            try:
                approval = Approval.model_validate_json(path.read_bytes())
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise ConfigError(
                    f"{path}: not an approval record: {where}: {first['msg']}"
                ) from None
            if (approval.handout, approval.lang) != (handout, lang):
                raise ConfigError(
                    f"{path}: an approval of {approval.handout} ({approval.lang}) in the "
                    f"folder of {handout} ({lang}): move it back or delete it"
                )
            found.append(approval)
        return sorted(found, key=lambda a: a.recorded)

    def latest(self, handout: str, lang: str, role: Role) -> Approval | None:
        mine = [a for a in self.records(handout, lang) if a.role == role]
        return mine[-1] if mine else None

    def approved_text(self, approval: Approval) -> str | None:
        path = self.folder(approval.handout, approval.lang) / approval.text_file
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def record(self, approval: Approval, text: str) -> Path:
        """Writes the approval and the text it names; returns the record's path."""
        if fingerprint(text) != approval.fingerprint:
            raise ValueError("the text does not match the approval's fingerprint")
        folder = self.folder(approval.handout, approval.lang)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / approval.text_file).write_text(text, encoding="utf-8")
        stamp = approval.recorded.strftime("%Y%m%dT%H%M%S%f")
        path = folder / f"{approval.on.isoformat()}-{approval.role}-{stamp}.json"
        path.write_text(json.dumps(approval.model_dump(mode="json"), indent=2) + "\n", "utf-8")
        return path

    def standing(self, handout: str, lang: str, texts: dict[str, str]) -> Standing:
        """`texts`: the current fingerprint of the English text and of this language's. A
        translator's review also lapses when the English it was read against changed."""
        clinician = self.latest(handout, REFERENCE_LANGUAGE, "clinician")
        translator = (
            self.latest(handout, lang, "translator") if lang != REFERENCE_LANGUAGE else None
        )
        english = texts[REFERENCE_LANGUAGE]
        stale = tuple(
            a
            for a in (clinician, translator)
            if a is not None
            and (
                a.fingerprint != texts[a.lang] or (a.role == "translator" and a.english != english)
            )
        )
        return Standing(
            clinician=clinician if clinician and clinician not in stale else None,
            translator=translator if translator and translator not in stale else None,
            needs_translator=lang != REFERENCE_LANGUAGE,
            stale=stale,
        )
