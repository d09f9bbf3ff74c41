"""Checks on finished PDFs shared by the mail preflight and the tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pikepdf


def _fonts(document: pikepdf.Pdf) -> Iterator[Any]:
    for page in document.pages:
        resources: Any = page.get("/Resources", {})
        yield from (resources.get("/Font") or {}).values()
        for xobject in (resources.get("/XObject") or {}).values():
            yield from (xobject.get("/Resources", {}).get("/Font") or {}).values()


def _embedded(font: Any) -> bool:
    descriptors = [d.FontDescriptor for d in font.get("/DescendantFonts", [])]
    if "/FontDescriptor" in font:
        descriptors.append(font.FontDescriptor)
    return bool(descriptors) and all(
        any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3")) for d in descriptors
    )


def font_names(document: pikepdf.Pdf) -> set[str]:
    return {str(font.get("/BaseFont", "")) for font in _fonts(document)}


def fonts_embedded(document: pikepdf.Pdf) -> bool:
    """True when every font used on any page is embedded (what pdffonts' 'emb' shows)."""
    return all(_embedded(font) for font in _fonts(document))
