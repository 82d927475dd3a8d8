"""Round 7 of issue 14 (2026-12-05): what the `train` parts of city_comments22-25 showed the rules
got wrong. Sentences written for these tests, not taken from the sets."""

import pytest
from socialops_moderation.classify import Classifier
from socialops_moderation.rules.personal_data import classify_personal_data
from socialops_moderation.rules.questions import is_report_to_city
from socialops_moderation.testing import abuse_rule_ids as rules
from socialops_moderation.text import normalise

HARM = {"abuse.hate", "abuse.insult", "abuse.personal_attack", "abuse.threat"}


def _addresses(text: str) -> list:
    return [h for h in classify_personal_data(text) if h.rule_id == "personal_data.address"]


@pytest.mark.parametrize("text", [
    "Nu har hålet på Storgatan 2 år på nacken, grattis",
    "Hur länge ska renoveringen av Parkvägen 3–11 hålla på?",
    "Avstängt på Kyrkogatan 4-10 hela veckan",
    "Köerna på Ringvägen 20 minuter varje morgon",
])
def test_a_range_of_numbers_or_a_count_after_a_street_is_no_home(text):
    assert _addresses(text) == [], text


@pytest.mark.parametrize("text", [
    "Han bor på Parkvägen 3, andra våningen",
    "Hennes adress är Kyrkogatan 4 B",
    "Skicka det till Ringvägen 20 lgh 1102",
])
def test_a_home_address_is_still_one(text):
    assert _addresses(text), text


@pytest.mark.parametrize("text", [
    'Klacken sjöng "döda domaren" hela andra halvlek, jag har filmat',
    "De skanderade 'bränn ner stan' utanför arenan",
])
def test_a_chant_reported_is_not_the_commenters_threat(text):
    assert rules(text) & HARM == set(), text


@pytest.mark.parametrize("text, is_threat", [
    ("hoppas någon tänder på hela kommunhuset", True),
    ("hoppas nån tänder på stadshuset när de sitter där", True),
    ("hoppas ni tänder på idén", False),  # "is taken with", not arson
    ("hoppas bussen inte åker i diket i halkan", False),
])
def test_wished_accidents_and_what_only_sounds_like_one(text, is_threat):
    assert ("abuse.threat" in rules(text)) is is_threat, text


def test_the_chant_said_to_someone_still_counts():
    assert "abuse.threat" in rules("vi ska döda domaren efter matchen")


@pytest.mark.parametrize("text", [
    "Till moderatorerna: någon skrev 'vi hittar dig' till bibliotekarien längre ner. Ta bort det.",
    "Har skärmdumpat kommentaren där det står att rektorn ska hängas. Snälla anmäl den.",
    'Det sitter en lapp på förrådet med texten "invandrare ut". Vill att ni tar ner den och polisanmäler.',
])
def test_a_threat_reported_to_the_city_needs_an_answer(text):
    assert is_report_to_city(normalise(text)), text
    findings = Classifier(model=None).classify_text(text)
    assert findings.is_question and "questions.report" in {h.rule_id for h in findings.hits}
    assert {h.rule_id for h in findings.hits} & HARM == set()


@pytest.mark.parametrize("text", [
    "Polisen har gripit en man för hot mot en busschaufför, skriver tidningen.",  # news, nobody asked
    "Ni är fantastiska på biblioteket, tack!",  # addressed, no report
    "Någon skrev att sommarbussen går igen, så skönt.",  # someone's words, no report
])
def test_what_is_not_a_report_to_the_city(text):
    assert not is_report_to_city(normalise(text)), text
