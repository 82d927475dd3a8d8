"""The one way ingest writes to Kafka: a batch of records acknowledged by all replicas, or an error.

Every record of a webhook is sent before any is awaited (so aiokafka batches them), then all
acknowledgements are awaited together. Only when every one arrived is the webhook answered 200;
otherwise `BrokerUnavailable` makes it a 503 and the platform redelivers the whole body. Records
that did reach the broker before the failure come again with the same event ids: consumers dedupe.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner, murmur2
from socialops_common.kafka import make_producer
from socialops_common.settings import CommonSettings


@functools.lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    return murmur2(key) & 0x7FFFFFFF


def thread_partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's (Java-compatible) murmur2 placement, memoised per key.

    Keys are threads, and a thread's key comes back with every comment, reply and edit in it:
    hashing it once instead of per record (pure-Python murmur2) is a large share of ingest's CPU.
    """
    if key is None:
        return _DEFAULT(key, all_partitions, available)
    return all_partitions[_key_hash(key) % len(all_partitions)]


_DEFAULT = DefaultPartitioner()


class BrokerUnavailable(Exception):
    """The broker did not acknowledge in time: answer 503 so the platform retries."""


def dead_letter_room(max_body_bytes: int) -> int:
    """Largest request the producer may send: a dead letter holds a whole body, JSON-escaped.

    Escaping can grow a body up to 6x (control characters become \\u00XX); the broker's
    `message.max.bytes` must allow as much (docker-compose.yml sets it).
    """
    return 6 * max_body_bytes + 256 * 1024


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes


class EventPublisher:
    def __init__(self, settings: CommonSettings, *, timeout_s: float = 5.0, max_request_bytes: int = 4 * 1024 * 1024,
                 service: str = "ingest") -> None:
        self._settings = settings
        self._timeout_s = timeout_s
        self._max_request_bytes = max_request_bytes
        self._service = service
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _connected(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = make_producer(self._settings, self._service, max_request_size=self._max_request_bytes,
                                         linger_ms=1, partitioner=thread_partitioner)
                try:
                    await asyncio.wait_for(producer.start(), self._timeout_s)
                except (TimeoutError, KafkaError, OSError) as error:
                    await _quietly_stop(producer)
                    raise BrokerUnavailable(f"cannot connect to {self._settings.kafka_bootstrap}: {error!r}") from error
                self._producer = producer
        return self._producer

    async def connect(self) -> bool:
        """Connect now if the broker answers (start-up); later publishes retry on their own."""
        try:
            await self._connected()
            return True
        except BrokerUnavailable:
            return False

    async def publish(self, records: Sequence[Record]) -> None:
        if not records:
            return
        producer = await self._connected()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        try:
            async with asyncio.timeout(self._timeout_s):
                futures = [await producer.send(r.topic, r.value, key=r.key) for r in records]
        except (KafkaError, TimeoutError) as error:
            raise BrokerUnavailable(f"broker did not accept the records: {error!r}") from error
        # asyncio.wait does not cancel what is still pending: aiokafka keeps retrying those batches.
        done, pending = await asyncio.wait(futures, timeout=max(0.0, deadline - loop.time()))
        if pending:
            raise BrokerUnavailable(f"{len(pending)} of {len(futures)} records not acknowledged in {self._timeout_s}s")
        for future in done:
            error = future.exception()
            if error is not None:
                raise BrokerUnavailable(f"broker refused a record: {error!r}") from error

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await _quietly_stop(producer)


async def _quietly_stop(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), 5)
    except Exception:  # stopping a producer whose broker is gone: nothing more to do
        pass
