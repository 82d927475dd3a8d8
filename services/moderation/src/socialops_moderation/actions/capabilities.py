"""What each platform cannot do, and how long a text it takes: the one table (pure).

The executor turns these into `unsupported` outcomes with the reason in `detail` (never retried, never
a bare `failed`); the actions API shows the table (`GET /actions/capabilities`) so the console can say
it before anyone clicks; docs/moderation.md prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

from socialops_common.events import ActionOperation, EventKind, Platform

Op = ActionOperation

DIRECT_MESSAGES = frozenset({EventKind.DM_RECEIVED, EventKind.DM_SENT})

# (platform, operation) → why it cannot be done, as the outcome's detail says it.
_UNSUPPORTED: dict[tuple[Platform, ActionOperation], str] = {
    (Platform.INSTAGRAM, Op.BLOCK_AUTHOR): "the Instagram API cannot block a user: block them in the Instagram app",
    (Platform.INSTAGRAM, Op.LIKE): "the Instagram API has no way to like a comment: like it in the Instagram app",
    (Platform.X, Op.DELETE): "X lets the account hide a reply, not delete it: the reply is hidden instead",
    (Platform.X, Op.NOTIFY): "X has no way to send a notice about a hidden reply (a DM needs the person to "
                             "accept messages from the account)",
    (Platform.LINKEDIN, Op.HIDE): "LinkedIn cannot hide a comment: delete it, or leave it up",
    (Platform.LINKEDIN, Op.UNHIDE): "LinkedIn cannot hide a comment, so there is nothing to unhide",
    (Platform.LINKEDIN, Op.BLOCK_AUTHOR): "LinkedIn's API cannot block a member: block them on linkedin.com",
    (Platform.LINKEDIN, Op.NOTIFY): "LinkedIn has no way to send a notice about a removed comment",
}

_DIRECT_MESSAGE_UNSUPPORTED: dict[ActionOperation, str] = {
    Op.LIKE: "a direct message cannot be liked",
    Op.NOTIFY: "a notice goes to the author of a removed comment, not in a direct message conversation",
}
_LINKEDIN_DM = "LinkedIn's API has no messaging for organizations: answer on linkedin.com"

# When a platform cannot carry out a decision, what comes closest (commands.py adds it).
FALLBACKS: dict[tuple[Platform, ActionOperation], ActionOperation] = {
    (Platform.X, Op.DELETE): Op.HIDE,
}

# The most characters a text may have wherever it goes; and per platform, where it is less.
MAX_TEXT = 8000
# X counts "weighted" characters: 280 for a post (a reply is a post). docs.x.com, "Counting characters".
_TEXT_LIMITS: dict[tuple[Platform, bool], int] = {
    (Platform.X, False): 280,  # a reply in a thread; X DMs take 10,000
}


def unsupported(platform: Platform, operation: ActionOperation, item_kind: EventKind | None = None) -> str | None:
    """Why the platform cannot do `operation` on this kind of item, or None when it can."""
    if item_kind in DIRECT_MESSAGES:
        if platform == Platform.LINKEDIN:
            return _LINKEDIN_DM
        if operation in _DIRECT_MESSAGE_UNSUPPORTED:
            return _DIRECT_MESSAGE_UNSUPPORTED[operation]
    return _UNSUPPORTED.get((platform, operation))


def text_limit(platform: Platform, item_kind: EventKind | None) -> int:
    return _TEXT_LIMITS.get((platform, item_kind in DIRECT_MESSAGES), MAX_TEXT)


@dataclass(frozen=True)
class Capability:
    platform: Platform
    operation: ActionOperation
    on: str  # "comment", "mention" or "direct_message"
    supported: bool
    reason: str | None
    max_text: int | None


_ON = {"comment": EventKind.COMMENT_CREATED, "mention": EventKind.MENTION, "direct_message": EventKind.DM_RECEIVED}
_PERSON_OPERATIONS = (Op.REPLY, Op.LIKE, Op.NOTIFY)
_MODERATION_OPERATIONS = (Op.HIDE, Op.UNHIDE, Op.DELETE, Op.BLOCK_AUTHOR)


def capabilities() -> list[Capability]:
    """Every platform × operation × kind of item, with the reason where it cannot be done."""
    table = []
    for platform in Platform:
        for operation in (*_PERSON_OPERATIONS, *_MODERATION_OPERATIONS):
            places = _ON if operation in _PERSON_OPERATIONS else {"comment": EventKind.COMMENT_CREATED}
            for on, kind in places.items():
                reason = unsupported(platform, operation, kind)
                takes_text = operation in (Op.REPLY, Op.NOTIFY) and reason is None
                table.append(Capability(platform, operation, on, reason is None, reason,
                                        text_limit(platform, kind) if takes_text else None))
    return table
