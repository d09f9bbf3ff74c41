"""Joins tagged PDFs (a cover letter, then a handout) into one tagged PDF.

Copying pages alone keeps each page's /StructParents and the marked-content ids of its
text but drops the structure tree they point into: a file tagged in appearance only. Here
each part's structure tree comes along: its top element becomes a /Part (with the part's
language) of one /Document, and its parent-tree keys move past the previous part's, on
the pages and in the joined /ParentTree. The first part gives the document its language,
title, metadata and viewer preferences.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

import pikepdf
from pikepdf import Array, Dictionary, Name, NumberTree

#: What the first part gives the joined document.
_FROM_FIRST = ("/Lang", "/Metadata", "/ViewerPreferences", "/MarkInfo")


def merged_pdf(parts: Sequence[bytes]) -> bytes:
    """The parts' pages in order, one structure tree, deterministic bytes."""
    document = pikepdf.new()
    joined = _Tree(document)
    version = "1.7"
    for number, data in enumerate(parts):
        source = pikepdf.open(io.BytesIO(data))
        version = max(version, source.pdf_version)
        start = len(document.pages)
        document.pages.extend(source.pages)
        if number == 0:
            for key in _FROM_FIRST:
                if key in source.Root:
                    document.Root[key] = _copied(document, source, source.Root[key])
            if "/Info" in source.trailer:
                document.trailer.Info = _copied(document, source, source.trailer.Info)
        joined.add(source, document.pages[start:])
    joined.finish()
    buffer = io.BytesIO()
    document.save(buffer, deterministic_id=True, min_version=version)
    return buffer.getvalue()


def _copied(document: pikepdf.Pdf, source: pikepdf.Pdf, value: pikepdf.Object) -> pikepdf.Object:
    """A value of `source` as an object of `document` (pikepdf copies indirect ones)."""
    return document.copy_foreign(value if value.is_indirect else source.make_indirect(value))


class _Tree:
    """The joined structure tree, built part by part."""

    def __init__(self, document: pikepdf.Pdf) -> None:
        self.document = document
        self.root = document.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.top = document.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Document, P=self.root, K=Array())
        )
        self.parents: list[tuple[int, pikepdf.Object]] = []
        self.next_key = 0
        self.role_map = Dictionary()

    def add(self, source: pikepdf.Pdf, pages: Iterable[pikepdf.Page]) -> None:
        tree = source.Root.get("/StructTreeRoot")
        if tree is None:
            for page in pages:  # an untagged part: no leftovers of a tree it does not have
                if "/StructParents" in page.obj:
                    del page.obj["/StructParents"]
            return
        copied = self.document.copy_foreign(tree)
        offset = self.next_key
        last = offset - 1
        for key, value in NumberTree(copied.ParentTree).items():
            self.parents.append((key + offset, value))
            last = max(last, key + offset)
        for page in pages:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
                last = max(last, int(page.obj.StructParents))
            for annotation in page.obj.get("/Annots", Array()):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + offset
                    last = max(last, int(annotation.StructParent))
        self.next_key = max(last + 1, offset + int(copied.get("/ParentTreeNextKey", 0)))
        kids = copied.K if isinstance(copied.K, Array) else Array([copied.K])
        language = source.Root.get("/Lang")
        for kid in kids:
            if kid.get("/S") == Name.Document:
                kid.S = Name.Part
            if language is not None and "/Lang" not in kid:
                kid.Lang = language
            kid.P = self.top
            self.top.K.append(kid)
        for role, standard in copied.get("/RoleMap", Dictionary()).items():
            self.role_map[role] = standard

    def finish(self) -> None:
        if not self.parents:
            return
        tree = NumberTree.new(self.document)
        for key, value in self.parents:
            tree[key] = value
        self.root.K = Array([self.top])
        self.root.ParentTree = tree.obj
        self.root.ParentTreeNextKey = self.next_key
        if len(self.role_map):
            self.root.RoleMap = self.role_map
        self.document.Root.StructTreeRoot = self.root
        self.document.Root.MarkInfo = Dictionary(Marked=True)
