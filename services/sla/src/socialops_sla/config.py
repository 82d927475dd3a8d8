"""SLA settings (environment variables prefixed `SOCIALOPS_`), and the injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from socialops_common.settings import CommonSettings


class SlaSettings(CommonSettings):
    sla_consumer_group: str = "socialops-sla"
    sla_at_risk_working_hours: float = 2.0  # at risk when this much working time is left
    sla_min_posts_per_week: int = 2  # Stockholm: "minst ett par gånger i veckan"
    sla_inactive_review_weeks: int = 4  # inactive this many weeks in a row -> reported for review
    sla_scheduler_poll_seconds: float = 0.25  # longest sleep between scheduler passes
    sla_catch_up_timeout_seconds: float = 30.0  # after start, breach only once the backlog is read (or this passed)
    sla_batch_size: int = 2000  # Kafka records handled per database transaction
    sla_refresh_seconds: float = 15.0  # how often the database-derived gauges are refreshed


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: tests and the benchmark put deadlines in reach."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant

    def advance(self, by: timedelta) -> None:
        self._now += by
