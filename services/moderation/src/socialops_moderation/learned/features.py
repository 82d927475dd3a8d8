"""Features of one comment: what the model sees, the same at training and at run time.

Input is the folded text of `text.normalise` (lower case, l33t undone, repeated letters collapsed),
so "j@vla idi0t" and "jävla idiot" meet. Features, each counted once per comment:

- `w:<word>` every word (digits written as 0: numbers are shapes, not values);
- `b:<word> <word>` every pair of neighbouring words;
- character 3- and 4-grams inside each word padded with spaces (" idi", "iot "), which carry
  compounds and inflections ("invandrarpack", "parasiterna"); written bare (they never contain
  ":", so they cannot meet the prefixed kinds);
- `s:<shape>` a few shapes of the whole comment: first word, question mark at the end, "!" …,
  which carry the speech act.

Each feature's value is 1/sqrt(number of distinct features of the comment) (an L2-normalised
binary vector): it needs no vocabulary, so a feature the model does not know still counts in the
norm exactly as it did when the model was trained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
NGRAM_SIZES = (3, 4)  # 5-grams added nothing out of fold (issue 14 notes) and cost a third more


@dataclass(frozen=True)
class CommentFeatures:
    names: list[str]  # distinct feature names
    words: list[tuple[int, int]]  # (start, end) of each word in the folded text
    # for each feature, the indices (into `words`) of the words it came from (shape features: none)
    sources: list[tuple[int, ...]]


def _shapes(folded: str, words: list[str]) -> list[str]:
    stripped = folded.strip()
    shapes = []
    if words:
        shapes.append("s:first:" + words[0])
        if len(words) > 1:
            shapes.append("s:first2:" + words[0] + " " + words[1])
        shapes.append("s:last:" + words[-1])
    if stripped.endswith("?"):
        shapes.append("s:ends?")
    elif stripped.endswith("!"):
        shapes.append("s:ends!")
    elif stripped.endswith("."):
        shapes.append("s:ends.")
    else:
        shapes.append("s:ends-")
    if "?" in stripped:
        shapes.append("s:has?")
    if "!" in stripped:
        shapes.append("s:has!")
    if "http" in stripped or "www" in stripped or re.search(r"\w\.(com|net|org|info|se|nu)\b", stripped):
        shapes.append("s:link")
    if "+" in stripped and re.search(r"\+\s?\d{1,3}[\s\d()-]{6,}", stripped):
        shapes.append("s:intl_number")
    shapes.append("s:len:" + str(min(len(words), 40) // 5))
    return shapes


@lru_cache(maxsize=65536)  # words recur from comment to comment: each one's features are made once
def _word_features(word: str) -> tuple[str, ...]:
    padded = " " + word + " "
    last = len(padded) + 1
    return ("w:" + word, *[padded[i : i + size] for size in NGRAM_SIZES for i in range(last - size)])


def comment_features(folded: str, with_sources: bool = False) -> CommentFeatures:
    """The distinct features of a folded comment (and, if asked, which words each came from)."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(folded)]
    words = [_DIGIT.sub("0", folded[s:e]) for s, e in spans]
    if not with_sources:
        names = set(_shapes(folded, words))
        for word in words:
            names.update(_word_features(word))
        names.update(["b:" + a + " " + b for a, b in zip(words, words[1:], strict=False)])
        return CommentFeatures(list(names), spans, [])
    origin: dict[str, set[int]] = {}
    for shape in _shapes(folded, words):
        origin.setdefault(shape, set())
    for index, word in enumerate(words):
        origin.setdefault("w:" + word, set()).add(index)
        if index + 1 < len(words):
            origin.setdefault("b:" + word + " " + words[index + 1], set()).update((index, index + 1))
        padded = " " + word + " "
        for size in NGRAM_SIZES:
            for i in range(len(padded) - size + 1):
                origin.setdefault(padded[i : i + size], set()).add(index)
    names = sorted(origin)
    return CommentFeatures(names, spans, [tuple(sorted(origin[n])) for n in names])
