"""Every archived topic through the real broker; unreadable messages go to the dead-letter topic."""

from __future__ import annotations

import asyncpg
from aiokafka import AIOKafkaProducer
from socialops_archive.main import build_app
from socialops_archive.registration import load_thread_snapshot
from socialops_common import topics
from socialops_common.events import (
    ActionOperation,
    ActionStatus,
    EventKind,
    ModerationAction,
    ModerationDecision,
    Platform,
    PlatformActionOutcome,
    RuleHit,
    SlaState,
    SlaStateChange,
)
from socialops_common.kafka import to_bytes
from socialops_common.testing import read_topic, wait_until

from ..conftest import comment_event, item_once_its_registration_is_sent, running_app, unique
from .test_removed_comment_flow import archive_settings


async def test_decisions_sla_outcomes_and_dead_letters(fresh_broker, database_url: str, smtp_server) -> None:
    kafka_bootstrap = fresh_broker.bootstrap  # its own broker: the archive reads whole topics
    host, port, mailbox = smtp_server
    account, thread, item = unique("page"), unique("post"), unique("comment")
    comment = comment_event(account=account, thread=thread, item=item, text="Du är en idiot")
    decision = ModerationDecision(
        decision_id=unique("dec"), event_id=comment.event_id, platform=Platform.FACEBOOK, account_id=account,
        item_id=item, thread_id=thread, item_kind=EventKind.COMMENT_CREATED, action=ModerationAction.HIDE,
        rules=[RuleHit(rule_id="abuse.insult", clause="seed 001: kränkningar", confidence=0.9)],
        decided_at=comment.occurred_at,
    )
    sla = SlaStateChange(
        change_id=unique("sla"), event_id=comment.event_id, item_id=item, thread_id=thread,
        platform=Platform.FACEBOOK, account_id=account, item_kind=EventKind.COMMENT_CREATED,
        state=SlaState.CANCELLED, received_at=comment.received_at, deadline=comment.received_at,
        changed_at=comment.received_at, reason="hidden",
    )
    outcome = PlatformActionOutcome(
        action_id=unique("act"), decision_id=decision.decision_id, event_id=comment.event_id,
        platform=Platform.FACEBOOK, account_id=account, item_id=item, thread_id=thread,
        operation=ActionOperation.HIDE, status=ActionStatus.DONE, http_status=200,
        completed_at=comment.received_at,
    )
    bad = f'{{"decision_id": "{unique("broken")}", "not": "a decision"}}'.encode()
    app = build_app(archive_settings(kafka_bootstrap, database_url, (host, port)))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    connection = await asyncpg.connect(database_url)
    try:
        async with running_app(app) as client:
            await producer.send_and_wait(topics.EVENTS, to_bytes(comment), key=comment.partition_key)
            await producer.send_and_wait(topics.MODERATION, to_bytes(decision), key=decision.partition_key)
            await producer.send_and_wait(topics.MODERATION, bad, key=b"x")
            await producer.send_and_wait(topics.SLA, to_bytes(sla), key=sla.partition_key)
            await producer.send_and_wait(topics.ACTIONS, to_bytes(outcome), key=comment.partition_key)
            await wait_until(lambda: len(mailbox.messages) >= 1, timeout=30)

            item_id = await connection.fetchval("SELECT id FROM item WHERE platform_item_id = $1", item)

            detail = await item_once_its_registration_is_sent(client, item_id, "arch-token")
            assert [m["rules"] for m in detail["moderation"]] == [["abuse.insult"]]
            assert [s["state"] for s in detail["sla"]] == ["cancelled"]
            assert [(a["operation"], a["status"]) for a in detail["actions"]] == [("hide", "done")]
            assert detail["registration"]["source"] == "executor"
            assert detail["registration"]["email"]["status"] == "sent"
            # Why it was removed reaches the registrar: the rule and its guideline clause.
            body = mailbox.messages[0].get_payload()[0].get_payload(decode=True).decode()
            assert detail["registration"]["number"] in body
            snapshot = await load_thread_snapshot(connection, detail["registration"]["id"])
            assert snapshot.reason == "abuse.insult (seed 001: kränkningar)"
            assert snapshot.removed_by.startswith("moderering")

            letters = await read_topic(kafka_bootstrap, topics.DEADLETTER, expected=1, timeout=15,
                                       where=lambda v: v.get("payload") == bad.decode())
            assert len(letters) == 1
            assert letters[0][1]["source"] == "archive.consumer"
            assert letters[0][1]["reason"].startswith(f"invalid {topics.MODERATION} message")

            metrics = (await client.get("/metrics")).text
            assert "archive_events_archived_total" in metrics and "archive_registration_mails_sent_total" in metrics
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
    finally:
        await producer.stop()
        await connection.close()
