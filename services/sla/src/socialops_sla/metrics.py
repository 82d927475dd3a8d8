"""Prometheus metrics of the SLA service: base units (seconds, ratios), conventional names.

Labels are bounded: `platform` (4 values), `account` (the account's platform id when it is in the
inventory, else "unlisted"), `department` (from the inventory, else "unknown"), `state` (5).
Counters and histograms count what this process did since it started (Prometheus handles
restarts with `rate`/`increase`); the "now" gauges and the 30-day ratios are read from PostgreSQL
by a refresh loop, so they are right after a restart too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

ITEM_LABELS = ("platform", "account", "department")

WORKING_SECONDS_BUCKETS = (300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 6 * 3600, 7 * 3600, 8 * 3600, 9 * 3600,
                           18 * 3600, 27 * 3600)
WALL_SECONDS_BUCKETS = (300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 16 * 3600, 24 * 3600, 48 * 3600,
                        72 * 3600, 96 * 3600, 168 * 3600)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 60.0, 600.0)


# The gauges read from the database: name -> (help, label names)
DATABASE_GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "socialops_sla_items": (
        "Items waiting for an answer now, by state (open, at_risk, breached and still unanswered)",
        ("state", *ITEM_LABELS),
    ),
    "socialops_sla_compliance_ratio": (
        "Share of items that arrived in the last 30 days and were answered in time: met / (met + breached)",
        ITEM_LABELS,
    ),
    "socialops_sla_response_rate_ratio": (
        "Share of items that arrived in the last 30 days and needed an answer that got one",
        ITEM_LABELS,
    ),
    "socialops_sla_account_posts_last_7_days": ("Posts the account published in the last 7 days", ITEM_LABELS),
    "socialops_sla_account_inactive": (
        "1 when the account published fewer than the minimum posts in the last 7 days", ITEM_LABELS),
    "socialops_sla_account_inactive_weeks": (
        "Consecutive 7-day windows in which the account published fewer than the minimum", ITEM_LABELS),
    "socialops_sla_account_quiet": (
        "1 while the account is flagged for publishing too rarely (fewer than the minimum a week over the period)",
        ITEM_LABELS),
    "socialops_sla_account_review_required": (
        "1 when a second quiet period escalated the account to the communication department", ITEM_LABELS),
    "socialops_channel_reach_daily_average": (
        "Average daily reach over the last 28 days (people a day)", ITEM_LABELS),
        "socialops_channel_interactions": (
        "Reactions, comments, shares and saves on the posts published in the last 28 days", ITEM_LABELS),
    "socialops_channel_followers": ("Followers of the channel at the latest figure", ITEM_LABELS),
    "socialops_channel_new_followers": (
        "Followers gained in the last 28 days (X: the net change of the follower count)", ITEM_LABELS),
    "socialops_channel_engagement_ratio": ("Interactions on the last 28 days' posts divided by followers", ITEM_LABELS),
    "socialops_channel_engagement_by_reach_ratio": (
        "Interactions on the last 28 days' posts divided by those posts' reach", ITEM_LABELS),
    "socialops_channel_link_clicks": ("Link clicks on the posts published in the last 28 days", ITEM_LABELS),
    "socialops_channel_video_views": ("Video views of the posts published in the last 28 days", ITEM_LABELS),
    "socialops_channel_posts_per_week": ("Posts a week over the quiet period (default the last 4 weeks)", ITEM_LABELS),
    "socialops_channel_late_friday_posts": ("Posts published on a Friday from 15:00 in the last 28 days", ITEM_LABELS),
    "socialops_channel_insights_state": (
        "1 for the insights poller's state of the account (ok, no_token, token_expired, rate_limited, failing, "
        "no_status)", ("state", *ITEM_LABELS)),
    "socialops_sla_mail_pending": ("E-mails waiting to be sent, by kind", ("kind",)),
    "socialops_sla_outbox_pending_changes": ("State changes written but not yet published to Kafka", ()),
}


@dataclass(eq=False)  # registries key collectors by identity
class DatabaseGauges(Collector):
    """Serves the last refresh of the database-derived gauges (labels that vanish, vanish)."""

    values: dict[str, dict[tuple[str, ...], float]] = field(default_factory=dict)

    def replace(self, name: str, samples: dict[tuple[str, ...], float]) -> None:
        if name not in DATABASE_GAUGES:
            raise KeyError(name)
        self.values[name] = samples

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, (help_text, labels) in DATABASE_GAUGES.items():
            family = GaugeMetricFamily(name, help_text, labels=list(labels))
            for label_values, value in sorted(self.values.get(name, {}).items()):
                family.add_metric(list(label_values), value)
            yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [GaugeMetricFamily(name, help_text, labels=list(labels))
                for name, (help_text, labels) in DATABASE_GAUGES.items()]


class SlaMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.state_changes = Counter(
            "socialops_sla_state_changes", "SLA state changes, by the state entered",
            ["state", *ITEM_LABELS], registry=registry)
        self.response_working = Histogram(
            "socialops_sla_response_working_seconds",
            "Time to first response counted in working time (opening hours of the account's calendar)",
            ITEM_LABELS, buckets=WORKING_SECONDS_BUCKETS, registry=registry)
        self.response_wall = Histogram(
            "socialops_sla_response_seconds", "Time to first response in wall-clock time",
            ITEM_LABELS, buckets=WALL_SECONDS_BUCKETS, registry=registry)
        self.breach_lag = Histogram(
            "socialops_sla_breach_lag_seconds",
            "Delay between an item's deadline (or at-risk instant) and the transition being committed",
            ["state"], buckets=LAG_BUCKETS, registry=registry)
        self.messages = Counter(
            "socialops_sla_messages_consumed", "Messages consumed, by topic and outcome",
            ["topic", "outcome"], registry=registry)
        self.published = Counter(
            "socialops_sla_changes_published", "State changes published to social.sla.v1", registry=registry)
        self.late_friday_posts = Counter(
            "socialops_sla_late_friday_posts", "Posts published on a Friday from 15:00 local time",
            ITEM_LABELS, registry=registry)
        self.scheduler_runs = Counter(
            "socialops_sla_scheduler_runs", "Scheduler passes over due deadlines", registry=registry)
        self.scheduler_last_run = Gauge(
            "socialops_sla_scheduler_last_run_timestamp_seconds", "When the scheduler last ran (unix time)",
            registry=registry)
        self.publishing_notices = Counter(
            "socialops_sla_publishing_notices", "Publishing status changes (flagged, escalated, cleared)",
            ["kind"], registry=registry)
        self.mail_sent = Counter("socialops_sla_mail_sent", "E-mails the relay accepted, by kind", ["kind"],
                                 registry=registry)
        self.mail_failed = Counter("socialops_sla_mail_failed", "E-mail attempts the relay refused or missed, by kind",
                                   ["kind"], registry=registry)
        self.database_gauges = DatabaseGauges()
        registry.register(self.database_gauges)
