"""Through the real broker and the real database: comment in, decision and platform action out."""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import AIOKafkaProducer
from socialops_common.kafka import to_bytes
from socialops_common.testing import read_topic, wait_until
from socialops_common.topics import ACTIONS, EVENTS, MODERATION
from socialops_moderation.main import ModerationService
from socialops_moderation.testing import FakeGraphApi, comment, publish, settings_for


async def test_personnummer_comment_is_hidden_masked_and_hidden_once_on_the_platform(kafka_bootstrap, database_url):
    account = f"page-{uuid.uuid4().hex[:8]}"
    async with FakeGraphApi(fail_first=1) as graph:
        service = ModerationService(settings_for(kafka_bootstrap, database_url, graph, account))
        await service.start()
        try:
            event = comment("Hej! Mitt personnummer är 811218-9876, när får jag svar på min ansökan?", account=account)
            await publish(kafka_bootstrap, event)

            decisions = await read_topic(kafka_bootstrap, MODERATION, expected=1, timeout=30, where=lambda v: v.get("event_id") == event.event_id)
            assert len(decisions) == 1
            key, decision = decisions[0]
            assert key == event.partition_key
            assert decision["action"] == "hide" and decision["block_author"] is False
            assert decision["needs_answer"] is True
            assert "811218-9876" not in json.dumps(decision) and "[personnummer]" in decision["masked_text"]
            assert "personal_data.personnummer" in {r["rule_id"] for r in decision["rules"]}
            assert decision["notification_text"].startswith("Hej! Vi har dolt din kommentar")

            await wait_until(lambda: len(graph.calls) >= 1, timeout=30)
            assert graph.brief() == [{"method": "POST", "path": f"/{event.item_id}", "data": {"is_hidden": "true"}, "token": "page-token-123"}]
            outcomes = await read_topic(
                kafka_bootstrap, ACTIONS, expected=1, timeout=20,
                where=lambda v: v.get("type") == "outcome" and v.get("event_id") == event.event_id,
            )
            assert [(o["operation"], o["status"], o["attempts"]) for _, o in outcomes] == [("hide", "done", 2)]

            # The same comment redelivered: no second decision, no second call to the platform.
            await publish(kafka_bootstrap, event)
            await asyncio.sleep(2.0)
            again = await read_topic(kafka_bootstrap, MODERATION, expected=2, timeout=3, where=lambda v: v.get("event_id") == event.event_id)
            assert len(again) == 1
            assert len(graph.calls) == 1
        finally:
            await service.stop()


async def test_threat_is_deleted_and_author_blocked_and_garbage_is_dead_lettered(kafka_bootstrap, database_url):
    account = f"page-{uuid.uuid4().hex[:8]}"
    async with FakeGraphApi() as graph:
        service = ModerationService(settings_for(kafka_bootstrap, database_url, graph, account))
        await service.start()
        try:
            event = comment("Jag vet var du bor, du ska få se.", account=account, author="troll-7")
            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
            await producer.start()
            marker = uuid.uuid4().hex
            await producer.send_and_wait(EVENTS, json.dumps({"not": "an event", "marker": marker}).encode(), key=b"x")
            await producer.stop()
            await publish(kafka_bootstrap, event)
            await wait_until(lambda: len(graph.calls) >= 2, timeout=30)
            assert sorted((c["method"], c["path"], tuple(c["data"].items())) for c in graph.calls) == sorted(
                [("DELETE", f"/{event.item_id}", ()), ("POST", f"/{account}/blocked", (("user", "troll-7"),))]
            )
            letters = await read_topic(kafka_bootstrap, "social.deadletter.v1", expected=1, timeout=20, where=lambda v: marker in v.get("payload", ""))
            assert letters and "not a SocialEvent" in letters[0][1]["reason"]
        finally:
            await service.stop()


async def test_account_override_from_the_inventory_and_an_edit_is_a_new_version(kafka_bootstrap, database_url):
    from socialops_common.events import AccountRecord, EventKind, Platform, social_event_id
    from socialops_common.topics import ACCOUNTS

    account = f"page-{uuid.uuid4().hex[:8]}"
    service = ModerationService(settings_for(kafka_bootstrap, database_url, None, account))
    await service.start()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        record = AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="Fritid", department="Kultur",
                               moderation_policy="review_first")
        marker = uuid.uuid4().hex  # an inventory record nobody can read: dead-lettered, the next one still learnt
        await producer.send_and_wait(ACCOUNTS, json.dumps({"not": "an account", "marker": marker}).encode(),
                                     key=record.key)
        await producer.send_and_wait(ACCOUNTS, to_bytes(record), key=record.key)
        await producer.stop()
        await wait_until(lambda: service.moderator.accounts.policy_for("facebook", account) == "review_first", timeout=20)
        letters = await read_topic(kafka_bootstrap, "social.deadletter.v1", expected=1, timeout=20,
                                   where=lambda v: marker in v.get("payload", ""))
        assert len(letters) == 1 and "not an AccountRecord" in letters[0][1]["reason"]
        assert letters[0][1]["source"] == "moderation.accounts" and letters[0][1]["topic"] == ACCOUNTS

        original = comment("Jag vet var du bor.", account=account)
        edited = original.model_copy(update={
            "kind": EventKind.COMMENT_EDITED, "text": "Förlåt, jag var arg. När öppnar badet?",
            "event_id": social_event_id(Platform.FACEBOOK, EventKind.COMMENT_EDITED, original.item_id, "v2"),
        })
        await publish(kafka_bootstrap, original, edited)
        found = await read_topic(kafka_bootstrap, MODERATION, expected=2, timeout=30, where=lambda v: v.get("item_id") == original.item_id)
        by_event = {d["event_id"]: d for _, d in found}
        assert len(found) == 2
        assert (by_event[original.event_id]["action"], by_event[original.event_id]["policy"]) == ("review", "review_first")
        assert (by_event[edited.event_id]["action"], by_event[edited.event_id]["needs_answer"]) == ("allow", True)
    finally:
        await service.stop()


async def test_graph_api_retries_with_backoff_then_reports_failure():
    from socialops_common.events import (
        ActionOperation,
        ActionStatus,
        Platform,
        PlatformActionCommand,
        utc_now,
    )
    from socialops_moderation.actions.graph import GraphDialect
    from socialops_moderation.actions.platform import PlatformClient

    async with FakeGraphApi(fail_first=5) as graph:
        api = PlatformClient(GraphDialect(), graph.url, {"page-1": "tok"}, max_attempts=3, backoff_s=0.01)
        command = PlatformActionCommand(
            action_id="a1", decision_id="d1", event_id="e1", platform=Platform.FACEBOOK, account_id="page-1",
            item_id="c-1", thread_id="t", operation=ActionOperation.HIDE, requested_at=utc_now(),
        )
        try:
            result = await api.execute(command)
            assert (result.status, result.attempts, result.http_status) == (ActionStatus.FAILED, 3, 500)
            assert graph.calls == []
            graph.fail_first = 0
            assert (await api.execute(command)).status == ActionStatus.DONE
            dry_api = PlatformClient(GraphDialect(), graph.url, {})
            dry = await dry_api.execute(command)
            await dry_api.close()
            assert dry.status == ActionStatus.DRY_RUN and "would POST /c-1" in dry.detail
        finally:
            await api.close()
