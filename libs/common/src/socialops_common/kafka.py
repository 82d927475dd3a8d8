"""Broker factory and small Kafka helpers every service uses.

Producers use `acks=all` and no idempotence/transactions: that is what both Apache Kafka and the
local test broker support, and every consumer is idempotent anyway (at-least-once delivery).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import BaseModel

from .events import DeadLetter, deterministic_id, utc_now
from .settings import CommonSettings
from .topics import ALL_TOPICS, DEADLETTER, TopicSpec


def make_broker(settings: CommonSettings, service: str, *, registry: CollectorRegistry = REGISTRY,
                **kwargs: Any) -> KafkaBroker:
    """The FastStream broker a service runs on (publishers use acks=all).

    Not `kafka_request_timeout_ms`: FastStream gives the broker's request timeout to its consumers
    too, and a consumer's JoinGroup waits out the group's rebalance, far longer than a producer's
    send may (the consumers keep aiokafka's default, as before).

    FastStream's Prometheus middleware counts and times what each subscriber receives
    (`faststream_received_messages_total`, `faststream_received_processed_messages_duration_seconds`,
    ... with `app_name` the service) in `registry`, next to the service's own metrics.
    """
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id_prefix}-{service}",
        acks="all",
        enable_idempotence=False,
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=f"socialops-{service}")],
        **kwargs,
    )


def make_producer(settings: CommonSettings, service: str, **kwargs: Any) -> AIOKafkaProducer:
    """A plain aiokafka producer for adapters that need batching control (not started)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "client_id": f"{settings.kafka_client_id_prefix}-{service}",
        "acks": "all",
        "enable_idempotence": False,
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "linger_ms": 2,
    }
    options.update(kwargs)
    return AIOKafkaProducer(**options)


def consumer_fetch_options(settings: CommonSettings | None = None) -> dict[str, Any]:
    """The fetch batching every consumer group of the platform uses (settings kafka_fetch_*)."""
    settings = settings or CommonSettings()
    return {"fetch_min_bytes": settings.kafka_fetch_min_bytes, "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms}


def to_bytes(model: BaseModel) -> bytes:
    return model.model_dump_json().encode("utf-8")


def dead_letter(
    *,
    source: str,
    reason: str,
    payload: bytes | str,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    attempts: int = 1,
) -> DeadLetter:
    """Build the dead letter for a message; its id is stable for the same input and source."""
    if isinstance(payload, bytes):
        try:
            text, encoding = payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(payload).decode("ascii"), "base64"
    else:
        text, encoding = payload, "utf-8"
    key_text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    position = f"{topic}:{partition}:{offset}" if topic is not None else text
    return DeadLetter(
        dead_letter_id=deterministic_id("deadletter", source, position),
        source=source,
        reason=reason,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key_text,
        payload=text,
        payload_encoding=encoding,  # type: ignore[arg-type]
        headers=headers or {},
        attempts=attempts,
        failed_at=utc_now(),
    )


async def publish_dead_letter(producer: AIOKafkaProducer, letter: DeadLetter) -> None:
    await producer.send_and_wait(DEADLETTER, to_bytes(letter), key=letter.dead_letter_id.encode())


async def ensure_topics(
    bootstrap: str,
    topics: tuple[TopicSpec, ...] = ALL_TOPICS,
    replication_factor: int = 1,
    attempts: int = 30,
) -> None:
    """Create the topics that are missing; safe to call on every start."""
    last_error: Exception | None = None
    for _ in range(attempts):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="socialops-admin")
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(t.name, t.partitions, replication_factor, topic_configs=dict(t.config))
                for t in topics
                if t.name not in existing
            ]
            if missing:
                try:
                    await admin.create_topics(missing)
                except TopicAlreadyExistsError:
                    pass
            return
        except Exception as error:  # broker still starting: try again
            last_error = error
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise RuntimeError(f"could not create topics on {bootstrap}: {last_error!r}")


async def read_compacted(bootstrap: str, topic: str, timeout_s: float = 30.0) -> dict[bytes, bytes]:
    """The latest value of every key of a compacted topic, read from the beginning to its end now.

    For state a process keeps on Kafka instead of a database (the insights poller's progress):
    tombstones (None values) remove the key. No consumer group: nothing is committed.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    latest: dict[bytes, bytes] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - a topic created moments ago
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return latest
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        async def behind() -> bool:
            for partition in partitions:
                if await consumer.position(partition) < ends[partition]:
                    return True
            return False

        while await behind():
            if loop.time() > deadline:
                raise TimeoutError(f"{topic} not read to its end in {timeout_s}s")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    if record.key is None:
                        continue
                    if record.value is None:
                        latest.pop(record.key, None)
                    else:
                        latest[record.key] = record.value
    finally:
        await consumer.stop()
    return latest
