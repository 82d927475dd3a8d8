"""The shared fixtures really give a working broker and database (everything else builds on them)."""

import asyncpg
from aiokafka import AIOKafkaProducer
from socialops_common.kafka import dead_letter, publish_dead_letter
from socialops_common.testing import read_topic
from socialops_common.topics import DEADLETTER


async def test_dead_letters_reach_the_topic_with_reason_and_raw_body(kafka_bootstrap):
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        letter = dead_letter(source="test.infra", reason="not json", payload=b"\xff\xfe garbage")
        await publish_dead_letter(producer, letter)
    finally:
        await producer.stop()
    found = await read_topic(
        kafka_bootstrap, DEADLETTER, expected=1, where=lambda v: v.get("dead_letter_id") == letter.dead_letter_id
    )
    assert len(found) == 1
    assert found[0][1]["reason"] == "not json"
    assert found[0][1]["payload_encoding"] == "base64"


async def test_each_test_gets_an_empty_database(database_url):
    connection = await asyncpg.connect(database_url)
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    assert tables == 0
