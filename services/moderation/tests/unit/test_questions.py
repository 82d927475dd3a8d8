import pytest
from socialops_moderation.rules.questions import find_questions

QUESTIONS = [
    "Hej! När öppnar badhuset efter renoveringen?",
    "Kan ni ta bort cykelvraket vid stationen",  # a request without a question mark
    "Finns det parkering vid Sofiero?",
    "Jag undrar om det går att boka lokalen på helger",
    "Vilka dagar har återvinningscentralen öppet?",
    "Hallå, kommer det några nya tider för återvinningsbilen?",
    "When does the library open on Sundays?",
]
NOT_QUESTIONS = [
    "När jag kom hem var soptunnan inte tömd.",
    "Vad fan håller ni på med?!",
    "Hur svårt kan det vara att ploga en gata?",
    "Typiskt kommunen, eller hur?",
    "Vilken fin bild på Sofiero!",
    "Tycker det är dåligt att ni stänger.",
    "What a lovely evening.",
    "Varför?",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_direct_questions_need_an_answer(text):
    finding = find_questions(text)
    assert finding.needs_answer and finding.spans


@pytest.mark.parametrize("text", NOT_QUESTIONS)
def test_opinions_rhetorical_and_subordinate_clauses_do_not(text):
    assert not find_questions(text).needs_answer


def test_language():
    assert find_questions("Hej, när öppnar badhuset?").language == "sv"
    assert find_questions("When does the pool open again after the renovation?").language == "en"
