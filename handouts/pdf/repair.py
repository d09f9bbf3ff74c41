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
- A glyph of a cluster shaped into several glyphs may have no Unicode in the font's
  ToUnicode map: pdf/tounicode.py gives it one, from the texts of the HTML.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pikepdf

from handouts.pdf.structure import (
    MAY_BE_EMPTY,
    PRINT_FLAG,
    Element,
    element_text,
    mcid_texts,
    painted,
    structure,
)
from handouts.pdf.subset import shrink_cid_fonts
from handouts.pdf.tounicode import WORD_JOINER, complete_to_unicode

#: Roles kept even when empty: blank table cells, and the roots.
_KEEP_EMPTY = MAY_BE_EMPTY | {"Document", "StructTreeRoot"}
_FOOTER = pikepdf.Dictionary(Type=pikepdf.Name.Pagination, Subtype=pikepdf.Name.Footer)


#: Scripts whose vowel signs are drawn before or around their consonant (Devanagari to
#: Sinhala, Thai to Khmer): WeasyPrint's one-text-per-glyph map garbles them.
_REORDERING = re.compile("[\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")


class _LangCollector(HTMLParser):
    """(lang, text) of every element that has a lang of its own below <html>, and
    (None, text) of every element with text in a reordering script (a patient's name
    in Hindi, in the card), which needs /ActualText to read back as written. Also each
    run of text, whitespace collapsed, outside style and script elements: what Pango
    shapes, near enough (pdf/tounicode.py shapes it again)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # (tag, lang, text parts, whether a child already holds reordering text)
        self.stack: list[tuple[str, str | None, list[str], list[bool]]] = []
        self.found: list[tuple[str | None, str]] = []
        self.texts: list[str] = []
        self.hidden = 0  # inside a style or script element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("style", "script")
        if tag in ("br", "img", "meta", "link", "input", "hr", "col"):
            return
        lang = dict(attrs).get("lang") if tag != "html" else None
        self.stack.append((tag, lang, [], [False]))

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("style", "script")
        if not self.stack:
            return
        _, lang, parts, inner = self.stack.pop()
        text = " ".join("".join(parts).split())
        reordering = bool(_REORDERING.search(text))
        # The innermost element with such text gets /ActualText, not its ancestors.
        if text and (lang or (reordering and not inner[0])):
            self.found.append((lang, text))
        if self.stack:
            self.stack[-1][2].append("".join(parts))
            self.stack[-1][3][0] = self.stack[-1][3][0] or reordering

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)
        text = " ".join(data.split())
        if text and not self.hidden:
            self.texts.append(text)


def _read_html(html: str) -> _LangCollector:
    collector = _LangCollector()
    collector.feed(html)
    return collector


def language_changes(html: str) -> list[tuple[str | None, str]]:
    return _read_html(html).found


def repair(pdf: pikepdf.Pdf, html: str) -> bytes:
    """The PDF, changed in place, saved with the repairs above applied (untagged PDFs get
    only their ToUnicode maps completed and smaller CJK fonts: pdf/subset.py)."""
    source = _read_html(html)
    complete_to_unicode(pdf, source.texts)  # first: the texts below read its entries
    if "/StructTreeRoot" in pdf.Root:
        root = structure(pdf)
        assert root is not None
        _footers_to_artifacts(pdf, root)
        _prune_empty(root)
        _scope_header_cells(root)
        _print_links(pdf)
        _set_languages(pdf, root, source.found)
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

    def to_artifact(mcid: int, operands: list[Any]) -> list[Any] | None:
        if (number, mcid) in tagged:
            return None
        orphans.append(mcid)
        return [pikepdf.Name.Artifact, _FOOTER]

    _edit_marked_content(pdf, page, to_artifact)
    return orphans


def _edit_marked_content(
    pdf: pikepdf.Pdf, page: pikepdf.Page, edit: Callable[[int, list[Any]], list[Any] | None]
) -> None:
    """Calls `edit(mcid, operands)` for each marked-content sequence with an MCID; where it
    returns new operands for the BDC, the page's content stream is rewritten with them."""
    instructions: list[Any] = []
    changed = False
    for instruction in pikepdf.parse_content_stream(page):
        operands: list[Any] = list(instruction.operands)
        if str(instruction.operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary):
            mcid = operands[1].get("/MCID")
            replaced = edit(int(mcid), operands) if mcid is not None else None
            if replaced is not None:
                operands, changed = replaced, True
        instructions.append((operands, instruction.operator))
    if changed:
        page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))


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


def _set_languages(pdf: pikepdf.Pdf, root: Element, changes: list[tuple[str | None, str]]) -> None:
    """`root` is the tree as repaired so far (_prune_empty keeps it in step with the PDF).

    Elements are matched by their text without whitespace (WeasyPrint drops the space
    where a line wraps). Where that fails, by their letters in any order, without marks:
    right-to-left text is painted in visual order, and WeasyPrint gives each glyph the
    text of the first cluster it was seen in, so "हि" makes every later "ह" read "हि".
    Such an element also gets /ActualText, its real text, on the element and on its
    marked content: screen readers and text extraction then read the words as written.
    So does one that reads a word joiner pdf/tounicode.py gave a glyph.
    """
    if not changes:
        return
    texts = mcid_texts(painted(pdf))
    keys: list[Callable[[str], object]] = [_compact, _loose, _letter_set]
    tables: list[dict[object, tuple[str | None, str]]] = [
        {_compact(text): (lang, text) for lang, text in changes if lang},
        {_loose(text): (lang, text) for lang, text in changes},
        # Last, for reordering scripts only: the letters without their counts (a glyph
        # mapped to a whole cluster repeats a consonant).
        {_letter_set(text): (lang, text) for lang, text in changes if _REORDERING.search(text)},
    ]
    actual: dict[tuple[int, int], str] = {}
    for element in root.walk():
        if element.role in ("StructTreeRoot", "Document"):
            continue
        text = element_text(element, texts)
        for key, table in zip(keys, tables, strict=True):
            found = table.get(key(text))
            if found is None or _same_text_parent(element, texts, text, key):
                continue
            lang, source = found
            if lang:
                element.obj.Lang = pikepdf.String(lang)
            # Right-to-left text is painted in visual order, which readers expect.
            if _reads_otherwise(source, text) and not _right_to_left(source):
                real = _ISOLATES.sub("", source)
                element.obj.ActualText = pikepdf.String(real)
                for n, ref in enumerate(element.content()):
                    actual[ref] = real if n == 0 else ""
            break
    if actual:
        _mark_actual_text(pdf, actual)


_ISOLATES = re.compile("[\u2060\u2066-\u2069]")


def _reads_otherwise(source: str, text: str) -> bool:
    """Whether `text`, as painted, reads other than `source` (whitespace aside; a painted
    word joiner is a glyph mapped to it, never one of the source's)."""
    return _compact(source) != _compact(text) or WORD_JOINER in text


def _right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def _letter_set(text: str) -> frozenset[str]:
    return frozenset(_loose(text))


def _compact(text: str) -> str:
    """Text without whitespace or format characters (isolates, word joiners)."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def _loose(text: str) -> str:
    """The letters of a text in code point order, without spaces, marks or controls."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = (c for c in decomposed if not c.isspace() and unicodedata.category(c) not in _MARKS)
    return "".join(sorted(kept))


_MARKS = frozenset({"Mn", "Mc", "Me", "Cf"})


def _same_text_parent(
    element: Element, texts: dict[tuple[int, int], str], text: str, key: Callable[[str], object]
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

        def add_text(mcid: int, operands: list[Any], number: int = number) -> list[Any] | None:
            if (number, mcid) not in actual:
                return None
            operands[1].ActualText = pikepdf.String(actual[(number, mcid)])
            return operands

        _edit_marked_content(pdf, page, add_text)
