"""People's actions: what a valid request is, what makes two requests the same, what the console shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from socialops_common.events import ActionOperation, Actor, EventKind, ModerationAction, Platform
from socialops_moderation.actions.commands import commands_for
from socialops_moderation.actions.explain import message_sv
from socialops_moderation.actions.person import (
    ActionRequest,
    command_for,
    person_action_id,
    request_key,
    retry_allowed,
)
from socialops_moderation.classify import Classifier
from socialops_moderation.policy import PolicyBook, decide
from socialops_moderation.testing import comment

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Op = ActionOperation


def request(**changes: object) -> ActionRequest:
    fields: dict[str, object] = {
        "operation": "reply", "event_id": "e-1", "platform": "facebook", "account_id": "page-1",
        "item_id": "page-1_c1", "thread_id": "page-1_post", "item_kind": "comment.created",
        "text": "Hej! Badhuset öppnar 8. Vänliga hälsningar, Louise, kommunikatör", "request_id": "form-1",
    }
    fields.update(changes)
    return ActionRequest.model_validate(fields)


@pytest.mark.parametrize(("changes", "why"), [
    ({"text": "   "}, "needs a text"),
    ({"text": None}, "needs a text"),
    ({"text": "x" * 8001}, "at most 8000"),
    ({"platform": "x", "text": "x" * 281}, "x takes at most 280 characters"),
    ({"item_kind": "dm.received", "recipient_id": None}, "needs recipient_id"),
    ({"operation": "like", "text": "gillar"}, "a like has no text"),
    ({"operation": "notify", "item_kind": "dm.received", "recipient_id": "psid"}, "author of a comment"),
    ({"item_kind": "post.published"}, "item_kind must be one of"),
    ({"request_id": ""}, "at least 1 character"),
])
def test_incomplete_requests_are_refused_with_the_reason(changes: dict, why: str):
    with pytest.raises(ValidationError, match=why):
        request(**changes)


def test_valid_requests():
    assert request(platform="x", text="x" * 280).text == "x" * 280
    assert request(platform="x", item_kind="dm.received", recipient_id="9", text="x" * 2000)  # X DMs are longer
    assert request(operation="like", text=None).action_operation == Op.LIKE


def test_what_makes_two_requests_the_same_action():
    assert request_key(request()) == request_key(request(text="another text")) == "reply:form-1"
    assert request_key(request()) != request_key(request(request_id="form-2"))  # a second answer is a second reply
    liked_by_one = request(operation="like", text=None, request_id="click-1")
    liked_by_another = request(operation="like", text=None, request_id="click-2")
    assert request_key(liked_by_one) == request_key(liked_by_another) == "like:facebook:page-1:page-1_c1"
    assert person_action_id("reply:form-1", 0) == person_action_id("reply:form-1", 0)
    assert person_action_id("like:x", 0) != person_action_id("like:x", 1)
    assert not retry_allowed(request()) and retry_allowed(liked_by_one)


def test_the_command_carries_the_person_the_text_and_the_item():
    louise = Actor(subject="00u-louise", name="Louise Lind", email="louise@stad.se")
    made = command_for(request(item_kind="dm.received", recipient_id="psid-9"), louise, "a-1", NOW)
    assert (made.operation, made.decision_id, made.event_id, made.recipient_id, made.item_kind, made.requested_by) == (
        Op.REPLY, "form-1", "e-1", "psid-9", EventKind.DM_RECEIVED, louise)
    assert made.partition_key == b"facebook:page-1:page-1_post"


def test_a_delete_on_x_also_hides_the_reply_and_an_override_to_allow_unhides_it():
    event = comment("Jag vet var du bor", platform=Platform.X, account="44196397", author="troll")
    threat = decide(event, Classifier().classify_text(event.text), PolicyBook.load().default, decided_at=NOW)
    assert threat.action == ModerationAction.DELETE
    assert [c.operation for c in commands_for(threat, requested_at=NOW)] == [Op.DELETE, Op.HIDE, Op.BLOCK_AUTHOR]
    allowed = threat.model_copy(update={"decision_id": "override", "action": ModerationAction.ALLOW, "block_author": False})
    assert [c.operation for c in commands_for(allowed, requested_at=NOW, previous=threat)] == [Op.UNHIDE]


def test_what_people_are_told():
    fb, ig = Platform.FACEBOOK, Platform.INSTAGRAM
    assert message_sv(status="done", operation=Op.REPLY, platform=fb) == "Svaret är publicerat."
    outside = message_sv(status="failed", operation=Op.REPLY, platform=fb, item_kind=EventKind.DM_RECEIVED,
                         error_code="graph:10/2018278")
    assert "24 timmar" in outside
    assert "7 dagar" in message_sv(status="failed", operation=Op.NOTIFY, platform=ig, error_code="graph:10/2018278")
    assert "Instagram-appen" in message_sv(status="unsupported", operation=Op.LIKE, platform=ig)
    assert "gått ut" in message_sv(status="failed", operation=Op.LIKE, platform=fb, error_code="graph:190/463")
    assert "begränsar" in message_sv(status="failed", operation=Op.REPLY, platform=Platform.X, error_code="x:429")
    assert "innan du försöker igen" in message_sv(status="failed", operation=Op.REPLY, platform=fb, error_code="graph:no-answer")
    assert "provläge" in message_sv(status="dry_run", operation=Op.LIKE, platform=Platform.LINKEDIN)
