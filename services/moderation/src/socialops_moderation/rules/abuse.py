"""Racism/hate, threats, personal attacks, insults ("kränkningar") and profanity.

Guideline (seeds/001_206af399bca50804.txt, "Riktlinjer vid hantering av kommentarer"):
"Inlägg eller kommentarer som innehåller rasism, hot, personliga påhopp och kränkningar ska tas
bort." and ("Dölja eller ta bort kommentar"): "vid personliga påhopp, kan man behöva blockera
avsändaren och ta bort kommentaren."

Rule ids: `abuse.hate`, `abuse.threat`, `abuse.personal_attack` (an insult aimed at a person:
"du/din/you"), `abuse.insult` (an insult about someone else, or at the city as "ni"),
`abuse.profanity` (swearing alone; the policy decides, by default it stands).
The lexicon and patterns are data (`data/abuse.yaml`, with provenance); all matching runs on the
folded text of `text.normalise`, so obfuscations are caught, and spans map back to the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from socialops_common.events import RuleHit

from ..text import Normalised, fold_pattern, fold_term, lenient, normalise
from . import CLAUSE_ABUSE, CLAUSE_PERSONAL_ATTACK, CLAUSE_TONE, hit, load_data

_EDGE_L = r"(?<![^\W_])"
_EDGE_R = r"(?![^\W_])"


def _alternation(terms: list[str]) -> str:
    folded = sorted({fold_term(t) for t in terms if t}, key=len, reverse=True)
    return "|".join(lenient(re.escape(t).replace(r"\ ", r"\s+")) for t in folded)


def _lexicon_regex(entry: dict) -> re.Pattern[str] | None:
    parts = []
    if entry.get("word"):
        parts.append(f"{_EDGE_L}(?:{_alternation(entry['word'])}){_EDGE_R}")
    if entry.get("stem"):
        parts.append(f"{_EDGE_L}(?:{_alternation(entry['stem'])})\\w*")
    if entry.get("infix"):
        parts.append(f"\\w*(?:{_alternation(entry['infix'])})\\w*")
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class AbuseLexicon:
    hate: re.Pattern[str]
    hate_patterns: tuple[re.Pattern[str], ...]
    threats: tuple[tuple[re.Pattern[str], float], ...]
    insult: re.Pattern[str]
    insult_exceptions: re.Pattern[str]
    insult_mild: re.Pattern[str]
    profanity: re.Pattern[str]
    person_address: re.Pattern[str]
    intensifier: re.Pattern[str]
    group_address: re.Pattern[str]


@cache
def lexicon() -> AbuseLexicon:
    data = load_data("abuse.yaml")
    groups = "(?:(?:" + _alternation(data["hate_groups"]) + ")(?:na|ne)?)"  # definite forms too
    return AbuseLexicon(
        hate=_lexicon_regex(data["hate"]),  # type: ignore[arg-type]
        hate_patterns=tuple(
            re.compile(fold_pattern(p).replace("{groups}", groups).replace(fold_term("{groups}"), groups))
            for p in data["hate_patterns"]
        ),
        threats=tuple((re.compile(fold_pattern(t["pattern"])), float(t["confidence"])) for t in data["threat_patterns"]),
        insult=_lexicon_regex(data["insult"]),  # type: ignore[arg-type]
        insult_exceptions=re.compile(f"{_EDGE_L}(?:{_alternation(data['insult']['except'])})\\w*"),
        insult_mild=_lexicon_regex(data["insult_mild"]),  # type: ignore[arg-type]
        profanity=_lexicon_regex(data["profanity"]),  # type: ignore[arg-type]
        # "du/din/you" is one person; "ni/er" in a city's comment field is nearly always the city.
        person_address=re.compile(fold_pattern(r"\b(du|din|ditt|dina|dig|you|your|you're|youre|ur|u)\b")),
        group_address=re.compile(fold_pattern(r"\b(ni|er|ert|era)\b")),
        intensifier=re.compile(fold_pattern(r"\b(jävla|jäkla|fucking|förbannat|helt\s+jävla|fan\s+så)\s*$")),
    )


def classify_abuse(text: str, normalised: Normalised | None = None) -> list[RuleHit]:
    """All abuse findings in `text`, most severe kinds first."""
    n = normalised or normalise(text)
    lex = lexicon()
    folded = n.text
    hits: list[RuleHit] = []
    taken: list[tuple[int, int]] = []  # folded spans already explained by a more severe finding

    def free(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e in taken)

    threat_spans, threat_conf = [], 0.0
    for pattern, confidence in lex.threats:
        for m in pattern.finditer(folded):
            threat_spans.append((*n.span(m.start(), m.end()), "threat"))
            taken.append((m.start(), m.end()))
            threat_conf = max(threat_conf, confidence)
    if threat_spans:
        hits.append(hit("abuse.threat", CLAUSE_ABUSE, threat_conf, threat_spans))

    hate_spans, hate_conf = [], 0.0
    for m in lex.hate.finditer(folded):
        hate_spans.append((*n.span(m.start(), m.end()), "slur"))
        taken.append((m.start(), m.end()))
        hate_conf = max(hate_conf, 0.9)
    for pattern in lex.hate_patterns:
        for m in pattern.finditer(folded):
            hate_spans.append((*n.span(m.start(), m.end()), "hate"))
            taken.append((m.start(), m.end()))
            hate_conf = max(hate_conf, 0.85)
    if hate_spans:
        hits.append(hit("abuse.hate", CLAUSE_ABUSE, hate_conf, hate_spans))

    exceptions = [(m.start(), m.end()) for m in lex.insult_exceptions.finditer(folded)]
    attack_spans, insult_spans, attack_conf = [], [], 0.0
    for m in lex.insult.finditer(folded):
        if not free(m.start(), m.end()) or any(s <= m.start() < e for s, e in exceptions):
            continue
        taken.append((m.start(), m.end()))
        if _aimed_at_person(folded, m.start(), m.end(), lex):
            attack_spans.append((*n.span(m.start(), m.end()), "personal_attack"))
            attack_conf = max(attack_conf, 0.9)
        else:
            insult_spans.append((*n.span(m.start(), m.end()), "insult"))
    for m in lex.insult_mild.finditer(folded):
        if free(m.start(), m.end()) and _aimed_at_person(folded, m.start(), m.end(), lex):
            taken.append((m.start(), m.end()))
            attack_spans.append((*n.span(m.start(), m.end()), "personal_attack"))
            # harsh criticism or an attack: a human decides — unless sworn at ("så jävla korkad")
            intensified = lex.intensifier.search(folded[max(0, m.start() - 16) : m.start()])
            attack_conf = max(attack_conf, 0.8 if intensified else 0.55)
    if attack_spans:
        hits.append(hit("abuse.personal_attack", CLAUSE_PERSONAL_ATTACK, attack_conf, attack_spans))
    if insult_spans:
        hits.append(hit("abuse.insult", CLAUSE_ABUSE, 0.85, insult_spans))

    profanity_spans = [
        (*n.span(m.start(), m.end()), "profanity")
        for m in lex.profanity.finditer(folded)
        if free(m.start(), m.end())
    ]
    if profanity_spans:
        hits.append(hit("abuse.profanity", CLAUSE_TONE, 0.9, profanity_spans))
    return hits


def _aimed_at_person(folded: str, start: int, end: int, lex: AbuseLexicon) -> bool:
    """An insult is a personal attack when it is said to "du/you" in the same sentence, nearby."""
    sentence_start = max(folded.rfind(c, 0, start) for c in ".!?\n") + 1
    ends = [i for i in (folded.find(c, end) for c in ".!?\n") if i != -1]
    sentence_end = min(ends) if ends else len(folded)
    window = folded[max(sentence_start, start - 40) : min(sentence_end, end + 25)]
    return bool(lex.person_address.search(window))
