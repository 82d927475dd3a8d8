"""What one poll read, as canonical metric snapshots. Pure.

A `Reading` is the figures of one metric set (one request's metrics) for one account or post and
one day, month or "lifetime as of" day. It becomes a `metrics.snapshot` SocialEvent whose
`snapshot_id` names the fact and whose event id also covers the figures: polling the same day again
gives the same event (consumers dedupe it), a figure the platform revised gives a new version of
the same snapshot. A field the request asks for and the platform did not give is listed in
`missing`: missing is not zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from socialops_common.events import (
    EventKind,
    MetricSnapshot,
    Platform,
    SocialEvent,
    metric_event_id,
    metric_snapshot_id,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Meta's insights days end at midnight Pacific time (end_time 07:00 or 08:00 UTC).
PACIFIC = ZoneInfo("America/Los_Angeles")


@dataclass
class Reading:
    metric_set: str
    level: Literal["account", "post"]
    period: Literal["day", "month", "lifetime"]
    day: date
    item_id: str
    values: dict[str, int | None] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)  # fields this request is expected to fill
    published_at: datetime | None = None
    permalink: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: int | None) -> None:
        """Several platform metrics may fill one field (X: retweets + quotes = shares)."""
        if value is None:
            return
        self.values[name] = (self.values.get(name) or 0) + value

    @property
    def missing(self) -> list[str]:
        return sorted(name for name in self.asked if self.values.get(name) is None)


def count(value: Any) -> int | None:
    """A count as the platforms send it; anything else (absent, null, text, negative) is unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 0 or value != int(value):
        return None  # Meta sends -1 for counts below its privacy threshold
    return int(value)


def meta_day(end_time: str) -> date | None:
    """The day a Meta insights value belongs to: its end_time is the end of that day, Pacific time."""
    try:
        moment = datetime.fromisoformat(end_time.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except (AttributeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return (moment.astimezone(PACIFIC) - timedelta(hours=12)).date()


def meta_day_bounds(day: date) -> tuple[int, int]:
    """since/until (unix seconds) of one Meta insights day."""
    start = datetime.combine(day, time(0), PACIFIC)
    end = datetime.combine(day + timedelta(days=1), time(0), PACIFIC)
    return int(start.timestamp()), int(end.timestamp())


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def local_today(now: datetime) -> date:
    return now.astimezone(STOCKHOLM).date()


def snapshot_event(platform: Platform, account_id: str, reading: Reading, received_at: datetime) -> SocialEvent:
    sid = metric_snapshot_id(platform, account_id, reading.item_id, reading.metric_set, reading.period, reading.day)
    metrics = MetricSnapshot(
        period=reading.period, level=reading.level, snapshot_id=sid, metric_set=reading.metric_set, day=reading.day,
        published_at=reading.published_at, missing=reading.missing,
        **{name: value for name, value in reading.values.items() if value is not None},
    )
    return SocialEvent(
        event_id=metric_event_id(metrics), kind=EventKind.METRICS_SNAPSHOT, platform=platform,
        account_id=account_id, item_id=reading.item_id,
        thread_id=account_id if reading.level == "account" else reading.item_id,
        permalink=reading.permalink,
        # the day the figures are for (the platform's own day); `metrics.day` is the authority
        occurred_at=datetime.combine(reading.day, time(0), UTC), received_at=received_at,
        metrics=metrics, raw={"metric_set": reading.metric_set, **reading.raw},
    )
