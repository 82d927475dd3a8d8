"""The literal prefilter is exact: a pattern it skips has no match in the text."""

import gzip
import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from socialops_moderation.rules import friendly
from socialops_moderation.rules.abuse import lexicon
from socialops_moderation.rules.prefilter import Prefiltered, required_literals
from socialops_moderation.rules.scams import scam_patterns
from socialops_moderation.text import normalise

SERVICE = Path(__file__).resolve().parents[2]


def all_prefiltered() -> list[Prefiltered]:
    found = []
    for censorable in (False, True):
        lex = lexicon(censorable)
        found += [t.pattern for t in lex.threats] + list(lex.hate_patterns + lex.group_patterns) + [lex.profane_attacks]
    return found + [s.pattern for s in scam_patterns()] + list(friendly._patterns())


def repo_texts() -> list[str]:
    texts = []
    for path in (SERVICE / "tests" / "data").glob("*.jsonl"):
        texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    for path in (SERVICE / "training").glob("*.jsonl.gz"):
        texts += [json.loads(line)["text"] for line in gzip.open(path, "rt", encoding="utf-8")]
    return texts


def test_literals_are_found_where_they_are_required():
    assert required_literals(re.compile(r"\b(slå\s+ihjäl|döda)\b")) == frozenset({"ihjäl", "döda"})
    assert required_literals(re.compile(r"\b(hej)?\s*(då|[ab]x)")) is None  # a branch without a literal
    assert required_literals(re.compile(r"(abc)+def")) == frozenset({"abc"})
    assert required_literals(re.compile(r"(abc)*d")) is None


def test_no_pattern_is_skipped_on_a_text_it_matches():
    patterns = all_prefiltered()
    assert sum(p.literals is not None for p in patterns) > 0.9 * len(patterns)  # the filter does filter
    for text in repo_texts():
        folded = normalise(text).text
        for p in patterns:
            if not p.possible(folded):
                assert p.pattern.search(folded) is None, (p.pattern.pattern[:80], text)


@given(st.text(alphabet="abcdeåäö ihjlsätnr", max_size=30))
def test_the_filter_is_exact_on_generated_text(text):
    p = Prefiltered.of(re.compile(r"\b(sl[åa]\s+ihj[äae]l|d[öo]da|skjut(a|er)?)\b"))
    assert (p.search(text) is None) == (p.pattern.search(text) is None)
