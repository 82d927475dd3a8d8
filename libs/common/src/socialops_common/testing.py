"""Pytest fixtures shared by every service's tests: a real broker and a real database.

Enabled from the repository's root `conftest.py`. Set `SOCIALOPS_TEST_KAFKA_BOOTSTRAP` or
`SOCIALOPS_TEST_DATABASE_URL` to point the tests at servers you already run.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from .devstack import LocalBroker, LocalDatabase
from .kafka import ensure_topics


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """One broker for the whole run, with every topic created. Tests tell their data apart by ids."""
    existing = os.environ.get("SOCIALOPS_TEST_KAFKA_BOOTSTRAP")
    if existing:
        asyncio.run(ensure_topics(existing))
        yield existing
        return
    broker = LocalBroker().start()
    try:
        asyncio.run(ensure_topics(broker.bootstrap))
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def fresh_broker() -> Iterator[LocalBroker]:
    """A broker of the test's own (for consumer-group and fault tests), topics created."""
    broker = LocalBroker().start()
    try:
        asyncio.run(ensure_topics(broker.bootstrap))
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def local_database() -> Iterator[LocalDatabase]:
    database = LocalDatabase.find_or_start(os.environ.get("SOCIALOPS_TEST_DATABASE_URL"))
    try:
        yield database
    finally:
        database.stop()


@pytest.fixture
def database_url(local_database: LocalDatabase) -> Iterator[str]:
    """A new, empty database for this test, dropped afterwards."""
    name = f"socialops_test_{uuid.uuid4().hex[:10]}"
    dsn = asyncio.run(local_database.create_database(name))
    try:
        yield dsn
    finally:
        asyncio.run(local_database.drop_database(name))


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expected: int,
    timeout: float = 10.0,
    where: Any = None,
) -> list[tuple[bytes | None, dict[str, Any]]]:
    """Read `topic` from the beginning with a real consumer until `expected` matching records came.

    `where` filters decoded records (a callable on the dict); returns (key, value) pairs.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[bytes | None, dict[str, Any]]] = []
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        for _ in range(50):
            if partitions:
                break
            await asyncio.sleep(0.1)
            await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh topic
            partitions = consumer.partitions_for_topic(topic) or set()
        assignment = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assignment)
        await consumer.seek_to_beginning(*assignment)
        loop = asyncio.get_running_loop()

        async def collect(until: float, poll_ms: int, enough: int | None) -> None:
            while loop.time() < until and (enough is None or len(found) < enough):
                for records in (await consumer.getmany(timeout_ms=poll_ms)).values():
                    for record in records:
                        value = json.loads(record.value) if record.value else {}
                        if where is None or where(value):
                            found.append((record.key, value))

        await collect(loop.time() + timeout, 200, expected)
        # a little longer, so that "exactly N" assertions see extra records too
        await collect(loop.time() + 0.5, 100, None)
    finally:
        await consumer.stop()
    return found


async def wait_until(condition: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an (async or sync) condition until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)

