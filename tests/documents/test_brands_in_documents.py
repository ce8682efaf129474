"""A line's brand (issue 13 rule 8) reaches every document: the patient plan, the GP letter and the pharmacy's
dispensing schedule name it wherever they name the medicine, and a line with no brand is named generically."""

from __future__ import annotations

import copy
import io

from pypdf import PdfReader

from taper import clock
from taper.documents.pack import render_pack
from taper.documents.pack_request import pack_from_request
from tests.documents.test_documents_cli import PACK_REQUEST


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_every_document_names_the_brand_of_each_branded_line() -> None:
    request = copy.deepcopy(PACK_REQUEST)
    morphine, _, fentanyl = request["schedule_request"]["regimen"]
    morphine["brand"], fentanyl["brand"] = "MST Continus", "Matrifen"
    documents = render_pack(pack_from_request(request, today=clock.today()))
    for kind, pdf in documents.items():
        text = _text(pdf)
        assert "(MST Continus)" in text, kind
        assert "(Matrifen)" in text, kind
    pharmacy = _text(documents["pharmacy_schedule"])
    assert "Fentanyl 72-hour transdermal patch (Matrifen) 25 micrograms/hour" in pharmacy
    assert "Oxycodone capsule 5 mg" in pharmacy  # no brand named: generic


def test_without_brands_no_document_names_one() -> None:
    documents = render_pack(pack_from_request(PACK_REQUEST, today=clock.today()))
    for kind, pdf in documents.items():
        assert "MST Continus" not in _text(pdf) and "Matrifen" not in _text(pdf), kind
