"""Property: normalisation never crashes on arbitrary JSON — it gives valid events or a dead-letter reason."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from socialops_common.events import SocialEvent
from socialops_ingest.intake import ADAPTERS, decode_and_normalize
from socialops_ingest.platforms import Context

CTX = Context(received_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC))

scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(max_size=20)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                        max_leaves=25)
def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Usually the well-formed value, sometimes anything at all in its place."""
    return st.integers(0, 9).flatmap(lambda i: anything if i == 0 else valid)


ids = mostly(st.text(alphabet="0123456789_:abcurnli", min_size=1, max_size=12) | st.integers(0, 10**18))
times = mostly(st.integers(min_value=0, max_value=10**14) | st.text(max_size=30) | st.floats(allow_nan=False))


def shaped(required: dict, optional: dict | None = None) -> st.SearchStrategy:
    """Dictionaries with the platform's own key names, filled with mostly-plausible values."""
    return mostly(st.fixed_dictionaries({k: v for k, v in required.items()}, optional=optional or {}))


meta_value = shaped(
    {"item": mostly(st.sampled_from(["comment", "status", "post", "photo", "reaction", "bogus"])),
     "verb": mostly(st.sampled_from(["add", "edited", "remove", "hide", "unhide", "block", "x"])),
     "post_id": ids, "comment_id": ids, "id": ids},
    {"parent_id": ids, "media_id": ids, "text": anything, "message": anything, "created_time": times,
     "from": shaped({"id": ids}, {"name": anything, "username": anything}),
     "media": shaped({"id": ids}), "post": anything},
)
meta_messaging = shaped(
    {"sender": shaped({"id": ids}), "recipient": shaped({"id": ids}), "timestamp": times},
    {"message": shaped({"mid": ids}, {"text": anything, "is_echo": anything, "is_deleted": anything}),
     "read": anything, "delivery": anything},
)
meta_change = shaped({"field": mostly(st.sampled_from(["feed", "comments", "live_comments", "mentions", "mention",
                                                         "story_insights", "messages"])), "value": meta_value})
meta_entry = shaped(
    {"id": ids, "time": times},
    {"field": mostly(st.sampled_from(["feed", "comments", "mentions", "story_insights"])), "value": meta_value,
     "changes": mostly(st.lists(meta_change, max_size=3)), "messaging": mostly(st.lists(meta_messaging, max_size=3))},
)
meta_payload = shaped({"object": mostly(st.sampled_from(["page", "instagram"])),
                       "entry": mostly(st.lists(meta_entry, max_size=3))})

tweet = shaped(
    {"id_str": ids, "user": shaped({"id_str": ids}, {"screen_name": anything, "name": anything})},
    {"text": anything, "in_reply_to_status_id_str": ids, "in_reply_to_user_id_str": ids, "timestamp_ms": times,
     "created_at": anything, "retweeted_status": anything, "extended_tweet": anything, "id": ids},
)
x_payload = shaped(
    {"for_user_id": ids},
    {"tweet_create_events": mostly(st.lists(tweet, max_size=3)),
     "tweet_delete_events": mostly(st.lists(shaped({"status": shaped({"id": ids, "user_id": ids})},
                                                   {"timestamp_ms": times}), max_size=3)),
     "direct_message_events": mostly(st.lists(shaped(
         {"type": mostly(st.just("message_create")), "id": ids,
          "message_create": shaped({"sender_id": ids, "target": shaped({"recipient_id": ids})},
                                   {"message_data": shaped({"text": anything})})},
         {"created_timestamp": times}), max_size=3)),
     "users": anything, "favorite_events": anything},
)
linkedin_payload = shaped({
    "type": mostly(st.just("ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS")),
    "notifications": mostly(st.lists(shaped(
        {"action": mostly(st.sampled_from(["COMMENT", "ADMIN_COMMENT", "COMMENT_EDIT", "COMMENT_DELETE",
                                           "SHARE_MENTION", "LIKE", "OTHER"])),
         "organizationalEntity": ids, "generatedActivity": ids},
        {"notificationId": ids, "sourcePost": ids, "actor": ids, "lastModifiedAt": times,
         "decoratedGeneratedActivity": anything, "decoratedSourcePost": anything}), max_size=3)),
})

PAYLOADS = {"meta": meta_payload | st.lists(meta_payload, max_size=2), "x": x_payload, "linkedin": linkedin_payload}


def _check(platform: str, body: bytes) -> None:
    normalized, reasons = decode_and_normalize(ADAPTERS[platform], body, CTX)
    for event in normalized.events:
        # a valid canonical event that survives the trip through Kafka's JSON
        assert SocialEvent.model_validate_json(event.model_dump_json()) == event
        assert event.occurred_at.tzinfo is not None
    assert all(isinstance(reason, str) and reason for reason in reasons)


@pytest.mark.parametrize("platform", sorted(PAYLOADS))
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_gives_valid_events_or_a_dead_letter_reason(platform, data):
    payload = data.draw(PAYLOADS[platform])
    _check(platform, json.dumps(payload).encode())


@settings(max_examples=100, deadline=None)
@given(platform=st.sampled_from(sorted(PAYLOADS)), body=st.binary(max_size=200))
def test_any_bytes_give_a_dead_letter_reason_instead_of_a_crash(platform, body):
    _check(platform, body)


def test_json_nested_beyond_the_recursion_limit_is_a_dead_letter_not_a_crash():
    normalized, reasons = decode_and_normalize(ADAPTERS["meta"], b"[" * 100_000 + b"]" * 100_000, CTX)
    assert normalized.events == [] and reasons
