"""Reads a tagged PDF's structure: the element tree, and what each page paints, in order.

Shared by the PDF/UA repair (pdf/repair.py) and the structure rules
(pdf/rules.py). Marked content is read with pikepdf; text is decoded with each
font's ToUnicode map (WeasyPrint writes two-byte Identity-H codes with bfchar/bfrange
maps), which is all a structure check needs and is fast enough to run on every PDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pikepdf

#: Roles that may be empty: a blank table cell is real content ("blank" when read).
MAY_BE_EMPTY = frozenset({"TD", "TH"})
#: The Print flag of an annotation's /F.
PRINT_FLAG = 4
_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_BFRANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


@dataclass
class Marked:
    """One marked-content sequence as painted: its tag, MCID (None: an artifact or
    untagged) and decoded text."""

    page: int
    tag: str
    mcid: int | None
    artifact: bool
    text: str = ""
    paints: bool = False  # shows text or an image, or fills/strokes a path


@dataclass
class Painted:
    """What one page paints, in order, and what it paints outside marked content."""

    sequences: list[Marked] = field(default_factory=list)
    unmarked: int = 0  # painting operators outside any marked content


@dataclass
class Element:
    """A structure element, with its page-content references resolved."""

    obj: Any  # the pikepdf Dictionary
    role: str
    depth: int
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    mcids: list[tuple[int, int]] = field(default_factory=list)  # (page, mcid)
    annotations: list[Any] = field(default_factory=list)

    @property
    def has_content(self) -> bool:
        return bool(self.mcids or self.annotations or self.children)

    @property
    def has_alt(self) -> bool:
        """Alternate text (/Alt or /ActualText) stands in for content."""
        obj = self.obj
        return isinstance(obj, pikepdf.Dictionary) and any(
            str(obj.get(key, "")).strip() for key in ("/Alt", "/ActualText")
        )

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.walk()

    def content(self) -> Iterator[tuple[int, int]]:
        """Every (page, mcid) of this element and its descendants, in structure order."""
        yield from self.mcids
        for child in self.children:
            yield from child.content()


def _hex_text(digits: bytes) -> str:
    raw = bytes.fromhex(digits.decode())
    return raw.decode("utf-16-be", errors="replace")


def to_unicode(font: Any) -> dict[bytes, str]:
    """A font's code -> text map from its ToUnicode CMap."""
    if "/ToUnicode" not in font:
        return {}
    data = font.ToUnicode.read_bytes()
    found: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for low, high, start in _BFRANGE.findall(block):
            first, last = int(low, 16), int(high, 16)
            base = int(start, 16)
            width = len(low) // 2
            for offset in range(last - first + 1):
                found[(first + offset).to_bytes(width, "big")] = chr(base + offset)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in _BFCHAR.findall(block):
            found[bytes.fromhex(code.decode())] = _hex_text(text)
    return found


def page_fonts(pdf: pikepdf.Pdf) -> Iterator[Any]:
    """Every font of the pages' resources, once each."""
    seen: set[tuple[int, int]] = set()
    for page in pdf.pages:
        resources: Any = page.get("/Resources", {})
        for _, font in (resources.get("/Font") or {}).items():
            if font.objgen not in seen:
                seen.add(font.objgen)
                yield font


def cid_widths(widths: Any) -> dict[int, float]:
    """CID -> width from a CID font's /W array (`c [w1 w2 ...]` and `c1 c2 w` forms)."""
    found: dict[int, float] = {}
    items = list(widths)
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            found.update((first + n, float(w)) for n, w in enumerate(items[i + 1]))
            i += 2
        else:
            found.update((cid, float(items[i + 2])) for cid in range(first, int(items[i + 1]) + 1))
            i += 3
    return found


def used_cids(widths: Any) -> set[int]:
    """The CIDs a /W array gives widths for."""
    return set(cid_widths(widths))


_PAINT = {"Tj", "TJ", "'", '"', "Do", "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "sh"}


class _PageReader:
    def __init__(self, page: Any, number: int) -> None:
        self.number = number
        self.fonts: dict[str, dict[bytes, str]] = {}
        self.two_byte: set[str] = set()
        resources = page.get("/Resources", {})
        for name, font in (resources.get("/Font") or {}).items():
            self.fonts[str(name)] = to_unicode(font)
            if font.get("/Subtype") == "/Type0":
                self.two_byte.add(str(name))
        self.font: dict[bytes, str] = {}
        self.font_two_byte = False
        self.result = Painted()
        self.stack: list[Marked | None] = []

    def _decode(self, data: bytes) -> str:
        font = self.font
        if self.font_two_byte:  # Identity-H: two bytes a glyph; a glyph may map to ""
            return "".join([font.get(data[i : i + 2], "") for i in range(0, len(data), 2)])
        if len(data) % 2 == 0:
            pairs = [data[i : i + 2] for i in range(0, len(data), 2)]
            if all(pair in font for pair in pairs):
                return "".join([font[pair] for pair in pairs])
        return "".join(font.get(bytes([b]), "") for b in data)

    def _current(self) -> Marked | None:
        """The innermost marked sequence (a nested BMC inside an artifact stays in it)."""
        for item in reversed(self.stack):
            if item is not None:
                return item
        return None

    def _begin(self, operands: list[Any], op: str) -> None:
        tag = str(operands[0])
        mcid = None
        if op == "BDC" and isinstance(operands[1], pikepdf.Dictionary):
            mcid = int(operands[1].get("/MCID", -1))
            mcid = None if mcid < 0 else mcid
        outer = self._current()
        if outer is not None and outer.artifact:
            self.stack.append(None)  # nested inside an artifact: still the artifact
            return
        marked = Marked(self.number, tag, mcid, tag == "/Artifact")
        self.result.sequences.append(marked)
        self.stack.append(marked)

    def _paint(self, operands: list[Any], op: str) -> None:
        current = self._current()
        if current is None:
            self.result.unmarked += 1
            return
        current.paints = True
        if op == "TJ":
            parts = [bytes(p) for p in operands[0] if isinstance(p, pikepdf.String)]
            current.text += self._decode(b"".join(parts))
        elif op in ("Tj", "'", '"'):
            current.text += self._decode(bytes(operands[-1]))

    def read(self, page: Any) -> Painted:
        for instruction in pikepdf.parse_content_stream(page):
            operands: list[Any] = list(instruction.operands)
            op = str(instruction.operator)
            if op == "Tf":
                self.font = self.fonts.get(str(operands[0]), {})
                self.font_two_byte = str(operands[0]) in self.two_byte
            elif op in ("BDC", "BMC"):
                self._begin(operands, op)
            elif op == "EMC":
                if self.stack:
                    self.stack.pop()
            elif op in _PAINT:
                self._paint(operands, op)
        return self.result


def painted(pdf: pikepdf.Pdf) -> list[Painted]:
    """Per page, the marked-content sequences in the order they are painted."""
    return [_PageReader(page, n).read(page) for n, page in enumerate(pdf.pages)]


def _page_numbers(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    return {page.obj.objgen: n for n, page in enumerate(pdf.pages)}


def structure(pdf: pikepdf.Pdf) -> Element | None:
    """The structure tree from its root, with each element's MCIDs and annotations."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return None
    pages = _page_numbers(pdf)
    top = Element(root, "StructTreeRoot", 0, None)
    _add_kids(top, root.get("/K"), pages, None)
    return top


def _kids(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def _add_kids(
    element: Element, kids: Any, pages: dict[tuple[int, int], int], page: int | None
) -> None:
    own = element.obj.get("/Pg") if isinstance(element.obj, pikepdf.Dictionary) else None
    if own is not None:
        page = pages.get(own.objgen, page)
    for kid in _kids(kids):
        if isinstance(kid, int | pikepdf.Object) and not isinstance(kid, pikepdf.Dictionary):
            if page is not None:
                element.mcids.append((page, int(kid)))
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            at = pages.get(kid.Pg.objgen, page) if "/Pg" in kid else page
            if at is not None:
                element.mcids.append((at, int(kid.MCID)))
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
            element.annotations.append(kid.Obj)
        elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            child = Element(kid, str(kid.S).lstrip("/"), element.depth + 1, element)
            element.children.append(child)
            _add_kids(child, kid.get("/K"), pages, page)


def element_text(element: Element, texts: dict[tuple[int, int], str]) -> str:
    return "".join(texts.get(ref, "") for ref in element.content())


def mcid_texts(pages: list[Painted]) -> dict[tuple[int, int], str]:
    return {
        (m.page, m.mcid): m.text for page in pages for m in page.sequences if m.mcid is not None
    }
