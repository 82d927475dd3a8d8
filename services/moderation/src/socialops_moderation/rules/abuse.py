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
from .prefilter import Prefiltered

_EDGE_L = r"(?<![^\W_])"
_EDGE_R = r"(?![^\W_])"


_VOWEL_CLASS = re.compile(r"\[([^\]]*)\]|[aeiouy]")


def _censorable(regex: str) -> str:
    """A lenient term in which a vowel may also be written as "*" ("f*tta", "j*vla", "n*gger")."""
    return _VOWEL_CLASS.sub(lambda m: f"[{m.group(1)}*]" if m.group(1) is not None else f"[{m.group()}*]", regex)


def _alternation(terms: list[str], censorable: bool = False) -> str:
    folded = sorted({fold_term(t) for t in terms if t}, key=len, reverse=True)
    made = (lenient(re.escape(t).replace(r"\ ", r"\s+")) for t in folded)
    return "|".join(_censorable(t) if censorable else t for t in made)


def _lexicon_regex(entry: dict, censorable: bool = False) -> re.Pattern[str] | None:
    parts = []
    if entry.get("word"):
        parts.append(f"{_EDGE_L}(?:{_alternation(entry['word'], censorable)}){_EDGE_R}")
    if entry.get("stem"):
        parts.append(f"{_EDGE_L}(?:{_alternation(entry['stem'], censorable)})\\w*")
    if entry.get("infix"):
        parts.append(f"\\w*(?:{_alternation(entry['infix'], censorable)})\\w*")
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class ThreatPattern:
    """One wording family of threats; `unless` (anywhere in the comment) makes a match something else."""

    pattern: Prefiltered
    confidence: float
    unless: re.Pattern[str] | None = None


@dataclass(frozen=True)
class AbuseLexicon:
    hate: re.Pattern[str]
    hate_patterns: tuple[Prefiltered, ...]  # need no group mention ("åk hem till ditt eget land")
    group_patterns: tuple[Prefiltered, ...]  # about a protected group: tried only when one is named
    group_mention: re.Pattern[str]
    threats: tuple[ThreatPattern, ...]
    quote_report_cues: re.Pattern[str]
    reported_naming: re.Pattern[str]
    insult: re.Pattern[str]
    insult_exceptions: re.Pattern[str]
    # ordinary words as written that folding turns into an insult ("morron" → "moron")
    insult_not_as_written: frozenset[str]
    insult_mild: re.Pattern[str]
    profanity: re.Pattern[str]
    person_address: re.Pattern[str]
    intensifier: re.Pattern[str]
    group_address: re.Pattern[str]
    third_person: re.Pattern[str]  # a sentence about him, her or a named office-holder
    # 2026-12 (issue 14): insults as noun phrases and swearing at someone
    noun_phrase_person: re.Pattern[str]
    noun_phrase_third: re.Pattern[str]
    profane_attacks: Prefiltered
    self_reference: re.Pattern[str]
    self_subject: re.Pattern[str]


_PART = re.compile(r"\{(\w+)\}")
# a reclaimed word and its compounds share their first letters (folded): "blatar", "blatepower"
RECLAIMED_PREFIX = 4


def _with_parts(pattern: str, parts: dict[str, str]) -> str:
    """Put the named parts ("{harm}", "{target}") into a pattern, before it is folded."""
    return _PART.sub(lambda m: parts[m.group(1)] if m.group(1) in parts else m.group(), pattern)


def _threat(entry: dict, parts: dict[str, str], groups: str) -> ThreatPattern:
    """One threat family; "{groups}" (the protected groups, an alternation already folded) is put in
    after folding, like in the hate patterns."""
    unless = entry.get("unless")
    pattern = fold_pattern(_with_parts(entry["pattern"], parts)).replace("{groups}", groups)
    return ThreatPattern(
        Prefiltered.of(re.compile(pattern)),
        float(entry["confidence"]),
        re.compile(fold_pattern(_with_parts(unless, parts))) if unless else None,
    )


def _hate_pattern(pattern: str, groups: str, dehumanising: str) -> Prefiltered:
    folded = fold_pattern(_with_parts(pattern, {"dehumanising": dehumanising}))
    return Prefiltered.of(re.compile(folded.replace("{groups}", groups).replace(fold_term("{groups}"), groups)))


_FILLER = r"((?!(är|e|var|blir|har|och|som|att|när|i|på|med|till|av|för|om)\b)\w+\s+)"


def _noun_phrases(nouns: dict, censorable: bool = False) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Insult syntax: (said to a person, said about someone). "din (feta) X", "du är en (ynklig) X",
    "you (fat) X"; "… är ett gäng (hjärnlösa) X". The words of the syntax are folded here; the
    noun and adjective lists are already folded alternations."""
    parts = {
        "safe": _alternation(nouns["safe"], censorable),
        "predicate": _alternation(nouns["safe"] + nouns["predicate_only"], censorable),
        "adjectives": "(?:" + _alternation(nouns["insulting_adjectives"], censorable) + r")(?:a|e|t)?",
        "third": _alternation([n for n in nouns["safe"] if n not in ("skithög", "skämt")] + nouns["plural_only"], censorable),
        # "Det här är ett jävla skämt", "hanteringen är ett jävla skämt": said of a thing or a third
        # party, "skämt" is criticism (issue 14, round 5; city_comments14 and 16 train); to "du" it stays an attack
        "predicate_third": _alternation([n for n in nouns["predicate_only"] if n != "skämt"], censorable),
        "gap": fold_pattern(_FILLER),
        # a compound ending in an insult ("pissråtta", "dumskalle"): at least 3 letters before it
        "compound": r"\w{3,}(?:" + _alternation(nouns["compound_tails"], censorable) + ")",
        "edge": _EDGE_R,
    }
    # "du" is one person; "ni" in a city's comment field is nearly always the city: "ni är …" is an
    # insult (hidden), not a personal attack, like the lexicon's address rule.
    person = (
        r"\b(din|ditt|dina|your)\s+{gap}{0,3}?({safe}|{compound}){edge}"
        r"|\b(du|you)\s+(är|e|are|r)\s+((ju|bara|verkligen|fan|så|helt|typ|en\s+sån\s+där|ett\s+sånt\s+där|such)\s+)*"
        r"(en|ett|a|an)\s+{gap}{0,3}?({predicate}){edge}"
        r"|\b(du)\s+(är|e)\s+((ju|bara|verkligen|fan|så)\s+)*(en|ett)\s+((sån|sånt|där|riktig|riktigt|jävla)\s+)*{adjectives}\s+(\w+\s+)?\w+"
        r"|\b(you|u)\s+{adjectives}\s+(\w+\s+)?({safe}){edge}"
        # a vocative opening a sentence: "Klantskalle, du …", "Dumma våp, lär dig …", "Jävla kuksugare, du …"
        r"|(^|[.!?]\s*)((hörru|hallå|hörrudu|ey|tja)\s+)?((jävla|jäkla|satans|förbannade|dumma|lilla|fula|feta|{adjectives})\s+){0,2}({safe}|{compound})\s*[,!]"
        # exclamations: "Va en dum jävel du är", "Vilken idiot du är"; "Ärkeidiot. Det är vad du är."
        r"|\b(vilken|vilket|va|vad\s+för|en\s+sån|ett\s+sånt)\s+((en|ett)\s+)?((jävla|jäkla|satans|{adjectives})\s+){0,2}({safe}|{compound})\s+du\s+(är|e)\b"
        r"|\b({safe}|{compound})\s*[,.!]\s*det\s+är\s+(vad|precis\s+vad|allt)\s+du\s+(är|e)\b"
        # "Din fjärt till människa", "du är ett skämt till politiker": whatever the noun, the person is worthless
        r"|\b(din|ditt|du\s+(är|e)\s+(en|ett))\s+(\w+\s+){0,1}\w+\s+till\s+(människa|karl|kvinna|politiker|förälder|pappa|mamma|chef)\b"
    )
    third = (
        r"\b(era|ert|er|your)\s+{gap}{0,2}?({third}){edge}|"  # "era horungar": you-plural, the readers
        r"\b(är|e|var|are)\s+((ju|bara|verkligen|helt|typiska)\s+)?(ett\s+gäng|en\s+samling|en\s+riktig|ett\s+riktigt|en\s+komplett|"
        r"ett\s+komplett|fullständiga|fullständig|riktiga|rena|en|ett|a|an|a\s+bunch\s+of)\s+{gap}{0,3}?({third}){edge}"
        r"|\b(är|e)\s+(en|ett)\s+{adjectives}\s+({predicate_third}){edge}"
    )

    def compiled(template: str) -> re.Pattern[str]:
        folded = fold_pattern(template)
        return re.compile(re.sub(r"\{(safe|predicate_third|predicate|adjectives|third|gap|edge|compound)\}", lambda m: parts[m.group(1)], folded))

    return compiled(person), compiled(third)


@cache
def lexicon(censorable: bool = False) -> AbuseLexicon:
    """The compiled lexicon; `censorable`: the word lists also match a vowel written as "*" (slower,
    so used only for a comment that has a "*")."""
    data = load_data("abuse.yaml")
    person_np, third_np = _noun_phrases(data["insult_nouns"], censorable)
    groups = "(?:(?:" + _alternation(data["hate_groups"]) + ")(?:na|ne)?)"  # definite forms too
    dehumanising = "(?:" + "|".join(data["hate_predicates"]) + ")"
    return AbuseLexicon(
        hate=_lexicon_regex(data["hate"], censorable),  # type: ignore[arg-type]
        hate_patterns=tuple(_hate_pattern(p, groups, dehumanising) for p in data["hate_patterns"] if "{groups}" not in p),
        group_patterns=tuple(_hate_pattern(p, groups, dehumanising) for p in data["hate_patterns"] if "{groups}" in p),
        group_mention=re.compile(rf"\b{groups}\b"),
        threats=tuple(_threat(t, data["threat_parts"], groups) for t in data["threat_patterns"]),
        quote_report_cues=re.compile(fold_pattern(data["quote_report_cues"])),
        reported_naming=re.compile(fold_pattern(data["reported_naming"])),
        insult=_lexicon_regex(data["insult"], censorable),  # type: ignore[arg-type]
        insult_exceptions=re.compile(f"{_EDGE_L}(?:{_alternation(data['insult']['except'])})\\w*"),
        insult_not_as_written=frozenset(w.lower() for w in data["insult"].get("not_as_written", [])),
        insult_mild=_lexicon_regex(data["insult_mild"], censorable),  # type: ignore[arg-type]
        profanity=_lexicon_regex(data["profanity"], censorable),  # type: ignore[arg-type]
        # "du/din/you" is one person; "ni/er" in a city's comment field is nearly always the city.
        person_address=re.compile(fold_pattern(r"\b(du|din|ditt|dina|dig|you|your|you're|youre|ur|u)\b")),
        group_address=re.compile(fold_pattern(r"\b(ni|er|ert|era)\b")),
        third_person=re.compile(fold_pattern(r"\b(han|hon|hen|hans|hennes|honom|henne|hens|chefen|\w+chefen)\b")),
        # 2026-12 (round 2): "du är så korkad", "fy fan vad du är äcklig" are said to someone's face too
        intensifier=re.compile(fold_pattern(
            r"\b(jävla|jäkla|fucking|förbannat|helt\s+jävla|fan\s+så)\s*$"
            r"|\b(du|u)\s+(är|e)\s+((så|helt|fan|jävligt|sjukt|extremt|otroligt|för|bara|ju)\s+){1,2}$|\bvad\s+du\s+(är|e)\s+$")),
        noun_phrase_person=person_np,
        noun_phrase_third=third_np,
        profane_attacks=Prefiltered.of(re.compile("|".join(f"(?:{fold_pattern(p)})" for p in data["profane_attacks"]))),
        # "jag är en idiot", "som en stor dum idiot, jag": the writer about themselves
        self_subject=re.compile(fold_pattern(r"\b(jag|vi|i|we)\s+$")),  # "jag [är en mes]"
        self_reference=re.compile(fold_pattern(r"(\b(jag|vi)\s+(är|e|var|blir|känner\s+mig\s+som)\b|\bsom\s+(en\s+)?|\bi\s*'?m\b|\bi\s+am\b|\bkallar\s+mig\b)[^.!?,]{0,25}$")),
    )


def classify_abuse(text: str, normalised: Normalised | None = None) -> list[RuleHit]:
    """All abuse findings in `text`, most severe kinds first."""
    n = normalised or normalise(text)
    folded = n.text
    lex = lexicon("*" in folded)
    hits: list[RuleHit] = []
    taken: list[tuple[int, int]] = []  # folded spans already explained by a more severe finding

    def free(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e in taken)

    # A threat quoted in a comment that reports it ("han skrev 'jag ska döda dig'") is not a threat
    # by the commenter; quoted words without such a cue still count (quotes are also used for emphasis).
    reported = _quotations(folded) if lex.quote_report_cues.search(folded) else []
    reported += [(m.end(), _clause_end(folded, m.end())) for m in lex.reported_naming.finditer(folded)]
    reclaimed: list[str] = []  # the first letters of words the writer has used of their own group

    def about_oneself(start: int, end: int | None = None) -> bool:
        sentence_start = max(folded.rfind(c, 0, start) for c in ".!?\n") + 1
        before = folded[max(sentence_start, start - 40) : start]
        # "vi blattar från Norrby": the writer's own group, named by the word its members reclaim;
        # and the same word again later in the comment ("… Blattepower"; issue 14 round 5, city_comments15 train)
        word = folded[start : end or start]
        if lex.self_reference.search(before) or lex.self_subject.search(before):
            if word:
                reclaimed.append(word[:RECLAIMED_PREFIX])
            return True
        return end is not None and word[:RECLAIMED_PREFIX] in reclaimed

    def reported_quote(start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in reported)
    threat_spans, threat_conf = [], 0.0
    for threat in lex.threats:
        matches = list(threat.pattern.finditer(folded))
        # the `unless` context is looked for only where the pattern matched: most comments match none
        if not matches or (threat.unless is not None and _in_context(threat.unless, folded)):
            continue
        for m in matches:
            if any(s <= m.start() and m.end() <= e for s, e in reported):
                taken.append((m.start(), m.end()))
                continue
            threat_spans.append((*n.span(m.start(), m.end()), "threat"))
            taken.append((m.start(), m.end()))
            threat_conf = max(threat_conf, threat.confidence)
    if threat_spans:
        hits.append(hit("abuse.threat", CLAUSE_ABUSE, threat_conf, threat_spans))

    hate_spans, hate_conf = [], 0.0
    for m in lex.hate.finditer(folded):
        if reported_quote(m.start(), m.end()) or about_oneself(m.start(), m.end()):  # "jag är en stolt blatte"
            continue
        hate_spans.append((*n.span(m.start(), m.end()), "slur"))
        taken.append((m.start(), m.end()))
        hate_conf = max(hate_conf, 0.9)
    hate_patterns = lex.hate_patterns + (lex.group_patterns if lex.group_mention.search(folded) else ())
    for pattern in hate_patterns:
        for m in pattern.finditer(folded):
            # "vi bögar tar över stadsparken på pride": the writer's own group, in its own words
            if reported_quote(m.start(), m.end()) or lex.self_subject.search(folded[max(0, m.start() - 12) : m.start()]):
                continue
            hate_spans.append((*n.span(m.start(), m.end()), "hate"))
            taken.append((m.start(), m.end()))
            hate_conf = max(hate_conf, 0.85)
    if hate_spans:
        hits.append(hit("abuse.hate", CLAUSE_ABUSE, hate_conf, hate_spans))

    exceptions = [(m.start(), m.end()) for m in lex.insult_exceptions.finditer(folded)]
    attack_spans: list[tuple[int, int, str]] = []
    insult_spans: list[tuple[int, int, str]] = []
    attack_conf = 0.0

    # swearing at someone first: its words ("sug kuk") are not an insult about a third party
    for m in lex.profane_attacks.finditer(folded):
        # "jag är en riktig bondjävel och stolt över det" (round 6, city_comments18 train): of oneself
        if free(m.start(), m.end()) and not reported_quote(m.start(), m.end()) and not about_oneself(m.start()):
            taken.append((m.start(), m.end()))
            attack_spans.append((*n.span(m.start(), m.end()), "personal_attack"))
            attack_conf = max(attack_conf, 0.85)
    # an insult word inside insult syntax said to a person ("Jävla fitta, svara …") is aimed at them
    addressed = [(m.start(), m.end()) for m in lex.noun_phrase_person.finditer(folded)]
    for m in lex.insult.finditer(folded):
        if (not free(m.start(), m.end()) or any(s <= m.start() < e for s, e in exceptions) or about_oneself(m.start())
                or reported_quote(m.start(), m.end()) or _as_written(n, m.start(), m.end()) in lex.insult_not_as_written):
            continue
        taken.append((m.start(), m.end()))
        if any(s <= m.start() and m.end() <= e for s, e in addressed) or _aimed_at_person(
                folded, m.start(), m.end(), lex, neighbours=True):
            attack_spans.append((*n.span(m.start(), m.end()), "personal_attack"))
            attack_conf = max(attack_conf, 0.9)
        else:
            insult_spans.append((*n.span(m.start(), m.end()), "insult"))
    for m in lex.noun_phrase_person.finditer(folded):
        if free(m.start(), m.end()) and not reported_quote(m.start(), m.end()):
            taken.append((m.start(), m.end()))
            attack_spans.append((*n.span(m.start(), m.end()), "personal_attack"))
            attack_conf = max(attack_conf, 0.9)
    for m in lex.insult_mild.finditer(folded):
        if free(m.start(), m.end()) and _aimed_at_person(folded, m.start(), m.end(), lex):
            taken.append((m.start(), m.end()))
            attack_spans.append((*n.span(m.start(), m.end()), "personal_attack"))
            # harsh criticism or an attack: a human decides — unless sworn at ("så jävla korkad")
            intensified = lex.intensifier.search(folded[max(0, m.start() - 16) : m.start()])
            attack_conf = max(attack_conf, 0.8 if intensified else 0.55)
    for m in lex.noun_phrase_third.finditer(folded):
        if free(m.start(), m.end()) and not reported_quote(m.start(), m.end()) and not lex.self_subject.search(
            folded[max(0, m.start() - 12) : m.start()]
        ):
            taken.append((m.start(), m.end()))
            insult_spans.append((*n.span(m.start(), m.end()), "insult"))
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


def _as_written(n: Normalised, start: int, end: int) -> str:
    """The original words a folded span came from, lower case."""
    original_start, original_end = n.span(start, end)
    return n.original[original_start:original_end].lower()


# Swedish writes compounds as one word, and the word that gives the context is often their last
# part: "publikrekordet", "målrekord", "kommunbudgeten". A context (`unless`) is therefore also
# looked for in the tails of each long word, a tail starting after at least 3 letters and keeping
# at least 5, so "rekord" is found in "publikrekordet" (and, as a first part, "rekordförsök"
# already matched "rekord\w*"), while a short context word ("mål", "val") is never found inside
# another word ("normal", "karneval").
_LONG_WORD = re.compile(r"[^\W\d_]{8,}")
COMPOUND_MIN_HEAD, COMPOUND_MIN_TAIL = 3, 5


def compound_tails(folded: str) -> str:
    """The tails of the comment's long words, one after another (" ¶ " between them, which no
    pattern's word or space matches)."""
    return " ¶ ".join(word[i:] for m in _LONG_WORD.finditer(folded) for word in (m.group(),)
                      for i in range(COMPOUND_MIN_HEAD, len(word) - COMPOUND_MIN_TAIL + 1))


def _in_context(context: re.Pattern[str], folded: str) -> bool:
    """Whether the context occurs in the comment, as a word or as the last part of a compound."""
    if context.search(folded):
        return True
    tails = compound_tails(folded)
    return bool(tails) and context.search(tails) is not None


_QUOTATION = re.compile(
    r"[\"“”„«»]([^\"“”„«»]{3,200})[\"“”„«»]"  # double quotes and guillemets
    r"|(?<![^\s(:])['‘’]([^'‘’]{3,200})['‘’](?![^\W_])"  # single quotes, not apostrophes ("I'm")
)


def _clause_end(folded: str, start: int, longest: int = 80) -> int:
    """Where the clause that starts at `start` ends: the next . ! ? ; or line break, at most `longest` on."""
    ends = [i for c in ".!?;\n" if (i := folded.find(c, start)) >= 0]
    return min([*ends, start + longest, len(folded)])


def _quotations(folded: str) -> list[tuple[int, int]]:
    """(start, end) of the text inside each quotation in the folded comment."""
    return [(m.start(1) if m.group(1) is not None else m.start(2), m.end(1) if m.group(1) is not None else m.end(2))
            for m in _QUOTATION.finditer(folded)]


def _aimed_at_person(folded: str, start: int, end: int, lex: AbuseLexicon, *, neighbours: bool = False) -> bool:
    """An insult is a personal attack when it is said to "du/you" in the same sentence, nearby.

    `neighbours` (for words that insult wherever they stand, not for harsh-but-ordinary words):
    also "du/you" anywhere in the sentence or in the one before or after, unless the insult's own
    sentence is about a third person. 2026-12 (issue 14, round 3): comments written by others put
    the address a sentence away ("Hur dum i huvudet får man va? Fattar du nånting alls?"); both
    readings remove the comment, this one deletes it as the personal attack it is."""
    def sentence_around(at: int) -> tuple[int, int]:
        begin = max(folded.rfind(c, 0, at) for c in ".!?\n") + 1
        ends = [i for i in (folded.find(c, at) for c in ".!?\n") if i != -1]
        return begin, (min(ends) if ends else len(folded))

    sentence_start, sentence_end = sentence_around(start)
    window = folded[max(sentence_start, start - 40) : min(sentence_end, end + 25)]
    if lex.person_address.search(window):
        return True
    if not neighbours or lex.third_person.search(folded[sentence_start:sentence_end]):
        return False
    before = sentence_around(sentence_start - 2)[0] if sentence_start >= 2 else sentence_start
    after = sentence_around(sentence_end + 1)[1] if sentence_end + 1 < len(folded) else sentence_end
    return bool(lex.person_address.search(folded[before:after]))
