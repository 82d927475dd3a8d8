"""The insights poller's pure parts: metric configuration, poll windows, readings, error classes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from socialops_common.events import Platform
from socialops_ingest.insights.client import Answer, InvalidMetric, RateLimited, TokenRejected
from socialops_ingest.insights.config import MetricConfigError, load_config, parse_config, parse_map
from socialops_ingest.insights.graph import classifier, regain_access
from socialops_ingest.insights.linkedin import classifier as linkedin_classifier
from socialops_ingest.insights.linkedin import interval
from socialops_ingest.insights.readings import Reading, count, meta_day, meta_day_bounds, snapshot_event
from socialops_ingest.insights.window import chunks, poll_window
from socialops_ingest.insights.x import classifier as x_classifier

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)


def test_the_shipped_configuration_names_only_snapshot_fields():
    config = load_config()
    page = config("facebook", "page_insights")
    assert page.fields["page_total_media_view_unique"] == "reach"
    assert "page_fans" not in page.names and "page_impressions" not in page.names  # removed by Meta in 2025
    assert config("instagram", "account_total_value").breakdowns["follows_and_unfollows"] == (
        "follow_type", {"FOLLOWER": "new_followers", "NON_FOLLOWER": "lost_followers"})
    assert config("facebook", "post_insights").keyed["post_clicks_by_type"] == {"link clicks": "link_clicks"}


def test_a_configuration_error_names_the_entry():
    with pytest.raises(MetricConfigError, match="facebook.page_insights.page_fans"):
        parse_map({"page_fans": "fans"}, "facebook.page_insights")
    with pytest.raises(MetricConfigError, match="linkedin: missing"):
        parse_config({"facebook": {"page_insights": {"a": "reach"}, "post_insights": {"b": "reach"}},
                      "instagram": {"account_total_value": {"a": "reach"}, "account_time_series": {"a": "reach"},
                                    "media_insights": {"a": "reach"}}})


def test_the_window_reads_the_last_three_complete_days_again():
    window = poll_window("facebook", NOW, TODAY, covered_until=date(2026, 11, 19))
    assert window.days == [date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)]
    assert window.posts_since == NOW - timedelta(days=35)


def test_after_an_outage_the_window_starts_where_the_last_full_read_ended():
    window = poll_window("instagram", NOW, TODAY, covered_until=date(2026, 11, 10))
    assert window.first_day == date(2026, 11, 8) and window.last_day == date(2026, 11, 19)


def test_a_first_poll_backfills_within_what_the_platform_keeps():
    assert poll_window("facebook", NOW, TODAY, None, backfill_days=400).first_day == TODAY - timedelta(days=400)
    assert poll_window("linkedin", NOW, TODAY, None, backfill_days=400).first_day == TODAY - timedelta(days=365)
    assert poll_window("x", NOW, TODAY, None, backfill_days=400).days == []  # X keeps no daily history
    assert poll_window("facebook", NOW, TODAY, None, backfill_days=400).posts_since == NOW - timedelta(days=400)


def test_chunks_respect_request_limits():
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(200)]
    assert chunks(days, 90) == [(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 29)),
                                (date(2026, 6, 30), date(2026, 7, 19))]


def test_meta_days_end_at_midnight_pacific_in_summer_and_winter():
    assert meta_day("2026-07-02T07:00:00+0000") == date(2026, 7, 1)
    assert meta_day("2026-11-21T08:00:00+0000") == date(2026, 11, 20)
    since, until = meta_day_bounds(date(2026, 11, 20))
    assert datetime.fromtimestamp(since, UTC) == datetime(2026, 11, 20, 8, tzinfo=UTC) and until - since == 86400
    assert meta_day("not a time") is None


def test_counts_below_the_privacy_threshold_are_unknown_not_zero():
    assert count(12) == 12 and count(0) == 0 and count(12.0) == 12
    assert count(-1) is None and count(None) is None and count("12") is None and count(True) is None


def test_a_reading_lists_what_it_asked_for_and_did_not_get_and_adds_up_shared_fields():
    reading = Reading("post", "post", "lifetime", TODAY, "p1", asked={"reactions", "shares", "saves"})
    reading.add("shares", 3)
    reading.add("shares", 2)  # X: retweets + quotes
    reading.add("reactions", None)
    assert reading.values == {"shares": 5} and reading.missing == ["reactions", "saves"]
    event = snapshot_event(Platform.X, "19446000", reading, NOW)
    assert event.metrics.missing == ["reactions", "saves"] and event.metrics.shares == 5
    assert event.metrics.reactions is None  # missing, not 0
    assert event.thread_id == "p1" and event.metrics.level == "post"
    again = snapshot_event(Platform.X, "19446000", reading, NOW + timedelta(hours=6))
    assert again.event_id == event.event_id  # the same figures polled later: the same event


def graph_answer(code: int, status: int = 400, headers: dict[str, str] | None = None, message: str = "m") -> Answer:
    return Answer(status, {"error": {"code": code, "message": message, "type": "OAuthException"}}, headers or {})


def test_graph_errors_are_told_apart():
    classify = classifier("page-1", "token")
    with pytest.raises(TokenRejected):
        classify(graph_answer(190, 401), NOW)
    with pytest.raises(InvalidMetric):
        classify(graph_answer(100, message="(#100) The value must be a valid insights metric"), NOW)
    usage = {"page-1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 42}]}
    with pytest.raises(RateLimited) as limited:
        classify(graph_answer(32, headers={"x-business-use-case-usage": json.dumps(usage)}), NOW)
    assert limited.value.retry_at == NOW + timedelta(minutes=42) and limited.value.scope == "meta:account:page-1"
    for code, scope in ((4, "meta:app"), (17, "meta:token:"), (613, "meta:account:page-1")):
        with pytest.raises(RateLimited) as limited:
            classify(graph_answer(code), NOW)
        assert limited.value.scope.startswith(scope)
    classify(Answer(503, {"error": {"code": 2, "is_transient": True}}, {}), NOW)  # retried by the client
    classify(Answer(200, {"data": []}, {}), NOW)


def test_without_a_usage_header_a_rate_limit_waits_the_default():
    assert regain_access({}, NOW) == NOW + timedelta(minutes=15)


def test_linkedin_and_x_rate_limits_and_tokens():
    with pytest.raises(RateLimited) as limited:
        linkedin_classifier("t")(Answer(429, {}, {"retry-after": "120"}), NOW)
    assert limited.value.retry_at == NOW + timedelta(seconds=120)
    with pytest.raises(RateLimited) as limited:
        linkedin_classifier("t")(Answer(429, {}, {}), NOW)
    assert limited.value.retry_at == datetime(2026, 11, 21, tzinfo=UTC)  # daily limits reset at midnight UTC
    with pytest.raises(TokenRejected):
        linkedin_classifier("t")(Answer(401, {"serviceErrorCode": 65602}, {}), NOW)
    reset = int((NOW + timedelta(minutes=7)).timestamp())
    with pytest.raises(RateLimited) as limited:
        x_classifier("t")(Answer(429, {}, {"x-rate-limit-reset": str(reset)}), NOW)
    assert limited.value.retry_at == NOW + timedelta(minutes=7)
    with pytest.raises(TokenRejected):
        x_classifier("t")(Answer(401, {"title": "Unauthorized"}, {}), NOW)


def test_linkedin_time_intervals_are_restli_with_an_exclusive_end():
    assert interval(date(2026, 11, 1), date(2026, 11, 2)) == (
        "(timeRange:(start:1793491200000,end:1793664000000),timeGranularityType:DAY)")
