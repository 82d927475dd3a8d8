"""The classifiers: pure functions from a text to `RuleHit`s (rule id, guideline clause, spans, confidence).

Each rule module quotes the clause of the guideline it implements. Spans are offsets into the
original text and carry labels only, never the matched text (personal data must not travel).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import yaml
from socialops_common.events import RuleHit, TextSpan

SEED = "seeds/001_206af399bca50804.txt"


def clause(heading: str, quote: str) -> str:
    """The guideline clause a rule rests on: seed file, heading and the quoted sentence."""
    return f'{SEED} "{heading}": "{quote}"'


COMMENT_RULES = "Riktlinjer vid hantering av kommentarer"
ANSWER_RULES = "Svara så fort som möjligt"
HIDE_OR_DELETE = "Dölja eller ta bort kommentar"

CLAUSE_ABUSE = clause(
    COMMENT_RULES,
    "Inlägg eller kommentarer som innehåller rasism, hot, personliga påhopp och kränkningar ska tas bort.",
)
CLAUSE_PERSONAL_ATTACK = clause(
    HIDE_OR_DELETE,
    "i vissa fall, som exempelvis vid personliga påhopp, kan man behöva blockera avsändaren och ta bort kommentaren.",
)
CLAUSE_TONE = clause(
    ANSWER_RULES,
    "alla har rätt till sina personliga åsikter så länge tonen inte är påhoppande eller kränkande.",
)
CLAUSE_PERSONAL_DATA = clause(
    COMMENT_RULES,
    "Det är inte tillåtet att skriva ut sekretessbelagda uppgifter. Tänk efter innan du delar information "
    "öppet, skriv inte ut personuppgifter, telefonnummer eller annat material som kan vara känsligt.",
)
CLAUSE_LINKS = clause(
    COMMENT_RULES,
    "Alla länkningar till obekräftad eller vilseledande information ska tas bort",
)
CLAUSE_RUMOURS = clause(
    COMMENT_RULES,
    "Vi tillåter inte publicering av ryktesspridning eller falsk information, varken som inlägg, "
    "kommentarer, delningar eller länkningar.",
)
CLAUSE_SPAM = clause(
    COMMENT_RULES,
    "Spam är inte tillåtet i kommentarsflödet och upprepade inlägg från samma användare ska tas bort.",
)
CLAUSE_QUESTIONS = clause(
    ANSWER_RULES,
    "I kommentarsflödet svarar vi alltid på direkta, konkreta och seriösa frågor som ställs. "
    "Tyckanden och eventuellt ”gnäll” är inget vi bemöter",
)


def hit(rule_id: str, clause_text: str, confidence: float, spans: list[tuple[int, int, str]]) -> RuleHit:
    return RuleHit(
        rule_id=rule_id,
        clause=clause_text,
        confidence=round(min(max(confidence, 0.0), 1.0), 3),
        spans=[TextSpan(start=s, end=e, label=label) for s, e, label in spans],
    )


@cache
def load_data(name: str) -> Any:
    """A data file shipped in the package (`socialops_moderation/data/<name>`)."""
    return yaml.safe_load(resources.files("socialops_moderation").joinpath("data", name).read_text("utf-8"))


# The harm class a rule's finding stands for, first match wins (a rule id, or a prefix ending in
# "."): how a labelled comment is classed (evaluation.py), what a reviewer removed a comment for
# (learned/verdicts.py) and which rules are the model's classes (learned/build.py).
HARM_BY_RULE = (
    ("abuse.threat", "threat"), ("abuse.personal_attack", "attack"), ("abuse.insult", "attack"), ("abuse.hate", "hate"),
    ("spam.scam", "scam"), ("spam.", "spam"), ("links.misinformation", "misinfo"), ("links.", "links"),
    ("personal_data.", "personal_data"),
)


def harm_class(rule_ids: Iterable[str]) -> str | None:
    """The class of the most telling of these rule ids (HARM_BY_RULE's order), or None."""
    ids = list(rule_ids)
    return next((label for prefix, label in HARM_BY_RULE if any(r == prefix or r.startswith(prefix) for r in ids)), None)
