"""The invitation letter (issue 18, item 4), read back from real PDFs: in the GP practice's name, naming the
clinic who will see the patient, saying why, what happens, that it is their choice, how to answer and not to stop
suddenly; no medicine or dose; large print and easy read as the patient's needs say; and the text message."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import replace
from datetime import date

from pypdf import PdfReader

from taper.documents.invitation_letters import (
    EASY_READ_TEMPLATE,
    TEMPLATE,
    InvitationLetter,
    letter_context,
    render_letter,
    template_for,
    text_message,
)
from taper.documents.render import render_html

LETTER = InvitationLetter(
    patient_name="Ada Lovelace", patient_address="12 St James's Square\nLondon\nSW1Y 4JH", nhs_number="943 476 5919",
    practice_name="Riverside Surgery", practice_address="2 River Road\nLeeds\nLS2 2BB", practice_phone="0113 496 0001",
    clinic_name="Community Pain Service", clinic_phone="0113 496 0000", dated=date(2026, 12, 2))
# Words that would be clinical detail beyond "your pain medicines": a drug class (others in the household may open
# the letter), a dose, a unit, a medicine's name.
CLINICAL = re.compile(r"\b(opioids?|mg|mcg|micrograms?|OME|morphine|oxycodone|codeine|fentanyl|tramadol|dose)\b",
                      re.I)
# A claim about how long the patient has taken them: not true of everyone invited (a patient found for a high
# dose may have taken them for less than three months).
DURATION = re.compile(r"long time|long-term|months|years", re.I)


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def _body_size(pdf: bytes) -> float:
    """The font size, in points on the page, of most of the text."""
    sizes: Counter[float] = Counter()

    def visit(text, cm, tm, font, size) -> None:  # type: ignore[no-untyped-def]
        if text.strip():
            sizes[round(abs(size * tm[3] * cm[3]), 1)] += len(text.strip())

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return sizes.most_common(1)[0][0]


def test_invitation_letter_comes_from_the_practice_and_names_the_clinic() -> None:
    pdf = render_letter(LETTER)
    text = _text(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1  # one sheet to post
    assert reader.metadata.title == ("An offer of help with your pain medicines, from Riverside Surgery, for "
                                     "Ada Lovelace")
    assert "Riverside Surgery 2 River Road Leeds LS2 2BB Phone 0113 496 0001" in text  # the letterhead
    assert "Ada Lovelace 12 St James's Square London SW1Y 4JH" in text
    assert "2 December 2026" in text and "NHS number 943 476 5919" in text
    assert "We are writing from Riverside Surgery, your GP practice," in text
    assert "Yours sincerely, The GPs and team at Riverside Surgery" in text
    assert "pain pharmacist from Community Pain Service" in text


def test_invitation_letter_says_why_what_happens_the_choice_how_to_answer_and_not_to_stop() -> None:
    text = _text(render_letter(LETTER))
    for said in ("We are writing from Riverside Surgery, your GP practice, about the medicines you take for pain.",
                 "Together we would like to offer you a review of your pain medicines.",
                 "If you want to, the pharmacist can then help you take less, slowly and at your own pace",
                 "It lasts about an hour. It can be face to face, by phone or by video: you choose",
                 "You do not have to say yes. Nothing about your medicines will change unless you agree",
                 "Please call Community Pain Service on 0113 496 0000 to say yes or no",
                 "We have not booked an appointment for you",
                 "Please do not stop your medicines suddenly"):
        assert said in text, said
    assert not CLINICAL.search(text), CLINICAL.search(text)
    assert not DURATION.search(text), DURATION.search(text)


def test_large_print_invitation_is_at_least_16_point() -> None:
    large = render_letter(replace(LETTER, large_print=True))
    assert _body_size(large) >= 16
    assert _body_size(render_letter(LETTER)) < 16  # the check can tell the difference
    assert "Please call Community Pain Service on 0113 496 0000" in _text(large)
    def words(pdf: bytes) -> str:
        return " ".join(re.sub(r"Page \d+ of \d+", " ", _text(pdf)).split())

    assert words(large) == words(render_letter(LETTER))  # the same words, only larger (on more pages)


def test_easy_read_invitation_is_large_with_a_picture_by_each_idea() -> None:
    letter = replace(LETTER, easy_read=True, large_print=True)
    assert template_for(letter) == EASY_READ_TEMPLATE and template_for(LETTER) == TEMPLATE
    pdf = render_letter(letter)
    assert _body_size(pdf) >= 16
    assert "(easy read)" in PdfReader(io.BytesIO(pdf)).metadata.title
    text = _text(pdf)
    for said in ("This letter is from Riverside Surgery, your GP practice",
                 "This letter is about the medicines you take for pain",
                 "You meet the pain pharmacist from Community Pain Service", "It takes about an hour",
                 "Nothing changes unless you agree", "Call 0113 496 0000", "Do not stop your medicines suddenly",
                 "From the GPs and team at Riverside Surgery"):
        assert said in text, said
    assert not CLINICAL.search(text), CLINICAL.search(text)
    assert not DURATION.search(text), DURATION.search(text)
    html = render_html(EASY_READ_TEMPLATE, letter_context(letter))
    assert html.count('<div class="said"><img src="icons/') >= 7


def test_what_a_patient_typed_is_printed_not_interpreted() -> None:
    html = render_html(TEMPLATE, letter_context(replace(LETTER, patient_name="Ada <b>Lovelace</b>")))
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html and "<b>Lovelace" not in html


def test_invitation_text_is_from_the_practice_about_pain_medicines_with_the_clinics_phone() -> None:
    body = text_message(practice_name="Riverside Surgery", clinic_name="Community Pain Service",
                        clinic_phone="0113 496 0000")
    assert body.startswith("Riverside Surgery: we would like to offer you a review of your pain medicines")
    assert "call Community Pain Service on 0113 496 0000" in body and "do not stop any medicine suddenly" in body
    assert "opioid" not in body.lower() and not CLINICAL.search(body)
    assert len(body) <= 459  # three text messages at most (GOV.UK Notify counts 153 characters a part)
