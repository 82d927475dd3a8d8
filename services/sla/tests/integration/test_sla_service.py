"""The SLA service through the real broker and the real database, with an injected clock."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from socialops_common.events import (
    AccountRecord,
    EventKind,
    MetricSnapshot,
    Platform,
)
from socialops_common.testing import read_topic, wait_until
from socialops_common.topics import ACCOUNTS, DEADLETTER, EVENTS, SLA
from socialops_sla.app import SlaRuntime, create_app
from socialops_sla.calendar import STOCKHOLM
from socialops_sla.config import ManualClock, SlaSettings
from socialops_sla.testing import DEADLINE, TUESDAY_10, item_state, send, social


def settings_for(bootstrap: str, database_url: str, group: str) -> SlaSettings:
    return SlaSettings(kafka_bootstrap=bootstrap, database_url=database_url, sla_consumer_group=group,
                       machine_tokens="anna:contact_center:s3cret,reports:communications:reports-token", sla_scheduler_poll_seconds=0.05, sla_refresh_seconds=3600,
                       sla_kpi_refresh_seconds=0)


async def test_met_breached_cancelled_across_a_restart(kafka_bootstrap: str, database_url: str) -> None:
    account = f"page-{uuid.uuid4().hex[:8]}"
    group = f"sla-test-{uuid.uuid4().hex[:8]}"
    clock = ManualClock(TUESDAY_10)
    first = SlaRuntime(settings_for(kafka_bootstrap, database_url, group), clock, CollectorRegistry())
    await first.start()
    try:
        await send(
            kafka_bootstrap,
            (ACCOUNTS, AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="Stadsbiblioteket",
                                     department="Kulturförvaltningen")),
            (EVENTS, social(account, EventKind.COMMENT_CREATED, "c1", text="När öppnar biblioteket?")),
            (EVENTS, social(account, EventKind.COMMENT_CREATED, "c2", text="Hur lånar man om en bok?")),
            (EVENTS, social(account, EventKind.COMMENT_CREATED, "c3", text="Varför är ni så dåliga?")),
            (EVENTS, social(account, EventKind.COMMENT_CREATED, "c4", text="Fint foto!")),
        )
        for item in ("c1", "c2", "c3"):
            assert await wait_until(lambda i=item: _is(first, account, i, "open"), timeout=30)
        assert await item_state(first, account, "c4") is None  # not a question: not tracked
        await send(kafka_bootstrap, (EVENTS, social(account, EventKind.COMMENT_HIDDEN, "c3",
                                                    at=TUESDAY_10 + timedelta(minutes=3))))
        assert await wait_until(lambda: _is(first, account, "c3", "cancelled"))

        # one second before the deadline: at risk (from Wednesday 08:00), not breached
        clock.set(DEADLINE - timedelta(seconds=1))
        assert await wait_until(lambda: _is(first, account, "c2", "at_risk"))
        runs = first.metrics.scheduler_runs._value.get()
        await wait_until(lambda: first.metrics.scheduler_runs._value.get() >= runs + 3)
        assert await item_state(first, account, "c2") == "at_risk"
    finally:
        await first.stop()

    # while the service is down: the city answers c1 (Tuesday 12:00) and the deadline passes
    await send(kafka_bootstrap, (EVENTS, social(account, EventKind.REPLY_BY_ACCOUNT, "r1", parent="c1",
                                                at=TUESDAY_10 + timedelta(hours=2), by_account=True)))
    # a redelivered comment must not open anything twice
    await send(kafka_bootstrap, (EVENTS, social(account, EventKind.COMMENT_CREATED, "c1", text="När öppnar biblioteket?")))
    clock.set(DEADLINE)

    second = SlaRuntime(settings_for(kafka_bootstrap, database_url, group), clock, CollectorRegistry())
    await second.start()
    try:
        assert await wait_until(lambda: _is(second, account, "c1", "met"), timeout=30)
        assert await wait_until(lambda: _is(second, account, "c2", "breached"))
        # c1 went at risk too: it was still unanswered here when the clock passed Wednesday 08:00
        changes = await read_topic(kafka_bootstrap, SLA, expected=8, timeout=20,
                                   where=lambda v: v.get("account_id") == account)
        seen = [(v["item_id"], v["state"]) for _, v in changes]
        assert sorted(seen) == sorted([("c1", "open"), ("c1", "at_risk"), ("c1", "met"), ("c2", "open"), ("c2", "at_risk"),
                                       ("c2", "breached"), ("c3", "open"), ("c3", "cancelled")])
        by_state = {(v["item_id"], v["state"]): v for _, v in changes}
        breach = by_state[("c2", "breached")]
        assert datetime.fromisoformat(breach["changed_at"]) == DEADLINE
        assert datetime.fromisoformat(breach["deadline"]) == DEADLINE
        assert breach["department"] == "Kulturförvaltningen"
        met = by_state[("c1", "met")]
        assert met["response_working_seconds"] == 2 * 3600 and met["answer_event_id"]
        assert by_state[("c3", "cancelled")]["reason"] == "hidden"
        assert all(key == f"facebook:{account}:post".encode() for key, _ in changes)

        # staff API and report on the restarted service
        await send(kafka_bootstrap, (EVENTS, social(account, EventKind.COMMENT_CREATED, "c5", text="Vem ansvarar?",
                                                    at=DEADLINE)))
        assert await wait_until(lambda: _is(second, account, "c5", "open"))
        c5_event = social(account, EventKind.COMMENT_CREATED, "c5").event_id
        app = create_app(second, manage_lifespan=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla") as client:
            denied = await client.post(f"/items/{c5_event}/no-answer-needed", headers={"Authorization": "Bearer x"})
            assert denied.status_code == 401
            done = await client.post(f"/items/{c5_event}/no-answer-needed",
                                     headers={"Authorization": "Bearer s3cret"})
            assert done.status_code == 200 and done.json() == {
                "event_id": c5_event, "state": "cancelled", "changed": True,
                "by": {"subject": "client:anna", "name": "anna", "email": None, "kind": "machine"}}
            assert (await client.post("/items/nope/no-answer-needed",
                                      headers={"Authorization": "Bearer s3cret"})).status_code == 404
            await second.service.refresh_gauges()
            report = (await client.get("/reports/monthly", params={"month": "2026-11"},
                                       headers={"Authorization": "Bearer reports-token"})).json()
            channel = next(c for c in report["channels"] if c["account_id"] == account)
            assert channel["items_needing_answer"] == 2 and channel["met"] == 1 and channel["breached"] == 1
            assert channel["response_rate"] == 0.5 and channel["compliance"] == 0.5
            assert channel["department"] == "Kulturförvaltningen"
            assert (await client.get("/reports/monthly", params={"month": "2026-13"},
                                     headers={"Authorization": "Bearer reports-token"})).status_code == 400
            assert (await client.get("/reports/monthly", params={"month": "2026-11"})).status_code == 401
            assert (await client.get("/reports/monthly", params={"month": "2026-11"},
                                     headers={"Authorization": "Bearer s3cret"})).status_code == 403
            metrics = (await client.get("/metrics")).text
            assert (f'socialops_sla_state_changes_total{{account="{account}",department="Kulturförvaltningen",'
                    f'platform="facebook",state="met"}} 1.0') in metrics
            assert "socialops_sla_compliance_ratio" in metrics
    finally:
        await second.stop()

    # replaying every topic from the beginning (a new consumer group, same database) changes nothing
    replay = SlaRuntime(settings_for(kafka_bootstrap, database_url, f"{group}-replay"), clock, CollectorRegistry())
    await replay.start()
    try:
        await wait_until(lambda: replay.metrics.messages.labels(EVENTS, "duplicate")._value.get() >= 8, timeout=30)
        assert replay.metrics.messages.labels(EVENTS, "applied")._value.get() == 0
        assert sum(replay.metrics.state_changes.labels(state, "facebook", account, "Kulturförvaltningen")._value.get()
                   for state in ("open", "at_risk", "breached", "met", "cancelled")) == 0
    finally:
        await replay.stop()
    after = await read_topic(kafka_bootstrap, SLA, expected=11, timeout=3, where=lambda v: v.get("account_id") == account)
    assert len(after) == 10  # the 8 above plus c5's open and cancelled: the replay published nothing


async def _is(runtime: SlaRuntime, account: str, item: str, state: str) -> bool:
    return await item_state(runtime, account, item) == state


async def test_unreadable_message_is_dead_lettered_and_follow_up_is_recorded(fresh_broker, database_url: str) -> None:
    bootstrap = fresh_broker.bootstrap
    account = "page-kpi"
    friday_late = datetime(2026, 11, 27, 16, tzinfo=STOCKHOLM).astimezone(UTC)
    runtime = SlaRuntime(settings_for(bootstrap, database_url, "sla-kpi"), ManualClock(friday_late + timedelta(hours=1)),
                         CollectorRegistry())
    await runtime.start()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        await producer.send_and_wait(EVENTS, b'{"kind": "comment.created", "oops": true}', key=b"bad")
        await producer.stop()
        await send(
            bootstrap,
            (ACCOUNTS, AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="Parkering",
                                     department="Trafikkontoret")),
            (EVENTS, social(account, EventKind.POST_PUBLISHED, "p1", parent=None, at=friday_late, by_account=True)),
            (EVENTS, social(account, EventKind.METRICS_SNAPSHOT, account, parent=None, at=friday_late,
                            metrics=MetricSnapshot(period="day", level="account", day=friday_late.date(),
                                                   snapshot_id="s-day", reach=500, followers=1000))),
            (EVENTS, social(account, EventKind.METRICS_SNAPSHOT, "p1", parent=None, at=friday_late,
                            metrics=MetricSnapshot(period="lifetime", level="post", day=friday_late.date(),
                                                   snapshot_id="s-post", published_at=friday_late, reactions=40,
                                                   comments=10))),
        )
        letters = await read_topic(bootstrap, DEADLETTER, expected=1, timeout=20)
        assert letters[0][1]["source"] == "sla.consumer" and "unreadable" in letters[0][1]["reason"]
        assert json.loads(letters[0][1]["payload"])["oops"] is True
        await wait_until(lambda: runtime.service.pool.fetchval("SELECT count(*) FROM sla_post_figures"), timeout=20)
        await wait_until(lambda: runtime.service.pool.fetchval("SELECT count(*) FROM sla_account_days"), timeout=20)
        await runtime.service.refresh_gauges()
        text = (await httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime, False)),
                                        base_url="http://sla").get("/metrics")).text
        labels = f'account="{account}",department="Trafikkontoret",platform="facebook"'
        assert f"socialops_sla_late_friday_posts_total{{{labels}}} 1.0" in text
        assert f"socialops_sla_account_posts_last_7_days{{{labels}}} 1.0" in text
        assert f"socialops_sla_account_inactive{{{labels}}} 1.0" in text
        assert f"socialops_channel_engagement_ratio{{{labels}}} 0.05" in text
        report = await runtime.service.monthly_report("2026-11")
        channel = report["channels"][0]
        assert (channel["posts"], channel["late_friday_posts"], channel["reach"]) == (1, 1, 500)
        assert (channel["reach_basis"], channel["interactions"], channel["engagement_rate"]) == ("daily_average", 50, 0.05)
        # consumed ids are kept for the topics' retention only
        assert await runtime.service.store.prune_seen(datetime.now(UTC) - timedelta(days=1)) == 0
        assert await runtime.service.store.prune_seen(datetime.now(UTC) + timedelta(seconds=5)) == 3
    finally:
        await runtime.stop()
