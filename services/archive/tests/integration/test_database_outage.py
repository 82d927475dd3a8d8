"""The database goes away under the archive's consumer: it waits with its circuit open and archives
the batch when the database is back — nothing dead-lettered, nothing lost (found by the e2e fault
test: before, a batch failing three times was written one message at a time and, the database
still being down, every message went to the dead-letter topic and its offset was committed)."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaProducer
from socialops_archive.consumer import ArchiveConsumer
from socialops_archive.migrations import migrate
from socialops_archive.store import ArchiveStore
from socialops_common import topics
from socialops_common.kafka import to_bytes
from socialops_common.resilience import CIRCUIT_OPEN
from socialops_common.testing import read_topic, refuse_connections, wait_until

from ..conftest import comment_event, unique


async def test_a_database_outage_holds_the_batch_and_loses_nothing(fresh_broker, database_url, local_database):
    bootstrap = fresh_broker.bootstrap
    database = database_url.rsplit("/", 1)[1].split("?")[0]
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as connection:
        await migrate(connection)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    consumer = ArchiveConsumer(ArchiveStore(pool, "KS", "registrator@example.se"), bootstrap, unique("archive"),
                               producer, batch_size=50)
    await consumer.start()
    running = asyncio.create_task(consumer.run())
    circuit = CIRCUIT_OPEN.labels("archive-database")
    account, thread = unique("page"), unique("post")
    comments = [comment_event(account=account, thread=thread, item=unique("comment"), text=f"Fråga {n}?")
                for n in range(5)]
    try:
        await refuse_connections(local_database.admin_dsn, database, refuse=True)
        for event in comments:
            await producer.send_and_wait(topics.EVENTS, to_bytes(event), key=event.partition_key)
        assert await wait_until(lambda: circuit._value.get() == 1, timeout=30)
        await asyncio.sleep(5.0)  # longer than three attempts' backoff: the consumer keeps waiting
        assert circuit._value.get() == 1
        letters = await read_topic(bootstrap, topics.DEADLETTER, expected=1, timeout=2)
        assert letters == [], "an outage is not the messages' fault: nothing is dead-lettered"

        await refuse_connections(local_database.admin_dsn, database, refuse=False)

        async def archived() -> bool:
            return await pool.fetchval("SELECT count(*) FROM item_event WHERE event_id = ANY($1::text[])",
                                       [e.event_id for e in comments]) == len(comments)

        assert await wait_until(archived, timeout=60)
        assert circuit._value.get() == 0
    finally:
        await refuse_connections(local_database.admin_dsn, database, refuse=False)
        await consumer.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await producer.stop()
        await pool.close()
