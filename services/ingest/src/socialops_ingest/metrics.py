"""Prometheus metrics of the ingest service (names are part of the ops contract: see docs/operations.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("socialops_ingest_events_total", "Canonical events published", ["platform", "kind"])
WEBHOOKS = Counter("socialops_ingest_webhooks_total", "Webhook POSTs answered, by HTTP status", ["platform", "status"])
SIGNATURES_REJECTED = Counter(
    "socialops_ingest_signatures_rejected_total", "Webhook POSTs refused for a missing or wrong signature", ["platform"]
)
HANDSHAKES = Counter("socialops_ingest_handshakes_total", "Subscription handshakes answered", ["platform", "outcome"])
DEAD_LETTERED = Counter(
    "socialops_ingest_deadlettered_total", "Authentic webhook bodies sent to social.deadletter.v1", ["platform"]
)
IGNORED = Counter(
    "socialops_ingest_ignored_total", "Entries understood but outside the event model (likes, read receipts)",
    ["platform", "reason"],
)
UNKNOWN_ACCOUNT = Counter(
    "socialops_ingest_unknown_account_events_total", "Events for accounts missing from the inventory", ["platform"]
)
BROKER_UNAVAILABLE = Counter(
    "socialops_ingest_broker_unavailable_total", "Webhooks answered 503 because the broker did not acknowledge",
    ["platform"],
)
PUBLISH_SECONDS = Histogram(
    "socialops_ingest_publish_seconds", "Time from first send to the broker's acks=all acknowledgement of a webhook",
    ["platform"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBHOOK_SECONDS = Histogram(
    "socialops_ingest_webhook_seconds", "Webhook handling time (verify, normalise, publish)", ["platform"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# --- the insights poller (`socialops-ingest poll`) ------------------------------------------------
INSIGHTS_POLLS = Counter(
    "socialops_insights_polls_total", "Account polls by outcome (ok, no_token, token_expired, rate_limited, failing)",
    ["platform", "outcome"],
)
INSIGHTS_SNAPSHOTS = Counter(
    "socialops_insights_snapshots_total", "Metric snapshots published (every version, before consumers dedupe)",
    ["platform", "level"],
)
INSIGHTS_REQUESTS = Counter("socialops_insights_requests_total", "Insights API requests sent", ["platform"])
INSIGHTS_RATE_LIMITED = Counter(
    "socialops_insights_rate_limited_total", "Polls stopped by a platform rate limit (Graph 4/17/32/613, HTTP 429)",
    ["platform"],
)
INSIGHTS_ACCOUNT_STATE = Gauge(
    "socialops_insights_account_state", "1 for the state the account's polling is in now, 0 for the others",
    ["platform", "account", "state"],
)
INSIGHTS_LAST_SUCCESS = Gauge(
    "socialops_insights_last_success_timestamp_seconds", "When the account was last polled in full (unix time)",
    ["platform", "account"],
)
INSIGHTS_INVALID_METRIC = Gauge(
    "socialops_insights_invalid_metric", "1 while the platform refuses a configured metric as invalid (removed)",
    ["platform", "metric"],
)
INSIGHTS_LAST_CYCLE = Gauge(
    "socialops_insights_last_cycle_timestamp_seconds", "When the poller last finished a cycle over the inventory")
