"""Prometheus metrics of the ingest service (names are part of the ops contract: see docs/operations.md)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
