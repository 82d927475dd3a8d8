"""SIGTERM semantics: `stop()` while a batch is being written lets that write finish and commits its
offsets before the consumer closes, so the group's next reader starts after it (nothing redone)."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition
from socialops_archive.consumer import ArchiveConsumer
from socialops_archive.migrations import migrate
from socialops_archive.records import ArchiveBatch
from socialops_archive.store import ArchiveStore, WriteResult
from socialops_common import topics
from socialops_common.kafka import to_bytes

from ..conftest import comment_event, unique


class SlowStore(ArchiveStore):
    """The real store, with a write that takes a second (a loaded database): `writing` says when."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.writing = asyncio.Event()

    async def write(self, batch: ArchiveBatch) -> WriteResult:
        self.writing.set()
        await asyncio.sleep(1.0)
        return await super().write(batch)


async def _committed(consumer: ArchiveConsumer, partitions: set[TopicPartition]) -> dict[TopicPartition, int | None]:
    return {tp: await consumer.consumer.committed(tp) for tp in partitions}


async def test_stop_finishes_the_write_in_hand_and_commits_it(fresh_broker, database_url: str) -> None:
    bootstrap = fresh_broker.bootstrap
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as connection:
        await migrate(connection)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    store = SlowStore(pool, "KS", "registrator@example.se")
    group = unique("archive-stop")
    consumer = ArchiveConsumer(store, bootstrap, group, producer, batch_size=100, batch_timeout_ms=50)
    account = unique("page")
    events = [comment_event(account=account, thread="post-1", item=unique("c"), text=f"Fråga {n}") for n in range(20)]
    sent = [await producer.send_and_wait(topics.EVENTS, to_bytes(e), key=e.partition_key) for e in events]
    ends = {}
    for metadata in sent:
        tp = TopicPartition(metadata.topic, metadata.partition)
        ends[tp] = max(ends.get(tp, 0), metadata.offset + 1)
    await consumer.start()
    running = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(store.writing.wait(), 30)
        await consumer.stop()  # the write is under way: it must be finished and committed first
        await asyncio.wait_for(running, 5)  # run() has returned on its own
        archived = await pool.fetchval("SELECT count(*) FROM item_event")
    finally:
        running.cancel()
        await producer.stop()
        await pool.close()
    assert archived >= 1
    # What was archived is committed: a new reader of the group does not archive it again.
    probe = ArchiveConsumer(store, bootstrap, group, producer, batch_size=100)
    await probe.consumer.start()
    try:
        committed = await _committed(probe, set(ends))
    finally:
        await probe.consumer.stop()
    assert sum((committed[tp] or 0) for tp in ends) == archived
