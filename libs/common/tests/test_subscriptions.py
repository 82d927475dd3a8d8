"""The guarded batch subscriber on the real broker: offsets are committed only after the guard
returns, and a batch that fails is read again rather than skipped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from socialops_common.kafka import ensure_topics
from socialops_common.lag import measure_lag
from socialops_common.resilience import Backoff, BatchGuard
from socialops_common.subscriptions import guarded_batch_subscriber, has_caught_up, stop_broker
from socialops_common.testing import wait_until
from socialops_common.topics import TopicSpec


class FlakyHandler:
    """Fails its first `failures` attempts, with nowhere to dead-letter to: the guard itself raises."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[list[bytes]] = []
        self.handled: list[bytes] = []

    async def handle(self, records: Sequence[ConsumerRecord]) -> None:
        self.attempts.append([r.value for r in records])
        if len(self.attempts) <= self.failures:
            raise RuntimeError("the database rejected the batch")
        self.handled += [r.value for r in records]

    async def dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        raise ConnectionError("the dead-letter topic cannot be written either")

    async def probe(self) -> None:
        return None  # the dependency answers: the guard counts the failure as the message's


async def _topic_with(bootstrap: str, values: list[bytes]) -> str:
    topic = f"test.subscriptions.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, (TopicSpec(topic, 1),))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()
    return topic


def _subscribed(bootstrap: str, topic: str, group: str, flaky: FlakyHandler) -> tuple[KafkaBroker, BatchSubscriber]:
    broker = KafkaBroker(bootstrap, graceful_timeout=5)
    guard = BatchGuard("test-subscriptions", flaky.handle, flaky.dead_letter, flaky.probe, attempts=1)
    subscriber = guarded_batch_subscriber(broker, topic, group_id=group, guard=guard, title="test", description="test",
                                          max_records=100, batch_timeout_ms=100, backoff=Backoff(0.2, 0.2))
    return broker, subscriber


async def _started(bootstrap: str, values: list[bytes], failures: int
                   ) -> tuple[str, str, FlakyHandler, KafkaBroker, BatchSubscriber]:
    """A fresh topic holding `values`, and a started subscriber of a fresh group on it."""
    topic = await _topic_with(bootstrap, values)
    group = f"test-subscriptions-{uuid.uuid4().hex[:8]}"
    flaky = FlakyHandler(failures=failures)
    broker, subscriber = _subscribed(bootstrap, topic, group, flaky)
    await broker.start()
    return topic, group, flaky, broker, subscriber


async def test_a_failed_batch_is_read_again_and_committed_only_once_handled(kafka_bootstrap: str) -> None:
    values = [f"m{i}".encode() for i in range(5)]
    topic, group, flaky, broker, subscriber = await _started(kafka_bootstrap, values, failures=2)
    try:
        assert await wait_until(lambda: sorted(flaky.handled) == sorted(values), timeout=30)
        assert await wait_until(lambda: has_caught_up(subscriber), timeout=30)
    finally:
        await stop_broker(broker, 5)
    # the batch failed, then its first record alone (the guard looks for the poison one) and, its
    # dead letter failing too, the batch was handed back and read again from its first record
    assert flaky.attempts[0][0] == flaky.attempts[1][0] == flaky.attempts[2][0] == b"m0"
    assert len(flaky.attempts[1]) == 1
    assert flaky.handled == values, "each message handled once, in order, none skipped"
    lag = await measure_lag(kafka_bootstrap, group, [topic])
    assert lag[(topic, 0)] == 0


async def test_nothing_is_committed_while_the_batch_keeps_failing(kafka_bootstrap: str) -> None:
    values = [b"a", b"b", b"c"]
    topic, group, flaky, broker, subscriber = await _started(kafka_bootstrap, values, failures=10_000)
    try:
        assert await wait_until(lambda: len(flaky.attempts) >= 3, timeout=30)
        assert not await has_caught_up(subscriber)
    finally:
        await stop_broker(broker, 5)
    assert all(attempt and attempt[0] == b"a" for attempt in flaky.attempts), "every attempt from the first record"
    lag = await measure_lag(kafka_bootstrap, group, [topic])
    assert lag[(topic, 0)] == len(values), "nothing committed"

    # A restart reads them all again, and this time they are handled.
    flaky_again = FlakyHandler(failures=0)
    broker, _ = _subscribed(kafka_bootstrap, topic, group, flaky_again)
    await broker.start()
    try:
        assert await wait_until(lambda: flaky_again.handled == values, timeout=30)
    finally:
        await stop_broker(broker, 5)
    lag = await measure_lag(kafka_bootstrap, group, [topic])
    assert lag[(topic, 0)] == 0
