"""Monthly KPI definitions, publishing frequency, quiet accounts, late-Friday flag. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from socialops_sla.calendar import STOCKHOLM
from socialops_sla.followup import (
    WEEK,
    ChannelKpis,
    EventFigures,
    PlatformFigures,
    PublishingState,
    channel_kpis,
    evaluate_publishing,
    group_kpis,
    is_late_friday,
    month_bounds,
    months_back,
    publishing_status,
    removal_reason,
    weeks_in,
)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_two_posts_a_week_is_active() -> None:
    status = publishing_status([NOW - timedelta(days=1), NOW - timedelta(days=3)], NOW)
    assert status.posts_last_7_days == 2 and not status.inactive and status.inactive_weeks == 0


def test_one_post_a_week_is_inactive_week_after_week() -> None:
    posts = [NOW - timedelta(days=2 + 7 * week) for week in range(6)]
    assert publishing_status(posts, NOW, weeks=4).inactive_weeks == 4
    short = publishing_status(posts[:2] + [NOW - timedelta(days=15), NOW - timedelta(days=16)], NOW, weeks=4)
    assert short.inactive and short.inactive_weeks == 2


def test_a_new_account_is_not_counted_before_it_existed() -> None:
    status = publishing_status([], NOW, weeks=4, active_since=NOW - timedelta(days=10))
    assert status.inactive and status.inactive_weeks == 1


def test_late_friday() -> None:
    assert is_late_friday(datetime(2026, 11, 27, 15, 0, tzinfo=STOCKHOLM))
    assert is_late_friday(datetime(2026, 11, 27, 22, 0, tzinfo=STOCKHOLM))
    assert not is_late_friday(datetime(2026, 11, 27, 14, 59, tzinfo=STOCKHOLM))
    assert not is_late_friday(datetime(2026, 11, 26, 16, 0, tzinfo=STOCKHOLM))
    # 14:30 UTC on a winter Friday is 15:30 in Stockholm
    assert is_late_friday(datetime(2026, 11, 27, 14, 30, tzinfo=UTC))


def test_months() -> None:
    start, end = month_bounds("2026-12")
    assert start == datetime(2026, 12, 1, tzinfo=STOCKHOLM) and end == datetime(2027, 1, 1, tzinfo=STOCKHOLM)
    with pytest.raises(ValueError):
        month_bounds("2026-13")
    assert months_back("2026-02", 13) == [f"2025-{m:02d}" for m in range(2, 13)] + ["2026-01", "2026-02"]
    assert weeks_in("2026-02") == 4.0


# --- monthly KPIs -------------------------------------------------------------------------------


def test_reach_is_the_daily_average_where_the_platform_has_no_monthly_figure() -> None:
    kpis = channel_kpis("facebook", "p", "2026-11", PlatformFigures(reach_days=20, reach_day_sum=20_000))
    assert (kpis.reach, kpis.reach_basis, kpis.reach_days) == (1000.0, "daily_average", 20)


def test_reach_is_the_platforms_monthly_figure_where_it_has_one_never_the_days_added_up() -> None:
    figures = PlatformFigures(reach_days=30, reach_day_sum=30_000, month_reach=9_500)
    assert channel_kpis("linkedin", "o", "2026-11", figures).reach == 9500.0
    assert channel_kpis("linkedin", "o", "2026-11", figures).reach_basis == "month"
    without = channel_kpis("linkedin", "o", "2026-11", PlatformFigures(reach_days=30, reach_day_sum=30_000))
    assert (without.reach, without.reach_basis) == (1000.0, "daily_average")


def test_x_has_no_reach_and_says_so() -> None:
    kpis = channel_kpis("x", "u", "2026-11", PlatformFigures(followers_end=500, reactions=10))
    assert kpis.reach is None and kpis.missing["reach"] == "not_on_platform"


def test_interactions_are_the_post_level_parts_the_platform_gives() -> None:
    figures = PlatformFigures(posts=3, reactions=100, comments=20, shares=5, saves=None, followers_end=2000,
                              post_reach=4000, interactions_on_reached_posts=100)
    kpis = channel_kpis("facebook", "p", "2026-11", figures)
    assert kpis.interactions == 125 and kpis.interaction_parts == ("reactions", "comments", "shares")
    assert kpis.engagement_rate == pytest.approx(125 / 2000)
    assert kpis.engagement_rate_by_reach == pytest.approx(100 / 4000)
    assert kpis.missing["saves"] == "not_on_platform"  # Facebook has no saves: left out, not a 0
    insta = channel_kpis("instagram", "i", "2026-11", PlatformFigures(reactions=10, comments=1))
    assert insta.missing["saves"] == "not_given" and insta.missing["shares"] == "not_given"


def test_missing_is_not_zero() -> None:
    kpis = channel_kpis("facebook", "p", "2026-11", None)
    assert kpis.reach is None and kpis.interactions is None and kpis.engagement_rate is None
    assert kpis.link_clicks is None and kpis.missing["link_clicks"] == "not_given"
    assert kpis.missing["interactions"] == "not_given" and kpis.missing["page_views"] == "not_on_platform"
    zero = channel_kpis("facebook", "p", "2026-11", PlatformFigures(link_clicks=0, reactions=0))
    assert zero.link_clicks == 0 and zero.interactions == 0 and "link_clicks" not in zero.missing


def test_new_followers_are_follows_gained_or_on_x_the_net_difference() -> None:
    gained = channel_kpis("facebook", "p", "2026-11", PlatformFigures(new_followers=40, lost_followers=10,
                                                                      followers_end=1030, followers_first=1000))
    assert (gained.new_followers, gained.new_followers_basis, gained.lost_followers) == (40, "gained", 10)
    x = channel_kpis("x", "u", "2026-11", PlatformFigures(followers_end=1030, followers_first=1010), followers_before=1000)
    assert (x.new_followers, x.new_followers_basis) == (30, "net")
    first = channel_kpis("x", "u", "2026-11", PlatformFigures(followers_end=1030, followers_first=1010))
    assert first.new_followers is None and first.missing["new_followers"] == "partial"  # counted since mid-month
    # a platform that reports follows is never given a difference instead
    assert channel_kpis("facebook", "p", "2026-11", PlatformFigures(followers_end=1030, followers_first=1000),
                        followers_before=990).new_followers is None


def test_event_figures_give_posts_per_week_response_rate_and_removals() -> None:
    events = EventFigures(posts=13, late_friday_posts=2, needing_answer=10, answered=9, met=8, breached=2,
                          comments=200, removed={"personuppgifter": 3, "spam och upprepade inlägg": 1})
    kpis = channel_kpis("facebook", "p", "2026-11", None, events)
    assert kpis.posts_per_week == pytest.approx(13 / (30 / 7))
    assert kpis.response_rate == 0.9 and kpis.compliance == 0.8
    assert kpis.removed == 4 and kpis.removed_share == 0.02


def channel(platform: str, **figures) -> ChannelKpis:
    events = figures.pop("events", EventFigures())
    return channel_kpis(platform, platform, "2026-11", PlatformFigures(**figures), events)


def test_a_group_adds_counts_keeps_reach_per_platform_and_takes_rates_over_the_sums() -> None:
    channels = [
        channel("facebook", reach_days=30, reach_day_sum=30_000, reactions=90, comments=10, followers_end=1000,
                events=EventFigures(posts=10, needing_answer=4, answered=4, met=3, breached=1,
                                    median_response_working_seconds=3600, removed={"hot": 1})),
        channel("facebook", reach_days=30, reach_day_sum=15_000, reactions=10, followers_end=1000),
        channel("linkedin", month_reach=5000, reactions=50, followers_end=3000,
                events=EventFigures(posts=2, removed={"hot": 2, "spam och upprepade inlägg": 1})),
        channel("x", followers_end=500),
    ]
    group = group_kpis("2026-11", channels, median_working_seconds=5400)
    assert group.reach_by_platform["facebook"].value == 1500.0 and group.reach_by_platform["facebook"].accounts == 2
    assert group.reach_by_platform["linkedin"].basis == "month" and "x" not in group.reach_by_platform
    assert group.interactions == 160 and group.followers == 5500
    assert group.engagement_rate == pytest.approx(160 / 5000)  # X gave no interactions: not in the base either
    assert group.posts == 12 and group.compliance == 0.75 and group.median_response_working_seconds == 5400
    assert group.removed == {"hot": 3, "spam och upprepade inlägg": 1}
    assert group.link_clicks is None  # nobody gave link clicks: missing, not 0


def test_removal_reasons_follow_the_guideline() -> None:
    assert removal_reason("abuse.threat") == "hot"
    assert removal_reason("abuse.insult") == "kränkningar"
    assert removal_reason("personal_data.personnummer") == "personuppgifter"
    assert removal_reason(None) == "borttagen av redaktör"
    assert removal_reason("something.new") == "annat"


# --- accounts that go quiet -----------------------------------------------------------------------

SINCE = NOW - timedelta(days=400)


def weekly(n: int, per_week: float, end: datetime = NOW) -> list[datetime]:
    step = WEEK / per_week
    return [end - step * (i + 0.5) for i in range(int(n * per_week))]


def test_two_posts_a_week_is_not_quiet() -> None:
    state, notices = evaluate_publishing(PublishingState(), weekly(8, 2), NOW, observed_since=SINCE)
    assert state.status == "active" and notices == [] and state.posts_in_period == 8


def test_fewer_than_two_a_week_over_four_weeks_flags_it_once() -> None:
    posts = weekly(4, 1) + weekly(4, 3, end=NOW - 4 * WEEK)  # quiet only in the last four weeks
    state, notices = evaluate_publishing(PublishingState(), posts, NOW, observed_since=SINCE)
    assert state.status == "flagged" and notices == ["flagged"] and state.posts_in_period == 4
    assert state.quiet_since == NOW - 4 * WEEK
    again, notices = evaluate_publishing(state, posts, NOW + timedelta(hours=1), observed_since=SINCE)
    assert again.status == "flagged" and notices == []


def test_a_second_quiet_period_escalates() -> None:
    posts = weekly(4, 1, end=NOW - WEEK) + weekly(4, 3, end=NOW - 5 * WEEK)
    flagged, _ = evaluate_publishing(PublishingState(), posts, NOW - WEEK, observed_since=SINCE)
    assert flagged.status == "flagged"
    later, notices = evaluate_publishing(flagged, posts, NOW - WEEK + 4 * WEEK, observed_since=SINCE)
    assert later.status == "escalated" and notices == ["escalated"]


def test_two_quiet_periods_already_seen_flag_and_escalate_at_once() -> None:
    state, notices = evaluate_publishing(PublishingState(), weekly(9, 1), NOW, observed_since=SINCE)
    assert state.status == "escalated" and notices == ["flagged", "escalated"]


def test_publishing_again_clears_the_flag_and_restarts_the_measure() -> None:
    posts = weekly(9, 1)
    escalated, _ = evaluate_publishing(PublishingState(), posts, NOW, observed_since=SINCE)
    post = NOW + timedelta(days=2)
    cleared, notices = evaluate_publishing(escalated, [*posts, post], NOW + timedelta(days=3), observed_since=SINCE)
    assert cleared.status == "active" and notices == ["cleared"] and cleared.cleared_at == post
    # quiet again only once a whole period has passed since the clearing post
    soon, _ = evaluate_publishing(cleared, [*posts, post], post + 3 * WEEK, observed_since=SINCE)
    assert soon.status == "active"
    later, notices = evaluate_publishing(cleared, [*posts, post], post + 4 * WEEK + timedelta(hours=1),
                                         observed_since=SINCE)
    assert later.status == "flagged" and notices == ["flagged"]


def test_an_account_is_judged_only_over_time_that_was_observed() -> None:
    state, notices = evaluate_publishing(PublishingState(), [], NOW, observed_since=NOW - 3 * WEEK)
    assert state.status == "active" and notices == []
    state, notices = evaluate_publishing(PublishingState(), [], NOW, observed_since=NOW - 5 * WEEK)
    assert state.status == "flagged" and notices == ["flagged"]


def test_the_period_and_minimum_are_configurable() -> None:
    posts = weekly(2, 1.5)
    state, _ = evaluate_publishing(PublishingState(), posts, NOW, observed_since=SINCE, period=2 * WEEK,
                                   min_posts_per_week=1)
    assert state.status == "active"
    state, _ = evaluate_publishing(PublishingState(), posts, NOW, observed_since=SINCE, period=2 * WEEK)
    assert state.status == "escalated"  # 3 posts in two weeks, none in the two before


def test_a_month_read_only_in_part_has_no_sums_rather_than_too_small_ones() -> None:
    from datetime import date

    figures = PlatformFigures(reach_days=10, reach_day_sum=10_000, new_followers=30, followers_end=900, reactions=50,
                              comments=5, post_reach=2000, interactions_on_reached_posts=55, posts=4)
    started = channel_kpis("facebook", "p", "2026-11", figures, days_from=date(2026, 11, 21),
                           posts_from=datetime(2026, 11, 21, tzinfo=UTC))
    assert started.reach == 1000.0 and started.followers == 900  # an average and a count at the end still hold
    assert started.new_followers is None and started.missing["new_followers"] == "partial"
    assert started.interactions is None and started.missing["interactions"] == "partial"
    assert started.engagement_rate_by_reach is None and started.missing["saves"] == "not_on_platform"
    later = channel_kpis("facebook", "p", "2026-12", figures, days_from=date(2026, 11, 21),
                         posts_from=datetime(2026, 11, 21, tzinfo=UTC))
    assert later.interactions == 55 and later.new_followers == 30


def test_posts_a_week_count_only_the_weeks_observed() -> None:
    from socialops_sla.report import observed_weeks

    events = EventFigures(posts=6)
    whole = channel_kpis("facebook", "p", "2026-11", None, events)
    assert whole.posts_per_week == pytest.approx(6 / (30 / 7))
    seen_from = datetime(2026, 11, 16, tzinfo=STOCKHOLM)
    half = channel_kpis("facebook", "p", "2026-11", None, events,
                        observed_weeks=observed_weeks("2026-11", seen_from, None))
    assert half.posts_per_week == pytest.approx(6 / (15 / 7))
    so_far = observed_weeks("2026-11", None, datetime(2026, 11, 8, tzinfo=STOCKHOLM))
    assert so_far == pytest.approx(1.0)
    unseen = channel_kpis("facebook", "p", "2026-10", None, events, observed_weeks=observed_weeks("2026-10", seen_from, None))
    assert unseen.posts_per_week is None and unseen.late_friday_posts is None
    a_day = channel_kpis("facebook", "p", "2026-11", None, EventFigures(posts=2), observed_weeks=1 / 7)
    assert a_day.posts_per_week == 2.0  # a day's posts are not made a week's rate
