"""Repairs to WeasyPrint's PDF/UA-1 structure that markup and CSS cannot make.

The templates and styles avoid what WeasyPrint tags wrongly (no ::marker list labels,
no dl/div pairs, images painted in flow). What is left is repaired here, after the PDF
is written, with pikepdf; each repair names the WeasyPrint behaviour it works around:

- Running footers (CSS margin boxes) are marked content that is left out of the
  structure tree, instead of Artifacts (Kozea/WeasyPrint#1836): they become Artifacts
  of type Pagination.
- Boxes without content (an empty value line, a tick box drawn by a border) still get
  structure elements (Kozea/WeasyPrint#2471 notes "empty anonymous blocks"): empty
  elements are removed.
- Header cells get IDs and Headers but no Scope: THead cells get Column, others Row.
- Link annotations have no Print flag.
- The `lang` of an element is not written (only the document's): each element whose
  text is exactly the text of an HTML element with its own `lang` gets that /Lang.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pikepdf

from handouts.engine.fontsubset import shrink_cid_fonts
from handouts.engine.structure import (
    MAY_BE_EMPTY,
    PRINT_FLAG,
    Element,
    element_text,
    mcid_texts,
    painted,
    structure,
)

#: Roles kept even when empty: blank table cells, and the roots.
_KEEP_EMPTY = MAY_BE_EMPTY | {"Document", "StructTreeRoot"}
_FOOTER = pikepdf.Dictionary(Type=pikepdf.Name.Pagination, Subtype=pikepdf.Name.Footer)


class _LangCollector(HTMLParser):
    """(lang, text) of every element that has a lang of its own below <html>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, list[str]]] = []
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "meta", "link", "input", "hr", "col"):
            return
        lang = dict(attrs).get("lang") if tag != "html" else None
        self.stack.append((tag, lang, []))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            return
        _, lang, parts = self.stack.pop()
        text = " ".join("".join(parts).split())
        if lang and text:
            self.found.append((lang, text))
        if self.stack:
            self.stack[-1][2].append("".join(parts))

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)


def language_changes(html: str) -> list[tuple[str, str]]:
    collector = _LangCollector()
    collector.feed(html)
    return collector.found


def repair(data: bytes, html: str) -> bytes:
    """The PDF with the repairs above applied (untagged PDFs get only smaller CJK fonts:
    engine/fontsubset.py)."""
    pdf = pikepdf.open(io.BytesIO(data))
    if "/StructTreeRoot" in pdf.Root:
        root = structure(pdf)
        assert root is not None
        _footers_to_artifacts(pdf, root)
        _prune_empty(root)
        _scope_header_cells(root)
        _print_links(pdf)
        _set_languages(pdf, root, language_changes(html))
    shrink_cid_fonts(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def _footers_to_artifacts(pdf: pikepdf.Pdf, root: Element) -> None:
    tagged = {ref for element in root.walk() for ref in element.mcids}
    parent_tree = pdf.Root.StructTreeRoot.ParentTree
    nums = parent_tree.get("/Nums", pikepdf.Array())
    for number, page in enumerate(pdf.pages):
        orphans = _rewrite_page(pdf, page, number, tagged)
        if not orphans:
            continue
        for i in range(0, len(nums), 2):
            if int(nums[i]) == number and isinstance(nums[i + 1], pikepdf.Array):
                for mcid in orphans:
                    if mcid < len(nums[i + 1]):
                        nums[i + 1][mcid] = None


def _rewrite_page(
    pdf: pikepdf.Pdf, page: pikepdf.Page, number: int, tagged: set[tuple[int, int]]
) -> list[int]:
    """Marked content not in the structure tree becomes an Artifact; returns its MCIDs."""
    orphans: list[int] = []
    instructions: list[Any] = []
    for instruction in pikepdf.parse_content_stream(page):
        operands: list[Any] = list(instruction.operands)
        operator = instruction.operator
        if str(operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary):
            mcid = operands[1].get("/MCID")
            if mcid is not None and (number, int(mcid)) not in tagged:
                orphans.append(int(mcid))
                operands = [pikepdf.Name.Artifact, _FOOTER]
        instructions.append((operands, operator))
    if orphans:
        page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
    return orphans


def _kids_array(obj: Any) -> pikepdf.Array | None:
    kids = obj.get("/K")
    return kids if isinstance(kids, pikepdf.Array) else None


def _prune_empty(root: Element) -> None:
    """Removes elements with no content, deepest first, then parents left empty."""
    for element in reversed(list(root.walk())):
        parent = element.parent
        if parent is None or element.role in _KEEP_EMPTY:
            continue
        if element.has_content or element.has_alt:
            continue
        parent.children.remove(element)
        kids = _kids_array(parent.obj)
        if kids is not None:
            for i in range(len(kids) - 1, -1, -1):
                if isinstance(kids[i], pikepdf.Dictionary) and kids[i].objgen == element.obj.objgen:
                    del kids[i]
        elif parent.obj.get("/K") is not None:
            del parent.obj["/K"]


def _scope_header_cells(root: Element) -> None:
    for element in root.walk():
        if element.role != "TH":
            continue
        in_head = (
            element.parent is not None
            and element.parent.parent is not None
            and (element.parent.parent.role == "THead")
        )
        scope = pikepdf.Name.Column if in_head else pikepdf.Name.Row
        owner = element.obj.get("/A")
        if isinstance(owner, pikepdf.Dictionary):
            owner.Scope = scope
        else:
            element.obj.A = pikepdf.Dictionary(O=pikepdf.Name.Table, Scope=scope)


def _print_links(pdf: pikepdf.Pdf) -> None:
    for page in pdf.pages:
        for annotation in page.get("/Annots", []):
            if annotation.get("/Subtype") == "/Link":
                annotation.F = int(annotation.get("/F", 0)) | PRINT_FLAG


def _set_languages(pdf: pikepdf.Pdf, root: Element, changes: list[tuple[str, str]]) -> None:
    """`root` is the tree as repaired so far (_prune_empty keeps it in step with the PDF).

    Elements are matched by their text without whitespace (WeasyPrint drops the space
    where a line wraps). Where that fails, by their letters in any order, without marks:
    right-to-left text is painted in visual order, and WeasyPrint gives each glyph the
    text of the first cluster it was seen in, so "हि" makes every later "ह" read "हि".
    Such an element also gets /ActualText, its real text, on the element and on its
    marked content: screen readers and text extraction then read the words as written.
    """
    if not changes:
        return
    texts = mcid_texts(painted(pdf))
    exact = {_compact(text): (lang, text) for lang, text in changes}
    loose = {_loose(text): (lang, text) for lang, text in changes}
    actual: dict[tuple[int, int], str] = {}
    for element in root.walk():
        if element.role in ("StructTreeRoot", "Document"):
            continue
        text = element_text(element, texts)
        if (found := exact.get(_compact(text))) and not _same_text_parent(
            element, texts, text, _compact
        ):
            element.obj.Lang = pikepdf.String(found[0])
        elif (found := loose.get(_loose(text))) and not _same_text_parent(
            element, texts, text, _loose
        ):
            lang, source = found
            element.obj.Lang = pikepdf.String(lang)
            if _right_to_left(source):
                continue  # painted in visual order, which readers expect and reorder
            real = _ISOLATES.sub("", source)
            element.obj.ActualText = pikepdf.String(real)
            for n, ref in enumerate(element.content()):
                actual[ref] = real if n == 0 else ""
    if actual:
        _mark_actual_text(pdf, actual)


_ISOLATES = re.compile("[\u2066-\u2069]")


def _right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def _compact(text: str) -> str:
    return "".join(_ISOLATES.sub("", text).split())


def _loose(text: str) -> str:
    """The letters of a text in code point order, without spaces, marks or controls."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = (c for c in decomposed if not c.isspace() and unicodedata.category(c) not in _MARKS)
    return "".join(sorted(kept))


_MARKS = frozenset({"Mn", "Mc", "Me", "Cf"})


def _same_text_parent(
    element: Element, texts: dict[tuple[int, int], str], text: str, key: Callable[[str], str]
) -> bool:
    """True when the parent holds the same text: the parent is the element to mark."""
    parent = element.parent
    if parent is None or parent.role in ("StructTreeRoot", "Document"):
        return False
    return key(element_text(parent, texts)) == key(text)


def _mark_actual_text(pdf: pikepdf.Pdf, actual: dict[tuple[int, int], str]) -> None:
    """Adds /ActualText to the marked-content sequences of `actual` ((page, MCID) -> text;
    the first sequence of an element carries its text, the others "")."""
    for number, page in enumerate(pdf.pages):
        if not any(ref[0] == number for ref in actual):
            continue
        instructions: list[Any] = []
        for instruction in pikepdf.parse_content_stream(page):
            operands: list[Any] = list(instruction.operands)
            if str(instruction.operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary):
                mcid = operands[1].get("/MCID")
                if mcid is not None and (number, int(mcid)) in actual:
                    operands[1].ActualText = pikepdf.String(actual[(number, int(mcid))])
            instructions.append((operands, instruction.operator))
        page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
