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


def test_metric_snapshot_versions_share_the_snapshot_id_and_same_figures_share_the_event_id():
    from datetime import date

    from socialops_common.events import MetricSnapshot, metric_event_id, metric_snapshot_id

    sid = metric_snapshot_id("facebook", "page-1", "page-1", "page_insights", "day", date(2026, 11, 3))
    assert sid == metric_snapshot_id(Platform.FACEBOOK, "page-1", "page-1", "page_insights", "day", date(2026, 11, 3))
    assert sid != metric_snapshot_id("facebook", "page-1", "page-1", "page_insights", "day", date(2026, 11, 4))
    first = MetricSnapshot(snapshot_id=sid, level="account", day=date(2026, 11, 3), reach=120, missing=["video_views"])
    again = MetricSnapshot(snapshot_id=sid, level="account", day=date(2026, 11, 3), reach=120, missing=["video_views"])
    revised = MetricSnapshot(snapshot_id=sid, level="account", day=date(2026, 11, 3), reach=180, missing=["video_views"])
    assert metric_event_id(first) == metric_event_id(again)
    assert metric_event_id(first) != metric_event_id(revised)
    # a figure the platform now gives where it gave none is a new version too
    assert metric_event_id(first) != metric_event_id(first.model_copy(update={"missing": [], "video_views": 0}))
    with pytest.raises(ValueError):
        metric_event_id(MetricSnapshot(reach=1))


def test_older_snapshots_still_read_and_new_fields_are_optional():
    from socialops_common.events import MetricSnapshot

    old = MetricSnapshot.model_validate_json('{"period": "lifetime", "reach": 5, "impressions": 9}')
    assert old.level is None and old.missing == [] and old.saves is None
    assert MetricSnapshot.model_validate_json(old.model_dump_json()) == old
