"""US mailing addresses: checked before a letter is made, fitted to the envelope window."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from handouts.fonts.registry import widest

#: USPS two-letter codes: states, DC, territories and military (AA, AE, AP).
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
        "UM",
        "FM",
        "MH",
        "PW",
        "AA",
        "AE",
        "AP",
    ]
)
_STATE_CODES = {code: code for code in US_STATES}
#: The address columns of a mail batch (patient_name is the recipient's name line).
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "postal_code")
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
MAX_LINE = 64
SLACK = 2.0  # points kept free below the last line: glyph boxes run past the leading


@dataclass(frozen=True, slots=True)
class MailAddress:
    name: str
    line1: str
    line2: str
    city: str
    state: str
    zip5: str
    zip4: str

    @property
    def postal_code(self) -> str:
        return f"{self.zip5}-{self.zip4}" if self.zip4 else self.zip5

    @property
    def lines(self) -> list[str]:
        last = f"{self.city} {self.state} {self.postal_code}"
        return [line for line in (self.name, self.line1, self.line2, last) if line]

    @property
    def routing(self) -> str:
        """The IMb routing code: ZIP, or ZIP+4."""
        return self.zip5 + self.zip4


def _tidy(value: str) -> str:
    """Runs of white space as one space, ends trimmed; the cell itself when it is tidy
    already (a mailing then holds one string per value)."""
    tidy = " ".join(value.split())
    return value if tidy == value else tidy


def validate_address(cells: Mapping[str, str]) -> tuple[MailAddress | None, list[tuple[str, str]]]:
    """(address, problems as (column, message)); messages never repeat the value."""

    cell = {name: _tidy(cells.get(name, "")) for name in ("patient_name", *ADDRESS_FIELDS)}
    problems = []
    for column in ("patient_name", "address_line1", "city", "state", "postal_code"):
        if not cell[column]:
            problems.append((column, "required for mail"))
    for column in ("patient_name", "address_line1", "address_line2", "city"):
        if len(cell[column]) > MAX_LINE:
            problems.append((column, f"longer than {MAX_LINE} characters"))
    state = cell["state"].upper()
    state = _STATE_CODES.get(state, state)  # one string per state for a whole mailing
    if state and state not in US_STATES:
        problems.append(("state", "use the 2-letter USPS state code, e.g. IL"))
    match = _ZIP.match(cell["postal_code"])
    if cell["postal_code"] and not match:
        problems.append(("postal_code", "use a 5-digit ZIP or ZIP+4, e.g. 62704 or 62704-1234"))
    if problems or match is None:
        return None, problems
    address = MailAddress(
        cell["patient_name"],
        cell["address_line1"],
        cell["address_line2"],
        cell["city"],
        state,
        match[1],
        match[2] or "",
    )
    return address, []


# ------------------------------------------------------------------ fitting


def text_width(text: str, size: float) -> float:
    """Width in points, by the wider of the body font and its fallback (a safe bound)."""
    return widest(text, size)


@dataclass(frozen=True)
class FittedAddress:
    lines: list[str]
    size: float  # points
    leading: float  # points


def fit_address(
    lines: list[str],
    width: float,
    height: float,
    reserved: float = 0.0,
    largest: float = 11.0,
    smallest: float = 7.5,
) -> FittedAddress | None:
    """Largest size (down to `smallest`) at which the lines fit the box, wrapping long
    lines at spaces if shrinking alone is not enough; None when nothing fits."""
    size = largest
    while size >= smallest:
        leading = size * 1.2
        wrapped = [part for line in lines for part in _wrap(line, width, size)]
        fits_width = all(text_width(part, size) <= width for part in wrapped)
        if fits_width and len(wrapped) * leading + reserved <= height - SLACK:
            return FittedAddress(wrapped, size, leading)
        size -= 0.5
    return None


def _wrap(line: str, width: float, size: float) -> list[str]:
    if text_width(line, size) <= width:
        return [line]
    words, parts, current = line.split(" "), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, size) > width:
            parts.append(current)
            current = word
        else:
            current = candidate
    return [*parts, current] if current else parts
