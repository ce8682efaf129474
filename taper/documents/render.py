"""Rendering letters to PDF with WeasyPrint, fetching nothing but the letters' own assets.

Templates live in `letters/` (one folder per document, plus shared print CSS and the fonts we ship). The
renderer's URL fetcher serves `data:` URLs and files inside `letters/` only; anything else (the network, other
files, redirects) stops the rendering with an error, so a letter never goes out missing a part or having
fetched something it should not (CVE-2024-28184, CVE-2025-68616: docs/clinical-sources.md, WeasyPrint).
Contexts are plain values; Jinja escapes every value, so text a user typed is printed, never interpreted.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from taper import PROJECT_ROOT

LETTERS = PROJECT_ROOT / "letters"
# Tagged, titled, language-set PDFs for screen readers (PDF/UA-1): docs/clinical-sources.md, WeasyPrint.
PDF_VARIANT = "pdf/ua-1"


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


_environment = Environment(loader=FileSystemLoader(LETTERS), autoescape=True, undefined=StrictUndefined)
_environment.filters["b64encode"] = lambda text: base64.b64encode(text.encode()).decode()


def render_html(template: str, context: dict[str, Any]) -> str:
    return _environment.get_template(template).render(**context)


def render_pdf(template: str, context: dict[str, Any], *, fetcher: LetterAssetFetcher | None = None) -> bytes:
    """The PDF of `letters/<template>` filled with `context` (plain values only)."""
    html = HTML(string=render_html(template, context), base_url=LETTERS.as_uri() + "/",
                url_fetcher=fetcher or LetterAssetFetcher())
    pdf = html.write_pdf(pdf_variant=PDF_VARIANT)
    assert pdf is not None
    return pdf
