"""Links to unverified or misleading sources, and rumours.

Guideline (seeds/001_206af399bca50804.txt, "Riktlinjer vid hantering av kommentarer"):
"Vi tillåter inte publicering av ryktesspridning eller falsk information, varken som inlägg,
kommentarer, delningar eller länkningar. Alla länkningar till obekräftad eller vilseledande
information ska tas bort"

Rule ids: `links.blocked` (a block-listed domain: remove), `links.shortener` and `links.unknown`
(we cannot tell where it leads or whether it is reliable: review), `links.rumour` (wordings that
present a claim as suppressed truth: review), `links.misinformation` (such a framing *and* a link
that is not on the allow-list: the comment links to "obekräftad eller vilseledande information",
hidden by default). Allow-listed official domains pass without a hit.
URLs are found offline with `urlextract`; domains are reduced to their registrable part with
`tldextract` using its bundled public-suffix snapshot (`suffix_list_urls=()`: never fetched).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import tldextract
import yaml
from socialops_common.events import RuleHit
from urlextract import URLExtract

from ..text import Normalised, fold_pattern, normalise
from . import CLAUSE_LINKS, CLAUSE_RUMOURS, hit, load_data


@dataclass(frozen=True)
class LinkLists:
    allow: frozenset[str]
    block: frozenset[str]
    shorteners: frozenset[str]
    rumour_markers: tuple[re.Pattern[str], ...]
    misinformation_markers: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_data(cls, data: dict) -> LinkLists:
        return cls(
            allow=frozenset(d.lower() for d in data.get("allow", [])),
            block=frozenset(d.lower() for d in data.get("block", [])),
            shorteners=frozenset(d.lower() for d in data.get("shorteners", [])),
            rumour_markers=tuple(re.compile(fold_pattern(p)) for p in data.get("rumour_markers", [])),
            misinformation_markers=tuple(re.compile(fold_pattern(p)) for p in data.get("misinformation_markers", [])),
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> LinkLists:
        if path:
            return cls.from_data(yaml.safe_load(Path(path).read_text("utf-8")))
        return default_lists()


@cache
def default_lists() -> LinkLists:
    return LinkLists.from_data(load_data("links.yaml"))


@cache
def _extractors() -> tuple[URLExtract, tldextract.TLDExtract]:
    return URLExtract(), tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(url: str) -> str:
    _, domains = _extractors()
    parts = domains(url)
    return f"{parts.domain}.{parts.suffix}".lower() if parts.suffix else parts.domain.lower()


def _listed(domain: str, listed: frozenset[str]) -> bool:
    return domain in listed


_EMAIL_LIKE = re.compile(r"[^\s/@]+@[^\s/@]+\.[a-zA-Z]{2,}")


_MAYBE_URL = re.compile(r"[^\W_]\.[a-zA-Z]{2,}|://")


@lru_cache(maxsize=2048)  # the spam rule asks again for the same text
def find_links(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, registrable domain) for each URL; e-mail addresses are not links."""
    if not _MAYBE_URL.search(text):
        return ()  # no "x.tld" anywhere: spares the (slow) extractor on most comments
    urls, _ = _extractors()
    found = []
    for url, (start, end) in urls.find_urls(text, get_indices=True, with_schema_only=False):
        if _EMAIL_LIKE.fullmatch(url) or (start > 0 and text[start - 1] == "@"):
            continue  # an e-mail address (personal_data handles those)
        found.append((start, end, registered_domain(url)))
    return tuple(found)


def classify_links(text: str, lists: LinkLists | None = None, normalised: Normalised | None = None) -> list[RuleHit]:
    lists = lists or default_lists()
    blocked, shortened, unknown = [], [], []
    for start, end, domain in find_links(text):
        if _listed(domain, lists.allow):
            continue
        if _listed(domain, lists.block):
            blocked.append((start, end, "blocked_link"))
        elif _listed(domain, lists.shorteners):
            shortened.append((start, end, "shortened_link"))
        else:
            unknown.append((start, end, "unknown_link"))
    hits = []
    if blocked:
        hits.append(hit("links.blocked", CLAUSE_LINKS, 0.95, blocked))
    if shortened:
        hits.append(hit("links.shortener", CLAUSE_LINKS, 0.6, shortened))
    if unknown:
        hits.append(hit("links.unknown", CLAUSE_LINKS, 0.5, unknown))
    n = normalised or normalise(text)
    rumours = [
        (*n.span(m.start(), m.end()), "rumour") for pattern in lists.rumour_markers for m in pattern.finditer(n.text)
    ]
    if rumours:
        hits.append(hit("links.rumour", CLAUSE_RUMOURS, 0.6, rumours))
    linked = blocked + shortened + unknown
    if linked:
        framing = [
            (*n.span(m.start(), m.end()), "misinformation")
            for pattern in lists.misinformation_markers
            for m in pattern.finditer(n.text)
        ]
        if rumours or framing:
            confidence = 0.9 if len(framing) + len(rumours) >= 2 else 0.8
            hits.append(hit("links.misinformation", CLAUSE_LINKS, confidence, rumours + framing + linked))
    return hits
