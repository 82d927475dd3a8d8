"""The insights poller against local servers speaking the platforms' APIs, publishing to a real broker.

Each scenario of issue 15: a re-poll changes nothing it should not; the 48-hour lag; one removed
metric; an expired token; a rate limit; an outage; an account without a token.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

from socialops_common.events import AccountRecord, Platform
from socialops_common.testing import SettableClock, read_topic
from socialops_common.topics import EVENTS, INSIGHTS
from socialops_ingest.insights.config import load_config
from socialops_ingest.insights.fakes import FakeData, FakePlatforms, serve_fakes, urls
from socialops_ingest.insights.poller import InsightsPoller
from socialops_ingest.publisher import EventPublisher
from socialops_ingest.settings import IngestSettings

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday morning in Stockholm


def inventory(suffix: str) -> list[AccountRecord]:
    return [
        AccountRecord(platform=Platform.FACEBOOK, external_id=f"9{suffix}", name="Stadsbiblioteket",
                      department="Kulturförvaltningen"),
        AccountRecord(platform=Platform.INSTAGRAM, external_id=f"1784{suffix}", name="stadsbiblioteket",
                      department="Kulturförvaltningen"),
        AccountRecord(platform=Platform.LINKEDIN, external_id=f"urn:li:organization:{suffix}", name="Staden",
                      department="HR"),
        AccountRecord(platform=Platform.X, external_id=f"7{suffix}", name="@staden", department="Kommunikation"),
    ]


@contextlib.asynccontextmanager
async def polling(bootstrap: str, *, without_token: set[str] = frozenset(),
                  suffix: str | None = None) -> AsyncIterator[tuple]:
    suffix = suffix or str(uuid.uuid4().int)[:9]
    accounts = inventory(suffix)
    clock = SettableClock(START)
    fakes = FakePlatforms(accounts, FakeData(now=clock))
    async with serve_fakes(fakes) as base:
        tokens = {a.key.decode(): f"token-{a.external_id}" for a in accounts if a.platform.value not in without_token}
        settings = IngestSettings(kafka_bootstrap=bootstrap, insights_tokens=tokens, insights_backfill_days=5,
                                  insights_http_backoff_s=0.01, insights_post_window_days=10, **urls(base))
        publisher = EventPublisher(settings, timeout_s=10)
        poller = InsightsPoller(settings, publisher, load_config(), clock=clock, inventory=lambda: accounts)
        try:
            yield poller, fakes, clock, {a.platform: a for a in accounts}
        finally:
            await poller.http.close()
            await publisher.stop()


async def snapshots(bootstrap: str, account: str, expected: int) -> list[dict]:
    """The account's snapshots, at least `expected`, and every one published before the read."""
    found = await read_topic(bootstrap, EVENTS, expected=expected, timeout=15, to_end=True,
                             where=lambda v: v.get("kind") == "metrics.snapshot" and v.get("account_id") == account)
    return [value for _, value in found]


async def statuses(bootstrap: str, account: str, expected: int = 1) -> list[dict]:
    return [v for _, v in await read_topic(bootstrap, INSIGHTS, expected=expected, timeout=15,
                                           where=lambda v: v.get("account_id") == account)]


def day_metrics(events: list[dict], metric_set: str, day: date) -> list[dict]:
    return [e["metrics"] for e in events if e["metrics"]["metric_set"] == metric_set
            and e["metrics"]["day"] == day.isoformat() and e["metrics"]["period"] == "day"]


def a_page_whose_posts_grow_within_the_hour() -> str:
    """Accounts' ids are random (the broker is shared) and the fake's posts depend on them: one with a post
    whose figures change between START and an hour later, so the re-poll has a revision to show."""
    before, after = FakeData(now=lambda: START), FakeData(now=lambda: START + timedelta(hours=1))
    for _ in range(1000):
        suffix = str(uuid.uuid4().int)[:9]
        page = f"9{suffix}"
        posts = before.posts_between(page, START - timedelta(days=3), START)
        if any(before.post_figures(page, post) != after.post_figures(page, post) for post in posts):
            return suffix
    raise AssertionError("no account id with a growing post in 1,000 tries")


async def test_a_repoll_publishes_the_same_events_and_only_revised_figures_as_new_versions(kafka_bootstrap: str):
    async with polling(kafka_bootstrap, suffix=a_page_whose_posts_grow_within_the_hour()) as (
            poller, fakes, clock, accounts):
        page = accounts[Platform.FACEBOOK].external_id
        first = await poller.run_cycle()
        assert set(first.polled.values()) == {"ok"}
        events = await snapshots(kafka_bootstrap, page, 1)
        ids = {e["event_id"] for e in events}

        # an hour later nothing of the days changed: the same event ids, nothing new for consumers
        clock.at = START + timedelta(hours=1)
        await poller.run_cycle()
        again = await snapshots(kafka_bootstrap, page, 2 * len(events))
        days_before = {e["event_id"] for e in events if e["metrics"]["level"] == "account"}
        days_after = {e["event_id"] for e in again if e["metrics"]["level"] == "account"}
        assert days_after == days_before
        # posts still growing (their first three days) are new versions of the same snapshots; a post
        # published within the hour (the fake's posts depend on the account's random id) is a new one
        versions = [e for e in again if e["event_id"] not in ids]
        assert versions and all(e["metrics"]["level"] == "post" for e in versions)
        by_snapshot = {e["metrics"]["snapshot_id"] for e in events}
        published = {v["metrics"]["snapshot_id"]: datetime.fromisoformat(v["metrics"]["published_at"]) for v in versions}
        assert all(snapshot in by_snapshot for snapshot, at in published.items() if at <= START)
        assert all(START < at <= clock.at for snapshot, at in published.items() if snapshot not in by_snapshot)


async def test_the_48_hour_lag_a_day_read_again_replaces_its_partial_figures(kafka_bootstrap: str):
    async with polling(kafka_bootstrap) as (poller, fakes, clock, accounts):
        page = accounts[Platform.FACEBOOK].external_id
        yesterday = date(2026, 11, 19)
        await poller.run_cycle()
        partial = day_metrics(await snapshots(kafka_bootstrap, page, 5), "page_insights", yesterday)
        assert len(partial) == 1 and partial[0]["reach"] == int(fakes.data.daily(page, yesterday)["reach"])

        clock.at = START + timedelta(days=1)  # the platform has finished counting the 19th
        await poller.run_cycle()
        final = day_metrics(await snapshots(kafka_bootstrap, page, 12), "page_insights", yesterday)
        assert len(final) == 2, "one partial and one final version, nothing else"
        old, new = sorted(final, key=lambda m: m["reach"])
        assert old["snapshot_id"] == new["snapshot_id"] and new["reach"] > old["reach"]
        assert new["reach"] == fakes.data.daily(page, yesterday)["reach"]


async def test_one_removed_metric_is_missing_and_every_other_metric_is_still_read(kafka_bootstrap: str):
    async with polling(kafka_bootstrap) as (poller, fakes, clock, accounts):
        page = accounts[Platform.FACEBOOK].external_id
        fakes.remove_metric("page_video_views")
        report = await poller.run_cycle()
        assert report.polled[f"facebook:{page}"] == "ok"
        days = [e["metrics"] for e in await snapshots(kafka_bootstrap, page, 5)
                if e["metrics"]["metric_set"] == "page_insights"]
        assert days and all(m["video_views"] is None and "video_views" in m["missing"] for m in days)
        assert all(m["reach"] is not None and m["followers"] is not None for m in days)
        status = (await statuses(kafka_bootstrap, page))[-1]
        assert status["state"] == "ok" and status["missing_metrics"] == ["page_video_views"]
        # the next cycle does not ask for it again
        asked_before = len(fakes.requests)
        await poller.run_cycle()
        later = [q for _, path, q, _ in fakes.requests[asked_before:] if path.endswith(f"{page}/insights")]
        assert later and all("page_video_views" not in q.get("metric", "") for q in later)


async def test_an_expired_token_stops_that_account_only_and_says_so(kafka_bootstrap: str):
    async with polling(kafka_bootstrap) as (poller, fakes, clock, accounts):
        instagram = accounts[Platform.INSTAGRAM].external_id
        fakes.expire_token(f"token-{instagram}")
        report = await poller.run_cycle()
        assert report.polled[f"instagram:{instagram}"] == "token_expired"
        assert report.polled[f"facebook:{accounts[Platform.FACEBOOK].external_id}"] == "ok"
        status = (await statuses(kafka_bootstrap, instagram))[-1]
        assert status["state"] == "token_expired" and "190" in status["detail"] and status["covered_until"] is None
        assert await read_topic(kafka_bootstrap, EVENTS, expected=1, timeout=2,
                                where=lambda v: v.get("account_id") == instagram) == []


async def test_a_rate_limit_waits_until_it_lifts_then_reads_the_days_it_missed(kafka_bootstrap: str):
    async with polling(kafka_bootstrap) as (poller, fakes, clock, accounts):
        org = accounts[Platform.LINKEDIN].external_id
        await poller.run_cycle()
        assert poller.statuses[accounts[Platform.LINKEDIN].key].covered_until == date(2026, 11, 19)

        clock.at = START + timedelta(days=1)
        fakes.rate_limit("linkedin", requests=1, retry_after_s=4 * 86400)
        assert (await poller.run_cycle()).polled[f"linkedin:{org}"] == "rate_limited"
        limited = poller.statuses[accounts[Platform.LINKEDIN].key]
        assert limited.retry_after == clock.at + timedelta(days=4) and limited.covered_until == date(2026, 11, 19)

        for days in (2, 3):  # while the limit holds nothing is asked of LinkedIn
            clock.at = START + timedelta(days=days)
            asked = len(fakes.requests)
            assert (await poller.run_cycle()).polled[f"linkedin:{org}"] == "rate_limited"
            assert not [r for r in fakes.requests[asked:] if r[0] == "linkedin"]

        restarted = InsightsPoller(poller.settings, poller.publisher, poller.config, clock=clock,
                                   inventory=poller._inventory)
        try:  # a restart reads the limit back from the status topic and keeps waiting
            await restarted.restore()
            asked = len(fakes.requests)
            assert (await restarted.run_cycle()).polled[f"linkedin:{org}"] == "rate_limited"
            assert not [r for r in fakes.requests[asked:] if r[0] == "linkedin"]
        finally:
            await restarted.http.close()

        clock.at = START + timedelta(days=6)  # lifted: every day since the 17th is read, none skipped
        assert (await poller.run_cycle()).polled[f"linkedin:{org}"] == "ok"
        events = await snapshots(kafka_bootstrap, org, 30)
        read = {e["metrics"]["day"] for e in events if e["metrics"]["metric_set"] == "share_statistics"
                and e["metrics"]["period"] == "day"}
        assert {(date(2026, 11, 17) + timedelta(days=n)).isoformat() for n in range(9)} <= read
        assert poller.statuses[accounts[Platform.LINKEDIN].key].covered_until == date(2026, 11, 25)


async def test_an_outage_is_retried_and_then_read_next_cycle(kafka_bootstrap: str):
    async with polling(kafka_bootstrap) as (poller, fakes, clock, accounts):
        user = accounts[Platform.X].external_id
        fakes.outage("x", requests=2)  # two 503s: the client's third attempt gets through
        assert (await poller.run_cycle()).polled[f"x:{user}"] == "ok"
        fakes.outage("x", requests=10)
        assert (await poller.run_cycle()).polled[f"x:{user}"] == "failing"
        assert poller.statuses[accounts[Platform.X].key].covered_until == date(2026, 11, 19)
        fakes.switches.outages.clear()
        assert (await poller.run_cycle()).polled[f"x:{user}"] == "ok"


async def test_an_account_without_a_token_is_not_polled_and_its_status_says_so(kafka_bootstrap: str):
    async with polling(kafka_bootstrap, without_token={"x"}) as (poller, fakes, clock, accounts):
        user = accounts[Platform.X].external_id
        report = await poller.run_cycle()
        assert report.polled[f"x:{user}"] == "no_token"
        assert not [r for r in fakes.requests if r[0] == "x"]
        status = (await statuses(kafka_bootstrap, user))[-1]
        assert status["state"] == "no_token" and status["covered_until"] is None


async def test_a_restarted_poller_continues_from_the_status_topic(kafka_bootstrap: str):
    async with polling(kafka_bootstrap) as (poller, fakes, clock, accounts):
        await poller.run_cycle()
        fresh = InsightsPoller(poller.settings, poller.publisher, poller.config, clock=clock,
                               inventory=poller._inventory)
        try:
            assert await fresh.restore() >= 4
            page = accounts[Platform.FACEBOOK]
            assert fresh.statuses[page.key].covered_until == date(2026, 11, 19)
        finally:
            await fresh.http.close()
