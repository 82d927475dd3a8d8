"""Friendly comments: thanks, praise, a kind word — the ones the city gives a like.

Guideline (seeds/001_206af399bca50804.txt, "Svara så fort som möjligt"): "I mån av tid, ge gärna en
like i form av en tumme upp eller ett hjärta till vänliga kommentarer från våra mottagare".

Patterns are data (`data/friendly.yaml`); matched on the folded text. Sarcasm markers ("tack för
ingenting", 🙄) and negated praise make a comment not friendly. Whether a removed or abusive comment
is friendly is not asked: the classifier only calls this for comments with no abuse found.
"""

from __future__ import annotations

import re
from functools import cache

from ..text import Normalised, fold_pattern, normalise
from . import load_data
from .prefilter import Prefiltered


@cache
def _patterns() -> tuple[Prefiltered, Prefiltered]:
    data = load_data("friendly.yaml")

    def combine(patterns: list[str]) -> Prefiltered:
        return Prefiltered.of(re.compile("|".join(f"(?:{fold_pattern(p)})" for p in patterns)))

    return combine(data["kind"]), combine(data["not_kind"])


def is_friendly(text: str, normalised: Normalised | None = None) -> bool:
    folded = (normalised or normalise(text)).text
    kind, not_kind = _patterns()
    return bool(kind.search(folded)) and not not_kind.search(folded)
