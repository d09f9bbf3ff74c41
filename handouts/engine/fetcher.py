"""The only way WeasyPrint may load anything: regular files under known asset folders."""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse


class AssetRefused(Exception):
    """A load was refused; WeasyPrint turns it into a fatal error for the document."""


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves file: URLs of regular files under `roots` (after realpath), nothing else.

    No network, no file outside the roots (symlinks resolved), no redirects. With
    fail_on_errors, a refused or failed load stops the document instead of silently
    dropping a logo or a font.
    """

    def __init__(self, roots: list[Path], recolor: Mapping[str, str] | None = None) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=True)
        self.roots = [os.path.realpath(root) for root in roots]
        #: SVG pictures are drawn in fixed colors that each clinic's brand colors replace.
        self.recolor = {old.lower(): new for old, new in (recolor or {}).items()}
        self._colors = re.compile(
            "|".join(re.escape(c) for c in self.recolor).encode(), re.IGNORECASE
        )

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise AssetRefused(f"refused to load {parts.scheme or 'relative'} URL")
        real = os.path.realpath(unquote(parts.path))
        if not any(real.startswith(root + os.sep) for root in self.roots):
            raise AssetRefused("refused to load a file outside the asset folders")
        if not os.path.isfile(real):
            raise AssetRefused(f"asset not found: {os.path.basename(real)}")
        with open(real, "rb") as handle:
            body = handle.read()
        content_type = mimetypes.guess_type(real)[0] or "application/octet-stream"
        in_figures = os.path.basename(os.path.dirname(real)) == "figures"
        if content_type == "image/svg+xml" and in_figures and self.recolor:
            body = self._colors.sub(
                lambda m: self.recolor[m.group(0).decode().lower()].encode(), body
            )
        return URLFetcherResponse(url, body, headers={"Content-Type": content_type})
