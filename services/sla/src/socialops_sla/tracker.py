"""The SLA state machine: which items need an answer, and when they are met, at risk, breached.

Pure: it works on a `Ledger` (the items and facts of the threads at hand) and returns the
`SlaStateChange`s to publish. The store loads a ledger for a batch of messages, this module
changes it, the store writes it back together with the outbox rows, in one transaction.

What needs an answer (seeds/001_206af399bca50804.txt, "Svara så fort som möjligt":
"I kommentarsflödet svarar vi alltid på direkta, konkreta och seriösa frågor som ställs.
Tyckanden och eventuellt 'gnäll' är inget vi bemöter"):
- a citizen comment that moderation marks `needs_answer`; until moderation's decision arrives, a
  comment that looks like a question (`looks_like_question`);
- every inbound direct message.

When an item is answered (precisely):
- a comment C is answered by a `reply.by_account` R when R.parent_id == C.item_id, or when R is in
  C's comment sub-thread after C: R.parent_id == root(C) and R.occurred_at >= C.occurred_at, where
  root(C) is C.item_id for a top-level comment (parent is the post or missing) and C.parent_id for
  a reply inside a comment thread;
- a direct message is answered by a `dm.sent` in the same conversation (thread_id) at or after it;
- staff mark it "no answer needed" (API).
Cancelled: `comment.hidden`, `comment.deleted_by_city`, `comment.deleted_by_author`, a moderation
decision hide/delete, or a decision `needs_answer=false` on an item the question heuristic opened.
Reopened (reason `needs_answer_after_review`): an item cancelled as not a question that a later
decision says needs an answer (moderation held it as possible abuse, a reviewer let it stand);
its deadline is the one it always had, counted from when the citizen wrote.

Met or breached is decided by the answer's `occurred_at` against the deadline, not by when the
message arrived here; so an answer written before the deadline but delivered after the scheduler
fired the breach corrects it to met (reason `replied_before_deadline`). An answer after a breach
keeps the item breached and records the answer (reason `answered_late`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from socialops_common.events import (
    ActionOperation,
    ActionStatus,
    Actor,
    EventKind,
    ModerationAction,
    ModerationDecision,
    Platform,
    PlatformActionOutcome,
    SlaState,
    SlaStateChange,
    SocialEvent,
    deterministic_id,
)

from .calendar import ResponsePromise

ACTIVE_STATES = frozenset({SlaState.OPEN, SlaState.AT_RISK})
REMOVAL_KINDS = {
    EventKind.COMMENT_HIDDEN: "hidden",
    EventKind.COMMENT_DELETED_BY_CITY: "deleted_by_city",
    EventKind.COMMENT_DELETED_BY_AUTHOR: "deleted_by_author",
}
ANSWER_KINDS = frozenset({EventKind.REPLY_BY_ACCOUNT, EventKind.DM_SENT})

# Swedish (and English) words that open a question: "Hur ansöker man ...", "Kan ni ...".
_INTERROGATIVE_START = re.compile(
    r"^\W*(vad|vart|var|när|hur|varför|vem|vems|vilken|vilket|vilka|kan|får|finns|går|ska|måste|"
    r"behöver|stämmer|gäller|är det|har ni|how|what|when|where|why|who|which|can|is there|do you)\b",
    re.IGNORECASE,
)


def looks_like_question(text: str | None) -> bool:
    """Stand-in until moderation's `needs_answer` arrives: a '?' or a Swedish interrogative start."""
    if not text:
        return False
    return "?" in text or bool(_INTERROGATIVE_START.match(text.strip()))


ItemKey = tuple[str, str, str]  # (platform, account_id, item_id)


@dataclass
class Item:
    """A citizen comment or inbound DM this service has seen; `state` None = needs no answer."""

    event_id: str
    platform: Platform
    account_id: str
    item_id: str
    thread_id: str
    parent_id: str | None
    item_kind: EventKind
    occurred_at: datetime
    text_is_question: bool = False
    state: SlaState | None = None
    opened_by: str | None = None  # "moderation" | "question_heuristic" | "direct_message"
    department: str | None = None
    deadline: datetime | None = None
    at_risk_at: datetime | None = None
    answered_at: datetime | None = None
    answer_event_id: str | None = None
    closed_reason: str | None = None
    response_working_seconds: float | None = None
    response_wall_seconds: float | None = None
    # what the inbox shows: the latest text and who wrote it
    text: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    # how many times a later decision has reopened it: a transition repeated in a later cycle is a
    # new fact and needs its own change id (readers deduplicate on it)
    reopenings: int = 0
    dirty: bool = field(default=False, compare=False)

    @property
    def key(self) -> ItemKey:
        return (self.platform.value, self.account_id, self.item_id)

    @property
    def is_dm(self) -> bool:
        return self.item_kind is EventKind.DM_RECEIVED

    @property
    def root_id(self) -> str:
        """The comment sub-thread this comment lives in (see module docstring)."""
        if self.is_dm or self.parent_id in (None, self.thread_id):
            return self.item_id
        return self.parent_id

    @property
    def next_due_at(self) -> datetime | None:
        """When the scheduler must look at this item next (indexed column in the store)."""
        if self.state is SlaState.OPEN:
            return self.at_risk_at
        if self.state is SlaState.AT_RISK:
            return self.deadline
        return None


@dataclass(frozen=True)
class Answer:
    """The account wrote in a thread: a reply to a comment, or a DM sent in a conversation."""

    event_id: str
    platform: Platform
    account_id: str
    thread_id: str
    parent_id: str | None
    kind: EventKind
    occurred_at: datetime

    def answers(self, item: Item) -> bool:
        if (item.platform, item.account_id, item.thread_id) != (self.platform, self.account_id, self.thread_id):
            return False
        if item.is_dm:
            return self.kind is EventKind.DM_SENT and self.occurred_at >= item.occurred_at
        if self.kind is not EventKind.REPLY_BY_ACCOUNT or self.parent_id is None:
            return False
        if self.parent_id == item.item_id:
            return True
        return self.parent_id == item.root_id and self.occurred_at >= item.occurred_at


@dataclass(frozen=True)
class Verdict:
    """What moderation (or a reviewer) decided about one item; the latest decision wins."""

    decision_id: str
    platform: Platform
    account_id: str
    item_id: str
    thread_id: str
    needs_answer: bool
    action: ModerationAction
    decided_at: datetime
    rule: str | None = None  # the rule it acted on (why a removed comment was removed)

    @property
    def key(self) -> ItemKey:
        return (self.platform.value, self.account_id, self.item_id)

    @classmethod
    def of(cls, decision: ModerationDecision) -> Verdict:
        # the hits that can remove something: a question is never the reason for a removal
        acting = [hit.rule_id for hit in decision.rules if not hit.rule_id.startswith("questions.")]
        return cls(
            decision.decision_id, decision.platform, decision.account_id, decision.item_id,
            decision.thread_id, decision.needs_answer, decision.action, decision.decided_at,
            acting[0] if acting else None,
        )


@dataclass(frozen=True)
class Removal:
    """The item was hidden or deleted (by the city or its author)."""

    event_id: str
    platform: Platform
    account_id: str
    item_id: str
    reason: str
    occurred_at: datetime

    @property
    def key(self) -> ItemKey:
        return (self.platform.value, self.account_id, self.item_id)


@dataclass
class Ledger:
    """Items and facts of some threads: what the tracker needs to decide, and what changed."""

    items: dict[ItemKey, Item] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    verdicts: dict[ItemKey, Verdict] = field(default_factory=dict)
    removals: dict[ItemKey, Removal] = field(default_factory=dict)
    new_answers: list[Answer] = field(default_factory=list)
    new_verdicts: list[Verdict] = field(default_factory=list)
    new_removals: list[Removal] = field(default_factory=list)

    def dirty_items(self) -> list[Item]:
        return [item for item in self.items.values() if item.dirty]


PromiseLookup = Callable[[Platform, str], tuple[ResponsePromise, str | None]]
"""(platform, account_id) -> the account's promise and owning department."""


def _change(item: Item, state: SlaState, previous: SlaState | None, at: datetime, reason: str,
            by: Actor | None = None) -> SlaStateChange:
    assert item.deadline is not None
    # The first cycle keeps the id it always had; each reopening starts a cycle of its own, so that
    # "cancelled: not_a_question" or "at_risk" happening again is not taken for a redelivery.
    cycle = (f"cycle:{item.reopenings}",) if item.reopenings else ()
    return SlaStateChange(
        change_id=deterministic_id("sla", item.event_id, state.value, reason, *cycle),
        event_id=item.event_id,
        item_id=item.item_id,
        thread_id=item.thread_id,
        platform=item.platform,
        account_id=item.account_id,
        department=item.department,
        item_kind=item.item_kind,
        state=state,
        previous_state=previous,
        received_at=item.occurred_at,
        deadline=item.deadline,
        changed_at=at,
        answered_at=item.answered_at,
        answer_event_id=item.answer_event_id,
        response_working_seconds=item.response_working_seconds,
        response_wall_seconds=item.response_wall_seconds,
        reason=reason,
        by=by,
    )


class Tracker:
    """Applies messages and the passing of time to a ledger; returns the state changes."""

    def __init__(self, promise_for: PromiseLookup) -> None:
        self.promise_for = promise_for

    # --- messages ---------------------------------------------------------------------------------

    def on_event(self, ledger: Ledger, event: SocialEvent, now: datetime) -> list[SlaStateChange]:
        kind = event.kind
        if kind in (EventKind.COMMENT_CREATED, EventKind.COMMENT_EDITED, EventKind.DM_RECEIVED):
            if event.author.is_account:
                return []  # the account writing in its own inbox is not a citizen asking
            return self._on_citizen_text(ledger, event, now)
        if kind in ANSWER_KINDS:
            return self._on_answer(ledger, Answer(event.event_id, event.platform, event.account_id, event.thread_id,
                                                  event.parent_id, kind, event.occurred_at), now)
        if kind in REMOVAL_KINDS:
            removal = Removal(event.event_id, event.platform, event.account_id, event.item_id,
                              REMOVAL_KINDS[kind], event.occurred_at)
            ledger.removals[removal.key] = removal
            ledger.new_removals.append(removal)
            item = ledger.items.get(removal.key)
            return self._cancel(item, removal.reason, removal.occurred_at) if item else []
        return []

    def on_decision(self, ledger: Ledger, decision: ModerationDecision, now: datetime) -> list[SlaStateChange]:
        verdict = Verdict.of(decision)
        known = ledger.verdicts.get(verdict.key)
        if known is not None and known.decided_at > verdict.decided_at:
            return []  # an older decision delivered late: the newer one stands
        ledger.verdicts[verdict.key] = verdict
        ledger.new_verdicts.append(verdict)
        item = ledger.items.get(verdict.key)
        if item is None:
            return []  # the comment itself comes later; `_on_citizen_text` applies the verdict
        return self._apply_verdict(ledger, item, verdict, now)

    def on_reply(self, ledger: Ledger, outcome: PlatformActionOutcome, now: datetime) -> list[SlaStateChange]:
        """A reply carried out from the console counts as the answer at once; the platform's own webhook of
        it, arriving later, finds the item answered and changes nothing."""
        if outcome.operation is not ActionOperation.REPLY or outcome.status is not ActionStatus.DONE:
            return []
        item = ledger.items.get((outcome.platform.value, outcome.account_id, outcome.item_id))
        kind = EventKind.DM_SENT if item is not None and item.is_dm else EventKind.REPLY_BY_ACCOUNT
        return self._on_answer(ledger, Answer(f"action:{outcome.action_id}", outcome.platform, outcome.account_id,
                                              outcome.thread_id, outcome.item_id, kind, outcome.completed_at), now)

    def no_answer_needed(self, item: Item, by: Actor, at: datetime) -> list[SlaStateChange]:
        """Staff decided the item needs no answer: it leaves the SLA as cancelled, naming who decided."""
        return self._cancel(item, f"no_answer_needed:{by.subject}", at, by)

    def _on_answer(self, ledger: Ledger, answer: Answer, now: datetime) -> list[SlaStateChange]:
        ledger.answers.append(answer)
        ledger.new_answers.append(answer)
        changes: list[SlaStateChange] = []
        for item in ledger.items.values():
            if item.state is not None and answer.answers(item):
                changes += self._answer(item, answer, now)
        return changes

    # --- time -------------------------------------------------------------------------------------

    def advance(self, item: Item, now: datetime) -> list[SlaStateChange]:
        """open -> at_risk -> breached as their instants pass (changed_at = the instant itself)."""
        changes: list[SlaStateChange] = []
        if item.state is SlaState.OPEN and item.at_risk_at is not None and now >= item.at_risk_at:
            changes.append(self._move(item, SlaState.AT_RISK, item.at_risk_at, "two_working_hours_left"))
        if item.state is SlaState.AT_RISK and item.deadline is not None and now >= item.deadline:
            changes.append(self._move(item, SlaState.BREACHED, item.deadline, "deadline_passed"))
        return changes

    # --- internals --------------------------------------------------------------------------------

    def _on_citizen_text(self, ledger: Ledger, event: SocialEvent, now: datetime) -> list[SlaStateChange]:
        key = (event.platform.value, event.account_id, event.item_id)
        item = ledger.items.get(key)
        question = looks_like_question(event.text)
        if item is None:
            item = Item(
                event_id=event.event_id, platform=event.platform, account_id=event.account_id,
                item_id=event.item_id, thread_id=event.thread_id, parent_id=event.parent_id,
                item_kind=EventKind.DM_RECEIVED if event.kind is EventKind.DM_RECEIVED else EventKind.COMMENT_CREATED,
                occurred_at=event.occurred_at, text_is_question=question, dirty=True,
                text=event.text, author_id=event.author.id, author_name=event.author.name,
            )
            ledger.items[key] = item
        else:
            if event.text != item.text:  # an edit: the inbox shows the latest words
                item.text, item.author_id, item.author_name, item.dirty = (
                    event.text, event.author.id, event.author.name, True)
            if item.state is not None or not question:
                return []  # already tracked (edits do not move the clock), or still not a question
            # an edit turned a comment into a question: the clock starts at the edit
            item.event_id, item.occurred_at, item.text_is_question, item.dirty = (
                event.event_id, event.occurred_at, True, True)
        removal = ledger.removals.get(key)
        if removal is not None:
            return []  # already gone before we saw it: nothing to answer
        verdict = ledger.verdicts.get(key)
        if item.is_dm:
            changes = self._open(item, "direct_message", now)
        elif verdict is not None:
            return self._apply_verdict(ledger, item, verdict, now)
        elif question:
            changes = self._open(item, "question_heuristic", now)
        else:
            return []
        return changes + self._answered_already(ledger, item, now)

    def _apply_verdict(self, ledger: Ledger, item: Item, verdict: Verdict, now: datetime) -> list[SlaStateChange]:
        if verdict.action in (ModerationAction.HIDE, ModerationAction.DELETE):
            reason = "hidden_by_moderation" if verdict.action is ModerationAction.HIDE else "deleted_by_moderation"
            changes: list[SlaStateChange] = []
            if item.state is None:
                if not (item.text_is_question or verdict.needs_answer):
                    return []
                # A question removed by moderation is recorded as opened and cancelled whichever of
                # comment and decision arrived first (they come on different topics): otherwise a
                # decision read before its comment left the question with no SLA record at all.
                opened_by = "moderation" if verdict.needs_answer else "question_heuristic"
                changes = self._open(item, opened_by, now) + self._answered_already(ledger, item, now)
            return changes + self._cancel(item, reason, verdict.decided_at)
        if item.is_dm:
            return []  # every inbound DM is answered, whatever the text looks like
        if verdict.needs_answer and item.state is None:
            if item.key in ledger.removals:
                return []  # removed before it was tracked (read out of order): nothing to answer
            return self._open(item, "moderation", now) + self._answered_already(ledger, item, now)
        if verdict.needs_answer and item.state is SlaState.CANCELLED and item.closed_reason == "not_a_question":
            return self._reopen(item, verdict.decided_at, now) + self._answered_already(ledger, item, now)
        if verdict.needs_answer:
            if item.opened_by == "question_heuristic":
                item.opened_by, item.dirty = "moderation", True
            return []
        if item.state is not None:
            return self._cancel(item, "not_a_question", verdict.decided_at)
        return []

    def _open(self, item: Item, opened_by: str, now: datetime) -> list[SlaStateChange]:
        promise, department = self.promise_for(item.platform, item.account_id)
        item.deadline = promise.deadline_for(item.occurred_at)
        item.at_risk_at = promise.at_risk_at(item.occurred_at, item.deadline)
        item.department = department
        item.opened_by = opened_by
        item.state = SlaState.OPEN
        item.dirty = True
        changes = [_change(item, SlaState.OPEN, None, item.occurred_at, opened_by)]
        # an item opened late (decision after the deadline, or a replay) catches up at once
        return changes + self.advance(item, now)

    def _reopen(self, item: Item, at: datetime, now: datetime) -> list[SlaStateChange]:
        """A later decision says the item needs an answer after all (a reviewer let a question stand
        that moderation had held as possible abuse): open again, with the deadline it always had."""
        item.state, item.closed_reason, item.opened_by, item.dirty = SlaState.OPEN, None, "moderation", True
        item.reopenings += 1
        return [_change(item, SlaState.OPEN, SlaState.CANCELLED, at, "needs_answer_after_review")] + self.advance(item, now)

    def _answered_already(self, ledger: Ledger, item: Item, now: datetime) -> list[SlaStateChange]:
        earlier = sorted((a for a in ledger.answers if a.answers(item)), key=lambda a: a.occurred_at)
        return self._answer(item, earlier[0], now) if earlier else []

    def _answer(self, item: Item, answer: Answer, now: datetime) -> list[SlaStateChange]:
        if item.state not in (SlaState.OPEN, SlaState.AT_RISK, SlaState.BREACHED) or item.answered_at is not None:
            return []
        assert item.deadline is not None
        promise, _ = self.promise_for(item.platform, item.account_id)
        item.answered_at = answer.occurred_at
        item.answer_event_id = answer.event_id
        item.response_wall_seconds = max(0.0, (answer.occurred_at - item.occurred_at).total_seconds())
        item.response_working_seconds = promise.working_seconds_between(item.occurred_at, answer.occurred_at)
        item.dirty = True
        if answer.occurred_at <= item.deadline:
            reason = "replied_before_deadline" if item.state is SlaState.BREACHED else "replied"
            return [self._move(item, SlaState.MET, answer.occurred_at, reason)]
        changes = self.advance(item, max(now, answer.occurred_at))  # breach first if not fired yet
        changes.append(_change(item, SlaState.BREACHED, SlaState.BREACHED, answer.occurred_at, "answered_late"))
        return changes

    def _cancel(self, item: Item, reason: str, at: datetime, by: Actor | None = None) -> list[SlaStateChange]:
        if item.state not in (SlaState.OPEN, SlaState.AT_RISK, SlaState.BREACHED) or item.answered_at is not None:
            return []
        return [self._move(item, SlaState.CANCELLED, at, reason, by)]

    def _move(self, item: Item, state: SlaState, at: datetime, reason: str, by: Actor | None = None) -> SlaStateChange:
        previous = item.state
        item.state = state
        item.closed_reason = reason if state in (SlaState.MET, SlaState.CANCELLED) else item.closed_reason
        item.dirty = True
        return _change(item, state, previous, at, reason, by)
