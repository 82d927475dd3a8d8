"""Scams: get-rich schemes, crypto "mentors", fake prizes and giveaways, parcel fees, dating bait,
loans and advance fees, a move to WhatsApp/Telegram with a foreign number.

Guideline (seeds/001_206af399bca50804.txt, "Riktlinjer vid hantering av kommentarer"): "Spam är inte
tillåtet i kommentarsflödet".

Rule id `spam.scam` (the policy hides it with the rest of `spam`). Unlike the other spam rules it
needs no history: the text says what it is. Patterns are wording families in `data/scams.yaml`,
each with a confidence; named parts ("{money}", "{contact}") are shared between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from socialops_common.events import RuleHit

from ..text import Normalised, fold_pattern, normalise
from . import CLAUSE_SPAM, hit, load_data
from .prefilter import Prefiltered

_PART = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class ScamPattern:
    pattern: Prefiltered
    confidence: float


@cache
def scam_patterns() -> tuple[ScamPattern, ...]:
    data = load_data("scams.yaml")
    parts = data["parts"]

    def expand(pattern: str) -> str:
        return _PART.sub(lambda m: parts[m.group(1)], pattern)

    return tuple(
        ScamPattern(Prefiltered.of(re.compile(fold_pattern(expand(f["pattern"])))), float(f["confidence"])) for f in data["families"]
    )


def classify_scams(text: str, normalised: Normalised | None = None) -> list[RuleHit]:
    n = normalised or normalise(text)
    spans, confidence, families = [], 0.0, 0
    for family in scam_patterns():
        found = False
        for m in family.pattern.finditer(n.text):
            spans.append((*n.span(m.start(), m.end()), "scam"))
            found = True
        if found:
            families += 1
            confidence = max(confidence, family.confidence)
    if not spans:
        return []
    # Two families at once (a prize *and* a WhatsApp number) leave little doubt.
    return [hit("spam.scam", CLAUSE_SPAM, min(0.97, confidence + 0.05 * (families - 1)), spans)]
