"""Patient records from a CSV or JSON export: read, locate (row, line), validate."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from handouts.engine.output import record_file_name, safe_id
from handouts.errors import InputError
from handouts.mail.address import ADDRESS_FIELDS, MailAddress, validate_address
from handouts.model.request import REQUEST_FIELDS, HandoutRequest, parse_request

REQUIRED_COLUMNS = ("record_id", "procedure", "phase")
KNOWN_COLUMNS = frozenset(("record_id", *REQUEST_FIELDS, *ADDRESS_FIELDS))
MAX_CELL = 1000
MAX_RECORD_ID = 64
#: Distinct values per column kept once for the whole file, and how long each may be
#: (`_Repeated`).
REPEATED = 1000
SHARED_CELL = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RowError:
    """One problem with one row; the message never repeats the cell's value."""

    row: int
    line: int | None
    column: str
    message: str
    record_id: str = ""


@dataclass(frozen=True)
class RawRow:
    row: int  # 1-based data row (the header is not a row)
    line: int | None  # first physical line of the record in a CSV file
    cells: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # ragged row, unterminated quote...


@dataclass(frozen=True, slots=True)
class Record:
    """A validated record: what to render, for whom, and where it came from."""

    row: int
    line: int | None
    record_id: str
    request: HandoutRequest
    address: MailAddress | None = None  # checked only for mail
    #: <record_id>-<procedure>-<phase>-<lang>.pdf, made once (a mailing holds it in its
    #: manifest entry, its letter and its place in mailing.pdf)
    file_name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "file_name", record_file_name(self.record_id, self.request))


def normalize_column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").lower())


# ---------------------------------------------------------------- reading


def read_input(path: Path, encoding: str | None = None) -> tuple[list[str], Iterator[RawRow]]:
    """Header columns and the raw rows, made one at a time as they are validated (a
    mailing of 100,000 rows never holds all their fields and cells at once, only the
    file's text); file-level problems raise InputError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise InputError(f"{path}: the file is empty")
    if b"\x00" in data[:4096]:
        raise InputError(f"{path}: not a text file (CSV or JSON expected)")
    text = _decode(path, data, encoding)
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return _read_json(path, text)
    return _read_csv(path, text)


def _decode(path: Path, data: bytes, encoding: str | None) -> str:
    try:
        return data.decode(encoding or "utf-8-sig").removeprefix("\ufeff")
    except LookupError:
        raise InputError(f"--encoding: unknown encoding '{encoding}'") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = "" if encoding else "; exports from Excel or Windows often need --encoding cp1252"
        raise InputError(
            f"{path}: line {line}: not valid {encoding or 'UTF-8'} text "
            f"(byte 0x{data[exc.start]:02x}){hint}"
        ) from None


def _header(path: Path, names: list[str]) -> list[str]:
    header = [normalize_column(n) for n in names]
    duplicated = sorted({n for n in header if header.count(n) > 1 and n})
    if duplicated:
        raise InputError(f"{path}: the header repeats column(s): {', '.join(duplicated)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{path}: missing required column(s): {', '.join(missing)} (the first line must "
            f"be a header naming the columns, e.g. record_id,procedure,phase)"
        )
    return header


def _read_csv(path: Path, text: str) -> tuple[list[str], Iterator[RawRow]]:
    records = _csv_records(re.split(r"(?<=\n)", text))
    first = next(records, None)
    if first is None:
        raise InputError(f"{path}: the file is empty")
    first_line, names = first
    if isinstance(names, str):
        raise InputError(f"{path}: line {first_line}: the header is not valid CSV ({names})")
    header = _header(path, names)
    return header, _csv_rows(header, records)


class _Repeated:
    """Short cell values that many rows repeat (a city, a physician, a state) kept once
    for the whole file, so that 100,000 records do not hold 100,000 copies. Per column,
    up to REPEATED distinct values: past that a column is mostly unique (names, streets)
    and its values are kept as they are."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[str, str]] = defaultdict(dict)

    def cells(self, items: Iterable[tuple[str, str]]) -> dict[str, str]:
        cells = {}
        for column, value in items:
            seen = self._seen[column]
            kept = seen.get(value)
            if kept is None and len(seen) < REPEATED and len(value) <= SHARED_CELL:
                kept = seen[value] = value
            cells[column] = value if kept is None else kept
        return cells


def _csv_rows(
    header: list[str], records: Iterator[tuple[int, list[str] | str]]
) -> Iterator[RawRow]:
    repeated = _Repeated()
    for number, (line, fields) in enumerate(records, start=1):
        if isinstance(fields, str):
            yield RawRow(number, line, problem=fields)
        elif len(fields) != len(header):
            cells = dict(zip(header, fields, strict=False))
            yield RawRow(
                number,
                line,
                {"record_id": cells.get("record_id", "")},
                f"has {len(fields)} fields but the header has {len(header)}",
            )
        else:
            yield RawRow(number, line, repeated.cells(zip(header, fields, strict=True)))


def _csv_records(lines: list[str]) -> Iterator[tuple[int, list[str] | str]]:
    """(first line, fields or problem) per record; after a broken quote, parsing starts
    again on the next line, so one bad quote never swallows the rows after it."""
    start = 0
    while start < len(lines):
        reader = csv.reader(lines[start:], strict=True)
        consumed = 0
        try:
            for fields in reader:
                first_line = start + consumed + 1
                consumed = reader.line_num
                if fields:
                    yield first_line, fields
            break
        except csv.Error as exc:
            first_line = start + consumed + 1
            reason = "a quoted field is never closed" if "end of data" in str(exc) else str(exc)
            yield first_line, f"not valid CSV: {reason}"
            start = first_line  # the next physical line


def _read_json(path: Path, text: str) -> tuple[list[str], Iterator[RawRow]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(items, list):
        raise InputError(f"{path}: JSON input must be a list of objects, one per record")
    if not items:
        raise InputError(f"{path}: the list is empty")
    columns = {normalize_column(str(k)) for item in items if isinstance(item, dict) for k in item}
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{path}: no record has the required field(s): {', '.join(missing)}")
    return sorted(columns), _json_rows(items)


def _json_rows(items: list[object]) -> Iterator[RawRow]:
    repeated = _Repeated()
    for index in range(len(items)):
        number, item, items[index] = index + 1, items[index], None  # each item dropped in turn
        if not isinstance(item, dict):
            yield RawRow(number, None, problem="is not an object")
            continue
        cells = ((normalize_column(str(k)), _json_cell(v)) for k, v in item.items())
        yield RawRow(number, None, repeated.cells(cells))


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------- validation


def validate_rows(
    rows: Iterable[RawRow],
    languages: list[str],
    mail: bool = False,
    large_print: bool = False,
    default_plan: str | None = None,
) -> tuple[list[Record], list[RowError]]:
    """Every row checked before anything renders; duplicates fail all rows that share an id.
    With `mail`, a US postal address is required too; a blank large_print is `large_print`
    (the clinic's default)."""
    records: list[Record] = []
    errors: list[RowError] = []
    for raw in rows:
        record, problems = _validate_row(raw, languages, mail, large_print, default_plan)
        errors += problems
        if record is not None:
            records.append(record)
    return _drop_duplicates(records, errors)


def _validate_row(
    raw: RawRow, languages: list[str], mail: bool, large_print: bool, default_plan: str | None
) -> tuple[Record | None, list[RowError]]:
    record_id = raw.cells.get("record_id", "").strip()
    shown_id = record_id if _is_clean_id(record_id) else ""

    def problem(column: str, message: str) -> RowError:
        return RowError(raw.row, raw.line, column, message, shown_id)

    if raw.problem:
        return None, [problem("", raw.problem)]
    problems = [
        problem(column, f"longer than {MAX_CELL} characters")
        for column, value in raw.cells.items()
        if len(value) > MAX_CELL
    ]
    if problems:
        return None, problems
    if not record_id:
        problems.append(problem("record_id", "required; every row needs its own record_id"))
    elif not _is_clean_id(record_id):
        problems.append(problem("record_id", f"use up to {MAX_RECORD_ID} visible characters"))
    request, request_problems = parse_request(raw.cells, languages, large_print, default_plan)
    problems += [problem(column, message) for column, message in request_problems]
    address = None
    if mail:
        address, address_problems = validate_address(raw.cells)
        problems += [problem(column, message) for column, message in address_problems]
    if problems:
        return None, problems
    assert request is not None
    return Record(raw.row, raw.line, record_id, request, address), []


def _is_clean_id(record_id: str) -> bool:
    return 0 < len(record_id) <= MAX_RECORD_ID and not _CONTROL.search(record_id)


_CLASHES: tuple[tuple[Callable[[Record], str], str], ...] = (
    (lambda r: r.record_id, "the same record_id is on rows {rows}; each record needs its own id"),
    (
        lambda r: safe_id(r.record_id).lower(),
        "record_ids on rows {rows} give the same file name; make them differ in letters or digits",
    ),
)


def _drop_duplicates(
    records: list[Record], errors: list[RowError]
) -> tuple[list[Record], list[RowError]]:
    """Rows sharing an id (or a file name) all fail: which one is right cannot be known."""
    bad: set[int] = set()
    for key, message in _CLASHES:
        groups: dict[str, list[Record]] = defaultdict(list)
        for record in records:
            if record.row not in bad:
                groups[key(record)].append(record)
        for group in (g for g in groups.values() if len(g) > 1):
            rows = ", ".join(str(r.row) for r in group)
            for r in group:
                bad.add(r.row)
                errors.append(
                    RowError(r.row, r.line, "record_id", message.format(rows=rows), r.record_id)
                )
    kept = [r for r in records if r.row not in bad]
    return kept, sorted(errors, key=lambda e: (e.row, e.column))
