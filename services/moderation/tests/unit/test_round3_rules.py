"""Issue 14, round 3: the families the `train` part of city_comments4 (written by someone who had
seen neither the rules nor our data) showed missing. The examples are written for these tests, not
taken from the labelled sets; each family comes with the hard negatives it must leave alone."""

import pytest
from socialops_moderation.classify import Classifier
from socialops_moderation.rules.personal_data import find_personnummer
from socialops_moderation.testing import abuse_rule_ids as rules

RULES_ONLY = Classifier(model=None)


@pytest.mark.parametrize("text", [
    "Ni på miljöförvaltningen får allt börja se er över axeln nu.",
    "Alla vet vilken gata nämndordföranden bor på. Gissa vad som händer sen.",
    "Nästa gång jag kommer till stadshuset kommer jag inte för att prata.",
    "Skolstyrelsen ska få besök hemma av oss, en efter en.",
    "Dela hennes adress här så ordnar vi resten.",
    "du e rökt, vi plockar dig vid gymmet",
    "Jag ska krossa skallen på den där parkeringsvakten.",
    "Personalen på fritidsgården ska få se vad som händer när man sparkar ut min son.",
    "Fin villa du har på Rosenvägen. Vore tråkigt om den började brinna en natt.",
    "Rektorn har ju två ungar på Fäladsskolan... synd om något skulle hända.",
    "Snygg cykel du har. Den är väl försäkrad?",
    "Bygg ert boende där ni vill, det brinner innan första hyresgästen flyttar in.",
    "Alla i nämnden ska få betala med sina liv.",
    "Demonstrationen på lördag kommer bli blodig, det lovar jag.",
    "Hoppas någon tar hand om den där socialsekreteraren ordentligt.",
    "Vi har sparat adresserna till alla i nämnden. Det kommer en dag.",
    "Önskar att hela byggnadsnämnden blir påkörd av plogbilen.",
    "Han förtjänar att hänga i närmaste träd.",
    "Jag skulle inte gråta en tår om någon spöade upp kommunalrådet.",
    "Nån borde ge den där busschauffören på linje 3 en ordentlig omgång.",
    "ja ska kniva dig",
])
def test_menace_without_a_listed_harm_verb_is_a_threat(text):
    assert "abuse.threat" in rules(text), text


@pytest.mark.parametrize("text", [
    "Titta över axeln innan du byter fil på E6:an, det är mycket trafik.",
    "Gissa vad som händer sen när kommunen höjer avgiften igen? Ingen kommer.",
    "Det vore tråkigt om det började brinna i skogen, inför eldningsförbud nu.",
    "Mina barn går på Fäladsskolan, det vore synd om något hände i korsningen.",
    "Budgetdebatten i fullmäktige kommer bli blodig i år.",
    "Jag kommer inte hit för att bråka, bara för att ställa en fråga.",
    "Hemtjänsten tar hand om henne ordentligt, tack för det.",
    "Min mormor ska få besök av hemtjänsten två gånger om dagen nu.",
    "Ni ska få se vad som händer i valet.",
    "Vi har samlat namnen på alla som vill gå med i föreningen, välkomna!",
])
def test_the_same_words_in_ordinary_talk_are_no_threat(text):
    assert "abuse.threat" not in rules(text), text


@pytest.mark.parametrize("text", [
    "Min sambo jobbar i kassan och får ofta höra 'jag ska döda dig' av kunder. Vad gör kommunen?",
    "Rektorn berättade att en förälder sagt 'vi hittar dig' till henne.",
    "Om jag får ett till utskick om sopsortering skjuter jag mig själv, lol.",
])
def test_a_reported_threat_and_a_joke_about_oneself_are_no_threat(text):
    assert "abuse.threat" not in rules(text), text


def test_a_group_naming_itself_with_a_reclaimed_word_is_no_hate():
    assert "abuse.hate" not in rules("Vi blattar i Rosengård fixade grillfesten själva.")
    assert "abuse.hate" in rules("Ni blattar förstör allt.")


@pytest.mark.parametrize("text", [
    "du är ju dummare än en planka",
    "Har du ens någon hjärna, Per?",
    "Stäng ditt konto, din patetiska lilla troll",
])
def test_comparatives_and_brainless_questions_said_to_someone_are_attacks(text):
    assert "abuse.personal_attack" in rules(text), text


def test_an_insult_a_sentence_away_from_you_is_said_to_you_unless_it_is_about_someone_else():
    assert "abuse.personal_attack" in rules("Vilken jävla idiot. Fattar du ingenting alls?")
    assert "abuse.personal_attack" in rules("Pucko. Har du läst vad du skrev?")
    about_her = rules("Hon är en idiot. Kan du be någon annan ringa mig?")
    assert "abuse.personal_attack" not in about_her and "abuse.insult" in about_her
    # harsh but ordinary words still need "du" in their own sentence: criticism stays allowed
    assert "abuse.personal_attack" not in rules("Beslutet är korkat. Har du läst det?")


def test_comparing_things_is_no_attack():
    assert "abuse.personal_attack" not in rules("Den nya busstidtabellen är dummare än den gamla.")
    assert "abuse.personal_attack" not in rules("Trollen i Lunds stadspark är så fina, barnen älskar dem.")


@pytest.mark.parametrize("text", [
    "Polacker är bara fyllon allihop.",
    "Araber ljuger, det ligger i deras kultur.",
    "Somalier har lägre IQ, så är det bara.",
    "Rullstolsburna är en belastning för kommunen.",
    "Hbtq-folket vill åt era barn.",
    "Homosexualitet är en sjukdom.",
    "Kineser sprider virus överallt.",
])
def test_a_trait_given_to_a_whole_group_is_hate(text):
    assert "abuse.hate" in rules(text), text


@pytest.mark.parametrize("text", [
    "Fler nyanlända borde få jobb inom hemtjänsten.",
    "Rullstolsburna behöver fler ramper vid stationen.",
    "Polacker har byggt halva Malmö, respekt.",
    "Kineser firar nyår i februari, kul med lyktor på torget!",
])
def test_naming_a_group_is_not_hate(text):
    assert "abuse.hate" not in rules(text), text


def test_a_number_called_a_personnummer_is_masked_whatever_its_check_digit():
    assert find_personnummer("hans personnummer: 850312-4471") == [(19, 30, "personnummer")]
    assert find_personnummer("mitt pnr är 19910407 2389") == [(12, 25, "personnummer")]
    assert find_personnummer("ordernummer 850312-4471") == []  # no such word: the check digit decides
    assert find_personnummer("Ring 850312-4471 efter kl 9") == []


@pytest.mark.parametrize("text, hidden", [
    ("Ni kan rösta via sms i år! Skicka RÖSTA till 71120, info: valet-sms.example.com", True),
    ("Masten vid skolan ger barnen cancer, läs själva: stralningsfakta.example.net", True),
    ("Fluoret i vattnet är farligt, läs själva http://vattenfakta.example.org", True),
    ("Var kan man läsa själva beslutet? Länken på kommunen.se funkar inte", False),
])
def test_misinformation_framings_with_an_unknown_link(text, hidden):
    found = {h.rule_id for h in RULES_ONLY.classify_text(text).hits}
    assert ("links.misinformation" in found) is hidden, (text, found)
