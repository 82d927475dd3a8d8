"""Broker factory and small Kafka helpers every service uses.

Producers use `acks=all` and no idempotence/transactions: that is what both Apache Kafka and the
local test broker support, and every consumer is idempotent anyway (at-least-once delivery).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from .events import DeadLetter, deterministic_id, utc_now
from .settings import CommonSettings
from .topics import ALL_TOPICS, DEADLETTER, TopicSpec


def make_broker(settings: CommonSettings, service: str, **kwargs: Any) -> KafkaBroker:
    """The FastStream broker a service runs on (publishers use acks=all)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"{settings.kafka_client_id_prefix}-{service}",
        acks="all",
        enable_idempotence=False,
        request_timeout_ms=settings.kafka_request_timeout_ms,
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
