"""Scoring the rules against a labelled set (JSONL): per-rule precision/recall, confusion table, targets.

Each line: {"id", "text", "expected_action", "expected_rules": [...], "needs_answer": bool,
optional "author" (spam sequences share one), "kind" (default comment.created), "split"}.
Items run in file order through one classifier (spam history builds up), 20 s apart, with the
default policy. `abuse.profanity` is reported but not scored (it changes no action by default);
`questions.direct` is scored as the decision's `needs_answer`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialops_common.events import (
    AccountRecord,
    Author,
    EventKind,
    ModerationDecision,
    Platform,
    SocialEvent,
    social_event_id,
)

from .accounts import AccountPolicies
from .classify import Classifier
from .consumer import Moderator
from .policy import PolicyBook
from .rules import harm_class

ACTIONS = ("allow", "review", "hide", "delete")
UNSCORED_RULES = {"abuse.profanity", "questions.direct", "questions.report"}
TARGETS = {
    "precision delete": 0.95,
    "precision hide": 0.95,
    "recall personal_data": 0.90,
    "recall abuse.threat": 0.90,
    "F1 needs_answer": 0.85,
}


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    support: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _scores(tp: int, fp: int, fn: int) -> Scores:
    return Scores(tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, tp + fn)


@dataclass
class Report:
    items: int
    confusion: Counter = field(default_factory=Counter)  # (expected, predicted) -> n
    actions: dict[str, Scores] = field(default_factory=dict)
    rules: dict[str, Scores] = field(default_factory=dict)
    families: dict[str, Scores] = field(default_factory=dict)
    needs_answer: Scores | None = None
    mistakes: list[dict] = field(default_factory=list)

    def target_values(self) -> dict[str, float]:
        return {
            "precision delete": self.actions["delete"].precision,
            "precision hide": self.actions["hide"].precision,
            "recall personal_data": self.families["personal_data"].recall,
            "recall abuse.threat": self.rules["abuse.threat"].recall,
            "F1 needs_answer": self.needs_answer.f1 if self.needs_answer else 0.0,
        }

    def missed_targets(self) -> dict[str, float]:
        values = self.target_values()
        return {name: values[name] for name, target in TARGETS.items() if values[name] < target}

    def render(self) -> str:
        lines = [f"items: {self.items}", "", "confusion (rows expected, columns predicted):"]
        lines.append("          " + "".join(f"{a:>9}" for a in ACTIONS))
        for expected in ACTIONS:
            lines.append(f"{expected:>9} " + "".join(f"{self.confusion[(expected, p)]:>9}" for p in ACTIONS))
        lines += ["", f"{'action':<32}{'precision':>10}{'recall':>10}{'support':>9}"]
        lines += [f"{a:<32}{s.precision:>10.3f}{s.recall:>10.3f}{s.support:>9}" for a, s in self.actions.items()]
        lines += ["", f"{'rule':<32}{'precision':>10}{'recall':>10}{'support':>9}"]
        lines += [f"{r:<32}{s.precision:>10.3f}{s.recall:>10.3f}{s.support:>9}" for r, s in sorted(self.rules.items())]
        lines += [f"{r + ' (any)':<32}{s.precision:>10.3f}{s.recall:>10.3f}{s.support:>9}" for r, s in sorted(self.families.items())]
        if self.needs_answer:
            s = self.needs_answer
            lines += ["", f"needs_answer: precision {s.precision:.3f} recall {s.recall:.3f} F1 {s.f1:.3f} (support {s.support})"]
        lines += ["", "targets:"]
        for name, value in self.target_values().items():
            lines.append(f"  {name:<24} {value:.3f}  (target ≥ {TARGETS[name]:.2f}) {'ok' if value >= TARGETS[name] else 'MISSED'}")
        return "\n".join(lines)


def load_items(*paths: str | Path) -> list[dict]:
    items = []
    for path in paths:
        items += [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line.strip()]
    return items


EVAL_ACCOUNT = "eval-page"  # every evaluated comment is on this one account


def evaluation_moderator(policy: str | None = None, *, with_model: bool = True) -> Moderator:
    """Rules (and the second opinion) under the default policy, or under the override `policy`,
    which the evaluation's one account then carries."""
    policies = PolicyBook.load()
    if policy and policy not in policies.overrides:
        raise ValueError(f"no policy override {policy!r} in the policy file: {sorted(policies.overrides)}")
    accounts = AccountPolicies()
    if policy:
        accounts.update(AccountRecord(platform=Platform.FACEBOOK, external_id=EVAL_ACCOUNT, name="Utvärdering",
                                      department="Kommunikation", moderation_policy=policy))
    return Moderator(Classifier() if with_model else Classifier(model=None), policies, accounts)


def run(items: list[dict], moderator: Moderator | None = None) -> tuple[Report, list[ModerationDecision]]:
    moderator = moderator or evaluation_moderator()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    decisions = []
    for index, item in enumerate(items):
        at = start + timedelta(seconds=20 * index)
        kind = EventKind(item.get("kind", "comment.created"))
        event = SocialEvent(
            event_id=social_event_id(Platform.FACEBOOK, kind, item["id"]),
            kind=kind, platform=Platform.FACEBOOK, account_id=EVAL_ACCOUNT, item_id=item["id"], thread_id="eval-post",
            author=Author(id=item.get("author", item["id"])), text=item["text"], occurred_at=at, received_at=at,
        )
        decisions.append(moderator.decide(event, at)[0])
    return score(items, decisions), decisions


def score(items: list[dict], decisions: list[ModerationDecision]) -> Report:
    report = Report(items=len(items))
    counts: dict[str, list[int]] = {}
    family_counts: dict[str, list[int]] = {}
    action_counts = {a: [0, 0, 0] for a in ACTIONS}
    answer = [0, 0, 0]

    def count(table: dict, key: str, expected: bool, predicted: bool) -> None:
        row = table.setdefault(key, [0, 0, 0])
        if expected and predicted:
            row[0] += 1
        elif predicted:
            row[1] += 1
        elif expected:
            row[2] += 1

    for item, decision in zip(items, decisions, strict=True):
        expected_action, predicted_action = item["expected_action"], decision.action.value
        report.confusion[(expected_action, predicted_action)] += 1
        for action in ACTIONS:
            count(action_counts, action, expected_action == action, predicted_action == action)
        expected_rules = set(item["expected_rules"]) - UNSCORED_RULES
        predicted_rules = {h.rule_id for h in decision.rules} - UNSCORED_RULES
        for rule in expected_rules | predicted_rules:
            count(counts, rule, rule in expected_rules, rule in predicted_rules)
        for family in ("personal_data", "abuse", "links", "spam"):
            count(
                family_counts, family,
                any(r.startswith(family + ".") for r in expected_rules), any(r.startswith(family + ".") for r in predicted_rules),
            )
        count({"a": answer}, "a", item["needs_answer"], decision.needs_answer)
        if expected_action != predicted_action or expected_rules != predicted_rules or item["needs_answer"] != decision.needs_answer:
            report.mistakes.append(
                {
                    "id": item["id"], "text": item["text"], "expected": (expected_action, sorted(expected_rules), item["needs_answer"]),
                    "predicted": (predicted_action, sorted(predicted_rules), decision.needs_answer),
                }
            )
    report.actions = {a: _scores(*c) for a, c in action_counts.items()}
    report.rules = {r: _scores(*c) for r, c in counts.items()}
    report.families = {f: _scores(*c) for f, c in family_counts.items()}
    report.needs_answer = _scores(*answer)
    return report


# --- issue 14: per labelled set and class ---------------------------------------------------------

REMOVED = ("hide", "delete")


def item_class(item: dict) -> str:
    """The class of a labelled city comment: its `harm` label, else its expected rules; allowable
    comments are "allowable" (whatever the rules they would hit, e.g. profanity or a question)."""
    if item["expected_action"] == "allow":
        return "allowable"
    if item.get("harm"):
        return str(item["harm"])
    return harm_class(item.get("expected_rules", [])) or "other"


@dataclass(frozen=True)
class Shares:
    n: int
    removed: float
    reviewed: float
    deleted: float

    @property
    def seen(self) -> float:
        return self.removed + self.reviewed


def shares(actions: list[str]) -> Shares:
    n = len(actions)
    if not n:
        return Shares(0, 0.0, 0.0, 0.0)
    return Shares(n, sum(a in REMOVED for a in actions) / n, sum(a == "review" for a in actions) / n,
                  sum(a == "delete" for a in actions) / n)


@dataclass
class CitySetReport:
    name: str
    items: int
    per_class: dict[str, Shares]
    harmful: Shares
    threats_and_attacks: Shares
    allowable: Shares
    allowable_by_category: dict[str, Shares]
    needs_answer: Scores
    question: Scores | None  # speech_act == question, where labelled
    friendly: Scores | None


def binary_scores(truth: list[bool], predicted: list[bool]) -> Scores:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    return _scores(tp, fp, fn)


def city_report(name: str, items: list[dict], decisions: list[ModerationDecision]) -> CitySetReport:
    by_class: dict[str, list[str]] = {}
    by_category: dict[str, list[str]] = {}
    for item, decision in zip(items, decisions, strict=True):
        label = item_class(item)
        by_class.setdefault(label, []).append(decision.action.value)
        if label == "allowable":
            by_category.setdefault(item.get("category", "allowable"), []).append(decision.action.value)
    harmful = [d.action.value for i, d in zip(items, decisions, strict=True) if item_class(i) != "allowable"]
    # "threats and personal attacks deleted": the comments the guideline has deleted (an insult about
    # a third party is hidden, not deleted)
    severe = [d.action.value for i, d in zip(items, decisions, strict=True)
              if item_class(i) in ("threat", "attack") and i["expected_action"] == "delete"]
    acts = [(i, d) for i, d in zip(items, decisions, strict=True) if i.get("speech_act")]
    friendly = [(i, d) for i, d in zip(items, decisions, strict=True) if "friendly" in i]
    return CitySetReport(
        name, len(items), {c: shares(a) for c, a in sorted(by_class.items())}, shares(harmful), shares(severe),
        shares(by_class.get("allowable", [])), {c: shares(a) for c, a in sorted(by_category.items())},
        binary_scores([i["needs_answer"] for i in items], [d.needs_answer for d in decisions]),
        binary_scores([i["speech_act"] == "question" for i, _ in acts], [d.speech_act == "question" for _, d in acts]) if acts else None,
        binary_scores([bool(i["friendly"]) for i, _ in friendly], [bool(d.friendly) for _, d in friendly]) if friendly else None,
    )


@dataclass
class ToxicityReport:
    name: str
    clearly_toxic: Shares
    by_category: dict[str, Shares]  # clearly toxic rows, by which category scored ≥ 2
    mild: Shares
    clean: Shares


def clearly_toxic(row: dict) -> bool:
    """The issue's definition: mean toxicity ≥ 2.5 and identity attack, violence or insult ≥ 2."""
    s = row["scores"]
    return s["toxicity"] >= 2.5 and max(s["identity_attack"], s["violence"], s["insult"]) >= 2


def toxicity_report(name: str, rows: list[dict], decisions: list[ModerationDecision]) -> ToxicityReport:
    pairs = list(zip(rows, decisions, strict=True))
    toxic = [(r, d) for r, d in pairs if clearly_toxic(r)]
    categories = {c: shares([d.action.value for r, d in toxic if r["scores"][c] >= 2])
                  for c in ("identity_attack", "violence", "insult")}
    return ToxicityReport(
        name, shares([d.action.value for _, d in toxic]), categories,
        shares([d.action.value for r, d in pairs if 1.5 <= r["scores"]["toxicity"] < 2.5]),
        shares([d.action.value for r, d in pairs if r["scores"]["toxicity"] < 1.5]),
    )


@dataclass
class SpeechActReport:
    name: str
    per_act: dict[str, Scores]
    needs_answer_vs_question: Scores  # the old reading: a question recognised as needing an answer


def speech_act_report(name: str, rows: list[dict], decisions: list[ModerationDecision]) -> SpeechActReport:
    per_act = {}
    for act in ("question", "directive", "expressive", "assertion"):
        per_act[act] = binary_scores([r["label"] == act for r in rows], [d.speech_act == act for d in decisions])
    return SpeechActReport(name, per_act, binary_scores([r["label"] == "question" for r in rows], [d.needs_answer for d in decisions]))


def reliability_table(pairs: list[tuple[float, bool]], bins: int = 10) -> list[tuple[str, int, float, float]]:
    """(bin, n, mean predicted probability, share truly in the class) per probability bin."""
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        chosen = [(p, t) for p, t in pairs if low <= p < high or (b == bins - 1 and p == 1.0)]
        if chosen:
            table.append((f"{low:.1f}–{high:.1f}", len(chosen), sum(p for p, _ in chosen) / len(chosen),
                          sum(t for _, t in chosen) / len(chosen)))
    return table


def decide_texts(texts: list[str], moderator: Moderator | None = None) -> list[ModerationDecision]:
    """Decisions for free texts (each its own author: no spam history), default policy."""
    items = [{"id": f"t{n}", "text": t, "expected_action": "allow", "expected_rules": [], "needs_answer": False}
             for n, t in enumerate(texts)]
    return run(items, moderator)[1]
