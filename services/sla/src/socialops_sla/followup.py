"""Follow-up of the accounts: publishing frequency, late-Friday posts, monthly channel KPIs. Pure.

Sources:
- seeds/000_5bef728e9d0aa8f0.txt (Stockholm, comments on the policy): "publiceringsfrekvensen för
  inlägg på Stockholms stads konton bör vara minst ett par gånger i veckan. Det skulle vara en
  fördel om policyn även anger hur konton som över tid har för låg publiceringsfrekvens kommer att
  hanteras." -> below `min_posts_per_week` (default 2) an account is inactive; inactive for
  `review_after_weeks` weeks in a row it is reported for review.
- seeds/001_206af399bca50804.txt, "Svara så fort som möjligt": "Undvik att publicera laddat
  innehåll sent på fredagar" -> posts on Friday from 15:00 local time are flagged.
- seeds/001_206af399bca50804.txt, "Mätning och uppföljning": "För en kanal i sin helhet
  rekommenderar vi att man mäter uppnådd räckvidd och interaktion samt engagemang månadsvis. Man
  kan också titta på antalet nya följare" -> monthly reach, interactions, engagement rate
  (interactions / followers) and new followers per channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .calendar import STOCKHOLM

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class PublishingStatus:
    posts_last_7_days: int
    inactive: bool
    inactive_weeks: int  # consecutive 7-day windows, newest first, below the minimum
    review: bool


def publishing_status(
    published: Iterable[datetime],
    now: datetime,
    *,
    min_posts_per_week: int = 2,
    review_after_weeks: int = 4,
    active_since: datetime | None = None,
) -> PublishingStatus:
    """Posts in the last 7 days, and for how many 7-day windows in a row the account fell short.

    Windows before `active_since` (the account's start) are not counted against it.
    """
    times = [t for t in published if t <= now]
    counts: list[int] = []
    for week in range(max(review_after_weeks, 1)):
        end = now - week * WEEK
        start = end - WEEK
        if active_since is not None and start < active_since:
            break
        counts.append(sum(1 for t in times if start < t <= end))
    last_7 = sum(1 for t in times if now - WEEK < t <= now)
    inactive_weeks = 0
    for count in counts:
        if count >= min_posts_per_week:
            break
        inactive_weeks += 1
    return PublishingStatus(
        posts_last_7_days=last_7,
        inactive=last_7 < min_posts_per_week,
        inactive_weeks=inactive_weeks,
        review=inactive_weeks >= review_after_weeks,
    )


def is_late_friday(published_at: datetime, tz: ZoneInfo = STOCKHOLM, from_time: time = time(15)) -> bool:
    """A post on a Friday from 15:00 local time: comments wait until Monday at the earliest."""
    local = published_at.astimezone(tz)
    return local.weekday() == 4 and local.time() >= from_time


@dataclass(frozen=True)
class Snapshot:
    """One account-level metrics snapshot (platform insights at one time)."""

    taken_at: datetime
    period: str
    reach: int | None = None
    impressions: int | None = None
    interactions: int | None = None
    followers: int | None = None


@dataclass(frozen=True)
class MonthlyKpis:
    month: str
    reach: int | None
    interactions: int | None
    followers: int | None
    new_followers: int | None
    engagement_rate: float | None
    snapshots: int


def month_bounds(month: str, tz: ZoneInfo = STOCKHOLM) -> tuple[datetime, datetime]:
    """'2026-11' -> [first instant, first instant of next month) in local time."""
    year, number = (int(part) for part in month.split("-"))
    if not (1 <= number <= 12):
        raise ValueError(f"not a month: {month!r}")
    start = datetime.combine(date(year, number, 1), time(0), tz)
    end = datetime.combine(date(year + number // 12, number % 12 + 1, 1), time(0), tz)
    return start, end


def monthly_kpis(snapshots: Sequence[Snapshot], month: str, tz: ZoneInfo = STOCKHOLM) -> MonthlyKpis:
    """Channel KPIs for one month from account-level snapshots.

    - reach / interactions: the latest `month` snapshot taken in the month when there is one,
      else the sum of the `day` snapshots in the month (reach summed over days counts a person
      once per day: the platforms only give unique monthly reach in a monthly snapshot);
    - followers: the last follower count in the month; new followers: that minus the last count
      before the month (or the first count in the month when nothing earlier is known);
    - engagement rate = interactions / followers.
    """
    start, end = month_bounds(month, tz)
    ordered = sorted(snapshots, key=lambda s: s.taken_at)
    inside = [s for s in ordered if start <= s.taken_at < end]
    monthly = [s for s in inside if s.period == "month"]
    daily = [s for s in inside if s.period == "day"]

    def total(field: str) -> int | None:
        if monthly and getattr(monthly[-1], field) is not None:
            return getattr(monthly[-1], field)
        values = [getattr(s, field) for s in daily if getattr(s, field) is not None]
        return sum(values) if values else None

    reach, interactions = total("reach"), total("interactions")
    counts_inside = [s.followers for s in inside if s.followers is not None]
    counts_before = [s.followers for s in ordered if s.taken_at < start and s.followers is not None]
    followers = counts_inside[-1] if counts_inside else None
    baseline = counts_before[-1] if counts_before else (counts_inside[0] if counts_inside else None)
    new_followers = followers - baseline if followers is not None and baseline is not None else None
    rate = interactions / followers if interactions is not None and followers else None
    return MonthlyKpis(month, reach, interactions, followers, new_followers, rate, len(inside))
