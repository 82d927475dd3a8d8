"""A person's action from the console — reply, like, notify — as a platform action command (pure).

Idempotency is in the action id, derived from what makes two requests the same:
- a reply: the console's request id (one per rendered reply form), so a double submit sends once, and a
  person who writes a second answer sends a second reply;
- a like: the item, whoever clicks ("a comment is liked once");
- a notice: the item, once per comment ever (Meta allows one Private Reply per comment).
A like or notice whose last attempt `failed` may be asked for again: the next attempt gets the next id
(`attempt` 1, 2 …), so the platform is never sent the same action twice, and a failure is not the end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from socialops_common.events import (
    ActionOperation,
    Actor,
    EventKind,
    Platform,
    PlatformActionCommand,
    deterministic_id,
)
from socialops_common.identity import Permission

from .capabilities import DIRECT_MESSAGES, MAX_TEXT, text_limit

# What may be answered, liked or notified: citizens' comments, mentions of the account, inbound DMs.
ANSWERABLE_KINDS = (EventKind.COMMENT_CREATED, EventKind.COMMENT_EDITED, EventKind.MENTION, EventKind.DM_RECEIVED)

RIGHTS = {
    ActionOperation.REPLY: Permission.ANSWER,
    ActionOperation.LIKE: Permission.ANSWER,
    ActionOperation.NOTIFY: Permission.NOTIFY_COMMENTER,
}


class ActionRequest(BaseModel):
    """`POST /actions`: what a person asks the platform to do with one item."""

    operation: Literal["reply", "like", "notify"]
    event_id: str = Field(min_length=1, max_length=200, description="canonical id of the item answered, liked or notified")
    platform: Platform
    account_id: str = Field(min_length=1, max_length=200, description="the city's account (page, IG user, X user, organization URN)")
    item_id: str = Field(min_length=1, max_length=500, description="the platform's id of the comment, mention or message")
    thread_id: str = Field(min_length=1, max_length=500, description="root post id, or the DM conversation id")
    item_kind: EventKind = Field(description="comment.created, comment.edited, mention or dm.received")
    text: str | None = Field(default=None, max_length=MAX_TEXT,
                             description="the reply or the notice (not for a like); X takes 280 characters in a thread")
    recipient_id: str | None = Field(default=None, max_length=200,
                                     description="for a reply in a DM conversation: the citizen (PSID, IGSID, X user id)")
    request_id: str = Field(min_length=1, max_length=200,
                            description="one per rendered form: the same request id twice is one action")

    @model_validator(mode="after")
    def _complete_for_its_operation(self) -> ActionRequest:
        if self.item_kind not in ANSWERABLE_KINDS:
            raise ValueError(f"item_kind must be one of {', '.join(k.value for k in ANSWERABLE_KINDS)}")
        if self.operation == "like":
            if self.text:
                raise ValueError("a like has no text")
            return self
        if not (self.text and self.text.strip()):
            raise ValueError(f"a {self.operation} needs a text")
        limit = text_limit(self.platform, self.item_kind)
        if len(self.text) > limit:
            raise ValueError(f"{self.platform.value} takes at most {limit} characters here; this text has {len(self.text)}")
        if self.operation == "reply" and self.item_kind in DIRECT_MESSAGES and not self.recipient_id:
            raise ValueError("a reply in a direct message conversation needs recipient_id")
        if self.operation == "notify" and self.item_kind not in (EventKind.COMMENT_CREATED, EventKind.COMMENT_EDITED):
            raise ValueError("a notice goes to the author of a comment")
        return self

    @property
    def action_operation(self) -> ActionOperation:
        return ActionOperation(self.operation)


def request_key(request: ActionRequest) -> str:
    """What makes two requests the same action (see the module's docstring)."""
    if request.operation == "reply":
        return f"reply:{request.request_id}"
    return f"{request.operation}:{request.platform.value}:{request.account_id}:{request.item_id}"


def retry_allowed(request: ActionRequest) -> bool:
    """Whether a new attempt may follow a failed one under the same key (a reply needs a new request id)."""
    return request.operation != "reply"


def person_action_id(key: str, attempt: int) -> str:
    return deterministic_id("action", "person", key, str(attempt))


def command_for(request: ActionRequest, person: Actor, action_id: str, now: datetime) -> PlatformActionCommand:
    return PlatformActionCommand(
        action_id=action_id,
        decision_id=request.request_id,
        event_id=request.event_id,
        platform=request.platform,
        account_id=request.account_id,
        item_id=request.item_id,
        thread_id=request.thread_id,
        operation=request.action_operation,
        requested_at=now,
        text=request.text,
        recipient_id=request.recipient_id,
        item_kind=request.item_kind,
        requested_by=person,
    )
