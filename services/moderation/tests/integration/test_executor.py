"""The executor against the real database and broker, and a Graph API speaking HTTP on a free port."""

from __future__ import annotations

import asyncio
import uuid
from importlib import resources

import asyncpg
from socialops_common.events import ActionOperation, Platform, PlatformActionCommand, utc_now
from socialops_common.kafka import make_producer
from socialops_common.settings import CommonSettings
from socialops_common.testing import read_topic
from socialops_common.topics import ACTIONS
from socialops_moderation.actions.executor import ActionExecutor
from socialops_moderation.actions.graph import GraphDialect
from socialops_moderation.actions.platform import PlatformActions, PlatformClient
from socialops_moderation.store import ModerationStore, migrate
from socialops_moderation.testing import FakeGraphApi


async def test_a_command_delivered_twice_is_carried_out_once_and_its_outcome_published_again(kafka_bootstrap, database_url):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    shipped = sorted(p.name for p in resources.files("socialops_moderation").joinpath("migrations").iterdir()
                     if p.name.endswith(".sql"))
    assert await migrate(pool) == shipped and shipped[:2] == ["001_moderation.sql", "002_action_outcome.sql"]
    assert await migrate(pool) == []  # applied once
    producer = make_producer(CommonSettings(kafka_bootstrap=kafka_bootstrap), "moderation-test")
    await producer.start()
    async with FakeGraphApi() as fake:
        graph = PlatformActions([PlatformClient(GraphDialect(), fake.url, {"page-x": "tok"}, backoff_s=0.01)])
        executor = ActionExecutor(bootstrap=kafka_bootstrap, group_id="unused", producer=producer,
                                  store=ModerationStore(pool), platforms=graph)
        action_id = str(uuid.uuid4())
        command = PlatformActionCommand(
            action_id=action_id, decision_id="d", event_id="e", platform=Platform.INSTAGRAM, account_id="page-x",
            item_id="17890000", thread_id="media-1", operation=ActionOperation.DELETE, requested_at=utc_now(),
        )
        try:
            first = await executor.execute(command)
            again = await executor.execute(command)
            await asyncio.gather(*executor._pending)  # noqa: SLF001 - what run() awaits before committing
            assert first is not None and first.status.value == "done" and again is None
            assert fake.brief() == [{"method": "DELETE", "path": "/17890000", "data": {}, "token": "tok"}]
            outcomes = await read_topic(kafka_bootstrap, ACTIONS, expected=2, timeout=15, where=lambda v: v.get("action_id") == action_id)
            assert [o["status"] for _, o in outcomes] == ["done", "done"]
        finally:
            await graph.close()
            await producer.stop()
            await pool.close()


async def test_commands_on_different_threads_run_concurrently_and_each_threads_in_order(kafka_bootstrap, database_url):
    from aiokafka import ConsumerRecord
    from socialops_common.events import thread_key
    from socialops_common.kafka import to_bytes

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=8)
    await migrate(pool)
    producer = make_producer(CommonSettings(kafka_bootstrap=kafka_bootstrap), "moderation-test")
    await producer.start()
    run = uuid.uuid4().hex[:8]
    operations = [ActionOperation.HIDE, ActionOperation.UNHIDE, ActionOperation.DELETE]
    commands = [
        PlatformActionCommand(
            action_id=f"{run}-{t}-{n}", decision_id="d", event_id="e", platform=Platform.FACEBOOK,
            account_id="page-x", item_id=f"{run}_{t}", thread_id=f"post-{run}-{t}", operation=operation,
            requested_at=utc_now(),
        )
        for n, operation in enumerate(operations) for t in range(6)
    ]  # interleaved: thread 0's hide, thread 1's hide, ..., thread 0's unhide, ...
    records = [
        ConsumerRecord(ACTIONS, 0, offset, 0, 0, thread_key(c.platform, c.account_id, c.thread_id),
                       to_bytes(c), None, 0, 0, ())
        for offset, c in enumerate(commands)
    ]
    async with FakeGraphApi(delay_s=0.05) as fake:
        graph = PlatformActions([PlatformClient(GraphDialect(), fake.url, {"page-x": "tok"}, backoff_s=0.01)])
        executor = ActionExecutor(bootstrap=kafka_bootstrap, group_id="unused", producer=producer,
                                  store=ModerationStore(pool), platforms=graph, concurrency=4)
        try:
            await executor._handle_each(records)  # noqa: SLF001 - one attempt of what run() does per batch
        finally:
            await graph.close()
            await producer.stop()
            await pool.close()
    assert len(fake.calls) == len(commands)
    assert 1 < fake.max_in_flight <= 4  # threads overlap, within the limit
    for t in range(6):
        path = f"/{run}_{t}"
        seen = [c["data"].get("is_hidden", c["method"]) for c in fake.calls if c["path"] == path]
        assert seen == ["true", "false", "DELETE"], seen  # hide, unhide, delete: in the thread's order
