"""A message PostgreSQL refuses (a NUL character) is dead-lettered after 3 attempts with the
reason, and the partition moves on (socialops_common.resilience.BatchGuard in SlaService)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from socialops_common.events import Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import to_bytes
from socialops_common.testing import read_topic, wait_until
from socialops_common.topics import DEADLETTER, EVENTS
from socialops_sla.app import SlaRuntime
from socialops_sla.config import ManualClock, SlaSettings

AT = datetime(2026, 11, 24, 9, tzinfo=UTC)


def question(account: str, item: str, author: str) -> SocialEvent:
    return SocialEvent(
        event_id=social_event_id(Platform.FACEBOOK, EventKind.COMMENT_CREATED, f"{account}:{item}"),
        kind=EventKind.COMMENT_CREATED, platform=Platform.FACEBOOK, account_id=account, item_id=item,
        thread_id="post", parent_id="post", author=Author(id=author), text="Hur ansöker jag?",
        occurred_at=AT, received_at=AT)


async def test_a_message_the_database_refuses_is_dead_lettered_and_the_next_one_is_tracked(kafka_bootstrap,
                                                                                           database_url):
    account, run = f"acct-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:6]
    poison, after = question(account, f"bad\x00{run}", "citizen"), question(account, f"ok-{run}", "citizen")
    settings = SlaSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                           sla_consumer_group=f"sla-poison-{run}", sla_refresh_seconds=3600)
    runtime = SlaRuntime(settings, ManualClock(AT), CollectorRegistry())
    await runtime.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for event in (poison, after):  # same thread: same partition, the poison one first
            await producer.send_and_wait(EVENTS, to_bytes(event), key=event.partition_key)
        letters = await read_topic(kafka_bootstrap, DEADLETTER, expected=1, timeout=60,
                                   where=lambda v: v.get("source") == "sla.consumer" and run in v.get("payload", ""))
        assert len(letters) == 1
        reason = letters[0][1]["reason"]
        assert reason.startswith("failed 3 times while sla-consumer answered") and "\\u0000" in letters[0][1]["payload"]

        async def tracked() -> bool:
            return await runtime.service.pool.fetchval(
                "SELECT count(*) FROM sla_items WHERE account_id = $1 AND item_id = $2", account, after.item_id) == 1

        assert await wait_until(tracked, timeout=30)
    finally:
        await producer.stop()
        await runtime.stop()


async def test_stop_lets_the_consumer_finish_and_commit_its_batch(kafka_bootstrap, database_url):
    """SIGTERM runs `SlaRuntime.stop`: the consumer is asked to stop, not cancelled mid-transaction,
    and everything it consumed is committed before it closes (FastStream's graceful stop)."""
    from socialops_common.lag import measure_lag

    account, run = f"acct-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:6]
    group = f"sla-stop-{run}"
    settings = SlaSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, sla_consumer_group=group,
                           sla_refresh_seconds=3600)
    runtime = SlaRuntime(settings, ManualClock(AT), CollectorRegistry())
    await runtime.start()
    subscriber = runtime.subscriber
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(20):
            event = question(account, f"q{i}-{run}", "citizen")
            sent = await producer.send_and_wait(EVENTS, to_bytes(event), key=event.partition_key)
    finally:
        await producer.stop()

    async def all_tracked() -> bool:
        return await runtime.service.pool.fetchval(
            "SELECT count(*) FROM sla_items WHERE account_id = $1", account) == 20

    try:
        assert await wait_until(all_tracked, timeout=60)
    finally:
        await runtime.stop()
    assert not subscriber.running and subscriber.consumer is None, "the consumer was stopped and closed"
    lag = await measure_lag(kafka_bootstrap, group, [EVENTS])  # other tests' partitions may still lag
    assert lag[(EVENTS, sent.partition)] == 0, "everything consumed was committed before the consumer closed"
