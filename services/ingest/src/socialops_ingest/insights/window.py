"""Which days and posts one poll of one account reads. Pure.

Platforms deliver insights late (up to 48 hours) and revise them, so every poll reads the last
`repoll_days` complete days again (default 3); after an outage it goes back to the last day it had
read in full (`covered_until`, from the status topic) minus the same margin, so nothing is skipped;
an account polled for the first time is read `backfill_days` back, within what the platform keeps.
Posts are re-read while they are `post_window_days` old (their lifetime figures still grow).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

# How far back each platform answers (its documentation): Meta keeps two years of insights,
# LinkedIn's share statistics a rolling 12 months; X keeps no follower history at all.
HISTORY_DAYS = {"facebook": 730, "instagram": 730, "linkedin": 365, "x": 0}


@dataclass(frozen=True)
class PollWindow:
    first_day: date
    last_day: date  # the last complete day (yesterday, local time)
    today: date
    posts_since: datetime
    now: datetime

    @property
    def days(self) -> list[date]:
        span = (self.last_day - self.first_day).days
        return [self.first_day + timedelta(days=n) for n in range(span + 1)] if span >= 0 else []


def poll_window(platform: str, now: datetime, today: date, covered_until: date | None, *, repoll_days: int = 3,
                backfill_days: int = 30, post_window_days: int = 35) -> PollWindow:
    last = today - timedelta(days=1)
    if covered_until is None:
        first = today - timedelta(days=max(repoll_days, backfill_days))
    else:
        first = min(today - timedelta(days=repoll_days), covered_until - timedelta(days=repoll_days - 1))
    oldest = today - timedelta(days=HISTORY_DAYS.get(platform, 730))
    first = max(first, oldest) if HISTORY_DAYS.get(platform, 730) else today  # no history: nothing by day
    post_days = post_window_days if covered_until is not None else max(post_window_days, backfill_days)
    return PollWindow(first, last, today, now - timedelta(days=post_days), now)


def chunks(days: list[date], size: int) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges of at most `size` days (platform request limits)."""
    return [(days[i], days[min(i + size, len(days)) - 1]) for i in range(0, len(days), size)]
