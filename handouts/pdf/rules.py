"""PDF/UA-1 structure rules, checked on a finished PDF (Matterhorn Protocol checkpoints).

Not a full PDF/UA validator: it checks the structure rules this tool's handouts can break
(and once did), each named by its Matterhorn checkpoint, so a test or `check` can say
exactly what is wrong. The tests run it on every kind of screen PDF the tool makes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf

from handouts.pdf.structure import (
    MAY_BE_EMPTY,
    PRINT_FLAG,
    Element,
    Painted,
    painted,
    structure,
)

_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_LIST_KIDS = frozenset({"LI", "Caption", "L"})
_ITEM_KIDS = frozenset({"Lbl", "LBody"})
_TABLE_KIDS = frozenset({"TR", "THead", "TBody", "TFoot", "Caption"})
_ROW_GROUPS = frozenset({"Table", "THead", "TBody", "TFoot"})


@dataclass(frozen=True)
class Finding:
    checkpoint: str  # Matterhorn Protocol checkpoint (e.g. "09-004"), or a named rule
    message: str

    def __str__(self) -> str:
        return f"{self.checkpoint}: {self.message}"


def check_pdfua(data: bytes) -> list[Finding]:
    """Every structure problem found; empty when the PDF passes every rule here."""
    pdf = pikepdf.open(io.BytesIO(data))
    root = structure(pdf)
    if root is None:
        return [Finding("01-004", "the document is not tagged (no structure tree)")]
    pages = painted(pdf)
    findings = list(_document(pdf))
    findings += _content(root, pages)
    findings += _reading_order(root, pages)
    for element in root.walk():
        findings += _element(element)
    findings += _headings(root)
    findings += _links(pdf, root)
    return findings


def _document(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    lang = str(pdf.Root.get("/Lang", ""))
    if not _LANG.match(lang):
        yield Finding("11-001", "the document language (/Lang) is not set")
    prefs: Any = pdf.Root.get("/ViewerPreferences", {})
    if not bool(prefs.get("/DisplayDocTitle", False)):
        yield Finding("07-001", "DisplayDocTitle is not true")
    with pdf.open_metadata() as meta:
        if not meta.get("dc:title"):
            yield Finding("06-003", "the metadata has no dc:title")
    mark_info: Any = pdf.Root.get("/MarkInfo", {})
    if not bool(mark_info.get("/Marked", False)):
        yield Finding("marked", "MarkInfo /Marked is not true (ISO 14289-1 7.1)")


def _content(root: Element, pages: list[Painted]) -> Iterator[Finding]:
    tagged = {ref for element in root.walk() for ref in element.mcids}
    for number, page in enumerate(pages, start=1):
        if page.unmarked:
            yield Finding(
                "01-005",
                f"page {number}: {page.unmarked} painting operator(s) are neither "
                "tagged nor an artifact",
            )
        for seq in page.sequences:
            if seq.mcid is not None and (seq.page, seq.mcid) not in tagged:
                shown = " ".join(seq.text.split())[:40]
                yield Finding(
                    "01-005",
                    f"page {number}: content '{shown}' is marked but not in the "
                    "structure tree (page furniture must be an Artifact)",
                )


def _reading_order(root: Element, pages: list[Painted]) -> Iterator[Finding]:
    """Structure order = painted order, page by page."""
    for number, page in enumerate(pages):
        drawn = [s.mcid for s in page.sequences if s.mcid is not None]
        ordered = [mcid for at, mcid in root.content() if at == number]
        drawn = [m for m in drawn if m in set(ordered)]
        moved = sum(a != b for a, b in zip(drawn, ordered, strict=False))
        if moved:
            yield Finding(
                "09-001",
                f"page {number + 1}: {moved} of {len(ordered)} content sequences are "
                "painted in a different order than the structure reads them",
            )


def _element(element: Element) -> Iterator[Finding]:
    role = element.role
    where = _path(element)
    is_element = element.parent is not None and role != "StructTreeRoot"
    if is_element and not element.has_content and role not in MAY_BE_EMPTY and not element.has_alt:
        yield Finding("empty-element", f"{where}: empty structure element")
    kids = {child.role for child in element.children}
    parent = element.parent.role if element.parent else ""
    if role == "L" and kids - _LIST_KIDS:
        yield Finding("09-005", f"{where}: a list holds {sorted(kids - _LIST_KIDS)}, not LI")
    if role == "LI" and (kids - _ITEM_KIDS or parent != "L"):
        yield Finding("09-005", f"{where}: a list item must be L > LI > (Lbl, LBody)")
    if role in ("Lbl", "LBody") and parent != "LI":
        yield Finding("09-005", f"{where}: {role} outside a list item")
    if role == "Table":
        yield from _table(element, where)
    if role in ("TH", "TD") and parent != "TR":
        yield Finding("09-004", f"{where}: a table cell outside a row")
    if role == "TR" and (parent not in _ROW_GROUPS or kids - {"TH", "TD"}):
        yield Finding("09-004", f"{where}: a row must sit in a table and hold TH/TD only")
    if role == "TH" and _attribute(element, "/Scope") is None:
        yield Finding("15-003", f"{where}: a header cell without Scope")
    if role == "Figure" and not element.has_alt:
        yield Finding("13-004", f"{where}: a figure without alternate text")
    lang = element.obj.get("/Lang") if isinstance(element.obj, pikepdf.Dictionary) else None
    if lang is not None and not _LANG.match(str(lang)):
        yield Finding("11-001", f"{where}: /Lang '{lang}' is not a language tag")


def _table(table: Element, where: str) -> Iterator[Finding]:
    kids = {child.role for child in table.children}
    if kids - _TABLE_KIDS:
        yield Finding("09-004", f"{where}: a table holds {sorted(kids - _TABLE_KIDS)}")
    rows = [e for e in table.walk() if e.role == "TR"]
    widths = {sum(_span(cell) for cell in row.children) for row in rows}
    if len(widths) > 1:
        yield Finding(
            "regular-rows", f"{where}: rows have different numbers of cells {sorted(widths)}"
        )
    if not any(cell.role == "TH" for row in rows for cell in row.children):
        yield Finding("table-headers", f"{where}: a table without header cells")


def _span(cell: Element) -> int:
    value = _attribute(cell, "/ColSpan")
    return int(value) if value is not None else 1


def _headings(root: Element) -> Iterator[Finding]:
    levels = [int(e.role[1]) for e in root.walk() if re.fullmatch(r"H[1-6]", e.role)]
    if levels and levels[0] != 1:
        yield Finding("14-002", f"the first heading is H{levels[0]}, not H1")
    for before, after in zip(levels, levels[1:], strict=False):
        if after > before + 1:
            yield Finding("14-003", f"heading level skips from H{before} to H{after}")


def _links(pdf: pikepdf.Pdf, root: Element) -> Iterator[Finding]:
    in_links = {
        annotation.objgen
        for element in root.walk()
        if element.role == "Link"
        for annotation in element.annotations
    }
    for number, page in enumerate(pdf.pages, start=1):
        annotations: Any = page.get("/Annots", [])
        for annotation in annotations:
            if annotation.get("/Subtype") != "/Link":
                continue
            if not int(annotation.get("/F", 0)) & PRINT_FLAG:
                yield Finding(
                    "print-flag", f"page {number}: a link annotation without the Print flag"
                )
            if not str(annotation.get("/Contents", "")).strip():
                yield Finding("28-012", f"page {number}: a link without /Contents")
            if annotation.objgen not in in_links:
                yield Finding("28-011", f"page {number}: a link not inside a Link element")


def _attribute(element: Element, key: str) -> Any:
    owners = element.obj.get("/A") if isinstance(element.obj, pikepdf.Dictionary) else None
    for owner in [] if owners is None else _list(owners):
        if isinstance(owner, pikepdf.Dictionary) and key in owner:
            return owner[key]
    return None


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def _path(element: Element) -> str:
    parts = []
    node: Element | None = element
    while node is not None and node.role != "StructTreeRoot":
        parts.append(node.role)
        node = node.parent
    return " > ".join(reversed(parts))
