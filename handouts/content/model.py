"""The clinical content model: handouts written by clinical editors in YAML files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handouts.content.vocabulary import (
    ACTION_NAMES,
    FLAG_NAMES,
    PLACEHOLDER,
    TEXT_NAMES,
    WRITE_LINE,
)
from handouts.content.yamlfile import Loc, YamlFile, yaml_error_line
from handouts.errors import ContentError, error_lines
from handouts.locate import data_dir
from handouts.model.request import PATIENT_FIELDS

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
M = TypeVar("M", bound=BaseModel)
Text = str  # plain words; {placeholder} for clinic values, **bold** for emphasis


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    title: str = Field(min_length=3, description="Title of the source as published.")
    url: str = Field(pattern=r"^https?://\S+$", description="Where to read it.")


class Callout(_Model):
    kind: Literal["info", "important", "warning"] = Field(
        default="info", description="info (plain box), important (brand color), warning."
    )
    heading: Text | None = None
    text: Text | None = None
    bullets: list[Text] = Field(default_factory=list)


class RedFlags(_Model):
    call_911: list[Text] = Field(min_length=1, description="Emergencies: call 911.")
    call_now: list[Text] = Field(min_length=1, description="Call the clinic right away.")


class Action(_Model):
    """One line of the "What to do" box: an icon, the action, and where the patient's
    computed times and dates go ({stop_eating_time} and the other ACTION_SLOTS)."""

    icon: str = Field(description="An icon of styles/figures (icon-<name>.svg).")
    text: Text = Field(min_length=3)
    write_lines: int = Field(
        default=0, ge=0, le=3, description="Lines to write on under the action (nurse)."
    )
    when: str | None = Field(default=None, description="Show only when this flag is true.")
    medicine_plan: bool = Field(
        default=False,
        description="The medicines action: a personalized handout with a medicine plan "
        "prints the plan's lines here instead of this text (model/medicines.py).",
    )


class Figure(_Model):
    """A picture of styles/figures, with the words a screen reader says instead."""

    image: str = Field(description="A figure of styles/figures (<name>.svg).")
    alt: Text = Field(min_length=10, description="What the picture shows, in this language.")
    caption: Text | None = Field(default=None, description="Printed under the picture.")
    #: icon, side: beside the text; small: its caption beside it; medium, wide: under the
    #: text; grid: 5.5 in, its caption beside it; full: the text's width. A grid or full
    #: picture comes before its `beside` paragraphs.
    size: Literal["icon", "side", "small", "medium", "wide", "grid", "full"] = "medium"
    sides: list[Text] = Field(
        default_factory=list,
        max_length=2,
        description="Words printed under the picture's left and right edges (a side view: "
        "Front, Back).",
    )
    beside: list[Text] = Field(
        default_factory=list,
        description="Paragraphs printed to the left of the picture (read before it); "
        "under a grid or full picture.",
    )
    beside_bullets: list[Text] = Field(
        default_factory=list,
        description="A bulleted list after the `beside` paragraphs, beside the picture too.",
    )


class Block(_Model):
    """One block of a section: exactly one of the KINDS below."""

    p: Text | None = None
    bullets: list[Text] | None = None
    steps: list[Text] | None = None
    checklist: list[Text] | None = Field(
        default=None, description="Teach-back points with tick boxes and a nurse sign-off line."
    )
    callout: Callout | None = None
    red_flags: RedFlags | None = None
    actions: list[Action] | None = Field(
        default=None, description='The "What to do" box at the top of page 1.'
    )
    figure: Figure | None = None
    medicine_table: int | None = Field(
        default=None, ge=3, le=12, description="A table of this many rows for the nurse."
    )
    terms: dict[str, Text] | None = Field(
        default=None, description="Words to know: each word and its meaning."
    )
    when: str | None = Field(default=None, description="Show only when this flag is true.")

    KINDS: ClassVar[tuple[str, ...]] = (
        "p",
        "bullets",
        "steps",
        "checklist",
        "callout",
        "red_flags",
        "actions",
        "figure",
        "medicine_table",
        "terms",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Block:
        if len([k for k in self.KINDS if getattr(self, k)]) != 1:
            raise ValueError(f"a block needs exactly one of {', '.join(self.KINDS)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in self.KINDS if getattr(self, k))


class Section(_Model):
    id: str = Field(pattern=SLUG, description="Stable id, used for checks and links.")
    heading: Text = Field(min_length=1)
    blocks: list[Block] = Field(min_length=1)
    when: str | None = None
    lead: bool = Field(
        default=False, description="Printed first on page 1, before the appointment card."
    )


class SectionRef(_Model):
    use: str = Field(pattern=SLUG, description="Id of a section in shared.yaml.")


LANGUAGE_CODE = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?$"
ReviewStatus = Literal["draft", "clinician-reviewed", "translation-pending", "translated"]
APPROVED = frozenset({"clinician-reviewed", "translated"})
#: A handout's own status: the content never approves itself (see approvals.py).
ContentStatus = Literal["draft", "translation-pending"]


class Handout(_Model):
    id: str = Field(pattern=SLUG)
    procedure: Literal["vertebroplasty", "kyphoplasty"]
    phase: Literal["pre", "post"]
    language: str = Field(pattern=LANGUAGE_CODE)
    title: Text = Field(min_length=3, max_length=80)
    summary: Text | None = Field(
        default=None,
        min_length=3,
        description="One or two sentences under the title (and the main message).",
    )
    main_message: Text | None = Field(
        default=None,
        description="The one main message, printed bold at the top of page 1. It may name "
        'the computed times and dates of the "What to do" actions.',
    )
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")
    updated_on: dt.date = Field(description="When the text last changed.")
    review_status: ContentStatus = Field(
        description="Where the built-in text stands: draft (English) or translation-pending. "
        "A clinic approves its own handouts (approvals/, `make-handouts approve`): the "
        "content carries no approvals."
    )
    sources: list[Source] = Field(min_length=1)
    sections: list[Section | SectionRef] = Field(min_length=1)

    def resolved_sections(self) -> list[Section]:
        return [s for s in self.sections if isinstance(s, Section)]


class SharedSections(_Model):
    sections: list[Section]


class Tagline(_Model):
    """One line of the "Help in your language" notice (content/language-help/<code>.yaml)."""

    language: str = Field(pattern=LANGUAGE_CODE)
    name: str = Field(min_length=2, max_length=40, description="The language's own name.")
    tagline: str = Field(min_length=10, max_length=300)
    review_status: ReviewStatus
    reviewed_by: str | None = Field(default=None, max_length=120)
    reviewed_on: dt.date | None = None

    @property
    def approved(self) -> bool:
        return self.review_status in APPROVED and bool(self.reviewed_by and self.reviewed_on)


class TaglineDefaults(_Model):
    """content/language-help/defaults.yaml: the list used when a clinic names none."""

    source: str = Field(min_length=10)
    languages: list[str] = Field(min_length=1)


def texts(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every string in a raw YAML structure, with its key path."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from texts(value, (*loc, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from texts(value, (*loc, i))


#: strings.yaml keys that are patterns with fields of their own, not clinic values.
PATTERN_FIELDS = {
    "footer.content": frozenset({"id", "version", "review"}),
    "footer.approved": frozenset({"name", "date"}),
    "footer.translation_reviewed": frozenset({"name", "date"}),
    "footer.next_review": frozenset({"date"}),
    "footer.page": frozenset({"page", "pages"}),
    "notice.main": frozenset({"phone", "tty"}),
    "tagline": frozenset({"phone"}),
    "duration.one": frozenset({"count", "low", "high"}),
    "duration.other": frozenset({"count", "low", "high"}),
}


#: The patient slots a medicine plan line (strings.yaml `plan.*`) may place.
PLAN_FIELDS = frozenset({"name", "date"})

#: Fields the cover letter's strings may use besides the clinic values.
LETTER_FIELDS = frozenset({"clinic_address"})


def _allowed_names(loc: Loc) -> frozenset[str]:
    if len(loc) != 1:
        return TEXT_NAMES
    key = str(loc[0])
    if key.startswith("letter."):
        return TEXT_NAMES | LETTER_FIELDS
    if key.startswith("plan."):
        return TEXT_NAMES | PLAN_FIELDS
    return PATTERN_FIELDS.get(key, TEXT_NAMES)


#: Where pictures are found: the built-in styles/figures unless a library says more.
BUILTIN_FIGURES = (data_dir("styles") / "figures",)


def find_figure(stem: str, folders: Sequence[Path] = BUILTIN_FIGURES) -> Path | None:
    """`<stem>.svg` in the first of `folders` that has it."""
    return next((p for f in folders if (p := f / f"{stem}.svg").is_file()), None)


def _figure_problem(doc: YamlFile, loc: Loc, name: str, folders: Sequence[Path]) -> str | None:
    """An `icon:` or `image:` that names no picture of styles/figures."""
    stem = f"icon-{name}" if loc[-1] == "icon" else name
    if find_figure(stem, folders):
        return None
    return f"{doc.where(loc)}: no picture '{stem}.svg' in styles/figures"


def name_problems(doc: YamlFile, figures: Sequence[Path] = BUILTIN_FIGURES) -> list[str]:
    """Unknown {placeholders}, `when:` flags and pictures, each with file and line."""
    problems = []
    for loc, text in texts(doc.data):
        if loc and loc[-1] == "when":
            if text not in FLAG_NAMES:
                known = ", ".join(sorted(FLAG_NAMES))
                problems.append(f"{doc.where(loc)}: unknown flag '{text}' (known: {known})")
            continue
        if loc and loc[-1] in ("icon", "image"):
            if problem := _figure_problem(doc, loc, text, figures):
                problems.append(problem)
            continue
        slots_allowed = "actions" in loc or loc == ("main_message",)
        allowed = _allowed_names(loc) | (ACTION_NAMES if slots_allowed else frozenset())
        if "actions" in loc:
            allowed |= {WRITE_LINE}
        for name in PLACEHOLDER.findall(text):
            if name in allowed:
                continue
            if name in PATIENT_FIELDS or name in ACTION_NAMES:
                problems.append(
                    f"{doc.where(loc)}: '{{{name}}}' is a patient field; patient data is "
                    'printed only in the appointment card, the notes box and the "What to do" '
                    "actions"
                )
            else:
                problems.append(f"{doc.where(loc)}: unknown name '{{{name}}}'")
    return problems


def read_yaml(path: Path) -> YamlFile:
    try:
        return YamlFile(path)
    except FileNotFoundError:
        raise ContentError(f"{path}: content file not found") from None
    except UnicodeDecodeError:
        raise ContentError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise ContentError(f"{path}:{yaml_error_line(exc)}: {reason}") from None


def validate(model: type[M], doc: YamlFile, figures: Sequence[Path] = BUILTIN_FIGURES) -> M:
    """Validates a YAML file against `model`, naming file and line for every problem."""
    problems: list[str] = []
    result = None
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        problems += error_lines(exc, doc.where)
    problems += name_problems(doc, figures)
    if problems or result is None:
        raise ContentError(f"{doc.path}: {len(problems)} problem(s)", problems)
    return result
