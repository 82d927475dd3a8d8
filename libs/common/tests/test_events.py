from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError
from socialops_common.events import (
    ActionMessage,
    EventKind,
    Platform,
    PlatformActionOutcome,
    SocialEvent,
    social_event_id,
    thread_key,
)

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def make_event(**overrides):
    fields = dict(
        event_id=social_event_id(Platform.FACEBOOK, EventKind.COMMENT_CREATED, "c1"),
        kind=EventKind.COMMENT_CREATED,
        platform=Platform.FACEBOOK,
        account_id="page1",
        item_id="c1",
        thread_id="post1",
        occurred_at=NOW,
        received_at=NOW,
    )
    fields.update(overrides)
    return SocialEvent(**fields)


def test_event_ids_are_deterministic_and_distinguish_versions():
    first = social_event_id("facebook", "comment.edited", "c1", "1700000000")
    assert first == social_event_id(Platform.FACEBOOK, EventKind.COMMENT_EDITED, "c1", "1700000000")
    assert first != social_event_id("facebook", "comment.edited", "c1", "1700000001")
    assert first != social_event_id("instagram", "comment.edited", "c1", "1700000000")


def test_naive_timestamps_are_refused_and_offsets_normalised_to_utc():
    with pytest.raises(ValidationError):
        make_event(occurred_at=datetime(2026, 11, 24, 9, 30))
    stockholm = timezone(timedelta(hours=1))
    event = make_event(occurred_at=datetime(2026, 11, 24, 10, 30, tzinfo=stockholm))
    assert event.occurred_at == NOW and event.occurred_at.tzinfo == UTC


def test_json_round_trip_keeps_everything():
    event = make_event(raw={"value": {"message": "Hej"}}, text="Hej")
    again = SocialEvent.model_validate_json(event.model_dump_json())
    assert again == event


def test_one_thread_shares_one_partition_key():
    reply = make_event(item_id="c2", parent_id="c1")
    assert reply.partition_key == make_event().partition_key == thread_key("facebook", "page1", "post1")


def test_action_topic_messages_are_told_apart_by_type():
    outcome = PlatformActionOutcome(
        action_id="a", decision_id="d", event_id="e", platform="facebook", account_id="p", item_id="c",
        thread_id="t", operation="hide", status="done", completed_at=NOW,
    )
    parsed = TypeAdapter(ActionMessage).validate_json(outcome.model_dump_json())
    assert isinstance(parsed, PlatformActionOutcome)
