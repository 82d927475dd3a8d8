from datetime import UTC, datetime

from socialops_common.events import (
    ActionOperation,
    EventKind,
    ModerationAction,
    Platform,
    PlatformActionCommand,
)
from socialops_moderation.actions.commands import commands_for
from socialops_moderation.actions.graph import graph_request
from socialops_moderation.actions.platform import PlatformRequest, Unsupported
from socialops_moderation.classify import Classifier
from socialops_moderation.policy import PolicyBook, decide
from socialops_moderation.testing import comment

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def decision_for(text, **kwargs):
    event = comment(text, **kwargs)
    return decide(event, Classifier().classify_text(text), PolicyBook.load().default, decided_at=NOW)


def test_hide_delete_and_block_become_commands_with_stable_ids():
    hide = commands_for(decision_for("Mitt pnr är 811218-9876"), requested_at=NOW)
    assert [c.operation for c in hide] == [ActionOperation.HIDE]
    threat = decision_for("Jag vet var du bor", author="troll")
    delete = commands_for(threat, requested_at=NOW)
    assert [c.operation for c in delete] == [ActionOperation.DELETE, ActionOperation.BLOCK_AUTHOR]
    assert [c.action_id for c in delete] == [c.action_id for c in commands_for(threat, requested_at=NOW)]
    assert commands_for(decision_for("Bra jobbat!"), requested_at=NOW) == []


def test_nothing_to_do_on_items_the_city_cannot_remove():
    dm = decision_for("Mitt pnr är 811218-9876", kind=EventKind.MENTION)
    assert commands_for(dm, requested_at=NOW) == []


def test_overriding_a_hide_with_allow_unhides():
    hidden = decision_for("Mitt pnr är 811218-9876")
    allowed = hidden.model_copy(update={"decision_id": "override", "action": ModerationAction.ALLOW})
    assert [c.operation for c in commands_for(allowed, requested_at=NOW, previous=hidden)] == [ActionOperation.UNHIDE]


def command(platform, operation, author="u1"):
    return PlatformActionCommand(
        action_id="a", decision_id="d", event_id="e", platform=platform, account_id="page-9", item_id="c-1",
        thread_id="t", author_id=author, operation=operation, requested_at=NOW,
    )


def test_graph_api_shapes():
    fb, ig = Platform.FACEBOOK, Platform.INSTAGRAM
    assert graph_request(command(fb, ActionOperation.HIDE)) == PlatformRequest("POST", "/c-1", form={"is_hidden": "true"})
    assert graph_request(command(fb, ActionOperation.UNHIDE)) == PlatformRequest("POST", "/c-1", form={"is_hidden": "false"})
    assert graph_request(command(fb, ActionOperation.DELETE)) == PlatformRequest("DELETE", "/c-1")
    assert graph_request(command(fb, ActionOperation.BLOCK_AUTHOR)) == PlatformRequest("POST", "/page-9/blocked", form={"user": "u1"})
    assert graph_request(command(ig, ActionOperation.HIDE)) == PlatformRequest("POST", "/c-1", form={"hide": "true"})
    assert graph_request(command(ig, ActionOperation.DELETE)) == PlatformRequest("DELETE", "/c-1")
    blocked = graph_request(command(ig, ActionOperation.BLOCK_AUTHOR))
    assert isinstance(blocked, Unsupported) and "cannot block" in blocked.reason
