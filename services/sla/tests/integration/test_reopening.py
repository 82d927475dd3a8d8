"""A question held as possible abuse, let stand, held again and let stand again, through the real
broker and database: every state change reaches `social.sla.v1` with a change id of its own (the
archive and other readers drop an id they have seen), and the count of reopenings survives in the
database for the next batch."""

from __future__ import annotations

import uuid
from datetime import timedelta

from prometheus_client import CollectorRegistry
from socialops_common.events import AccountRecord, EventKind, ModerationAction, ModerationDecision, Platform
from socialops_common.testing import read_topic, wait_until
from socialops_common.topics import ACCOUNTS, EVENTS, MODERATION, SLA
from socialops_sla.app import SlaRuntime
from socialops_sla.config import ManualClock

from socialops_sla.testing import TUESDAY_10, send, social

from .test_sla_service import settings_for


def verdict(account: str, needs_answer: bool, minutes: int) -> ModerationDecision:
    at = TUESDAY_10 + timedelta(minutes=minutes)
    return ModerationDecision(
        decision_id=f"{account}-c1-{minutes}", event_id=social(account, EventKind.COMMENT_CREATED, "c1").event_id,
        platform=Platform.FACEBOOK, account_id=account, item_id="c1", thread_id="post",
        item_kind=EventKind.COMMENT_CREATED, action=ModerationAction.ALLOW if needs_answer else ModerationAction.REVIEW,
        needs_answer=needs_answer, decided_at=at,
    )


async def test_every_reopening_cycle_is_published_with_its_own_change_ids(kafka_bootstrap: str, database_url: str) -> None:
    account = f"page-{uuid.uuid4().hex[:8]}"
    runtime = SlaRuntime(settings_for(kafka_bootstrap, database_url, f"sla-test-{uuid.uuid4().hex[:8]}"),
                         ManualClock(TUESDAY_10 + timedelta(minutes=30)), CollectorRegistry())
    await runtime.start()
    try:
        await send(kafka_bootstrap,
                   (ACCOUNTS, AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="Tekniska förvaltningen",
                                            department="Tekniska förvaltningen")),
                   (EVENTS, social(account, EventKind.COMMENT_CREATED, "c1", text="Hur tänkte ni nu, idioter?")))
        assert await wait_until(lambda: runtime.service.pool.fetchval(
            "SELECT state FROM sla_items WHERE account_id = $1 AND item_id = 'c1'", account), timeout=30) == "open"
        # one message per batch, so that each cycle is loaded back from the database
        for minutes, needs_answer in ((1, False), (2, True), (3, False), (4, True)):
            await send(kafka_bootstrap, (MODERATION, verdict(account, needs_answer, minutes)))
            assert await wait_until(lambda m=minutes: runtime.service.pool.fetchval(
                "SELECT count(*) FROM sla_seen_messages WHERE message_id = $1", f"decision:{account}-c1-{m}"), timeout=30)
        changes = await read_topic(kafka_bootstrap, SLA, expected=5, timeout=30, where=lambda v: v.get("account_id") == account)
        assert [(v["state"], v["reason"]) for _, v in changes] == [
            ("open", "question_heuristic"), ("cancelled", "not_a_question"), ("open", "needs_answer_after_review"),
            ("cancelled", "not_a_question"), ("open", "needs_answer_after_review")]
        assert len({v["change_id"] for _, v in changes}) == 5
        assert await runtime.service.pool.fetchval(
            "SELECT reopenings FROM sla_items WHERE account_id = $1 AND item_id = 'c1'", account) == 2
    finally:
        await runtime.stop()
