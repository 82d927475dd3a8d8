"""Spam: repeated posts by one author, copy-paste campaigns across authors, floods, link spam.

Guideline (seeds/001_206af399bca50804.txt, "Riktlinjer vid hantering av kommentarer"):
"Spam är inte tillåtet i kommentarsflödet och upprepade inlägg från samma användare ska tas bort."

Rule ids: `spam.repeat` (the same or nearly the same text from one author within the window:
exact hash, then `rapidfuzz` similarity), `spam.campaign` (near-identical text from several
authors: `datasketch` MinHash LSH), `spam.flood` (too many comments from one author in the window),
`spam.links` (one author posting links again and again, or a comment that is mostly links).

State: unlike the other rules this one needs history. `SpamTracker` keeps it **in this process's
memory**, per account, for a sliding window (default 1 hour); it is lost on restart and not shared
between replicas (a restarted or second replica starts with an empty history and misses repeats that
straddle it). The caller passes the clock, so the tracker is deterministic and tested without time.
The same event (same event_id) is remembered once, so a redelivery is not counted as a repeat.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz
from socialops_common.events import RuleHit

from ..text import Normalised, normalise
from . import CLAUSE_SPAM, hit
from .links import find_links


@dataclass(frozen=True)
class SpamConfig:
    window: timedelta = timedelta(hours=1)
    min_repeat_chars: int = 12  # "Tack!" twice is politeness, not spam
    fuzzy_threshold: float = 90.0  # rapidfuzz ratio, 0..100
    campaign_min_chars: int = 30
    campaign_authors: int = 3  # this many different authors with one text is a campaign
    campaign_jaccard: float = 0.7
    flood_count: int = 8  # comments by one author within flood_window
    flood_window: timedelta = timedelta(minutes=10)
    link_repeat_count: int = 3  # comments with links by one author within the window
    max_links_per_comment: int = 3


@dataclass
class _Seen:
    event_id: str
    item_id: str
    author: str
    at: datetime
    digest: str
    folded: str
    has_link: bool


_TEMPLATE = MinHash(num_perm=64)  # permutations computed once: the same hash family everywhere


def _signature(folded: str) -> MinHash:
    signature = MinHash(num_perm=64, permutations=_TEMPLATE.permutations, scheme=_TEMPLATE.scheme)
    signature.update_batch(list(_shingles(folded)))
    return signature


def _shingles(folded: str, size: int = 3) -> set[bytes]:
    words = re.findall(r"\w+", folded)
    if len(words) < size:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


@dataclass
class _AccountHistory:
    config: SpamConfig
    recent: deque[_Seen] = field(default_factory=deque)
    by_author: dict[str, deque[_Seen]] = field(default_factory=dict)  # so a comment costs O(its author's)
    lsh: MinHashLSH | None = None
    authors_by_key: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lsh = MinHashLSH(threshold=self.config.campaign_jaccard, num_perm=64)

    def expire(self, now: datetime) -> None:
        while self.recent and now - self.recent[0].at > self.config.window:
            gone = self.recent.popleft()
            mine = self.by_author.get(gone.author)
            if mine and mine[0] is gone:
                mine.popleft()
                if not mine:
                    del self.by_author[gone.author]
            if gone.event_id in self.authors_by_key:
                self.lsh.remove(gone.event_id)  # type: ignore[union-attr]
                del self.authors_by_key[gone.event_id]


class SpamTracker:
    """Per-process, per-account memory of recent comments (see module docstring for its limits)."""

    def __init__(self, config: SpamConfig | None = None) -> None:
        self.config = config or SpamConfig()
        self._accounts: dict[str, _AccountHistory] = {}
        self._decided: dict[str, list[RuleHit]] = {}  # event_id -> hits, so redelivery gives the same answer

    def observe(
        self, *, account: str, author: str | None, event_id: str, item_id: str, text: str, at: datetime,
        normalised: Normalised | None = None,
    ) -> list[RuleHit]:
        """Record one comment and return the spam findings for it."""
        if event_id in self._decided:
            return self._decided[event_id]
        history = self._accounts.get(account)
        if history is None:
            history = self._accounts[account] = _AccountHistory(self.config)
        history.expire(at)
        if len(self._decided) > 200_000:  # bound memory: forget the oldest half
            for key in list(self._decided)[:100_000]:
                del self._decided[key]
        folded = (normalised or normalise(text)).text.strip()
        digest = hashlib.sha256(re.sub(r"\W+", " ", folded).strip().encode()).hexdigest()
        links = find_links(text)
        seen = _Seen(event_id, item_id, author or "", at, digest, folded, bool(links))
        signature = _signature(folded) if len(folded) >= self.config.campaign_min_chars else None
        hits = self._findings(history, seen, links, text, signature) if author else []
        history.recent.append(seen)
        history.by_author.setdefault(seen.author, deque()).append(seen)
        if signature is not None:
            history.lsh.insert(event_id, signature)  # type: ignore[union-attr]
            history.authors_by_key[event_id] = seen.author
        self._decided[event_id] = hits
        return hits

    def _findings(
        self, history: _AccountHistory, seen: _Seen, links: list, text: str, signature: MinHash | None
    ) -> list[RuleHit]:
        config = self.config
        whole = [(0, len(text), "spam")]
        hits: list[RuleHit] = []
        mine = [s for s in history.by_author.get(seen.author, ()) if s.item_id != seen.item_id]
        if len(seen.folded) >= config.min_repeat_chars:
            if any(s.digest == seen.digest for s in mine):
                hits.append(hit("spam.repeat", CLAUSE_SPAM, 0.95, whole))
            elif any(
                len(s.folded) >= config.min_repeat_chars and fuzz.ratio(s.folded, seen.folded) >= config.fuzzy_threshold
                for s in mine
            ):
                hits.append(hit("spam.repeat", CLAUSE_SPAM, 0.85, whole))
        if signature is not None:
            authors = {history.authors_by_key[k] for k in history.lsh.query(signature)}  # type: ignore[union-attr]
            authors.discard(seen.author)
            if len(authors) + 1 >= config.campaign_authors:
                hits.append(hit("spam.campaign", CLAUSE_SPAM, 0.9, whole))
        recent_mine = [s for s in mine if seen.at - s.at <= config.flood_window]
        if len(recent_mine) + 1 >= config.flood_count:
            hits.append(hit("spam.flood", CLAUSE_SPAM, 0.9, whole))
        if links:
            linked = sum(1 for s in mine if s.has_link) + 1
            if linked >= config.link_repeat_count or len(links) > config.max_links_per_comment:
                hits.append(hit("spam.links", CLAUSE_SPAM, 0.85, [(s, e, "link") for s, e, _ in links]))
        return hits
