"""`socialops-topics`: create the topics (the compose stack's one-shot `topics` job).

The layout is `socialops_common.topics.ALL_TOPICS`; a deployment changes it by configuration, not
code: `SOCIALOPS_TOPIC_PARTITIONS` ("social.events.v1=24,social.sla.v1=24"),
`SOCIALOPS_TOPIC_RETENTION_DAYS` ("social.deadletter.v1=365"), `SOCIALOPS_TOPIC_REPLICATION_FACTOR`
(3 on the 3-broker cluster) and `SOCIALOPS_TOPIC_MIN_INSYNC_REPLICAS` (2 there: with acks=all a
write then survives one broker down, and is refused rather than kept on one copy only).

Safe on every start: missing topics are created; an existing topic with fewer partitions than
configured is grown (Kafka cannot shrink a topic; more partitions = more consumers of one group
working in parallel — note that keys move to other partitions, see docs/operations.md, scaling).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace

from .settings import CommonSettings
from .topics import ALL_TOPICS, TopicSpec

DAY_MS = 24 * 3600 * 1000


class TopicSettings(CommonSettings):
    topic_replication_factor: int = 1
    topic_min_insync_replicas: int | None = None  # None: the broker's default
    topic_partitions: str = ""  # "name=count,..." overrides of ALL_TOPICS
    topic_retention_days: str = ""  # "name=days,..." overrides of ALL_TOPICS


def _pairs(text: str, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{what}: expected name=value, got {part!r}")
        pairs[name.strip()] = value.strip()
    known = {t.name for t in ALL_TOPICS}
    unknown = sorted(set(pairs) - known)
    if unknown:
        raise ValueError(f"{what}: unknown topic(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return pairs


def configured_topics(settings: TopicSettings) -> tuple[TopicSpec, ...]:
    """ALL_TOPICS with the deployment's partitions, retention and min.insync.replicas applied."""
    partitions = {name: int(v) for name, v in _pairs(settings.topic_partitions, "partitions").items()}
    retention = {name: float(v) for name, v in _pairs(settings.topic_retention_days, "retention").items()}
    if settings.topic_min_insync_replicas and settings.topic_min_insync_replicas > settings.topic_replication_factor:
        raise ValueError("min.insync.replicas cannot exceed the replication factor (every write would be refused)")
    specs = []
    for spec in ALL_TOPICS:
        config = dict(spec.config)
        if spec.name in retention:
            if config.get("cleanup.policy") == "compact":
                raise ValueError(f"{spec.name} is compacted: it keeps the latest value per key, not a time window")
            config["retention.ms"] = str(int(retention[spec.name] * DAY_MS))
        if settings.topic_min_insync_replicas:
            config["min.insync.replicas"] = str(settings.topic_min_insync_replicas)
        count = partitions.get(spec.name, spec.partitions)
        if count < 1:
            raise ValueError(f"{spec.name}: partitions must be at least 1")
        specs.append(replace(spec, partitions=count, config=config))
    return tuple(specs)


async def apply_topics(bootstrap: str, specs: tuple[TopicSpec, ...], replication_factor: int) -> list[str]:
    """Create what is missing, grow what has too few partitions; returns what was done."""
    from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
    from aiokafka.errors import IncompatibleBrokerVersion

    from .kafka import ensure_topics

    await ensure_topics(bootstrap, specs, replication_factor=replication_factor)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="socialops-topics")
    await admin.start()
    try:
        described = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics([s.name for s in specs])}
        grow = partitions_to_grow(described, specs)
        if grow:
            try:
                await admin.create_partitions({name: NewPartitions(new) for name, (_, new) in grow.items()})
            except IncompatibleBrokerVersion as error:
                raise RuntimeError(f"this broker cannot add partitions (CreatePartitions unsupported): {sorted(grow)}; "
                                   "Apache Kafka can") from error
    finally:
        await admin.close()
    return [f"{name}: {old} -> {new} partitions" for name, (old, new) in grow.items()]


def partitions_to_grow(existing: dict[str, int], specs: tuple[TopicSpec, ...]) -> dict[str, tuple[int, int]]:
    """Topics with fewer partitions than configured: name -> (now, wanted). Fewer wanted is ignored
    (Kafka cannot shrink a topic) and reported by `main`."""
    return {s.name: (existing[s.name], s.partitions) for s in specs
            if s.name in existing and existing[s.name] < s.partitions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-topics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", help="default: SOCIALOPS_KAFKA_BOOTSTRAP")
    parser.add_argument("--dry-run", action="store_true", help="print the layout, do not touch the broker")
    args = parser.parse_args(argv)
    settings = TopicSettings()
    try:
        specs = configured_topics(settings)
    except ValueError as error:
        print(f"socialops-topics: {error}", file=sys.stderr)
        return 2
    for spec in specs:
        print(f"{spec.name}: {spec.partitions} partitions, replication {settings.topic_replication_factor}, "
              + ", ".join(f"{k}={v}" for k, v in sorted(spec.config.items())))
    if args.dry_run:
        return 0
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    try:
        done = asyncio.run(apply_topics(bootstrap, specs, settings.topic_replication_factor))
    except RuntimeError as error:
        print(f"socialops-topics: {error}", file=sys.stderr)
        return 1
    for line in done:
        print(line)
    print(f"topics ready on {bootstrap}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
