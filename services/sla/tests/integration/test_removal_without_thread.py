"""A removal that does not know its comment's thread still cancels the question (found by the
end-to-end test: X tells a deletion by tweet id alone, so ingest keys it by the tweet itself and it
lands on another partition than the comment, read before or after it)."""

from __future__ import annotations

import uuid

from prometheus_client import CollectorRegistry
from socialops_common.events import AccountRecord, Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.testing import wait_until
from socialops_common.topics import ACCOUNTS, EVENTS
from socialops_sla.app import SlaRuntime
from socialops_sla.config import ManualClock

from .test_sla_service import TUESDAY_10, _is, send, settings_for


def x_event(account: str, kind: EventKind, item: str, thread: str, text: str | None = None) -> SocialEvent:
    return SocialEvent(
        event_id=social_event_id(Platform.X, kind, f"{account}:{item}"), kind=kind, platform=Platform.X,
        account_id=account, item_id=item, thread_id=thread, parent_id=None if thread == item else thread,
        author=Author(id="citizen"), text=text, occurred_at=TUESDAY_10, received_at=TUESDAY_10,
    )


async def test_deletion_keyed_by_the_tweet_cancels_the_question_before_or_after_it(kafka_bootstrap: str,
                                                                                     database_url: str) -> None:
    account = f"x-{uuid.uuid4().hex[:8]}"
    runtime = SlaRuntime(settings_for(kafka_bootstrap, database_url, f"sla-test-{uuid.uuid4().hex[:8]}"),
                         ManualClock(TUESDAY_10), CollectorRegistry())
    await runtime.start()
    try:
        await send(kafka_bootstrap,
                   (ACCOUNTS, AccountRecord(platform=Platform.X, external_id=account, name="@stad", department="KS")),
                   (EVENTS, x_event(account, EventKind.COMMENT_CREATED, "t1", "conv", "När öppnar badet?")))
        assert await wait_until(lambda: _is(runtime, account, "t1", "open"), timeout=30)
        # the author deletes it: X names the tweet only, so the event's thread is the tweet itself
        await send(kafka_bootstrap, (EVENTS, x_event(account, EventKind.COMMENT_DELETED_BY_AUTHOR, "t1", "t1")))
        assert await wait_until(lambda: _is(runtime, account, "t1", "cancelled"), timeout=30)

        # the deletion read first (another partition), the question after it: nothing to answer
        await send(kafka_bootstrap, (EVENTS, x_event(account, EventKind.COMMENT_DELETED_BY_AUTHOR, "t2", "t2")))
        assert await wait_until(lambda: runtime.service.pool.fetchval(
            "SELECT count(*) FROM sla_removals WHERE account_id = $1 AND item_id = 't2'", account), timeout=30)
        await send(kafka_bootstrap, (EVENTS, x_event(account, EventKind.COMMENT_CREATED, "t2", "conv", "Hur söker man?")),
                   (EVENTS, x_event(account, EventKind.COMMENT_CREATED, "t3", "conv", "Vem ansvarar?")))
        assert await wait_until(lambda: _is(runtime, account, "t3", "open"), timeout=30)
        assert await runtime.service.pool.fetchval(
            "SELECT state FROM sla_items WHERE account_id = $1 AND item_id = 't2'", account) is None
    finally:
        await runtime.stop()
