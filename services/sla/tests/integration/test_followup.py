"""Follow-up through the real broker, database and SMTP server: figures that are re-polled, accounts
that go quiet, and the monthly report mailed exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from prometheus_client import CollectorRegistry
from socialops_common.devstack import free_port
from socialops_common.events import (
    AccountRecord,
    Author,
    EventKind,
    InsightsPollStatus,
    MetricSnapshot,
    Platform,
    PollState,
    SocialEvent,
    metric_event_id,
    metric_snapshot_id,
    social_event_id,
)
from socialops_common.testing import wait_until
from socialops_common.topics import ACCOUNTS, EVENTS, INSIGHTS
from socialops_sla.app import SlaRuntime, create_app
from socialops_sla.calendar import STOCKHOLM
from socialops_sla.config import ManualClock, SlaSettings
from socialops_sla.store import DAY_FIGURES, SlaStore, migrate

from .test_sla_service import send

# Friday 4 December 2026, 09:00: the second working day (2 December) has passed: November is due.
NOW = datetime(2026, 12, 4, 9, tzinfo=STOCKHOLM).astimezone(UTC)


def settings(bootstrap: str, database_url: str, group: str, smtp_port: int, **extra) -> SlaSettings:
    return SlaSettings(kafka_bootstrap=bootstrap, database_url=database_url, sla_consumer_group=group,
                       sla_refresh_seconds=3600, sla_kpi_refresh_seconds=0, sla_mail_poll_seconds=0.2,
                       smtp_host="127.0.0.1", smtp_port=smtp_port, mail_retry_base_s=0.2,
                       sla_communication_email="kommunikation@example.se",
                       machine_tokens="reports:communications:reports-token", **extra)


def snapshot(account: str, item: str, metric_set: str, day: date, *, level: str = "account", period: str = "day",
             received: datetime = NOW, **figures) -> SocialEvent:
    sid = metric_snapshot_id(Platform.FACEBOOK, account, item, metric_set, period, day)
    metrics = MetricSnapshot(period=period, level=level, snapshot_id=sid, metric_set=metric_set, day=day, **figures)
    return SocialEvent(event_id=metric_event_id(metrics), kind=EventKind.METRICS_SNAPSHOT, platform=Platform.FACEBOOK,
                       account_id=account, item_id=item, thread_id=account if level == "account" else item,
                       occurred_at=datetime(day.year, day.month, day.day, tzinfo=UTC), received_at=received,
                       metrics=metrics)


def post(account: str, item: str, at: datetime) -> SocialEvent:
    return SocialEvent(event_id=social_event_id(Platform.FACEBOOK, EventKind.POST_PUBLISHED, f"{account}:{item}"),
                       kind=EventKind.POST_PUBLISHED, platform=Platform.FACEBOOK, account_id=account, item_id=item,
                       thread_id=item, author=Author(id=account, is_account=True), text="Inlägg", occurred_at=at,
                       received_at=at)


async def test_a_revised_figure_replaces_the_earlier_one_and_missing_is_not_zero(kafka_bootstrap, database_url,
                                                                                 smtp_mailbox):
    account = f"page-{uuid.uuid4().hex[:8]}"
    runtime = SlaRuntime(settings(kafka_bootstrap, database_url, f"g-{account}", smtp_mailbox.port), ManualClock(NOW),
                         CollectorRegistry())
    await runtime.start()
    try:
        record = AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="Biblioteket",
                               department="Kulturförvaltningen")
        day1, day2 = date(2026, 11, 2), date(2026, 11, 3)
        posted = datetime(2026, 11, 2, 10, tzinfo=UTC)
        await send(kafka_bootstrap, (ACCOUNTS, record),
                   (EVENTS, snapshot(account, account, "page_insights", day1, reach=600, followers=1000,
                                     new_followers=5, missing=["video_views"])),
                   (EVENTS, snapshot(account, account, "page_insights", day2, reach=700, followers=1010, new_followers=12)),
                   (EVENTS, snapshot(account, "p1", "post", date(2026, 11, 3), level="post", period="lifetime",
                                     published_at=posted, reactions=30, comments=4)))
        # the platform revises the 3rd (48-hour lag) and the post grows; the 2nd is polled again unchanged
        later = NOW + timedelta(days=1)
        await send(kafka_bootstrap,
                   (EVENTS, snapshot(account, account, "page_insights", day1, reach=600, followers=1000,
                                     new_followers=5, missing=["video_views"])),
                   (EVENTS, snapshot(account, account, "page_insights", day2, received=later, reach=900, followers=1010,
                                     new_followers=12)),
                   (EVENTS, snapshot(account, "p1", "post", date(2026, 11, 4), level="post", period="lifetime",
                                     received=later, published_at=posted, reactions=50, comments=6)),
                   # a version that lacks a figure (the metric was removed) never erases it
                   (EVENTS, snapshot(account, account, "page_insights", day1, received=later, reach=None, followers=1000,
                                     new_followers=5, missing=["reach", "video_views"])),
                   (INSIGHTS, InsightsPollStatus(platform=Platform.FACEBOOK, account_id=account, state=PollState.OK,
                                                 covered_until=day2, updated_at=later)))
        pool = runtime.service.pool
        await wait_until(lambda: pool.fetchval("SELECT reactions FROM sla_post_figures WHERE account_id = $1",
                                               account), timeout=20)
        await wait_until(lambda: _equals(pool.fetchval("SELECT reactions FROM sla_post_figures WHERE account_id = $1",
                                                       account), 50), timeout=20)
        rows = {r["day"]: dict(r) for r in await pool.fetch(
            "SELECT * FROM sla_account_days WHERE account_id = $1", account)}
        assert rows[day1]["reach"] == 600 and rows[day2]["reach"] == 900  # replaced, never added
        assert rows[day1]["video_views"] is None  # missing, not 0
        report = await runtime.service.monthly_report("2026-11", account=f"facebook:{account}")
        channel = report["channels"][0]
        assert channel["reach"] == 750.0 and channel["reach_basis"] == "daily_average" and channel["reach_days"] == 2
        assert channel["interactions"] == 56 and channel["new_followers"] == 17 and channel["followers"] == 1010
        assert channel["video_views"] is None and channel["missing"]["video_views"] == "not_given"
        assert channel["insights"]["state"] == "ok"
        assert report["scope"] == {"kind": "account", "name": "Biblioteket (facebook)"}
        # the same figures polled again: nothing changes
        await send(kafka_bootstrap, (EVENTS, snapshot(account, account, "page_insights", day2, received=later,
                                                      reach=900, followers=1010, new_followers=12)))
        assert await runtime.service.monthly_report("2026-11", account=f"facebook:{account}") == report
    finally:
        await runtime.stop()


async def _equals(value, expected) -> bool:
    return (await value) == expected


async def test_after_midnight_in_stockholm_the_dashboards_window_has_the_poller_s_today(database_url):
    # 00:30 on 2 December in Stockholm, still the 1st in UTC: the poller dates today's follower count
    # the 2nd (Stockholm), so the last 28 days end with it
    now = datetime(2026, 12, 2, 0, 30, tzinfo=STOCKHOLM).astimezone(UTC)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await migrate(pool)
        def day(at: date, followers: int) -> tuple:
            figures = dict.fromkeys(DAY_FIGURES, None) | {"followers": followers}
            return ("instagram", "17841400000000002", at, *figures.values(), now)
        async with pool.acquire() as conn:
            await SlaStore.save_account_days(conn, [day(date(2026, 11, 4), 900), day(date(2026, 11, 5), 950),
                                                    day(date(2026, 12, 2), 1200)])
        [row] = (await SlaStore(pool).recent_sums(now - timedelta(days=28), now))["days"]
        assert (row["followers_first"], row["followers_end"]) == (950, 1200)  # the 4th is a day too early
    finally:
        await pool.close()


async def test_a_quiet_account_is_flagged_escalated_and_cleared_with_notices(kafka_bootstrap, database_url, smtp_mailbox):
    account = f"page-{uuid.uuid4().hex[:8]}"
    clock = ManualClock(NOW)
    runtime = SlaRuntime(settings(kafka_bootstrap, database_url, f"g-{account}", smtp_mailbox.port), clock,
                         CollectorRegistry())
    await runtime.start()
    try:
        record = AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="Parkering",
                               department="Trafikkontoret", department_email="trafik@example.se")
        # one post a week for five weeks: fewer than two a week over the last four
        posts = [post(account, f"p{n}", NOW - timedelta(days=3 + 7 * n)) for n in range(5)]
        await send(kafka_bootstrap, (ACCOUNTS, record), *((EVENTS, p) for p in posts))
        await wait_until(lambda: runtime.service.pool.fetchval(
            "SELECT count(*) FROM sla_posts WHERE account_id = $1", account), timeout=20)
        await wait_until(lambda: _equals(runtime.service.pool.fetchval(
            "SELECT count(*) FROM sla_posts WHERE account_id = $1", account), 5), timeout=20)
        changes = await runtime.service.evaluate_publishing()
        assert [(r.external_id, kind) for r, kind in changes if r.external_id == account] == [(account, "flagged")]
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime, False)), base_url="http://sla",
                                   headers={"Authorization": "Bearer reports-token"})
        listed = (await client.get("/accounts/publishing", params={"status": "flagged"})).json()["accounts"]
        mine = next(a for a in listed if a["account_id"] == account)
        assert mine["posts_in_period"] == 4 and mine["period_weeks"] == 4
        await wait_until(lambda: any(m["To"] == "trafik@example.se" for m in smtp_mailbox.messages), timeout=20)
        notice = next(m for m in smtp_mailbox.messages if m["To"] == "trafik@example.se")
        assert "Parkering" in notice["Subject"] and "publicerar för sällan" in notice["Subject"]
        text = notice.get_body().get_content()
        assert "4 inlägg de senaste 4 veckorna" in text and "Så stänger ni ett konto" in text
        assert [kind for r, kind in await runtime.service.evaluate_publishing() if r.external_id == account] == []
        labels = f'account="{account}",department="Trafikkontoret",platform="facebook"'
        metrics = (await client.get("/metrics")).text
        assert f"socialops_sla_account_quiet{{{labels}}} 1.0" in metrics
        assert f"socialops_sla_account_review_required{{{labels}}} 0.0" in metrics

        clock.set(NOW + timedelta(weeks=4, hours=1))  # a second quiet period without a post
        changes = await runtime.service.evaluate_publishing()
        assert (record.key, "escalated") in [(r.key, kind) for r, kind in changes]
        await wait_until(lambda: any(m["To"] == "kommunikation@example.se" and "Parkering" in m["Subject"]
                                     for m in smtp_mailbox.messages), timeout=20)

        await send(kafka_bootstrap, (EVENTS, post(account, "again", clock.now() - timedelta(hours=1))))
        await wait_until(lambda: _equals(runtime.service.pool.fetchval(
            "SELECT count(*) FROM sla_posts WHERE account_id = $1", account), 6), timeout=20)
        changes = await runtime.service.evaluate_publishing()
        assert (record.key, "cleared") in [(r.key, kind) for r, kind in changes]
        async def publishing_once_sent() -> dict | None:  # a notice is marked sent after the relay accepted it
            found = next(a for a in (await client.get("/accounts/publishing")).json()["accounts"]
                         if a["account_id"] == account)
            return found if all(n["status"] == "sent" for n in found["notices"]) else None

        mine = await wait_until(publishing_once_sent, timeout=20)
        assert mine["status"] == "active" and mine["cleared_at"] is not None
        assert [n["kind"] for n in mine["notices"]] == ["flagged", "escalated"]
        await client.aclose()
    finally:
        await runtime.stop()


async def test_the_monthly_report_is_mailed_once_across_restarts_and_after_the_relay_comes_back(
        fresh_broker, database_url, smtp_mailbox):
    # A broker of its own: on the shared one, every inventory other tests published would be mailed first
    # (a PDF per department), and on a loaded machine this test's mail would wait behind them.
    kafka_bootstrap = fresh_broker.bootstrap
    suffix = uuid.uuid4().hex[:8]
    accounts = [AccountRecord(platform=Platform.FACEBOOK, external_id=f"a-{suffix}", name="Biblioteket",
                              department=f"Kultur {suffix}", department_email=f"kultur-{suffix}@example.se"),
                AccountRecord(platform=Platform.FACEBOOK, external_id=f"b-{suffix}", name="Museet",
                              department=f"Kultur {suffix}", department_email=f"kultur-{suffix}@example.se")]
    dead_port = free_port()  # nothing listens here: the relay is down
    first = SlaRuntime(settings(kafka_bootstrap, database_url, f"g-{suffix}", dead_port), ManualClock(NOW),
                       CollectorRegistry())
    await first.start()
    try:
        await send(kafka_bootstrap, *((ACCOUNTS, a) for a in accounts))
        await wait_until(lambda: all((a.platform.value, a.external_id) in first.service.accounts for a in accounts),
                         timeout=20)
        await wait_until(lambda: first.service.pool.fetchval(
            "SELECT attempts FROM sla_mail_outbox WHERE recipient = $1", f"kultur-{suffix}@example.se"), timeout=20)
        row = await first.service.pool.fetchrow("SELECT * FROM sla_mail_outbox WHERE recipient = $1",
                                                f"kultur-{suffix}@example.se")
        assert row["status"] == "pending" and row["attempts"] >= 1 and row["last_error"]
    finally:
        await first.stop()
    # restarted with the relay up: the pending mail goes out once, and planning again writes nothing
    second = SlaRuntime(settings(kafka_bootstrap, database_url, f"g-{suffix}", smtp_mailbox.port), ManualClock(NOW),
                        CollectorRegistry())
    await second.start()
    try:
        mine = lambda: [m for m in smtp_mailbox.messages if m["To"] == f"kultur-{suffix}@example.se"]  # noqa: E731
        await wait_until(lambda: mine(), timeout=20)
        assert await second.service.plan_monthly_reports() == 0
        await second.service.mail.send_due()
        message = mine()[0]
        assert message["Subject"] == f"Månadsrapport sociala medier november 2026: Kultur {suffix}"
        pdf = next(part for part in message.iter_attachments())
        assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
        assert len(mine()) == 1
        async def statuses() -> list[str]:
            rows = await second.service.pool.fetch("SELECT status FROM sla_mail_outbox WHERE month = '2026-11' AND "
                                                   "department = $1", f"Kultur {suffix}")
            return [r["status"] for r in rows]

        async def sent() -> bool:
            return await statuses() == ["sent"]

        # the sender marks it sent once the relay has accepted it: the mail can be there a moment before
        await wait_until(sent, timeout=20)
        assert len(mine()) == 1
    finally:
        await second.stop()
    assert len([m for m in smtp_mailbox.messages if m["To"] == f"kultur-{suffix}@example.se"]) == 1
