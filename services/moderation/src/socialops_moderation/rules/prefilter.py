"""Skip a regular expression cheaply when the text cannot match it.

From a compiled pattern's parse tree, `required_literals` finds strings of which every match must
contain one ("ihj", "sl" … for `slå\\s+ihjäl`): literal runs in sequence, the union over the
branches of an alternation, the body of a repeat taken at least once. A text containing none of
them is not searched (a substring test in C, far cheaper than the scan: Python's `re` gives no
prefix speed-up to patterns that start with `\\b(` or a group). Exact by construction: the filter
never hides a match (held by a test over every pattern and every labelled text in the repo).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

try:  # Python 3.11+: the parser lives in re._parser (sre_parse is its deprecated alias)
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MIN_LITERAL = 2

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}


def _required(sequence) -> frozenset[str] | None:  # noqa: ANN001 - an sre SubPattern
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset(["".join(run)]))
            run.clear()

    for op, av in sequence:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op is sre_constants.SUBPATTERN:
            if (found := _required(av[-1])) is not None:
                candidates.append(found)
        elif op is sre_constants.BRANCH:
            branches = [_required(b) for b in av[1]]
            if all(b is not None for b in branches):
                candidates.append(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            if (found := _required(av[2])) is not None:
                candidates.append(found)
        # anything else (\b, classes, lookarounds, optional parts) requires no literal
    flush()
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(map(len, c)), -len(c)))


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains; None when there are no useful ones."""
    if pattern.flags & re.IGNORECASE:
        return None
    found = _required(sre_parse.parse(pattern.pattern, pattern.flags))
    if not found or not all(len(s) >= MIN_LITERAL or not s.isalnum() for s in found):
        return None  # single letters or digits filter nothing (a single emoji does)
    return found


@dataclass(frozen=True)
class Prefiltered:
    """A compiled pattern that is not run on a text lacking all of its required literals."""

    pattern: re.Pattern[str]
    literals: frozenset[str] | None

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> Prefiltered:
        return cls(pattern, required_literals(pattern))

    def possible(self, text: str) -> bool:
        return self.literals is None or any(literal in text for literal in self.literals)

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.possible(text) else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self.possible(text) else iter(())
