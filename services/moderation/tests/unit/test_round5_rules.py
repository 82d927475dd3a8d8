"""Rounds 5 and 6 of issue 14 (2026-12-04): what the `train` parts of city_comments14-21 showed the rules
got wrong. Sentences written for these tests, not taken from the sets."""

import pytest
from socialops_moderation.rules.personal_data import classify_personal_data
from socialops_moderation.rules.questions import find_questions
from socialops_moderation.testing import abuse_rule_ids as rules

HARM = {"abuse.hate", "abuse.insult", "abuse.personal_attack", "abuse.threat"}


@pytest.mark.parametrize("text", [
    "Förr kom plogen klockan fem på morron, nu får man vänta till lunch",
    "Kommunens hantering av upphandlingen är ett jävla skämt",
    "Det här är ett jävla skämt. Tre år i kön och ingenting händer",
    'Någon har sprayat "BÖGJÄVLAR UT" på tunneln vid skolan, kan ni sanera?',
    "Klottret på garaget säger typ 'blattar ut', snälla ta bort det",
    "Vi blattar i Norrby ordnade loppis själva. Blattestyrka!",
])
def test_round_five_allowable_comments_stand(text):
    assert rules(text) & HARM == set(), text


@pytest.mark.parametrize("text, expected", [
    ("du är en moron", "abuse.personal_attack"),
    ("Du är ett jävla skämt till människa", "abuse.personal_attack"),
    ("du är ett jävla skämt", "abuse.personal_attack"),
    ("bögjävlar ut ur vår stad", "abuse.hate"),
    ("Blattestyrka? Åk hem allihop", "abuse.hate"),
    # a writer's own word does not cover another slur
    ("Vi blattar vet hur det är. Men svartskallarna i centrum är värst", "abuse.hate"),
])
def test_round_five_the_harmful_words_still_count(text, expected):
    assert expected in rules(text), text


@pytest.mark.parametrize("text", [
    "jag skjuter den jävla kontrollanten om han bötfäller mig igen",
    "Den som rör vår kolonilott är död, det lovar jag",
    "Sätt eld på hela förvaltningshuset, gärna med chefen i",
    "Stänger ni ungdomsgården ser vi personligen till att hela stället går upp i rök",
    "Köp ett bra larm till huset, Bengt. Du kommer behöva det.",
    "Skolchefen borde få händerna avhuggna",
    "Politikerna borde dränkas i sin egen budget",
    "hoppas hela nämnden ligger på akuten till jul",
])
def test_round_five_threats_are_threats(text):
    assert "abuse.threat" in rules(text), text


@pytest.mark.parametrize("text", [
    "Sätt fyr på grillen och kom till parken på lördag!",
    "Nu sätter vi eld på dansgolvet på stadsfesten",
    "Jag skjuter dig i fortnite ikväll haha",
    "Köp ett larm till förrådet, det lönar sig",
    "Om ni inte röstar ser vi till att förslaget går upp i rök i valet",
    "Han ligger på akuten efter olyckan, hoppas han blir frisk",
])
def test_round_five_threat_lookalikes_stand(text):
    assert "abuse.threat" not in rules(text), text


def test_a_year_after_a_street_is_no_address():
    assert classify_personal_data("Attentatet på Drottninggatan 2017 minns alla") == []
    assert [h.rule_id for h in classify_personal_data("Han bor på Drottninggatan 17, andra våningen")] == ["personal_data.address"]


@pytest.mark.parametrize("text", [
    "Minns ni när badet var gratis för pensionärer?",
    "Kommer nån ihåg vintern 2010?",
    "Någon mer som var på samrådet igår?",
    "Hur många skolor ska ni stänga innan ni fattar att folk flyttar?",
    "Sen när blev det okej att plogvallen ligger framför infarten?",
    "Har ni hört något så dumt?",
    "Och vem ska betala för det här? Vi skattebetalare som vanligt.",
    "Vad hände med löftet om fler lärare?",
    "Ska vi verkligen ha ännu ett möte om samma sak?",
    "Hur många gånger ska vi behöva skriva här?",
    "Vem i hela världen kom på den här busstidtabellen?",
])
def test_round_five_rhetoric_and_questions_to_the_others_need_no_answer(text):
    assert not find_questions(text).needs_answer, text


@pytest.mark.parametrize("text", [
    "Sker slamtömningen automatiskt eller måste jag beställa den?",
    "Vem ska betala för skadan på min bil efter potthålet på Storgatan?",
    "Hur många platser finns kvar innan anmälan stänger?",
    "Ska man verkligen betala parkeringsavgift på söndagar?",
    "Är det verkligen så att badet stänger i juli?",
    "Vad hände med min ansökan om bygglov, den skickades i maj?",
])
def test_round_five_real_questions_are_still_questions(text):
    assert find_questions(text).needs_answer, text


@pytest.mark.parametrize("text, needs_answer", [
    # round 6 (2026-12-04, the train parts of city_comments18-21): questions written as spoken
    ("e det gratis att låna skridskor i hallen", True),
    ("va kostar ett sommarkort för bussen", True),
    ("vilken buss tar man till friluftsbadet", True),
    ("e simhallen öppen för alla eller måste man ha kort", True),
    ("hur e läget allihop", False),
    ("va kul att ni fixade lekplatsen", False),
])
def test_round_six_spoken_questions(text, needs_answer):
    assert find_questions(text).needs_answer is needs_answer, text


@pytest.mark.parametrize("text", [
    # round 6: a word the writer uses of themself, what was shouted at someone, graffiti without quotes
    "Jag är en riktig lantisjävel och stolt över det",
    "Några killar skrek hora efter oss tjejer vid busshållplatsen",
    "Det står döda alla vakter sprejat på tunneln vid skolan",
])
def test_round_six_reports_and_self_descriptions_stand(text):
    assert rules(text) & HARM == set(), text


@pytest.mark.parametrize("text, expected", [
    ("din lantisjävel", "abuse.personal_attack"),
    ("du är en hora", "abuse.personal_attack"),
    ("döda alla vakter", "abuse.threat"),
])
def test_round_six_the_same_words_said_still_count(text, expected):
    assert expected in rules(text), text
