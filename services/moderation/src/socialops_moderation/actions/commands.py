"""Decision → platform action commands (pure).

Guideline (seeds/001_206af399bca50804.txt, "Dölja eller ta bort kommentar"): "Vi rekommenderar att
man som regel enbart döljer den otrevliga kommentaren, men i vissa fall, som exempelvis vid
personliga påhopp, kan man behöva blockera avsändaren och ta bort kommentaren."

Where a platform cannot do what was decided, the command is still published (its outcome says
`unsupported`, and why), followed by what comes closest (`capabilities.FALLBACKS`): X cannot delete a
citizen's reply, so a delete on X also hides it.
"""

from __future__ import annotations

from datetime import datetime

from socialops_common.events import (
    ActionOperation,
    EventKind,
    ModerationAction,
    ModerationDecision,
    PlatformActionCommand,
    deterministic_id,
)

from .capabilities import FALLBACKS

# Only items on the city's own accounts can be hidden or deleted by it.
ACTIONABLE_KINDS = frozenset({EventKind.COMMENT_CREATED, EventKind.COMMENT_EDITED})


def action_id_for(decision_id: str, operation: ActionOperation) -> str:
    """The same decision always yields the same action ids: the executor runs each once."""
    return deterministic_id("action", decision_id, operation.value)


def commands_for(decision: ModerationDecision, *, requested_at: datetime, previous: ModerationDecision | None = None) -> list[PlatformActionCommand]:
    """What the platform must be told to do for `decision`.

    `previous` is the decision a reviewer's one supersedes: overriding a hide with allow unhides, and so
    does taking a hide back to review (an undone verdict: the comment shows while it waits again).
    """
    if decision.item_kind not in ACTIONABLE_KINDS:
        return []
    operations: list[ActionOperation] = []
    if decision.action == ModerationAction.HIDE:
        operations.append(ActionOperation.HIDE)
    elif decision.action == ModerationAction.DELETE:
        operations.append(ActionOperation.DELETE)
        if fallback := FALLBACKS.get((decision.platform, ActionOperation.DELETE)):
            operations.append(fallback)
    elif previous is not None and _was_hidden(previous) and decision.action in (
            ModerationAction.ALLOW, ModerationAction.REVIEW):
        operations.append(ActionOperation.UNHIDE)
    if decision.block_author and decision.author_id:
        operations.append(ActionOperation.BLOCK_AUTHOR)
    return [
        PlatformActionCommand(
            action_id=action_id_for(decision.decision_id, operation),
            decision_id=decision.decision_id,
            event_id=decision.event_id,
            platform=decision.platform,
            account_id=decision.account_id,
            item_id=decision.item_id,
            thread_id=decision.thread_id,
            author_id=decision.author_id,
            operation=operation,
            notification_text=decision.notification_text,
            item_kind=decision.item_kind,
            requested_at=requested_at,
        )
        for operation in operations
    ]


def _was_hidden(decision: ModerationDecision) -> bool:
    if decision.action == ModerationAction.HIDE:
        return True
    return (decision.action == ModerationAction.DELETE
            and FALLBACKS.get((decision.platform, ActionOperation.DELETE)) == ActionOperation.HIDE)
