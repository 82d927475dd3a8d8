"""Publishing frequency, late-Friday flag and monthly KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from socialops_sla.calendar import STOCKHOLM
from socialops_sla.followup import Snapshot, is_late_friday, month_bounds, monthly_kpis, publishing_status

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_two_posts_a_week_is_active() -> None:
    status = publishing_status([NOW - timedelta(days=1), NOW - timedelta(days=3)], NOW)
    assert status.posts_last_7_days == 2 and not status.inactive and status.inactive_weeks == 0


def test_one_post_a_week_is_inactive_and_after_n_weeks_reported_for_review() -> None:
    posts = [NOW - timedelta(days=2 + 7 * week) for week in range(6)]
    status = publishing_status(posts, NOW, review_after_weeks=4)
    assert status.inactive and status.inactive_weeks == 4 and status.review
    short = publishing_status(posts[:2] + [NOW - timedelta(days=15), NOW - timedelta(days=16)], NOW, review_after_weeks=4)
    assert short.inactive and short.inactive_weeks == 2 and not short.review


def test_a_new_account_is_not_reported_before_it_has_had_the_weeks() -> None:
    status = publishing_status([], NOW, review_after_weeks=4, active_since=NOW - timedelta(days=10))
    assert status.inactive and status.inactive_weeks == 1 and not status.review


def test_late_friday() -> None:
    assert is_late_friday(datetime(2026, 11, 27, 15, 0, tzinfo=STOCKHOLM))
    assert is_late_friday(datetime(2026, 11, 27, 22, 0, tzinfo=STOCKHOLM))
    assert not is_late_friday(datetime(2026, 11, 27, 14, 59, tzinfo=STOCKHOLM))
    assert not is_late_friday(datetime(2026, 11, 26, 16, 0, tzinfo=STOCKHOLM))
    # 14:30 UTC on a winter Friday is 15:30 in Stockholm
    assert is_late_friday(datetime(2026, 11, 27, 14, 30, tzinfo=UTC))


def test_month_bounds_are_local() -> None:
    start, end = month_bounds("2026-12")
    assert start == datetime(2026, 12, 1, tzinfo=STOCKHOLM) and end == datetime(2027, 1, 1, tzinfo=STOCKHOLM)
    with pytest.raises(ValueError):
        month_bounds("2026-13")


def test_monthly_kpis_from_daily_snapshots() -> None:
    day = lambda d, **kw: Snapshot(datetime(2026, 11, d, 23, tzinfo=UTC), "day", **kw)  # noqa: E731
    snapshots = [
        Snapshot(datetime(2026, 10, 31, 12, tzinfo=UTC), "day", reach=999, interactions=99, followers=1000),
        day(1, reach=100, interactions=10, followers=1010),
        day(2, reach=200, interactions=30, followers=1050),
        Snapshot(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "day", reach=5, interactions=5, followers=2000),
    ]
    kpis = monthly_kpis(snapshots, "2026-11")
    # 30 Nov 23:30 UTC is already 1 December in Stockholm: outside November
    assert (kpis.reach, kpis.interactions, kpis.followers, kpis.new_followers) == (300, 40, 1050, 50)
    assert kpis.engagement_rate == pytest.approx(40 / 1050)


def test_a_monthly_snapshot_wins_over_summed_days() -> None:
    snapshots = [
        Snapshot(datetime(2026, 11, 2, tzinfo=UTC), "day", reach=100, interactions=10, followers=500),
        Snapshot(datetime(2026, 11, 29, tzinfo=UTC), "month", reach=700, interactions=80, followers=520),
    ]
    kpis = monthly_kpis(snapshots, "2026-11")
    assert (kpis.reach, kpis.interactions, kpis.new_followers) == (700, 80, 20)


def test_empty_month() -> None:
    kpis = monthly_kpis([], "2026-11")
    assert kpis.reach is None and kpis.engagement_rate is None and kpis.snapshots == 0
