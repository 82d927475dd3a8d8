"""Operational helpers against a real broker: consumer lag and dead-letter replay."""

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from socialops_common.deadletters import read_dead_letters, replay
from socialops_common.kafka import dead_letter, publish_dead_letter
from socialops_common.lag import CONSUMER_LAG, LagMonitor, measure_lag
from socialops_common.testing import read_topic
from socialops_common.topics import EVENTS


async def test_lag_is_end_offset_minus_committed_offset(fresh_broker):
    bootstrap = fresh_broker.bootstrap
    group = f"lag-test-{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    for _ in range(10):
        await producer.send_and_wait(EVENTS, b"{}", partition=0)
    await producer.stop()

    assert (await measure_lag(bootstrap, group, [EVENTS]))[(EVENTS, 0)] == 10

    consumer = AIOKafkaConsumer(EVENTS, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    read = 0
    while read < 4:
        for records in (await consumer.getmany(timeout_ms=500, max_records=4 - read)).values():
            read += len(records)
    await consumer.commit()
    await consumer.stop()

    monitor = LagMonitor(bootstrap, group, [EVENTS])
    await monitor.refresh()
    assert CONSUMER_LAG.labels(group, EVENTS, "0")._value.get() == 6


async def test_replay_republishes_consumer_dead_letters_to_their_topic(fresh_broker):
    # its own broker: the replayed test payload is not a SocialEvent and must not reach others' tests
    kafka_bootstrap = fresh_broker.bootstrap
    marker = uuid.uuid4().hex
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    letter = dead_letter(source=f"test.{marker}", reason="database down", payload=f'{{"marker": "{marker}"}}',
                         topic=EVENTS, partition=3, offset=41, key=b"facebook:p:t")
    await publish_dead_letter(producer, letter)
    await producer.stop()

    letters = await read_dead_letters(kafka_bootstrap, lambda d: d.source == f"test.{marker}")
    assert [d.dead_letter_id for d in letters] == [letter.dead_letter_id]
    assert await replay(kafka_bootstrap, letters, webhook=None) == 1

    again = await read_topic(kafka_bootstrap, EVENTS, expected=1, where=lambda v: v.get("marker") == marker)
    assert len(again) == 1 and again[0][0] == b"facebook:p:t"
