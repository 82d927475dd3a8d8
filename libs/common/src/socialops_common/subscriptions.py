"""Batch subscribers on FastStream that commit only what is durable.

Every consumer group of the platform that works in batches is declared with
`guarded_batch_subscriber`: a FastStream batch subscriber with manual acknowledgement whose one
handler gives the polled batch to the service's `BatchGuard` (socialops_common.resilience) and
commits the offsets only when the guard returns — each record then handled or dead-lettered. So
the guard's semantics (circuit while the database or broker is down, the batch held; poison → dead
letter after N attempts) stay as they were, and FastStream owns the loop, the reconnects, the
graceful stop (the batch in hand is finished, up to the broker's `graceful_timeout`) and the
metrics middleware.

Why not FastStream's `AckPolicy.ACK` or `NACK_ON_ERROR`: a batch whose handler fails must be read
again, not skipped. FastStream acknowledges a Kafka message by committing the consumer's position,
which has already moved past the failed batch; here a failure seeks each partition back to the
batch's first record (`nack`) before the next poll, and waits with backoff so a failing dependency
is not hammered.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.middlewares import AckPolicy

from .kafka import consumer_fetch_options
from .resilience import Backoff, BatchGuard
from .settings import CommonSettings

log = structlog.get_logger("subscriptions")


def guarded_batch_subscriber(
    broker: KafkaBroker,
    *topics: str,
    group_id: str,
    guard: BatchGuard[ConsumerRecord],
    title: str,
    description: str,
    max_records: int = 500,
    batch_timeout_ms: int = 200,
    settings: CommonSettings | None = None,
    backoff: Backoff | None = None,
) -> BatchSubscriber:
    """Declare the group's batch subscriber on `broker`; returns it (its `.consumer` once started)."""
    retry = backoff or Backoff(1.0, 30.0)
    subscriber = broker.subscriber(
        *topics,
        batch=True,
        group_id=group_id,
        auto_offset_reset="earliest",
        max_records=max_records,
        max_poll_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        ack_policy=AckPolicy.MANUAL,
        title=title,
        description=description,
        **consumer_fetch_options(settings),
    )

    @subscriber
    async def on_batch(message: KafkaMessage) -> None:
        records: tuple[ConsumerRecord, ...] = message.raw_message  # a batch subscriber's raw message
        try:
            await guard.handle(records)  # returns once each record is handled or dead-lettered
            await message.ack()  # commit: only now
        except Exception as error:  # noqa: BLE001 - the batch is read again, whatever went wrong
            with contextlib.suppress(Exception):  # a partition revoked meanwhile: its new owner reads it
                await message.nack()
            delay = retry.next()
            log.warning("batch not committed; it will be read again", group=group_id, records=len(records),
                        retry_in_s=delay, error=repr(error)[:300])
            await _pause_while_running(subscriber, delay)
            return
        retry.reset()

    return subscriber


async def _pause_while_running(subscriber: BatchSubscriber, delay_s: float) -> None:
    """The retry's wait, cut short by a stop (which waits for the handler in hand)."""
    loop = asyncio.get_running_loop()
    until = loop.time() + delay_s
    while subscriber.running and loop.time() < until:  # noqa: ASYNC110 - a stop is a flag on the subscriber, no event
        await asyncio.sleep(min(0.2, until - loop.time()))


async def stop_broker(broker: KafkaBroker, grace_s: float) -> None:
    """Stop a service's broker: the batches in hand finish (up to its graceful_timeout), then the
    consumers leave their groups. Bounded: with the broker gone a consumer's goodbye to its group
    coordinator can wait forever, and a process asked to stop must stop (nothing uncommitted is
    lost: it is read again after the restart)."""
    try:
        await asyncio.wait_for(broker.stop(), grace_s + 5.0)
    except TimeoutError:
        log.warning("broker did not stop in time; leaving its consumers behind", grace_s=grace_s)


async def has_caught_up(subscriber: BatchSubscriber) -> bool:
    """Whether the subscriber's group has committed up to the end of every partition it is assigned
    (the backlog it found on start is handled and durable); False before it has partitions."""
    consumer = subscriber.consumer
    if consumer is None or not subscriber.running:
        return False
    assigned = list(consumer.assignment())
    if not assigned:
        return False
    ends = await consumer.end_offsets(assigned)
    for partition in assigned:
        if ends[partition] > (await consumer.committed(partition) or 0):
            return False
    return True
