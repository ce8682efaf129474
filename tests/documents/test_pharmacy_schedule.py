"""The dispensing schedule PDF: real WeasyPrint output, read back with pypdf."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from taper.documents.pharmacy import pharmacy_schedule_context, render_pharmacy_schedule
from taper.documents.render import LetterAssetFetcher, render_pdf
from tests.documents.conftest import HEAD as SHARED_HEAD

HEAD = replace(SHARED_HEAD, plan_version=2, replaces=(1, date(2026, 12, 20)))


@pytest.fixture(scope="module")
def pdf(schedule) -> PdfReader:  # type: ignore[no-untyped-def]
    return PdfReader(io.BytesIO(render_pharmacy_schedule(HEAD, schedule, instalment_days=14,
                                                         notes="<img src=x> is not a picture")))


def _text(reader: PdfReader) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def test_every_page_names_the_patient_plan_version_date_and_page_count(pdf: PdfReader) -> None:
    pages = _text(pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "Ada Lovelace" in text and "943 476 5919" in text and "born 10 December 1960" in text
        assert "plan 7 version 2 · generated 1 January 2027" in text
        assert f"Page {number} of {len(pages)}" in text
    assert "This replaces version 1 dated 20 December 2026" in pages[0]


def test_quantities_match_the_instalments_of_the_stored_schedule(pdf: PdfReader, schedule) -> None:  # type: ignore[no-untyped-def]
    context = pharmacy_schedule_context(HEAD, schedule, instalment_days=14)
    text = " ".join(_text(pdf))
    first = context["instalments"][0]
    assert "Instalment 1: 4 January 2027 to 17 January 2027" in text
    for supply in first["supplies"]:
        assert f"{supply['item']} {supply['quantity']}" in text
    # fentanyl 25 every 3 days from 4 January: 4, 7, 10, 13 and 16 January
    assert {"item": "Fentanyl 72-hour transdermal patch 25 micrograms/hour", "quantity": "5 patches",
            "schedule": "CD2"} in first["supplies"]
    assert "Supply no earlier than 4 January 2027." in text


def test_the_pdf_is_tagged_titled_and_in_english(pdf: PdfReader) -> None:
    root = pdf.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root and root["/Lang"] == "en-GB"
    assert pdf.metadata.title.startswith("Dispensing schedule for Ada Lovelace")


def test_user_text_is_printed_never_fetched(pdf: PdfReader) -> None:
    assert "<img src=x> is not a picture" in " ".join(_text(pdf))


@pytest.mark.parametrize("hostile", ['<img src="http://127.0.0.1:9/x">',
                                     '<link rel="attachment" href="file:///etc/passwd">',
                                     '<img src="../taper/__init__.py">',
                                     '<link rel="stylesheet" href="http://169.254.169.254/">'])
def test_the_renderer_refuses_anything_but_the_letters_own_assets(tmp_path, hostile: str) -> None:  # type: ignore[no-untyped-def]
    from weasyprint.urls import FatalURLFetchingError

    template = tmp_path / "hostile.html"
    template.write_text(f"<html lang='en'><head><title>t</title></head><body>{hostile}</body></html>")
    fetcher = LetterAssetFetcher()
    from taper.documents import render

    render._environment.loader.searchpath.append(str(tmp_path))  # type: ignore[union-attr]
    try:
        with pytest.raises(FatalURLFetchingError):
            render_pdf("hostile.html", {}, fetcher=fetcher)
    finally:
        render._environment.loader.searchpath.remove(str(tmp_path))  # type: ignore[union-attr]
    assert fetcher.refused and not any("passwd" in url or "127.0.0.1" in url for url in fetcher.served)
