"""SLA settings (environment variables prefixed `SOCIALOPS_`), and the injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from socialops_common.mail import SmtpSettings
from socialops_common.settings import CommonSettings


class SlaSettings(SmtpSettings, CommonSettings):
    sla_consumer_group: str = "socialops-sla"
    sla_at_risk_working_hours: float = 2.0  # at risk when this much working time is left
    sla_min_posts_per_week: int = 2  # Stockholm: "minst ett par gånger i veckan"
    # Fewer than the minimum a week over this many weeks: the account is flagged (its department
    # is told); a second such period escalates it to the communication department.
    sla_quiet_period_weeks: int = 4
    sla_scheduler_poll_seconds: float = 0.25  # longest sleep between scheduler passes
    sla_catch_up_timeout_seconds: float = 30.0  # after start, breach only once the backlog is read (or this passed)
    sla_batch_size: int = 2000  # Kafka records handled per database transaction
    sla_refresh_seconds: float = 15.0  # how often the database-derived gauges are refreshed
    sla_kpi_refresh_seconds: float = 300.0  # how often the channel KPIs and quiet accounts are computed
    # Mail (SMTP settings: socialops_common.mail): monthly reports go to each department's
    # `department_email` (inventory) on the second working day of the month from this hour; the
    # city's report and escalated publishing notices to the communication department.
    sla_sender_address: str = "uppfoljning@socialops.local"
    sla_communication_email: str | None = None
    sla_report_hour: int = 7
    sla_mail_poll_seconds: float = 30.0
    sla_closure_checklist_url: str | None = None  # the city's own page for closing an account, linked in notices


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
