"""Findings → decision, by the policy file (`data/policy.yaml`, or SOCIALOPS_MODERATION_POLICY_FILE).

Guideline (seeds/001_206af399bca50804.txt, "Dölja eller ta bort kommentar"): "Vi rekommenderar att
man som regel enbart döljer den otrevliga kommentaren, men i vissa fall, som exempelvis vid
personliga påhopp, kan man behöva blockera avsändaren och ta bort kommentaren."

Pure: no I/O once the policy is loaded. The most severe action of all hits wins; a hit below its
rule's `min_confidence` asks for review instead of acting.

The learned second opinion (`learned/`, issue 14) comes after the rules: per class, a calibrated
probability at or above the policy's `model.review_at` sends a comment the rules allow to review,
as a hit `model.<class>` whose spans are the words that weighed most. The model removes on its own
only for a class the policy lists under `model.remove` *and* the model file certifies (precision
≥ 0.95 on held-out data at its recorded threshold); it never lowers what the rules decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from socialops_common.events import (
    EventKind,
    ModerationAction,
    ModerationDecision,
    RuleHit,
    SocialEvent,
    deterministic_id,
)

from .classify import Findings
from .notification import DEFAULT_SIGNATURE, notification_for
from .rules import CLAUSE_ABUSE, CLAUSE_PERSONAL_ATTACK, CLAUSE_SPAM, hit, load_data

SEVERITY = {ModerationAction.ALLOW: 0, ModerationAction.REVIEW: 1, ModerationAction.HIDE: 2, ModerationAction.DELETE: 3}
# The rules are lexical: finding nothing is good evidence, not proof.
CONFIDENCE_WHEN_NOTHING_FOUND = 0.9


@dataclass(frozen=True)
class RuleAction:
    action: ModerationAction
    block_author: bool = False
    min_confidence: float = 0.0
    # What a reviewer's "confirm" applies when this entry only sends to review: an override that puts a
    # person first ("review_first") still suggests what the default policy would have done.
    suggest: ModerationAction | None = None
    suggest_block: bool = False

    @property
    def suggestion(self) -> tuple[ModerationAction, bool]:
        return (self.suggest, self.suggest_block) if self.suggest else (self.action, self.block_author)


def _person_first(default: dict[str, RuleAction], override: dict[str, RuleAction]) -> dict[str, RuleAction]:
    """An override's review entries remember the default's harsher action as their suggestion."""
    merged = {**default, **override}
    for rule, entry in override.items():
        base = default.get(rule)
        if entry.action == ModerationAction.REVIEW and base and SEVERITY[base.action] > SEVERITY[entry.action]:
            merged[rule] = RuleAction(entry.action, entry.block_author, entry.min_confidence, base.action,
                                      base.block_author)
    return merged


@dataclass(frozen=True)
class ItemKindLimits:
    max_action: ModerationAction = ModerationAction.DELETE
    ignore_rules: tuple[str, ...] = ()
    always_needs_answer: bool = False


# What each model class stands for in the guideline: its clause, and the rule whose action a
# reviewer's "confirm" applies.
MODEL_CLASSES = {
    "threat": ("abuse.threat", CLAUSE_ABUSE),
    "hate": ("abuse.hate", CLAUSE_ABUSE),
    "attack": ("abuse.personal_attack", CLAUSE_PERSONAL_ATTACK),
    "scam": ("spam.scam", CLAUSE_SPAM),
}


@dataclass(frozen=True)
class ModelPolicy:
    review_at: dict[str, float] = field(default_factory=dict)  # class → probability; absent: never
    remove: dict[str, ModerationAction] = field(default_factory=dict)  # class → hide/delete


@dataclass(frozen=True)
class Policy:
    name: str
    rules: dict[str, RuleAction]
    item_kinds: dict[str, ItemKindLimits] = field(default_factory=dict)
    signature: str = DEFAULT_SIGNATURE  # how the commenter's notification is signed
    model: ModelPolicy = field(default_factory=ModelPolicy)

    def rule_action(self, rule_id: str) -> RuleAction:
        """The entry for the rule id, else for its longest matching prefix, else review."""
        parts = rule_id.split(".")
        for length in range(len(parts), 0, -1):
            entry = self.rules.get(".".join(parts[:length]))
            if entry:
                return entry
        return RuleAction(ModerationAction.REVIEW)  # a rule the policy does not know: a human decides

    def limits(self, kind: EventKind) -> ItemKindLimits:
        return self.item_kinds.get(kind.value, ItemKindLimits())


def _rules(raw: dict[str, Any]) -> dict[str, RuleAction]:
    return {
        rule: RuleAction(
            ModerationAction(entry["action"]), bool(entry.get("block_author", False)), float(entry.get("min_confidence", 0.0))
        )
        for rule, entry in (raw or {}).items()
    }


def _model(raw: dict[str, Any] | None, base: ModelPolicy | None = None) -> ModelPolicy:
    base = base or ModelPolicy()
    raw = raw or {}
    unknown = (set(raw.get("review_at") or {}) | set(raw.get("remove") or {})) - set(MODEL_CLASSES)
    if unknown:
        raise ValueError(f"policy: unknown model classes {sorted(unknown)} (known: {sorted(MODEL_CLASSES)})")
    remove = {c: ModerationAction(a) for c, a in (raw["remove"] or {}).items()} if "remove" in raw else base.remove
    if any(a not in (ModerationAction.HIDE, ModerationAction.DELETE) for a in remove.values()):
        raise ValueError("policy: model.remove takes hide or delete")
    return ModelPolicy(
        {**base.review_at, **{c: float(p) for c, p in (raw.get("review_at") or {}).items()}},
        remove,
    )


def _kinds(raw: dict[str, Any]) -> dict[str, ItemKindLimits]:
    return {
        kind: ItemKindLimits(
            ModerationAction(entry.get("max_action", "delete")),
            tuple(entry.get("ignore_rules", ())),
            bool(entry.get("always_needs_answer", False)),
        )
        for kind, entry in (raw or {}).items()
    }


@dataclass(frozen=True)
class PolicyBook:
    """The default policy and the named per-account overrides."""

    default: Policy
    overrides: dict[str, Policy]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PolicyBook:
        base = data["default"]
        default = Policy(
            "default", _rules(base["rules"]), _kinds(base.get("item_kinds", {})),
            base.get("notification_signature", DEFAULT_SIGNATURE), _model(base.get("model")),
        )
        overrides = {}
        for name, override in (data.get("overrides") or {}).items():
            overrides[name] = Policy(
                name,
                _person_first(default.rules, _rules(override.get("rules", {}))),
                {**default.item_kinds, **_kinds(override.get("item_kinds", {}))},
                override.get("notification_signature", default.signature),
                _model(override.get("model"), default.model),
            )
        return cls(default, overrides)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PolicyBook:
        data = yaml.safe_load(Path(path).read_text("utf-8")) if path else load_data("policy.yaml")
        return cls.from_data(data)

    def named(self, name: str | None) -> Policy:
        """The override by that name; an unknown name falls back to the default (and says so)."""
        if name and name in self.overrides:
            return self.overrides[name]
        return self.default


@dataclass(frozen=True)
class Outcome:
    action: ModerationAction
    block_author: bool
    confidence: float
    needs_answer: bool
    # what the rules would do if every hit were certain: what a reviewer "confirms"
    suggested_action: ModerationAction = ModerationAction.ALLOW
    suggested_block: bool = False
    model_hits: tuple[RuleHit, ...] = ()  # the second opinion's hits, when it raised the action
    # held for review as possible abuse: whether it needs an answer if a person lets it stand
    needs_answer_if_allowed: bool = False


# Findings that hold a comment for review as possible abuse or fraud (not an unknown link or a rumour).
ABUSE_REVIEW = ("abuse.threat", "abuse.personal_attack", "abuse.insult", "abuse.hate", "spam.scam", "model.")


def _ignored(rule_id: str, ignore: tuple[str, ...]) -> bool:
    return any(rule_id == i or rule_id.startswith(i + ".") for i in ignore)


def model_hits(findings: Findings, kind: EventKind, policy: Policy) -> list[tuple[RuleHit, ModerationAction]]:
    """The second opinion's hits: per class at or above its review threshold, the action it asks
    for (review; the class's removal only where the policy and the model file both allow it)."""
    opinion = findings.model
    if opinion is None:
        return []
    limits = policy.limits(kind)
    found = []
    for label, probability in opinion.scores.items():
        threshold = policy.model.review_at.get(label)
        if label not in MODEL_CLASSES or threshold is None or probability < threshold:
            continue
        rule_id = f"model.{label}"
        if _ignored(rule_id, limits.ignore_rules) or _ignored(MODEL_CLASSES[label][0], limits.ignore_rules):
            continue
        action = ModerationAction.REVIEW
        certified = findings.removable.get(label)
        if label in policy.model.remove and certified is not None and probability >= certified:
            action = policy.model.remove[label]
        spans = [(w.start, w.end, rule_id) for w in opinion.words if w.label == label]
        found.append((hit(rule_id, MODEL_CLASSES[label][1], probability, spans), action))
    return found


def decide_outcome(findings: Findings, kind: EventKind, policy: Policy) -> Outcome:
    limits = policy.limits(kind)
    action, block, confidences = ModerationAction.ALLOW, False, []
    suggested, suggested_block = ModerationAction.ALLOW, False
    acting: list[RuleHit] = []
    for rule_hit in findings.hits:
        if _ignored(rule_hit.rule_id, limits.ignore_rules):
            continue
        entry = policy.rule_action(rule_hit.rule_id)
        would, would_block = entry.suggestion
        if SEVERITY[would] > SEVERITY[suggested]:
            suggested, suggested_block = would, would_block
        elif would == suggested:
            suggested_block = suggested_block or would_block
        wanted = entry.action
        if rule_hit.confidence < entry.min_confidence and SEVERITY[wanted] > SEVERITY[ModerationAction.REVIEW]:
            wanted = ModerationAction.REVIEW  # uncertain: a person decides
        if SEVERITY[wanted] > SEVERITY[action]:
            action, confidences, acting = wanted, [rule_hit.confidence], [rule_hit]
            block = entry.block_author and wanted == entry.action
        elif SEVERITY[wanted] == SEVERITY[action] and wanted != ModerationAction.ALLOW:
            confidences.append(rule_hit.confidence)
            acting.append(rule_hit)
            block = block or (entry.block_author and wanted == entry.action)
    # The second opinion, only where it asks for more than the rules decided.
    raised: list[RuleHit] = []
    for model_hit, wanted in model_hits(findings, kind, policy):
        if SEVERITY[wanted] <= SEVERITY[action] and not (raised and SEVERITY[wanted] == SEVERITY[action]):
            continue
        if SEVERITY[wanted] > SEVERITY[action]:
            action, confidences, acting, raised = wanted, [model_hit.confidence], [model_hit], [model_hit]
            block = False  # the model never blocks anyone
        else:
            confidences.append(model_hit.confidence)
            acting.append(model_hit)
            raised.append(model_hit)
        entry = policy.rule_action(MODEL_CLASSES[model_hit.rule_id.split(".", 1)[1]][0])
        would, would_block = entry.suggestion
        if SEVERITY[would] > SEVERITY[suggested]:
            suggested, suggested_block = would, would_block
    if SEVERITY[action] > SEVERITY[limits.max_action]:
        action, block = limits.max_action, False
    if action == ModerationAction.ALLOW:
        confidence = CONFIDENCE_WHEN_NOTHING_FOUND
    elif action == ModerationAction.REVIEW:
        confidence = 1.0 - max(confidences)  # how sure we are that it is *not* for us to decide alone
        confidence = max(0.3, min(confidence, 0.7))
    else:
        confidence = max(confidences)
    # A question still needs an answer when only personal data was hidden (the city answers
    # without repeating it); a comment hidden for abuse or spam, or deleted, does not. Nor does one
    # held for review as possible abuse while a person decides: the contact center does not answer
    # what may be a threat ("Svara så fort som möjligt": "direkta, konkreta och seriösa frågor").
    # If the reviewer lets it stand, the verdict carries the answer it needs (review.resolution_for).
    held_as_abuse = action == ModerationAction.REVIEW and any(h.rule_id.startswith(ABUSE_REVIEW) for h in acting)
    question_stands = action == ModerationAction.ALLOW or (action == ModerationAction.REVIEW and not held_as_abuse) or (
        action == ModerationAction.HIDE and all(h.rule_id.startswith("personal_data.") for h in acting)
    )
    would_need_answer = limits.always_needs_answer or findings.is_question
    needs_answer = limits.always_needs_answer or (findings.is_question and question_stands)
    if SEVERITY[suggested] > SEVERITY[limits.max_action]:
        suggested, suggested_block = limits.max_action, False
    return Outcome(
        action,
        block and action == ModerationAction.DELETE,
        round(confidence, 3),
        needs_answer,
        suggested,
        suggested_block and suggested == ModerationAction.DELETE,
        tuple(raised),
        would_need_answer,
    )


def decision_id_for(event_id: str, policy_name: str) -> str:
    """One decision per item version and policy: a redelivered event gets the same id."""
    return deterministic_id("moderation", event_id, policy_name)


def decide(event: SocialEvent, findings: Findings, policy: Policy, *, decided_at: datetime) -> ModerationDecision:
    return decide_with_suggestion(event, findings, policy, decided_at=decided_at)[0]


def decide_with_suggestion(
    event: SocialEvent, findings: Findings, policy: Policy, *, decided_at: datetime
) -> tuple[ModerationDecision, dict[str, Any] | None]:
    """The decision, and for a review decision what confirming it would do."""
    outcome = decide_outcome(findings, event.kind, policy)
    suggestion = (
        {"action": outcome.suggested_action.value, "block_author": outcome.suggested_block,
         "needs_answer_if_allowed": outcome.needs_answer_if_allowed}
        if outcome.action == ModerationAction.REVIEW
        else None
    )
    decision = ModerationDecision(
        decision_id=decision_id_for(event.event_id, policy.name),
        event_id=event.event_id,
        platform=event.platform,
        account_id=event.account_id,
        item_id=event.item_id,
        thread_id=event.thread_id,
        author_id=event.author.id,
        item_kind=event.kind,
        action=outcome.action,
        block_author=outcome.block_author,
        needs_answer=outcome.needs_answer,
        rules=[*findings.hits, *outcome.model_hits],
        confidence=outcome.confidence,
        masked_text=findings.masked_text,
        language=findings.language,
        notification_text=notification_for(
            outcome.action, [h.rule_id for h in (*findings.hits, *outcome.model_hits)], outcome.block_author, policy.signature
        ),
        policy=policy.name,
        decided_at=decided_at,
        speech_act=findings.speech_act,
        friendly=findings.friendly and outcome.action == ModerationAction.ALLOW,
        model=findings.model,
    )
    return decision, suggestion
