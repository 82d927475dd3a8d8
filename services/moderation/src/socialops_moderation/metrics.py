"""Prometheus metrics of the moderation service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DECISIONS = Counter(
    "socialops_moderation_decisions_total", "Decisions published, by rule hit (\"none\" when nothing was found) and action",
    ["rule", "action"],
)
REVIEW_QUEUE = Gauge("socialops_moderation_review_queue_size", "Items waiting for a reviewer")
DECISION_LATENCY = Histogram(
    "socialops_moderation_decision_latency_seconds",
    "From the event reaching the broker (received_at) to its decision being acknowledged",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
ACTIONS = Counter("socialops_moderation_platform_actions_total", "Platform actions carried out", ["platform", "operation", "status"])
PERSON_ACTIONS = Counter(
    "socialops_moderation_person_actions_total",
    "People's replies, likes and notices asked for (accepted: published; repeated: asked before, nothing new sent)",
    ["operation", "result"],
)
REVIEWS = Counter("socialops_moderation_reviews_total", "Reviewer verdicts", ["verdict", "action"])
DEAD_LETTERS = Counter("socialops_moderation_dead_letters_total", "Messages sent to the dead-letter topic", ["source"])
