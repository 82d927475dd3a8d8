"""Obfuscation-robust normalisation that remembers where every character came from.

People who want to write "jävla idiot" past a filter write "j@vla", "i d i o t", "i.d.i.o.t",
"jäääävla" or "javla". `normalise` folds all of these to one form ("javla idiot") and keeps, for
each character of the folded text, the offset of the original character it came from, so that a
match in the folded text becomes a span in the text the citizen actually wrote.

Folding: lower case; diacritics stripped (é→e, ü→u) but å, ä and ö kept, because they are letters
of their own in Swedish ("höra" is not "hora"); instead every lexicon term and pattern is made
lenient (`lenient`): "jävla" matches "jävla" and "javla", "hora" matches only "hora";
l33t digits and symbols mapped to letters *inside words only* (so "112" stays a number);
runs of one repeated letter collapsed to one ("jäääävla" → "javla", and the lexicon is folded the
same way, so "fitta" and "fita" meet); letters spelt out one by one with spaces, dots, dashes,
stars or underscores between them are joined ("i d i o t" → "idiot").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

LEET = {"@": "a", "4": "a", "3": "e", "€": "e", "1": "i", "!": "i", "|": "i", "0": "o", "5": "s", "$": "s", "7": "t", "+": "t"}
SPELLING_SEPARATORS = " .-_*·•"


@dataclass(frozen=True)
class Normalised:
    original: str
    text: str
    origin: tuple[int, ...]  # origin[i] = offset in `original` of folded character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the folded slice text[start:end]."""
        if not self.origin:
            return (0, 0)
        first = self.origin[min(start, len(self.origin) - 1)]
        last = self.origin[min(max(end - 1, start), len(self.origin) - 1)]
        return first, last + 1


_SWEDISH_LETTERS = frozenset("åäö")
_LENIENT = {"å": "[åa]", "ä": "[äae]", "ö": "[öo]"}


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    lower = char.lower()
    if lower in _SWEDISH_LETTERS:
        return lower
    decomposed = unicodedata.normalize("NFKD", lower)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def lenient(folded_regex: str) -> str:
    """A folded regex in which å/ä/ö also match the letter people type without the dots."""
    return "".join(_LENIENT.get(c, c) for c in folded_regex)


def fold_term(term: str) -> str:
    """The folded form of a lexicon term, so that lexicon and text meet in the middle."""
    return normalise(term).text


def _is_wordish(char: str) -> bool:
    return char.isalnum() or char in LEET


def normalise(original: str) -> Normalised:
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(original):
        for folded in _fold_char(char):
            chars.append(folded)
            origin.append(index)
    # l33t: only inside words, so numbers and punctuation survive ("112", "idag!!")
    length = len(chars)
    for i, char in enumerate(chars):
        if char not in LEET:
            continue
        left = chars[i - 1] if i > 0 else " "
        right = chars[i + 1] if i + 1 < length else " "
        right2 = chars[i + 2] if i + 2 < length else " "
        inside = left.isalpha() and (right.isalpha() or (right in LEET and right2.isalpha()))
        starts_word = not left.isalnum() and right.isalpha() and char in "@4$5013"
        ends_word = left.isalpha() and not right.isalnum() and right not in LEET and char in "@430$"
        if inside or starts_word or ends_word:
            chars[i] = LEET[char]
    chars, origin = _join_spelled_out(chars, origin)
    chars, origin = _collapse_repeats(chars, origin)
    return Normalised(original, "".join(chars), tuple(origin))


_SPELLED = re.compile(r"(?<![^\W_])(?:[^\W\d_][ .\-_*·•]{1,2}){2,}[^\W\d_](?![^\W_])")


def _join_spelled_out(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """Join letters spelt out one by one; a wider gap ("J A G  V E T") stays a word break."""
    text = "".join(chars)
    keep = [True] * len(chars)
    for match in _SPELLED.finditer(text):
        i = match.start()
        while i < match.end():
            if text[i] in SPELLING_SEPARATORS:
                run_end = i
                while run_end < match.end() and text[run_end] in SPELLING_SEPARATORS:
                    run_end += 1
                wide = run_end - i >= 2 and text[i:run_end].strip() == ""
                for j in range(i, run_end):
                    keep[j] = wide and j == i  # a wide gap keeps one space
                i = run_end
            else:
                i += 1
    return [c for c, k in zip(chars, keep, strict=True) if k], [o for o, k in zip(origin, keep, strict=True) if k]


def _collapse_repeats(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    out_chars: list[str] = []
    out_origin: list[int] = []
    for char, where in zip(chars, origin, strict=True):
        if out_chars and out_chars[-1] == char and char.isalpha():
            continue
        out_chars.append(char)
        out_origin.append(where)
    return out_chars, out_origin


_PATTERN_TOKEN = re.compile(r"\\.|[^\W\d_]+")


def fold_pattern(pattern: str) -> str:
    """Fold the words of a regular expression written in ordinary Swedish ("jävla", "eller").

    Escapes (`\\b`, `\\w`, `\\s`) are kept as they are; every run of letters is folded like text.
    """
    return _PATTERN_TOKEN.sub(
        lambda m: m.group() if m.group().startswith("\\") else lenient(fold_term(m.group())), pattern
    )
