"""The decision consumer's handler on FastStream's in-memory broker (`TestKafkaBroker`), with the real
PostgreSQL store: a batch in, decisions and platform-action commands out, redelivery idempotent,
garbage dead-lettered. No broker process, so it runs in well under a second; the same path through
the real broker and the real commit is test_pipeline.py."""

from __future__ import annotations

import asyncio
import json

import asyncpg
from faststream.kafka import TestKafkaBroker
from socialops_common.kafka import make_broker, to_bytes
from socialops_common.topics import ACTIONS, DEADLETTER, EVENTS, MODERATION
from socialops_moderation.consumer import DecisionConsumer
from socialops_moderation.main import build_moderator
from socialops_moderation.store import ModerationStore, migrate
from socialops_moderation.testing import comment, settings_for


class RecordingProducer:
    """What the consumer sends, acknowledged at once (aiokafka's `send` returns a delivery future)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, bytes | None]] = []

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> asyncio.Future:
        self.sent.append((topic, json.loads(value), key))
        delivered = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        await self.send(topic, value, key)

    def on(self, topic: str) -> list[tuple[dict, bytes | None]]:
        return [(value, key) for sent_to, value, key in self.sent if sent_to == topic]


async def test_a_batch_gets_one_decision_per_comment_and_redelivery_publishes_nothing_new(database_url) -> None:
    settings = settings_for("127.0.0.1:9", database_url, None, "page-handler")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await migrate(pool)
        producer = RecordingProducer()
        consumer = DecisionConsumer(bootstrap=settings.kafka_bootstrap, group_id="moderation-handler-test",
                                    producer=producer, store=ModerationStore(pool), moderator=build_moderator(settings))
        broker = make_broker(settings, "moderation-handler-test")
        consumer.subscribe(broker)
        threat = comment("Jag vet var du bor, du ska få se.", account="page-handler", author="troll-7")
        question = comment("Hej! När öppnar simhallen efter renoveringen?", account="page-handler")
        async with TestKafkaBroker(broker) as test_broker:
            await test_broker.publish_batch(to_bytes(threat), to_bytes(question), b'{"not": "an event"}', topic=EVENTS)

            decisions = {value["event_id"]: (value, key) for value, key in producer.on(MODERATION)}
            assert set(decisions) == {threat.event_id, question.event_id}
            assert decisions[threat.event_id][1] == threat.partition_key
            assert decisions[threat.event_id][0]["action"] == "delete" and decisions[threat.event_id][0]["block_author"]
            assert decisions[question.event_id][0]["action"] == "allow" and decisions[question.event_id][0]["needs_answer"]
            commands = [value for value, _ in producer.on(ACTIONS)]
            assert {c["event_id"] for c in commands} == {threat.event_id}  # only the threat is acted on
            letters = [value for value, _ in producer.on(DEADLETTER)]
            assert len(letters) == 1 and "not a SocialEvent" in letters[0]["reason"]
            assert letters[0]["source"] == "moderation.consumer" and letters[0]["topic"] == EVENTS

            # Kafka delivers at least once: the same comments again are neither decided nor sent again.
            producer.sent.clear()
            await test_broker.publish_batch(to_bytes(threat), to_bytes(question), topic=EVENTS)
            assert producer.sent == []
        stored = await ModerationStore(pool).decisions([d["decision_id"] for d, _ in decisions.values()])
        assert all(s.published for s in stored.values()) and len(stored) == 2
    finally:
        await pool.close()
