"""Contract tests: each platform call as the platform documents it (method, path, body, headers, version),
over real HTTP to the local servers that speak each API (socialops_moderation.fake_platforms), and each
failure path the platforms document: the outcome carries the error, retried where the platform says
retry (rate limits, 5xx, network), final where it does not (10, 190, 403), and never sent twice.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from socialops_common.devstack import free_port
from socialops_common.events import (
    ActionOperation,
    ActionStatus,
    EventKind,
    Platform,
    PlatformActionCommand,
    thread_key,
)
from socialops_common.kafka import make_producer, to_bytes
from socialops_common.settings import CommonSettings
from socialops_common.testing import read_topic, refuse_connections, wait_until
from socialops_common.topics import ACTIONS
from socialops_moderation.actions.executor import ActionExecutor
from socialops_moderation.actions.graph import GraphDialect
from socialops_moderation.actions.linkedin import LinkedInDialect
from socialops_moderation.actions.platform import PlatformActions, PlatformClient
from socialops_moderation.actions.x import XDialect
from socialops_moderation.store import ModerationStore, migrate
from socialops_moderation.testing import (
    GRAPH_OUTSIDE_WINDOW,
    LINKEDIN_FORBIDDEN,
    X_FORBIDDEN,
    FakeGraphApi,
    FakeLinkedInApi,
    FakeXApi,
    graph_rate_limit,
    linkedin_rate_limited,
    x_rate_limited,
)

Op = ActionOperation
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PAGE, IG, X_USER, ORG = "104857600000001", "17841400000000001", "44196397", "urn:li:organization:2414183"
LI_POST = "urn:li:activity:7012345"
LI_COMMENT = f"urn:li:comment:({LI_POST},7023456)"


def command(platform: Platform, operation: ActionOperation, account: str, item: str, *, kind: EventKind = EventKind.COMMENT_CREATED,
            text: str | None = None, recipient: str | None = None, author: str | None = None,
            thread: str = "thread-1") -> PlatformActionCommand:
    return PlatformActionCommand(
        action_id=str(uuid.uuid4()), decision_id="d", event_id=f"event-of-{item}", platform=platform, account_id=account,
        item_id=item, thread_id=thread, operation=operation, requested_at=NOW, item_kind=kind, text=text,
        recipient_id=recipient, author_id=author,
    )


def client(dialect, fake, account: str, token: str = "tok-1", **options) -> PlatformClient:  # noqa: ANN001
    return PlatformClient(dialect, fake.url, {account: token}, backoff_s=0.01, **options)


# --- the documented requests ---------------------------------------------------------------------


async def test_graph_calls_as_meta_documents_them():
    async with FakeGraphApi() as fake:
        graph = client(GraphDialect(), fake, PAGE, "page-token")
        instagram = client(GraphDialect(), fake, IG, "ig-page-token")
        try:
            reply = await graph.execute(command(Platform.FACEBOOK, Op.REPLY, PAGE, f"{PAGE}_111", text="Hej! /Louise"))
            like = await graph.execute(command(Platform.FACEBOOK, Op.LIKE, PAGE, f"{PAGE}_111"))
            dm = await graph.execute(command(Platform.FACEBOOK, Op.REPLY, PAGE, "m_abc", kind=EventKind.DM_RECEIVED,
                                             text="Hej i DM", recipient="psid-7"))
            notice = await graph.execute(command(Platform.FACEBOOK, Op.NOTIFY, PAGE, f"{PAGE}_222", text="Vi har dolt"))
            ig_reply = await instagram.execute(command(Platform.INSTAGRAM, Op.REPLY, IG, "1790001", text="Tack!"))
            ig_dm = await instagram.execute(command(Platform.INSTAGRAM, Op.REPLY, IG, "aWdfZG1", kind=EventKind.DM_RECEIVED,
                                                    text="Hej", recipient="igsid-3"))
            ig_notice = await instagram.execute(command(Platform.INSTAGRAM, Op.NOTIFY, IG, "1790002", text="Vi har dolt"))
        finally:
            await graph.close()
            await instagram.close()
    assert [r.status for r in (reply, like, dm, notice, ig_reply, ig_dm, ig_notice)] == [ActionStatus.DONE] * 7
    assert reply.created_id == f"{PAGE}_900001" and dm.created_id.startswith("m_") and ig_reply.created_id
    seen = [(c["method"], c["path"], c["data"], c["json"], c["token"], c["query"]) for c in fake.calls]
    assert seen == [
        ("POST", f"/{PAGE}_111/comments", {"message": "Hej! /Louise"}, None, "page-token", {}),
        ("POST", f"/{PAGE}_111/likes", {}, None, "page-token", {}),
        ("POST", f"/{PAGE}/messages", {}, {"recipient": {"id": "psid-7"}, "messaging_type": "RESPONSE",
                                           "message": {"text": "Hej i DM"}}, "page-token", {}),
        ("POST", f"/{PAGE}/messages", {}, {"recipient": {"comment_id": f"{PAGE}_222"}, "message": {"text": "Vi har dolt"}},
         "page-token", {}),
        ("POST", "/1790001/replies", {"message": "Tack!"}, None, "ig-page-token", {}),
        ("POST", f"/{IG}/messages", {}, {"recipient": {"id": "igsid-3"}, "message": {"text": "Hej"}}, "ig-page-token", {}),
        ("POST", f"/{IG}/messages", {}, {"recipient": {"comment_id": "1790002"}, "message": {"text": "Vi har dolt"}},
         "ig-page-token", {}),
    ]
    assert all(c["raw_path"].startswith("/v21.0/") for c in fake.calls)  # the versioned Graph path


async def test_x_calls_as_x_documents_them():
    async with FakeXApi() as fake:
        x = client(XDialect(), fake, X_USER, "x-user-token")
        try:
            results = [await x.execute(c) for c in (
                command(Platform.X, Op.REPLY, X_USER, "1860000000000000111", text="Hej! /Louise"),
                command(Platform.X, Op.REPLY, X_USER, "dm-event-1", kind=EventKind.DM_RECEIVED, text="Hej i DM",
                        recipient="77"),
                command(Platform.X, Op.HIDE, X_USER, "1860000000000000222"),
                command(Platform.X, Op.UNHIDE, X_USER, "1860000000000000222"),
                command(Platform.X, Op.BLOCK_AUTHOR, X_USER, "1860000000000000222", author="77"),
                command(Platform.X, Op.LIKE, X_USER, "1860000000000000333"),
                command(Platform.X, Op.DELETE, X_USER, "1860000000000000222"),
                command(Platform.X, Op.NOTIFY, X_USER, "1860000000000000222", text="Vi har dolt"),
            )]
        finally:
            await x.close()
    assert [r.status for r in results] == [ActionStatus.DONE] * 6 + [ActionStatus.UNSUPPORTED] * 2
    assert "hide a reply, not delete it" in results[6].detail and results[6].attempts == 0
    assert results[0].created_id and results[1].created_id  # the new post's id, the DM event's id
    assert [(c["method"], c["path"], c["json"]) for c in fake.calls] == [
        ("POST", "/2/tweets", {"text": "Hej! /Louise", "reply": {"in_reply_to_tweet_id": "1860000000000000111"}}),
        ("POST", "/2/dm_conversations/with/77/messages", {"text": "Hej i DM"}),
        ("PUT", "/2/tweets/1860000000000000222/hidden", {"hidden": True}),
        ("PUT", "/2/tweets/1860000000000000222/hidden", {"hidden": False}),
        ("POST", f"/2/users/{X_USER}/blocking", {"target_user_id": "77"}),
        ("POST", f"/2/users/{X_USER}/likes", {"tweet_id": "1860000000000000333"}),
    ]
    assert {c["headers"]["authorization"] for c in fake.calls} == {"Bearer x-user-token"}
    assert {c["headers"]["content-type"] for c in fake.calls} == {"application/json"}


async def test_linkedin_calls_with_version_and_restli_headers_and_encoded_urns():
    async with FakeLinkedInApi() as fake:
        linkedin = client(LinkedInDialect("202610"), fake, ORG, "li-token")
        try:
            comment = await linkedin.execute(command(Platform.LINKEDIN, Op.REPLY, ORG, LI_COMMENT, text="Tack!", thread=LI_POST))
            delete = await linkedin.execute(command(Platform.LINKEDIN, Op.DELETE, ORG, LI_COMMENT, thread=LI_POST))
            like = await linkedin.execute(command(Platform.LINKEDIN, Op.LIKE, ORG, "urn:li:share:555", kind=EventKind.MENTION))
            hide = await linkedin.execute(command(Platform.LINKEDIN, Op.HIDE, ORG, LI_COMMENT))
        finally:
            await linkedin.close()
    assert [r.status for r in (comment, delete, like, hide)] == [ActionStatus.DONE] * 3 + [ActionStatus.UNSUPPORTED]
    assert comment.created_id.startswith(f"urn:li:comment:({LI_POST},")  # what LinkedIn's webhook will name
    assert [(c["method"], c["raw_path"], c["raw_query"], c["json"]) for c in fake.calls] == [
        ("POST", "/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7012345%2C7023456%29/comments", "",
         {"actor": ORG, "message": {"text": "Tack!"}, "object": LI_POST, "parentComment": LI_COMMENT}),
        ("DELETE", "/rest/socialActions/urn%3Ali%3Aactivity%3A7012345/comments/7023456",
         "actor=urn%3Ali%3Aorganization%3A2414183", None),
        ("POST", "/rest/reactions", "actor=urn%3Ali%3Aorganization%3A2414183",
         {"root": "urn:li:share:555", "reactionType": "LIKE"}),
    ]
    for call in fake.calls:
        assert (call["headers"]["authorization"], call["headers"]["linkedin-version"],
                call["headers"]["x-restli-protocol-version"]) == ("Bearer li-token", "202610", "2.0.0")


# --- the documented failures ---------------------------------------------------------------------


async def test_graph_failures_final_where_meta_says_so_and_retried_where_it_says_retry():
    async with FakeGraphApi(expired_tokens={"expired-token"}) as fake:
        graph = client(GraphDialect(), fake, PAGE, "page-token", max_attempts=4)
        expired = client(GraphDialect(), fake, PAGE, "expired-token")
        dm = command(Platform.FACEBOOK, Op.REPLY, PAGE, "m_1", kind=EventKind.DM_RECEIVED, text="Hej", recipient="psid-1")
        try:
            fake.fail_next(GRAPH_OUTSIDE_WINDOW)
            outside = await graph.execute(dm)
            token = await expired.execute(command(Platform.FACEBOOK, Op.HIDE, PAGE, f"{PAGE}_1"))
            assert fake.calls == []
            throttled = []
            for code in (4, 17, 32, 613):  # each answered once, then the call goes through
                fake.fail_next(graph_rate_limit(code, page_id=PAGE))
                throttled.append(await graph.execute(command(Platform.FACEBOOK, Op.REPLY, PAGE, f"{PAGE}_{code}", text="Hej")))
            fake.fail_next(graph_rate_limit(32, minutes=19, page_id=PAGE))
            blocked_for_long = await graph.execute(command(Platform.FACEBOOK, Op.LIKE, PAGE, f"{PAGE}_9"))
            fake.fail_first = 2
            after_500s = await graph.execute(command(Platform.FACEBOOK, Op.HIDE, PAGE, f"{PAGE}_5"))
        finally:
            await graph.close()
            await expired.close()
    assert (outside.status, outside.attempts, outside.error_code, outside.http_status) == (
        ActionStatus.FAILED, 1, "graph:10/2018278", 400)
    assert "outside of allowed window" in outside.detail
    assert (token.status, token.attempts, token.error_code) == (ActionStatus.FAILED, 1, "graph:190/463")
    assert [(r.status, r.attempts) for r in throttled] == [(ActionStatus.DONE, 2)] * 4
    # Meta says access returns in 19 minutes: not waited out in the executor, the outcome says when
    assert (blocked_for_long.status, blocked_for_long.attempts, blocked_for_long.error_code) == (
        ActionStatus.FAILED, 1, "graph:32")
    assert "wait 19 min" in blocked_for_long.detail
    assert (after_500s.status, after_500s.attempts) == (ActionStatus.DONE, 3)
    # every reply went out exactly once, whatever came before
    assert sorted(c["path"] for c in fake.calls if c["path"].endswith("/comments")) == sorted(
        f"/{PAGE}_{code}/comments" for code in (4, 17, 32, 613))


async def test_x_and_linkedin_failures():
    async with FakeXApi() as x_fake, FakeLinkedInApi() as li_fake:
        x = client(XDialect(), x_fake, X_USER)
        linkedin = client(LinkedInDialect("202610"), li_fake, ORG)
        x_reply = command(Platform.X, Op.REPLY, X_USER, "186", text="Hej")
        li_comment = command(Platform.LINKEDIN, Op.REPLY, ORG, LI_COMMENT, text="Tack")
        try:
            x_fake.fail_next(x_rate_limited(reset_in_s=0))
            x_limited = await x.execute(x_reply)
            x_fake.fail_next(x_rate_limited(reset_in_s=600))
            x_long = await x.execute(command(Platform.X, Op.LIKE, X_USER, "187"))
            x_fake.fail_next(X_FORBIDDEN)
            x_forbidden = await x.execute(command(Platform.X, Op.BLOCK_AUTHOR, X_USER, "186", author="9"))
            li_fake.fail_next(linkedin_rate_limited(0), linkedin_rate_limited(0))
            li_limited = await linkedin.execute(li_comment)
            li_fake.fail_next(LINKEDIN_FORBIDDEN)
            li_forbidden = await linkedin.execute(command(Platform.LINKEDIN, Op.DELETE, ORG, LI_COMMENT))
        finally:
            await x.close()
            await linkedin.close()
    assert (x_limited.status, x_limited.attempts) == (ActionStatus.DONE, 2)
    assert (x_long.status, x_long.error_code, x_long.attempts) == (ActionStatus.FAILED, "x:429", 1)
    assert "wait 10 min" in x_long.detail
    assert (x_forbidden.status, x_forbidden.error_code, x_forbidden.attempts, x_forbidden.http_status) == (
        ActionStatus.FAILED, "x:403", 1, 403)
    assert (li_limited.status, li_limited.attempts) == (ActionStatus.DONE, 3)
    assert (li_forbidden.status, li_forbidden.error_code, li_forbidden.attempts) == (ActionStatus.FAILED, "linkedin:403", 1)
    assert [c["path"] for c in x_fake.calls] == ["/2/tweets"]  # one reply, though asked three times by the retries
    assert len(li_fake.calls) == 1


async def test_network_errors_are_retried_and_a_lost_answer_is_never_sent_again():
    nothing_listens = PlatformClient(GraphDialect(), f"http://127.0.0.1:{free_port()}/v21.0", {PAGE: "tok"},
                                     max_attempts=3, backoff_s=0.01)
    try:
        refused = await nothing_listens.execute(command(Platform.FACEBOOK, Op.REPLY, PAGE, f"{PAGE}_1", text="Hej"))
    finally:
        await nothing_listens.close()
    assert (refused.status, refused.attempts, refused.error_code) == (ActionStatus.FAILED, 3, "graph:network")

    async with FakeGraphApi(delay_s=0.5) as fake:  # it acts, but answers after the client has given up
        slow = client(GraphDialect(), fake, PAGE, timeout_s=0.1, max_attempts=3)
        try:
            reply = await slow.execute(command(Platform.FACEBOOK, Op.REPLY, PAGE, f"{PAGE}_2", text="Hej"))
            hide = await slow.execute(command(Platform.FACEBOOK, Op.HIDE, PAGE, f"{PAGE}_3"))
        finally:
            await slow.close()
    assert (reply.status, reply.attempts, reply.error_code) == (ActionStatus.FAILED, 1, "graph:no-answer")
    assert "look on the platform" in reply.detail
    assert len(fake.called("POST", f"/{PAGE}_2/comments")) == 1  # a reply: sent once, not again
    assert (hide.status, hide.attempts, hide.error_code) == (ActionStatus.FAILED, 3, "graph:no-answer")
    assert len(fake.called("POST", f"/{PAGE}_3")) == 3  # a hide is safe to repeat: retried


# --- through the executor: the real broker and database ----------------------------------------


@pytest.fixture
async def executor_parts(kafka_bootstrap: str, database_url: str):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await migrate(pool)
    producer = make_producer(CommonSettings(kafka_bootstrap=kafka_bootstrap), "moderation-test")
    await producer.start()
    try:
        yield pool, producer
    finally:
        await producer.stop()
        await pool.close()


async def test_a_redelivered_reply_is_posted_once_and_its_outcome_carries_what_the_sla_needs(executor_parts, kafka_bootstrap):
    pool, producer = executor_parts
    async with FakeGraphApi() as fake, FakeXApi() as x_fake:
        platforms = PlatformActions([client(GraphDialect(), fake, PAGE), client(XDialect(), x_fake, X_USER)])
        executor = ActionExecutor(bootstrap=kafka_bootstrap, group_id="unused", producer=producer,
                                  store=ModerationStore(pool), platforms=platforms)
        reply = command(Platform.FACEBOOK, Op.REPLY, PAGE, f"{PAGE}_{uuid.uuid4().hex[:6]}", text="Hej! /Louise")
        x_delete = command(Platform.X, Op.DELETE, X_USER, "1860000000000000999")
        records = [
            ConsumerRecord(ACTIONS, 0, offset, 0, 0, thread_key(c.platform, c.account_id, c.thread_id), to_bytes(c),
                           None, 0, 0, ())
            for offset, c in enumerate([reply, x_delete, reply])  # the reply delivered twice
        ]
        try:
            await executor._handle_each(records)  # noqa: SLF001 - one attempt of what run() does per batch
            await executor._handle_each(records[2:])  # noqa: SLF001 - and again, after a restart
        finally:
            await platforms.close()
    assert len(fake.called("POST", f"/{reply.item_id}/comments")) == 1
    assert x_fake.calls == []
    outcomes = [o for _, o in await read_topic(
        kafka_bootstrap, ACTIONS, expected=4, timeout=15,
        where=lambda v: v.get("type") == "outcome" and v.get("action_id") in (reply.action_id, x_delete.action_id))]
    mine = [o for o in outcomes if o["action_id"] == reply.action_id]
    assert len(mine) == 3 and all(o == mine[0] for o in mine)  # published again, the same outcome
    assert (mine[0]["status"], mine[0]["event_id"], mine[0]["created_id"]) == ("done", reply.event_id, f"{PAGE}_900001")
    assert mine[0]["completed_at"]
    (x_outcome,) = [o for o in outcomes if o["action_id"] == x_delete.action_id]
    assert (x_outcome["status"], x_outcome["attempts"]) == ("unsupported", 0)
    assert "hide a reply" in x_outcome["detail"]


async def test_a_reply_interrupted_mid_way_is_not_sent_again_but_a_hide_is(executor_parts, kafka_bootstrap):
    pool, producer = executor_parts
    store = ModerationStore(pool)
    reply = command(Platform.FACEBOOK, Op.REPLY, PAGE, f"{PAGE}_{uuid.uuid4().hex[:6]}", text="Hej")
    hide = command(Platform.FACEBOOK, Op.HIDE, PAGE, f"{PAGE}_{uuid.uuid4().hex[:6]}")
    for started in (reply, hide):  # an earlier process started both and died before recording an outcome
        assert await store.action_started(started.action_id, "d", "facebook", PAGE, started.item_id, started.operation.value)
    async with FakeGraphApi() as fake:
        platforms = PlatformActions([client(GraphDialect(), fake, PAGE)])
        executor = ActionExecutor(bootstrap=kafka_bootstrap, group_id="unused", producer=producer, store=store,
                                  platforms=platforms)
        try:
            interrupted = await executor.execute(reply)
            repeated = await executor.execute(hide)
            await asyncio.gather(*executor._pending)  # noqa: SLF001 - what run() awaits before committing
        finally:
            await platforms.close()
    assert (interrupted.status, interrupted.error_code) == (ActionStatus.FAILED, "interrupted")
    assert repeated.status == ActionStatus.DONE
    assert [c["path"] for c in fake.calls] == [f"/{hide.item_id}"]


async def test_a_reply_whose_outcome_could_not_be_recorded_is_recorded_on_the_retry_not_sent_again(
        kafka_bootstrap, database_url, local_database):
    database = database_url.rsplit("/", 1)[1].split("?")[0]
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    await migrate(pool)
    producer = make_producer(CommonSettings(kafka_bootstrap=kafka_bootstrap), "moderation-test")
    await producer.start()
    reply = command(Platform.FACEBOOK, Op.REPLY, PAGE, f"{PAGE}_{uuid.uuid4().hex[:6]}", text="Hej")
    try:
        async with FakeGraphApi(delay_s=1.0) as fake:
            platforms = PlatformActions([client(GraphDialect(), fake, PAGE)])
            executor = ActionExecutor(bootstrap=kafka_bootstrap, group_id="unused", producer=producer,
                                      store=ModerationStore(pool), platforms=platforms)
            try:
                first = asyncio.create_task(executor.execute(reply))
                await wait_until(lambda: fake.in_flight, interval=0.01)  # at the platform: the database goes away
                await refuse_connections(local_database.admin_dsn, database, refuse=True)
                with pytest.raises((asyncpg.PostgresError, OSError, asyncpg.InterfaceError)):
                    await first
                await refuse_connections(local_database.admin_dsn, database, refuse=False)
                retried = await executor.execute(reply)  # what the guard does with the batch
                await asyncio.gather(*executor._pending)  # noqa: SLF001 - what run() awaits before committing
            finally:
                await platforms.close()
    finally:
        await refuse_connections(local_database.admin_dsn, database, refuse=False)
        await producer.stop()
        await pool.close()
    assert (retried.status, retried.created_id) == (ActionStatus.DONE, f"{PAGE}_900001")
    assert len(fake.called("POST", f"/{reply.item_id}/comments")) == 1
