"""Rendering letters to PDF with WeasyPrint, fetching nothing but the letters' own assets.

Templates live in `letters/` (one folder per document, plus shared print CSS and the fonts we ship). The
renderer's URL fetcher (taper.documents.letter_assets) serves `data:` URLs and files inside `letters/` only;
anything else (the network, other files, redirects) stops the rendering with an error, so a letter never goes
out missing a part or having fetched something it should not (CVE-2024-28184, CVE-2025-68616:
docs/clinical-sources.md, WeasyPrint). Contexts are plain values; Jinja escapes every value, so text a user
typed is printed, never interpreted.

WeasyPrint is imported only when a PDF is drawn: it takes about half a second, which every web worker and
every `flask taper ...` command would otherwise pay on start (Taper issue 16).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from taper import PROJECT_ROOT

if TYPE_CHECKING:
    from taper.documents.letter_assets import LetterAssetFetcher

LETTERS = PROJECT_ROOT / "letters"
# Tagged, titled, language-set PDFs for screen readers (PDF/UA-1): docs/clinical-sources.md, WeasyPrint.
PDF_VARIANT = "pdf/ua-1"

_environment = Environment(loader=FileSystemLoader(LETTERS), autoescape=True, undefined=StrictUndefined)
_environment.filters["b64encode"] = lambda text: base64.b64encode(text.encode()).decode()


def render_html(template: str, context: dict[str, Any]) -> str:
    return _environment.get_template(template).render(**context)


def render_pdf(template: str, context: dict[str, Any], *, fetcher: LetterAssetFetcher | None = None) -> bytes:
    """The PDF of `letters/<template>` filled with `context` (plain values only)."""
    from weasyprint import HTML

    from taper.documents.letter_assets import LetterAssetFetcher

    html = HTML(string=render_html(template, context), base_url=LETTERS.as_uri() + "/",
                url_fetcher=fetcher or LetterAssetFetcher())
    pdf = html.write_pdf(pdf_variant=PDF_VARIANT)
    assert pdf is not None
    return pdf


def __getattr__(name: str) -> Any:
    """`LetterAssetFetcher` is still found here (`from taper.documents.render import LetterAssetFetcher`), but
    imported with WeasyPrint only when asked for."""
    if name == "LetterAssetFetcher":
        from taper.documents.letter_assets import LetterAssetFetcher

        return LetterAssetFetcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
