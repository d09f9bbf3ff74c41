"""Clinic configuration: identity, brand and protocol values from clinic.toml."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handouts.errors import ConfigError, error_lines, key_path

HEX_COLOR = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
#: A CUPS queue name: up to 127 printable characters, no space or control character,
#: slash, backslash, quote, # or ? (lpadmin refuses them), no @ (lp reads queue@host as a
#: queue on another server), and not starting with "-" (never read as an option).
QUEUE_NAME = r"^(?!-)[^\s\x00-\x20\x7f/\\'\"#?@]{1,127}$"
QUEUE_NAME_RULE = (
    "up to 127 printable characters, no spaces, slashes, quotes, #, ? or @; "
    "see `make-handouts printers`"
)
Sedation = Literal["local", "sedation", "general"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Identity(_Strict):
    name: str = Field(min_length=1, max_length=80, description="Clinic name as printed.")
    address: list[str] = Field(
        default_factory=list, max_length=4, description="Address lines, printed in the header."
    )
    main_phone: str = Field(min_length=7, max_length=30, description="Main phone number.")
    after_hours_phone: str = Field(
        min_length=7, max_length=30, description="Phone answered nights and weekends."
    )
    website: str = Field(default="", max_length=80, description="Web address, printed as text.")
    logo: str = Field(default="", description="Logo file (SVG or PNG) inside the clinic folder.")


class Brand(_Strict):
    primary_color: str = Field(
        default="#1f4e79", pattern=HEX_COLOR, description="Headings and rules (#rrggbb)."
    )
    accent_color: str = Field(
        default="#2e7d5b", pattern=HEX_COLOR, description="Call-out borders (#rrggbb)."
    )
    page_size: Literal["letter", "A4"] = Field(default="letter", description="letter or A4.")


class SedationByProcedure(_Strict):
    vertebroplasty: Sedation = Field(
        default="sedation", description="local, sedation (local + IV sedation) or general."
    )
    kyphoplasty: Sedation = Field(default="general", description="Same choices.")


class Protocol(_Strict):
    """Clinic protocol values. Defaults sit at the conservative end of published ranges;
    every clinic must review them with its physicians before use."""

    fasting_hours: int = Field(
        default=8, ge=2, le=12, description="No food for this many hours before arrival."
    )
    clear_liquid_hours: int = Field(
        default=8,
        ge=2,
        le=12,
        description="Clear liquids stop this many hours before arrival "
        "(equal to fasting_hours: no clear-liquid window).",
    )
    water_sips_with_medicines: bool = Field(
        default=True, description="Allow small sips of water with approved medicines."
    )
    arrive_before_minutes: int = Field(
        default=60, ge=0, le=240, description="Arrive this many minutes before the procedure."
    )
    escort_hours: int = Field(
        default=24, ge=0, le=72, description="An adult stays with the patient this long."
    )
    sedation: SedationByProcedure = Field(default_factory=SedationByProcedure)
    observation_hours: int = Field(
        default=3, ge=1, le=24, description="Hours of watching in the recovery area."
    )
    bandage_removal_hours: int = Field(
        default=48, ge=12, le=120, description="Keep the bandage on this many hours."
    )
    shower_after_hours: int = Field(
        default=48, ge=12, le=120, description="No shower for this many hours."
    )
    tub_pool_days: int = Field(
        default=14, ge=1, le=60, description="No tub bath, pool or hot tub for this many days."
    )
    lifting_limit_lb: int = Field(
        default=5, ge=1, le=20, description="Do not lift more than this many pounds."
    )
    lifting_limit_weeks: int = Field(
        default=6, ge=1, le=26, description="How many weeks the lifting limit lasts."
    )
    driving_restriction_days: int = Field(
        default=14, ge=1, le=60, description="No driving for this many days."
    )
    fever_threshold_f: float = Field(
        default=100.4, ge=99.0, le=103.0, description="Call for a fever at or above this (F)."
    )
    follow_up_days_min: int = Field(
        default=7, ge=1, le=60, description="Follow-up visit window starts (days)."
    )
    follow_up_days_max: int = Field(
        default=14, ge=1, le=90, description="Follow-up visit window ends (days)."
    )

    @field_validator("fever_threshold_f", mode="before")
    @classmethod
    def _int_is_float(cls, value: object) -> object:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @property
    def fever_threshold_c(self) -> float:
        return round((self.fever_threshold_f - 32) * 5 / 9, 1)


class Options(_Strict):
    teach_back: bool = Field(
        default=True, description="End every handout with the teach-back checklist."
    )
    recovery_log: bool = Field(
        default=True, description="End post-procedure handouts with the recovery log."
    )
    recovery_log_days: int = Field(
        default=14, ge=7, le=42, description="Days (rows) of the recovery log."
    )
    notes_lines: int = Field(
        default=2,
        ge=0,
        le=12,
        description="Ruled lines of the care-team notes box, typed on or written on by "
        "hand: notes that fit are stamped, longer ones grow the box (full render); 0: no "
        "rules, the box grows with any note.",
    )
    large_print: bool = Field(
        default=False,
        description="Large print unless a request says otherwise (blank large_print "
        "cell, no --large-print option; the web form starts ticked).",
    )

    @property
    def notes_ruled(self) -> bool:
        """Whether the notes box has ruled lines: then it is one layout, blank or typed
        (the template, the probe render and the layout class all ask this)."""
        return self.notes_lines > 0

    @property
    def blank_slots(self) -> frozenset[str]:
        """Slots a layout has even when a record leaves them blank: the ruled notes box."""
        return frozenset({"notes"}) if self.notes_ruled else frozenset()


class Window(_Strict):
    """A window of the envelope, measured on the letter sheet from its top-left corner."""

    left: float = Field(ge=0, le=8.5, description="Inches from the left edge of the sheet.")
    top: float = Field(ge=0, le=11, description="Inches from the top edge of the sheet.")
    width: float = Field(gt=0, le=8.5, description="Inches.")
    height: float = Field(gt=0, le=11, description="Inches.")

    @field_validator("left", "top", "width", "height", mode="before")
    @classmethod
    def _int_is_float(cls, value: object) -> object:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Mail(_Strict):
    """#10 double-window envelope, letter tri-folded. Defaults are typical positions:
    measure your own envelopes and print a --preview before a large run."""

    return_window: Window = Field(
        default_factory=lambda: Window(left=0.375, top=0.5, width=3.25, height=0.875),
        description="Upper window: clinic name and return address.",
    )
    recipient_window: Window = Field(
        default_factory=lambda: Window(left=0.875, top=2.125, width=4.0, height=1.125),
        description="Lower window: the recipient's name and address.",
    )
    safety_margin: float = Field(
        default=0.125,
        ge=0,
        le=0.5,
        description="Inches kept clear inside each window, for paper shifting in the envelope.",
    )
    mailer_id: str = Field(
        default="",
        pattern=r"^(\d{6}|\d{9})?$",
        description="USPS Mailer ID (6 or 9 digits); empty: no Intelligent Mail barcode.",
    )
    service_type: str = Field(
        default="040", pattern=r"^\d{3}$", description="IMb service type id (3 digits)."
    )


class LanguageHelp(_Strict):
    """The "Help in your language" notice (45 CFR 92.11): taglines and auxiliary aids."""

    show: Literal["all", "post", "off"] = Field(
        default="all",
        description="all: on every handout and mailed letter; post: on post-procedure "
        "handouts (and their letters) only; off: nowhere.",
    )
    state: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="Your state (IL, NY, ...): its list of the 15 languages most spoken by "
        "people with limited English (content/language-help/states/), unless `languages` "
        "is set.",
    )
    languages: list[str] | None = Field(
        default=None,
        description="Tagline languages, in order (codes of content/language-help/). "
        "Default: the list of `state`, else the national list of "
        "content/language-help/defaults.yaml; 92.11 asks for the 15 most common in your "
        "state.",
    )
    phone: str = Field(
        default="", max_length=30, description="Number to call for help (default: main_phone)."
    )
    tty: str = Field(default="711", max_length=30, description="TTY or relay number.")


class Medicines(_Strict):
    """How the clinic handles each patient's medicine plan (who stops what, and when)."""

    default_plan: Literal["call", "none"] | None = Field(
        default=None,
        description="The plan of a personalized pre-procedure handout whose record gives "
        "none: call (our nurses call every patient about medicines call_days_before days "
        "before the procedure). Unset: such a record fails, so no plan is left blank.",
    )
    call_days_before: int = Field(
        default=10,
        ge=1,
        le=30,
        description="We call about medicines this many days before the procedure. Keep it "
        "longer than the longest stop time your physicians use (up to 7 days in sources).",
    )
    restart_call_days_after: int = Field(
        default=1,
        ge=1,
        le=14,
        description="After the procedure: a patient without a restart date calls us if we "
        "have not told them one this many days after the procedure.",
    )


class Approvals(_Strict):
    """Document control: how long an approval holds (approvals/, `make-handouts approve`)."""

    review_interval_months: int = Field(
        default=24,
        ge=1,
        le=60,
        description="Months from an approval to the next review, printed in the footer.",
    )


class Printing(_Strict):
    """CUPS queues (`make-handouts printers` lists them). Unset: the server's default."""

    desk: str | list[str] = Field(
        default="",
        description="The nurses' desk queue, or a list of them: build --print uses the "
        "first; the web form prints server-side to it (a choice when there are several).",
    )
    mail_room: str = Field(
        default="", description="The mail room's queue, for batch --for mail --print."
    )

    @field_validator("desk", "mail_room")
    @classmethod
    def _queue_names(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        for name in names:
            if (name or isinstance(value, list)) and not re.fullmatch(QUEUE_NAME, name):
                raise ValueError(f"not a CUPS queue name ({QUEUE_NAME_RULE})")
        return value

    @property
    def desk_queues(self) -> tuple[str, ...]:
        """The desk queues in the clinic's order; () when none is set."""
        names = [self.desk] if isinstance(self.desk, str) else self.desk
        return tuple(name for name in names if name)


class ClinicConfig(_Strict):
    clinic: Identity
    brand: Brand = Field(default_factory=Brand)
    protocol: Protocol = Field(default_factory=Protocol)
    options: Options = Field(default_factory=Options)
    mail: Mail = Field(default_factory=Mail)
    language_help: LanguageHelp = Field(default_factory=LanguageHelp)
    medicines: Medicines = Field(default_factory=Medicines)
    approvals: Approvals = Field(default_factory=Approvals)
    printing: Printing = Field(default_factory=Printing)


@dataclass(frozen=True)
class Clinic:
    """A validated clinic: its folder and its configuration."""

    root: Path
    config: ClinicConfig

    @property
    def logo_path(self) -> Path | None:
        return self.root / self.config.clinic.logo if self.config.clinic.logo else None

    def override_dir(self, name: str) -> Path | None:
        path = self.root / name
        return path if path.is_dir() else None


def load_clinic(folder: Path) -> Clinic:
    """Reads and validates <folder>/clinic.toml, collecting every problem first."""
    path = folder / "clinic.toml"
    if not path.is_file():
        raise ConfigError(f"{path}: clinic config not found (expected clinic.toml in {folder})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        config = ClinicConfig.model_validate(raw)
    except ValidationError as exc:
        problems = error_lines(exc, lambda loc: f"{path}: {key_path(loc)}")
        raise ConfigError(f"{path}: {len(problems)} problem(s)", problems) from None
    problems = _check_cross_fields(path, config) + _check_logo(path, folder, config.clinic.logo)
    if problems:
        raise ConfigError(f"{path}: {len(problems)} problem(s)", problems)
    return Clinic(root=folder.resolve(), config=config)


def _check_cross_fields(path: Path, config: ClinicConfig) -> list[str]:
    p = config.protocol
    problems = []
    if p.clear_liquid_hours > p.fasting_hours:
        problems.append(
            f"{path}: protocol.clear_liquid_hours: must not be more than fasting_hours "
            f"({p.fasting_hours})"
        )
    mail = config.mail
    low, high = mail.return_window, mail.recipient_window
    if low.top + low.height > high.top:
        problems.append(f"{path}: mail.return_window: must end above mail.recipient_window")
    for name, window in (("return_window", low), ("recipient_window", high)):
        if window.left + window.width > 8.5 or window.top + window.height > 11 / 3:
            problems.append(f"{path}: mail.{name}: must lie in the top third of the letter")
        if min(window.width, window.height) <= 2 * mail.safety_margin:
            problems.append(f"{path}: mail.{name}: smaller than twice the safety margin")
    if p.follow_up_days_min > p.follow_up_days_max:
        problems.append(
            f"{path}: protocol.follow_up_days_min: must not be more than follow_up_days_max"
        )
    return problems


def _check_logo(path: Path, folder: Path, logo: str) -> list[str]:
    if not logo:
        return []
    where = f"{path}: clinic.logo"
    target = folder / logo
    real = os.path.realpath(target)
    if not real.startswith(os.path.realpath(folder) + os.sep):
        return [f"{where}: the logo must be inside the clinic folder"]
    if target.suffix.lower() not in (".svg", ".png"):
        return [f"{where}: the logo must be an .svg or .png file"]
    if not os.path.isfile(real):
        return [f"{where}: file not found: {target}"]
    return []
