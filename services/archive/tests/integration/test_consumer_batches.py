"""The consumer keeps polling while a batch is being written and writes what accumulated next:
batches never exceed `batch_size`, every message is archived once, and each partition's offset is
committed past every message only after the write."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from socialops_archive.consumer import ArchiveConsumer
from socialops_archive.migrations import migrate
from socialops_archive.records import ArchiveBatch
from socialops_archive.store import ArchiveStore, WriteResult
from socialops_archive.verify import verify_archive
from socialops_common import topics
from socialops_common.events import EventKind
from socialops_common.kafka import to_bytes
from socialops_common.testing import wait_until

from ..conftest import comment_event, unique


class SlowCountingStore(ArchiveStore):
    """The real store, slowed a little per batch (as a loaded database would be) and counting the
    size of each batch it is given."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.batch_sizes: list[int] = []

    async def write(self, batch: ArchiveBatch) -> WriteResult:
        self.batch_sizes.append(len(batch))
        await asyncio.sleep(0.05)
        return await super().write(batch)


async def test_batches_grow_while_writing_stay_bounded_and_commit_after_the_write(
    fresh_broker, database_url: str
) -> None:
    bootstrap = fresh_broker.bootstrap
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as connection:
        await migrate(connection)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    store = SlowCountingStore(pool, "KS", "registrator@example.se")
    group = unique("archive")
    consumer = ArchiveConsumer(store, bootstrap, group, producer, batch_size=40, batch_timeout_ms=50)
    account = unique("page")
    events = []
    for n in range(150):
        thread, item = f"post-{n % 7}", unique("c")
        events.append(comment_event(account=account, thread=thread, item=item, text=f"Fråga {n}"))
        if n % 5 == 0:
            events.append(comment_event(account=account, thread=thread, item=item, kind=EventKind.COMMENT_EDITED,
                                        text=f"Fråga {n}, redigerad", version="1"))
    await consumer.start()
    running = asyncio.create_task(consumer.run())
    try:
        for event in events:
            await producer.send(topics.EVENTS, to_bytes(event), key=event.partition_key)
        await producer.flush()

        async def all_archived() -> bool:
            return await pool.fetchval("SELECT count(*) FROM item_event") == len(events)

        assert await wait_until(all_archived, timeout=60)
        async with pool.acquire() as connection:
            assert (await verify_archive(connection)).ok
            assert await connection.fetchval("SELECT sum(version_count) FROM item_state") == len(events)
    finally:
        await consumer.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        # One more message after the archive stopped: the group's next reader must get it, alone.
        sentinel = comment_event(account=account, thread="post-0", item=unique("c"), text="Efteråt")
        await producer.send_and_wait(topics.EVENTS, to_bytes(sentinel), key=sentinel.partition_key)
        await producer.stop()
        await pool.close()
    assert sum(store.batch_sizes) == len(events)  # each message written once
    assert max(store.batch_sizes) <= 40
    assert len(store.batch_sizes) < len(events) / 2  # messages were gathered while writing, not one by one
    # The group's committed offsets are past every archived message: nothing is redelivered.
    check = AIOKafkaConsumer(topics.EVENTS, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    await check.start()
    received: list[bytes] = []
    try:
        async def sentinel_read() -> bool:
            polled = await check.getmany(timeout_ms=200)
            received.extend(r.value for rs in polled.values() for r in rs)
            return to_bytes(sentinel) in received

        assert await wait_until(sentinel_read, timeout=30)
    finally:
        await check.stop()
    assert received == [to_bytes(sentinel)]
