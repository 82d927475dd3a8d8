"""SLA settings (environment variables prefixed `SOCIALOPS_`), and the injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from socialops_common.settings import CommonSettings


class SlaSettings(CommonSettings):
    sla_consumer_group: str = "socialops-sla"
    sla_staff_tokens: str = ""  # "token:name,token2:name2" for POST /items/{event_id}/no-answer-needed
    sla_at_risk_working_hours: float = 2.0  # at risk when this much working time is left
    sla_min_posts_per_week: int = 2  # Stockholm: "minst ett par gånger i veckan"
    sla_inactive_review_weeks: int = 4  # inactive this many weeks in a row -> reported for review
    sla_scheduler_poll_seconds: float = 0.25  # longest sleep between scheduler passes
    sla_catch_up_timeout_seconds: float = 30.0  # after start, breach only once the backlog is read (or this passed)
    sla_batch_size: int = 2000  # Kafka records handled per database transaction
    sla_refresh_seconds: float = 15.0  # how often the database-derived gauges are refreshed

    def staff_tokens(self) -> dict[str, str]:
        tokens: dict[str, str] = {}
        for entry in filter(None, (part.strip() for part in self.sla_staff_tokens.split(","))):
            token, _, name = entry.partition(":")
            if not token or not name:
                raise ValueError("SOCIALOPS_SLA_STAFF_TOKENS entries are token:name")
            tokens[token] = name
        return tokens


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
