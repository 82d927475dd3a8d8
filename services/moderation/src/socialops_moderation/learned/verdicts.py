"""Reviewers' verdicts as labelled comments for the next model (`socialops-moderation export-verdicts`).

Every comment a person judged in the review queue is a label the city itself gave: allowed
(nothing to remove), or hidden/deleted for what the rules or the second opinion flagged. Exported
as JSON lines in the labelled city-comment format, which `learned/build.py --reviewed DIR` reads,
they make the city's own model learn from its own reviewers.

What a line holds, and why no more:
- the comment's **masked** text (personal data the rules found is already masked, as on the review
  page) — never the author, the reviewer or the reviewer's reason;
- `harm`: the class the removal was for, taken from what flagged the comment (a rule's class before
  the model's; among the model's classes the highest score). A class the model does not learn (an
  unknown link, a flood, personal data) trains it as a comment without threat, attack, hate or
  scam, as in the labelled sets. A removal whose flags name no class at all (swearing alone) is
  left out and counted.
- `split`: `heldout` for a third of the texts (by a hash of the text, as every labelled set here),
  so a rebuild also measures itself on verdicts it never trained on.
Direct messages are never exported: they are private (see `item_kinds` in policy.yaml).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from socialops_common.events import EventKind, ModerationAction, ModerationDecision

from ..rules import harm_class

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PUBLIC_KINDS = frozenset({EventKind.COMMENT_CREATED, EventKind.COMMENT_EDITED, EventKind.MENTION})
MODEL_PREFIX = "model."


def heldout_third(text: str) -> bool:
    """The labelled sets' split: a third of the texts, by the first 8 hex digits of sha256."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 3 == 0


def removal_class(original: ModerationDecision) -> str | None:
    """What the comment was removed for, by what flagged it: a rule first (the labelled sets' classes,
    `rules.harm_class`), then the model."""
    if found := harm_class(h.rule_id for h in original.rules):
        return found
    model_hits = [h for h in original.rules if h.rule_id.startswith(MODEL_PREFIX)]
    if model_hits:
        return max(model_hits, key=lambda h: h.confidence).rule_id.removeprefix(MODEL_PREFIX)
    return None


@dataclass
class Export:
    rows: list[dict] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)  # why a verdict is not a row


def labelled_comment(original: ModerationDecision, verdict: ModerationDecision) -> tuple[dict | None, str | None]:
    """The labelled row for one verdict on one queued decision, or (None, why it is left out)."""
    if original.item_kind not in PUBLIC_KINDS:
        return None, "not a public comment"
    text = (original.masked_text or "").strip()
    if not text:
        return None, "no text"
    if verdict.action == ModerationAction.ALLOW:
        harm, expected = None, "allow"
    elif verdict.action in (ModerationAction.HIDE, ModerationAction.DELETE):
        harm, expected = removal_class(original), verdict.action.value
        if harm is None:
            return None, "removed for a reason no class names"
    else:
        return None, "no verdict"
    reviewed_at = verdict.decided_at.astimezone(STOCKHOLM)
    row = {
        "id": "rv-" + hashlib.sha256(verdict.decision_id.encode()).hexdigest()[:16],
        "split": "heldout" if heldout_third(text) else "train",
        "category": "reviewed",
        "text": text,
        "expected_action": expected,
        "expected_rules": [],
        "harm": harm,
        "needs_answer": original.needs_answer,
        "account_id": original.account_id,
        "platform": original.platform.value,
        "reviewed_on": reviewed_at.date().isoformat(),
        "flagged_by": sorted({h.rule_id for h in original.rules}),
        "model_version": original.model.version if original.model else None,
    }
    return row, None


def export(pairs: Iterable[tuple[ModerationDecision, ModerationDecision]]) -> Export:
    """Rows for (queued decision, verdict) pairs; one row per text (the latest verdict on it wins)."""
    result = Export()
    by_text: dict[str, dict] = {}
    for original, verdict in sorted(pairs, key=lambda p: p[1].decided_at):
        row, why = labelled_comment(original, verdict)
        if row is None:
            result.left_out[why or "?"] += 1
            continue
        if row["text"] in by_text:
            result.left_out["an earlier verdict on the same text"] += 1
        by_text[row["text"]] = row
    result.rows = sorted(by_text.values(), key=lambda r: (r["reviewed_on"], r["id"]))
    return result


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def write_jsonl(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_jsonl(rows), "utf-8")


def since_date(value: str | None) -> datetime | None:
    """A day (YYYY-MM-DD, from midnight in Stockholm) for `--since`."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=STOCKHOLM)
