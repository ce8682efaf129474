"""The URL fetcher every letter renders through: `data:` URLs and the letters' own files, nothing else.

It subclasses WeasyPrint's fetcher, so importing this module imports WeasyPrint (about half a second): only
`taper.documents.render` imports it, when a PDF is drawn.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from taper.documents.render import LETTERS


class LetterAssetFetcher(URLFetcher):
    """Serves `data:` URLs and files inside one folder; refuses everything else and stops the render."""

    def __init__(self, root: Path = LETTERS):
        super().__init__(allow_redirects=False, fail_on_errors=True, allowed_protocols=("file", "data"))
        self.root = root.resolve()
        self.served: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            self.served.append(url[:40])
            return super().fetch(url, headers)
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                self.served.append(url)
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": mime})
        self.refused.append(url)
        raise FatalURLFetchingError(f"letters may use only their own assets; refused {url}")
