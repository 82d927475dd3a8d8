"""Topic names and their layout. Partition counts and retention live here, as configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

EVENTS = "social.events.v1"  # every canonical platform event, keyed by thread
ACCOUNTS = "social.accounts.v1"  # account inventory, compacted, keyed by platform:external_id
DEADLETTER = "social.deadletter.v1"  # what could not be handled, with the reason
MODERATION = "social.moderation.v1"  # moderation decisions (and reviewers' overrides)
ACTIONS = "social.actions.v1"  # platform action commands and their outcomes
SLA = "social.sla.v1"  # SLA state changes
INSIGHTS = "social.insights.v1"  # insights polling status per account, compacted, keyed by platform:external_id


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


ALL_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(EVENTS, 12, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
    TopicSpec(ACCOUNTS, 1, {"cleanup.policy": "compact"}),
    TopicSpec(DEADLETTER, 3, {"retention.ms": str(90 * 24 * 3600 * 1000)}),
    TopicSpec(MODERATION, 12, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
    TopicSpec(ACTIONS, 6, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
    TopicSpec(SLA, 12, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
    TopicSpec(INSIGHTS, 1, {"cleanup.policy": "compact"}),
)
