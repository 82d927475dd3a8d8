"""The database goes away under a running moderation service: the consumer waits with its circuit
open (nothing dead-lettered, nothing committed, /readyz says why), and carries on when it is back."""

from __future__ import annotations

import asyncio
import uuid

from socialops_common.resilience import CIRCUIT_OPEN
from socialops_common.testing import read_topic, refuse_connections, wait_until
from socialops_common.topics import DEADLETTER, MODERATION
from socialops_moderation.main import ModerationService
from socialops_moderation.testing import comment, publish, settings_for


async def test_a_database_outage_holds_the_batch_and_loses_nothing(kafka_bootstrap, database_url, local_database):
    database = database_url.rsplit("/", 1)[1].split("?")[0]
    account = f"page-{uuid.uuid4().hex[:8]}"
    service = ModerationService(settings_for(kafka_bootstrap, database_url, None, account))
    await service.start()
    circuit = CIRCUIT_OPEN.labels("moderation-decisions")
    try:
        async def ready() -> bool:
            return (await service.health.readiness())[0]

        await wait_until(ready, timeout=20)
        await refuse_connections(local_database.admin_dsn, database, refuse=True)
        event = comment("Hej, när öppnar badet i sommar?", account=account)
        await publish(kafka_bootstrap, event)

        await wait_until(lambda: circuit._value.get() == 1, timeout=30)
        answering, checks = await service.health.readiness()
        assert not answering and checks["database"].startswith("failed") and checks["kafka"] == "ok"
        await asyncio.sleep(2.0)  # the consumer keeps probing, with backoff, and does not give up
        assert circuit._value.get() == 1
        letters = await read_topic(kafka_bootstrap, DEADLETTER, expected=1, timeout=2,
                                   where=lambda v: event.event_id in v.get("payload", ""))
        assert letters == [], "an outage is not the message's fault: nothing is dead-lettered"

        await refuse_connections(local_database.admin_dsn, database, refuse=False)
        decisions = await read_topic(kafka_bootstrap, MODERATION, expected=1, timeout=60,
                                     where=lambda v: v.get("event_id") == event.event_id)
        assert len(decisions) == 1
        assert circuit._value.get() == 0
        assert await ready()
    finally:
        await refuse_connections(local_database.admin_dsn, database, refuse=False)
        await service.stop()


async def test_a_message_the_database_refuses_is_dead_lettered_and_the_partition_moves_on(kafka_bootstrap, database_url):
    """A NUL character is valid JSON and a valid SocialEvent text, but PostgreSQL cannot store it:
    before the guard such a comment was retried forever and held its partition."""
    account = f"page-{uuid.uuid4().hex[:8]}"
    service = ModerationService(settings_for(kafka_bootstrap, database_url, None, account))
    await service.start()
    try:
        poison = comment("Hej\x00 kommunen", account=account)
        after = comment("Hej, när öppnar badet i sommar?", account=account)  # same thread: same partition
        await publish(kafka_bootstrap, poison, after)

        letters = await read_topic(kafka_bootstrap, DEADLETTER, expected=1, timeout=60,
                                   where=lambda v: v.get("source") == "moderation.consumer"
                                   and poison.event_id in v.get("payload", ""))
        assert len(letters) == 1
        reason = letters[0][1]["reason"]
        assert reason.startswith("failed 3 times while moderation-decisions answered"), reason
        assert "UntranslatableCharacterError" in reason, "the reason names the database's refusal"
        decisions = await read_topic(kafka_bootstrap, MODERATION, expected=1, timeout=30,
                                     where=lambda v: v.get("event_id") == after.event_id)
        assert len(decisions) == 1, "the message after the poison one is decided"
    finally:
        await service.stop()


async def test_a_command_the_database_refuses_is_dead_lettered_and_the_executor_moves_on(kafka_bootstrap, database_url):
    from aiokafka import AIOKafkaProducer
    from socialops_common.events import ActionOperation, Platform, PlatformActionCommand, utc_now
    from socialops_common.kafka import to_bytes
    from socialops_common.topics import ACTIONS

    account, run = f"page-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:8]

    def command(item: str) -> PlatformActionCommand:
        return PlatformActionCommand(
            action_id=f"action-{run}-{len(item)}", decision_id=f"decision-{run}", event_id=f"event-{run}",
            platform=Platform.FACEBOOK, account_id=account, item_id=item, thread_id=f"{account}_post",
            operation=ActionOperation.HIDE, requested_at=utc_now())

    poison, after = command(f"{account}_\x00{run}"), command(f"{account}_{run}")
    service = ModerationService(settings_for(kafka_bootstrap, database_url, None, account))
    await service.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for message in (poison, after):
            await producer.send_and_wait(ACTIONS, to_bytes(message), key=message.partition_key)
        letters = await read_topic(kafka_bootstrap, DEADLETTER, expected=1, timeout=60,
                                   where=lambda v: v.get("source") == "moderation.executor"
                                   and poison.action_id in v.get("payload", ""))
        assert len(letters) == 1
        assert letters[0][1]["reason"].startswith("failed 3 times while moderation-executor answered")
        outcomes = await read_topic(kafka_bootstrap, ACTIONS, expected=1, timeout=30,
                                    where=lambda v: v.get("type") == "outcome" and v.get("action_id") == after.action_id)
        assert [o["status"] for _, o in outcomes] == ["dry_run"], "the command after the poison one is carried out"
    finally:
        await producer.stop()
        await service.stop()
