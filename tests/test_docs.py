"""The documentation is a door that opens: README.md stays short, and every relative link in it,
in docs/*.md and in bench/RESULTS.md leads to a file of the repository (and, for `#anchor` links,
to a heading of that file, by GitHub's rules for heading anchors)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
AUDIENCE_DOCS = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *AUDIENCE_DOCS, ROOT / "bench" / "RESULTS.md"]
README_MAX_LINES = 250

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(?P<target>\S+)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto: ...


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, with their numbers."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def links(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in prose_lines(path):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            found.append((number, definition["target"]))
            continue
        for match in INLINE_LINK.finditer(INLINE_CODE.sub("", line)):
            found.append((number, match["target"]))
    return found


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text, lower-cased, without punctuation
    (letters, digits, `_` and `-` stay), each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link renders as its text
    text = text.replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(ch for ch in text if ch in "-_ " or unicodedata.category(ch)[0] in "LNM")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(path):
        heading = HEADING.match(line)
        if not heading:
            continue
        slug = github_slug(heading["text"])
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def test_the_documents_exist():
    names = {path.name for path in AUDIENCE_DOCS}
    assert {"operations.md", "platforms.md", "moderation.md", "sla.md", "archive.md", "development.md"} <= names
    assert all(path.exists() for path in DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path):
    broken = []
    for number, target in links(document):
        if EXTERNAL.match(target):
            continue
        location, _, anchor = target.partition("#")
        destination = (document.parent / location).resolve() if location else document
        where = f"{document.relative_to(ROOT)}:{number}: {target}"
        if not destination.is_relative_to(ROOT):
            broken.append(f"{where} (outside the repository)")
        elif not destination.exists():
            broken.append(f"{where} (no such file)")
        elif anchor and destination.is_file() and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{where} (no heading with that anchor)")
    assert broken == []


def test_the_readme_is_a_short_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    assert "`make run`" in text and "`make test`" in text
    for document in AUDIENCE_DOCS:
        assert f"(docs/{document.name})" in text, f"README.md does not point to docs/{document.name}"


@pytest.mark.parametrize("document", AUDIENCE_DOCS, ids=lambda path: path.name)
def test_each_document_says_first_who_it_is_for(document: Path):
    paragraphs = [p for p in document.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    assert paragraphs[0].startswith("# ") and paragraphs[1].startswith("For "), document.name


def test_github_slugs():
    assert github_slug("2026-11-24 — ingest (`bench/ingest.py`)") == "2026-11-24--ingest-benchingestpy"
    assert github_slug("Alerts and what to do") == "alerts-and-what-to-do"
    assert github_slug("A trained model, tried, not shipped") == "a-trained-model-tried-not-shipped"
    assert github_slug("Dölja eller ta bort") == "dölja-eller-ta-bort"
    assert github_slug("moderation_model and **bold**") == "moderation_model-and-bold"
