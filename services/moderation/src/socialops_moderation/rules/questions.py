"""Direct, concrete, serious questions (must be answered) versus opinions and rhetorical questions.

Guideline (seeds/001_206af399bca50804.txt, "Svara så fort som möjligt"): "I kommentarsflödet
svarar vi alltid på direkta, konkreta och seriösa frågor som ställs. Tyckanden och eventuellt
”gnäll” är inget vi bemöter" and ("Riktlinjer vid hantering av kommentarer"): "Det är viktigt att
vi svarar på relevanta frågor, men åsikter och tyckanden är ingenting vi går in och bemöter."

A sentence is a question when it is an interrogative clause (hur/när/var/vad/varför/vem/vilken…
directly followed by a verb, not by a subject: "När jag kom hem …" is not a question), a
verb-first clause ("Kan ni …", "Finns det …", "Går det …"), or an indirect question ("Jag undrar
om …", "Vet någon …"); in English the same with how/when/where/can/is/do …. It is *not* one that
needs an answer when it is rhetorical or a complaint: "?!", swearing ("Vad fan håller ni på
med?!"), tag questions ("… eller hur?"), stock rhetorical phrases ("Hur svårt kan det vara?").
Language comes from `py3langid` (its model ships in the wheel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from socialops_common.events import RuleHit

from ..text import Normalised, fold_pattern, normalise
from . import CLAUSE_QUESTIONS, hit

# "va" and "e" are how "vad" and "är" are written in speech-like comments ("va kostar det", "hur e det")
_SV_INTERROGATIVES = r"(hur|när|var|vart|varifrån|vad|va|varför|vem|vems|vilken|vilket|vilka|hurdan)"
_SV_SUBJECTS = r"(jag|vi|man|du|han|hon|de|dom|den|det|ni|min|mitt|mina|vår|vårt|våra|ens|alla|folk)"
_SV_FINITE_VERBS = (
    r"(kan|kommer|ska|skall|finns|går|gäller|har|hade|är|var|blir|behöver|måste|får|fick|borde|bör|"
    r"vill|skulle|gör|gjorde|tar|öppnar|stänger|kostar|börjar|slutar|sker|händer|hände|fungerar|funkar|"
    r"betyder|innebär|hittar|ansöker|anmäler|söker|bokar|lämnar|hämtar|vänder|ringer|mejlar|kontaktar|"
    r"stämmer|avgör|bestämmer|ansvarar|räknas|beräknas|planeras|byggs|görs|fattas|står|ligger|tycker|"
    r"tänker|menar|hjälper|svarar|handlar|töms|plogas|sandas|sopas|lagas|åtgärdas|hanteras|når|hör|"
    r"brukar|hinner|orkar|vet|var|kom|e)"
)
_SV_VERB_FIRST = (
    r"(kan|kommer|ska|skall|finns|går|gäller|har|är|blir|behöver|måste|får|borde|bör|vill|skulle|"
    r"gör|stämmer|fungerar|funkar|öppnar|stänger|kostar|brukar|hinner|tar|räcker|vet|planerar|"
    r"tänker|jobbar|arbetar|hämtas|töms|plogas|sandas|lagas|byggs|gjorde|hade|var|fick|kostade|"
    r"tycker|menar|gick|såg|hörde|sker)"
)
# Verb-first clauses that are requests even without a question mark ("Kan ni laga lampan").
_SV_REQUEST_VERBS = r"(kan|finns|går|får|gäller|stämmer|har|ska|skall|behöver|måste|är|e|kommer|brukar|blir)"
_EN_QUESTION_START = (
    r"(how|when|where|what|why|who|which|whose|can|could|will|would|is|are|was|were|do|does|did|"
    r"should|shall|may|has|have)"
)

_QUESTION_START = [
    # interrogative + finite verb (or "hur länge/mycket/många …")
    rf"^{_SV_INTERROGATIVES}\s+({_SV_FINITE_VERBS}|länge|mycket|många|lång|ofta|dags|tid|mkt|gammal|stor)\b",
    # "vilken/vilket/vilka + noun + verb": "Vilka dagar har återvinningscentralen öppet?"
    r"^(vilken|vilket|vilka|vad\s+för|hur\s+många|hur\s+mycket)\s+\w+\s+\w+.*\?",  # not "Vilken fin bild!"
    rf"^{_SV_REQUEST_VERBS}\s+(ni|man|jag|vi|det|den|du|någon|kommunen|staden|ert|er|era|där|alla|vårt|våra|min|mitt|mina|barn|de|dom|bussen|badet|biblioteket|skolan|förskolan|parkeringen|vägen|gatan|tömningen|avgiften)\b",
    rf"^{_EN_QUESTION_START}\s+\w+.*\?",  # English: "What a lovely evening." is no question
    # issue 14, round 6 (city_comments18-21 train): without a question mark, "vilket nummer ringer
    # man …", and an either-or after a verb first ("e gratisbadet bara för … eller får man …")
    rf"^(vilken|vilket|vilka)\s+\w+\s+{_SV_FINITE_VERBS}\s+(man|jag|vi|ni|du)\b",
    rf"^{_SV_REQUEST_VERBS}\s+\w+[^.!]*\beller\s+({_SV_FINITE_VERBS}|{_SV_REQUEST_VERBS})\s+(man|jag|vi|ni|det|den|du)\b",
]
_VERB_FIRST_WITH_MARK = rf"^{_SV_VERB_FIRST}\s+\w+.*\?"
_INDIRECT = [
    r"\b(jag|vi)\s+undrar\b",
    r"^undrar\s+(om|hur|när|var|vad|varför|vem|vilken|vilket|vilka|över)\b",
    r"\bundrar\s+(om|hur|när|var|vad|varför|vem|vilken|vilket|vilka)\b",
    r"\b(skulle|vill)\s+(gärna\s+)?(vilja\s+)?(veta|få\s+veta|fråga|ha\s+svar)\b",
    r"\b(någon|ngn|nån)\s+som\s+vet\b",
    r"\bvet\s+(någon|ni|du|nån|ngn)\b",
    r"\b(tacksam|glad)\s+(för|över)\s+(ett\s+)?svar\b",
    r"\bkan\s+(någon|ni|du)\s+(svara|förklara|berätta|hjälpa|informera)\b",
    r"\bvart\s+(ska|kan|bör)\s+(jag|vi|man)\s+vända\b",
    r"\bvem\s+(ska|kan|bör)\s+(jag|vi|man)\s+(kontakta|ringa|vända)\b",
    r"\bi\s+(wonder|was\s+wondering)\b",
    r"\b(i'd|i\s+would|we'd)\s+like\s+to\s+know\b",
    r"\b(does|do)\s+anyone\s+know\b",
    r"\bplease\s+(tell|let)\s+(me|us)\b",
    r"\bkan\s+ni\s+(meddela|återkomma|kolla|titta|se\s+till|ta\s+bort|hjälpa)\b",
]
_RHETORICAL = [
    r"\?\s*!|!\s*\?",  # "?!" is outrage, not a request for information
    r"\b(vad|hur|varför|vem)\s+(i\s+)?(fan|helvete|jävla|jävlar|faen|fasen|tusan|i\s+hela\s+friden)\b",
    r"\bwhat\s+the\s+(hell|fuck|heck)\b",
    r"\beller\s+hur\s*\?",
    r"\b(hur|vad)\s+(svårt|dumt|korkat|dumma|korkade|dum|korkad)\b",
    r"\bhur\s+(tänkte|tänker|resonerade|resonerar)\s+(ni|ni\s+nu|ni\s+där|man|de|dom)\b",
    r"\b(skämtar|skojar)\s+(ni|du)\b",
    r"\bvem\s+bryr\s+sig\b",
    r"\bvad\s+(tror|trodde|väntar)\s+(ni|du|man)\s+(själva|er|dig|på)?\s*\??$",
    r"\bseriöst\s*\?",
    r"\bpå\s+riktigt\s*\?",
    r"\b(är|e)\s+(ni|du)\s+(helt\s+)?(dum|dumma|galna|galen|tokiga|seriösa|inte\s+kloka|inte\s+klok|från\s+vettet|dumma\s+i\s+huvudet)\b",
    r"\bhar\s+(ni|du)\s+(helt\s+)?(tappat|förlorat)\s+(förståndet|vettet|det)\b",
    r"\b(varför|hur)\s+(ska|skulle)\s+(vi|man|jag)\s+(\w+\s+){0,3}(betala|acceptera|finna\s+oss)\s+(för|i)\s+(detta|det\s+här|sånt)\b",
    r"\bhur\s+länge\s+ska\s+(vi|man)\s+(behöva\s+)?(stå\s+ut|tåla|acceptera|finna\s+oss)\b",
    r"\bvarför\s+(är|blir)\s+(allt|det\s+alltid|ni\s+alltid|kommunen\s+alltid)\b",
    r"\bvem\s+(fan|i\s+helvete)?\s*(röstade|valde|anställde)\b",
    r"\bwho\s+cares\b",
    r"\bare\s+you\s+(serious|kidding|joking|stupid|insane)\b",
    r"\bhow\s+(hard|difficult|stupid)\s+(can|could|is)\b",
    r"\b(vad|var|va)\s+är\s+det\s+för\s+(fel|skit)\b",
    r"\b(ni|någon|nån|ni\s+på\s+kommunen|du)\s+(\w+\s+){0,3}ens\b",  # "Har ni ens läst …?"
    r"\bvarför\s+inte\s+bara\b",
    r"\bhur\s+kan\s+(man|ni|du|de|dom)\s+vara\s+så\b",
    r"\b(verkligen|ens)\s+så\s+(svårt|dumt|krångligt|jobbigt)\b",
    r"\bvad\s+väntar\s+(ni|du|man)\s+på\b",
    r"\bvem\s+(tänkte|trodde|kom\s+på|fick\s+för\s+sig)\b",
    r"\bvad\s+blir\s+nästa\b",
    r"\bvad\s+(hände|händer)\s+med\s+(sunt\s+förnuft|förnuftet)\b",
    # issue 14: more rhetoric, and questions to the other commenters about their own things
    # ("a question to other commenters need not be answered")
    r"\b(är|e)\s+det\s+bara\s+jag\s+som\b",
    r"\bvad\s+(trodde|tror)\s+(ni|du|man|de|dom)\s+(skulle|att\s+det\s+skulle)\s+hända\b",
    r"\b(vill|kan)\s+(någon|nån|ngn)\s+(köpa|låna|byta|ta\s+över|adoptera)\b",
    r"\b(någon|nån|ngn)\s+som\s+(har\s+)?(sett|hittat|tappat)\s+(min|mitt|mina|vår|vårt|våra|en|ett)\b",
    # issue 14, round 5 (city_comments14-17 train): memories shared with the others ("Minns ni när
    # Hamnfesten var gratis?"), a call to the others ("Någon mer som var på debatten?"), rhetoric
    # ("Hur många skolor ska ni stänga innan ni fattar …", "Sen när blev …", "Har ni hört något så dumt?")
    r"\bminns\s+(ni|du|nån|någon|ngn|folk)\b",
    r"\bkommer\s+(ni|du|nån|någon|ngn|folk)\s+(\w+\s+)?ihåg\b",
    r"\b(någon|nån|ngn)\s+(mer|fler|annan|här|mer\s+här)\s+som\b",
    r"\bhur\s+många\s+(\w+\s+){1,5}innan\s+(ni|någon|nån|man|kommunen|politikerna|de|dom)\b",
    r"\bsen\s+när\s+(blev|är|har|började)\b",
    r"\bvad\s+hände\s+med\s+(tiden|den\s+tiden|dagarna|åren)\b",
    r"\b(något|nåt|nånting)\s+så\s+(dumt|korkat|sjukt|löjligt|idiotiskt|befängt)\b",
    # the same round, from the train parts of all city sets: stock rhetoric that recurs across writers
    r"\bvem\s+(tror\s+ni\s+)?(ska|skall)\s+betala\s+för\s+(det\s+här|detta|allt|allt\s+det\s+här|kalaset)\b",
    r"\bvad\s+hände\s+med\s+(löftet|löftena|vallöftet|vallöftena|[\"”“'])",
    r"\bska\s+vi\s+verkligen\b",
    r"\bär\s+det\s+verkligen\s+(någon|nån|kommunens|rimligt|meningen)\b",
    r"\bhur\s+många\s+gånger\s+(ska|måste|behöver)\b",
    r"\bskulle\s+ni\s+(själva|själv|skriva|säga|acceptera|tycka)\b",
    r"\bvem\s+i\s+(hela\s+)?världen\b",
    r"\b(någon|nån)\s+som\s+(fortfarande|verkligen|på\s+allvar)\s+tror\b",
    r"\bvem\s+behöver\s+(väl|ens)\b",
    r"\b(någon|nån)\s+enda\s+(politiker|människa|person|tjänsteman)\b",
    r"\bvad\s+är\s+det\s+för\s+tider\b",
    r"\bvilka\s+(genier|snillen|clowner|idioter|pellejöns)\b",
    r"\b(har|var)\s+(någon|nån|ni)\s+(\w+\s+){0,4}någonsin\b",
    r"\bvad\s+ska\s+hända\s+(härnäst|sen|nästa\s+gång)\b",
    r"\bhur\s+(e|är)\s+läget\b",  # a greeting
]


@dataclass(frozen=True)
class QuestionFinding:
    needs_answer: bool
    language: str | None
    spans: tuple[tuple[int, int], ...]
    confidence: float
    rhetorical: bool = False  # a question was asked, but as outrage or rhetoric (no answer needed)


@cache
def _compiled() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Each list as one alternation: one search per sentence instead of one per pattern."""

    def combine(patterns: list[str]) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{fold_pattern(p)})" for p in patterns))

    return combine([*_QUESTION_START, _VERB_FIRST_WITH_MARK]), combine(_INDIRECT), combine(_RHETORICAL)


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_LEADING_NOISE = re.compile(r"^[\s,;:\-–(\"'“”]*(hej|hallå|hejsan|tjena|hi|hello|god\s+morgon|ok|okej|men|och|så|alltså|fast|ja|nej)?[\s,;:!\-–]*")


@cache
def _leading_noise() -> re.Pattern[str]:
    return re.compile(fold_pattern(_LEADING_NOISE.pattern))


def detect_language(text: str) -> str | None:
    """ISO 639-1 code from py3langid, restricted to the languages our citizens write in."""
    import py3langid

    if len(text.strip()) < 3:
        return None
    language, _ = py3langid.classify(text)
    if language in ("no", "da") and re.search(r"[äöÄÖ]", text):
        return "sv"  # short Swedish texts are often taken for Norwegian/Danish; ä/ö settle it
    if language in ("no", "da") and re.search(r"\b(och|inte|jag|det|är|att|som|kommunen)\b", text.lower()):
        return "sv"
    return language


@cache
def _langid_setup() -> None:
    import py3langid

    py3langid.set_languages(["sv", "en", "da", "no", "de", "fi", "ar", "so", "fa", "pl", "es", "fr"])


def find_questions(text: str, normalised: Normalised | None = None) -> QuestionFinding:
    """Whether `text` asks a direct, concrete, serious question, where, and in which language."""
    _langid_setup()
    language = detect_language(text)
    starts, indirect, rhetorical = _compiled()
    leading_noise = _leading_noise()
    n = normalised or normalise(text)
    spans: list[tuple[int, int]] = []
    rhetorical_seen = False
    for m in _SENTENCE.finditer(n.text):
        sentence = m.group()
        stripped = leading_noise.sub("", sentence, count=1).strip()
        if len(re.findall(r"\w+", stripped)) < 2 and "?" not in sentence:
            continue
        if rhetorical.search(sentence):
            rhetorical_seen = True
            continue
        is_question = bool(starts.search(stripped) or indirect.search(sentence))
        if not is_question and sentence.rstrip().endswith("?") and "," in stripped:
            # the question in the last clause: "Han skrev …, har polisen fått anmälan?"
            last_clause = stripped.rsplit(",", 1)[1].strip()
            is_question = len(re.findall(r"\w+", last_clause)) >= 3 and bool(starts.search(last_clause))
        if not is_question and sentence.rstrip().endswith("?"):
            # a question mark on a clause of at least three words that is not a bare statement
            # ending in "?": keep clauses that have an interrogative somewhere in them
            words = re.findall(r"\w+", stripped)
            is_question = len(words) >= 3 and bool(
                re.search(fold_pattern(rf"\b{_SV_INTERROGATIVES}\b|\b(om|if)\b|\b{_EN_QUESTION_START}\b"), stripped)
            )
        if is_question and len(re.findall(r"\w+", stripped)) >= 2:
            spans.append(n.span(m.start(), m.end()))
    confidence = 0.85 if spans else (0.8 if rhetorical_seen else 0.9)
    return QuestionFinding(bool(spans), language, tuple(spans), confidence, rhetorical_seen)


# A report to the city (issue 14, round 7): someone quotes a threat or abuse they received or saw
# and asks the city to act. It is not a question, but the city answers it: the guideline has the
# threat removed ("Inlägg eller kommentarer som innehåller rasism, hot, personliga påhopp och
# kränkningar ska tas bort", "Riktlinjer vid hantering av kommentarer") and the person who turned
# to us heard ("Vi får aldrig uppfattas som okänsliga eller oengagerade när vi svarar en person som
# har valt att kontakta oss", "Mänskliga"). Every writer of city_comments14–25 labelled such
# reports as needing an answer (12 of 12 per set in round 7). Three things together: a report or a
# request to act on it, someone else's words (quoted, or a verb of writing/saying), and the city
# or its people addressed.
_REPORT_ACT = (
    r"\b(polisanmä\w+|anmäl\w*|skärmdump\w*|skärmbild\w*|screenshot\w*|rapporter\w*|reported|report|moderer\w*|"
    r"ta\s+bort\s+(den|det|dem|dom|kommentar\w*|inlägg\w*)|ta\s+ner\s+(den|det|dem|dom)|sanera\w*|"
    r"ta\s+tag\s+i|agera\w*|varna\s+(honom|henne|dem|dom|personalen)|kolla\s+(det|upp|den|dom|dem)|"
    r"(ett|inget|grova?|direkt)\s+hot|hotar|hotade|hotat|hotet|hoten|hotelse\w*)\b"
)
_REPORT_TO = (
    r"\b(ni|er|era|ert|kommunen|staden|admin|moderator\w*|vill\s+att|snälla|kontakta|ring|rektorn|skolan|"
    r"hyresvärden|bostadsbolaget|arbetsgivaren|chef\w*|säkerhets\w*|borde|måste|please|block)\b|@\w+|^\s*till\s+[\w ]+:"
)
_REPORTED_WORDS = (
    r"['\"”“„«»‘’]|\b(skrev|skriver|skrivit|skrivs|sa|sade|säger|sagt|hörde|höra|står|stod|sprejat|sprayat|klottrat|"
    r"texten|sms|meddelande\w*|dm|kommentar\w*|inlägg\w*|lapp\w*|skrek|ropade|kallade|kallad)\b"
)


@cache
def _report_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(fold_pattern(p)) for p in (_REPORT_ACT, _REPORT_TO, _REPORTED_WORDS))


def is_report_to_city(normalised: Normalised) -> bool:
    """Whether a comment reports someone else's threat or abuse to the city and asks it to act."""
    return all(p.search(normalised.text) for p in _report_patterns())


def classify_questions(text: str) -> list[RuleHit]:
    """`questions.direct` when the comment asks something the city must answer."""
    finding = find_questions(text)
    if not finding.needs_answer:
        return []
    return [hit("questions.direct", CLAUSE_QUESTIONS, finding.confidence, [(s, e, "question") for s, e in finding.spans])]
