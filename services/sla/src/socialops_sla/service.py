"""The SLA service's moving parts: consumer, scheduler, outbox publisher, gauges, reports.

Durability (why a state change is never lost):
- consumer: a batch of Kafka records is applied in ONE database transaction that stores the item
  states, the consumed message ids (dedupe: replaying the topics changes nothing) and the state
  changes as outbox rows; offsets are committed only after that transaction committed. A crash
  before the commit re-delivers the batch, and the dedupe table makes it a no-op where it
  already took effect.
- scheduler: due items are selected by the indexed `next_due_at` column and advanced in one
  transaction with their outbox rows; after a restart it simply finds everything overdue.
- outbox publisher: publishes pending rows with acks=all and deletes them only after the broker
  acknowledged. A crash in between publishes them again: the same `change_id`, which consumers
  deduplicate. So delivery on `social.sla.v1` is at-least-once, never lossy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from socialops_common.events import (
    AccountRecord,
    AccountStatus,
    Actor,
    EventKind,
    ModerationDecision,
    Platform,
    SlaState,
    SlaStateChange,
    SocialEvent,
)
from socialops_common.kafka import dead_letter, publish_dead_letter
from socialops_common.observability import database_reachable, kafka_reachable
from socialops_common.resilience import Backoff, BatchGuard, all_answer
from socialops_common.topics import ACCOUNTS, EVENTS, MODERATION, SLA

from .calendar import ResponsePromise
from .config import Clock, SlaSettings
from .followup import Snapshot, is_late_friday, month_bounds, monthly_kpis, publishing_status
from .metrics import SlaMetrics
from .store import SlaStore, migrate
from .tracker import REMOVAL_KINDS, Item, Tracker

log = structlog.get_logger("sla")
SUBSCRIBED = (EVENTS, MODERATION, ACCOUNTS)
UNKNOWN_DEPARTMENT = "unknown"
UNLISTED_ACCOUNT = "unlisted"


class NotFound(LookupError):
    pass


@dataclass
class Parsed:
    topic: str
    message: SocialEvent | ModerationDecision | AccountRecord


class SlaService:
    def __init__(self, settings: SlaSettings, pool: asyncpg.Pool, producer: AIOKafkaProducer, clock: Clock,
                 metrics: SlaMetrics) -> None:
        self.settings = settings
        self.pool = pool
        self.store = SlaStore(pool)
        self.producer = producer
        self.clock = clock
        self.metrics = metrics
        self.accounts: dict[tuple[str, str], AccountRecord] = {}
        self.tracker = Tracker(self.promise_for)
        self._lock = asyncio.Lock()  # one writer of item state per process (rows are locked too)
        self._outbox_wakeup = asyncio.Event()
        self._scheduler_wakeup = asyncio.Event()
        # Set once the consumer has read up to the end of its partitions after start-up: until
        # then the scheduler holds back, so that a restart does not breach items whose answer is
        # still waiting in the backlog (it fires anyway after `sla_catch_up_timeout_seconds`).
        self.caught_up = asyncio.Event()
        # Set on shutdown (SIGTERM): `consume` finishes and commits the batch in hand, then returns.
        self.stopping = asyncio.Event()
        # Retries with backoff; a circuit while the database or broker is away; a message that
        # fails alone while both answer is dead-lettered with the reason (socialops_common.resilience).
        self.guard: BatchGuard[ConsumerRecord] = BatchGuard(
            "sla-consumer", self.handle_records, self._dead_letter_poison,
            all_answer(database_reachable(pool), kafka_reachable(settings.kafka_bootstrap)),
            backoff=Backoff(0.5, 10.0),
        )

    # --- start-up ---------------------------------------------------------------------------------

    async def prepare(self) -> None:
        applied = await migrate(self.pool)
        if applied:
            log.info("migrations applied", migrations=applied)
        for row in await self.store.accounts():
            record = AccountRecord(
                platform=row["platform"], external_id=row["external_id"], name=row["name"],
                department=row["department"], status=row["status"], start_date=row["start_date"],
                response_calendar=row["response_calendar"], response_target_hours=row["response_target_hours"],
            )
            self.accounts[(record.platform.value, record.external_id)] = record

    # --- account lookups ------------------------------------------------------------------------

    def promise_for(self, platform: Platform, account_id: str) -> tuple[ResponsePromise, str | None]:
        record = self.accounts.get((platform.value, account_id))
        at_risk = self.settings.sla_at_risk_working_hours * 3600
        if record is None:
            return ResponsePromise(at_risk_working_seconds=at_risk), None
        promise = ResponsePromise.for_account(record.response_calendar, record.response_target_hours, at_risk)
        return promise, record.department

    def labels(self, platform: str, account_id: str, department: str | None) -> tuple[str, str, str]:
        """Bounded label values: accounts outside the inventory share one label value."""
        known = (platform, account_id) in self.accounts
        return platform, account_id if known else UNLISTED_ACCOUNT, department or UNKNOWN_DEPARTMENT

    # --- consumer ---------------------------------------------------------------------------------

    def _parse(self, record: ConsumerRecord) -> Parsed:
        if record.value is None:
            raise ValueError("empty message (tombstone) on a topic that does not use them")
        if record.topic == EVENTS:
            return Parsed(record.topic, SocialEvent.model_validate_json(record.value))
        if record.topic == MODERATION:
            return Parsed(record.topic, ModerationDecision.model_validate_json(record.value))
        if record.topic == ACCOUNTS:
            return Parsed(record.topic, AccountRecord.model_validate_json(record.value))
        raise ValueError(f"not subscribed to {record.topic}")

    async def handle_records(self, records: Sequence[ConsumerRecord]) -> list[SlaStateChange]:
        """Apply one batch; returns the state changes it caused (already in the outbox)."""
        parsed: list[Parsed] = []
        for record in records:
            try:
                parsed.append(self._parse(record))
            except (ValidationError, ValueError) as error:
                letter = dead_letter(source="sla.consumer", reason=f"unreadable: {error}"[:2000],
                                     payload=record.value or b"", topic=record.topic, partition=record.partition,
                                     offset=record.offset, key=record.key)
                await publish_dead_letter(self.producer, letter)  # acks=all before the offset moves on
                self.metrics.messages.labels(record.topic, "dead_letter").inc()
                log.warning("dead-lettered", topic=record.topic, offset=record.offset, reason=str(error)[:300])
        return await self.apply(parsed)

    async def apply(self, parsed: Sequence[Parsed]) -> list[SlaStateChange]:
        now = self.clock.now()
        changes: list[SlaStateChange] = []
        late_friday: list[tuple[str, str]] = []
        outcomes: list[tuple[str, str]] = []
        async with self._lock, self.pool.acquire() as conn, conn.transaction():
            accounts = [p.message for p in parsed if isinstance(p.message, AccountRecord)]
            await self.store.save_accounts(conn, accounts)  # type: ignore[arg-type]
            for record in accounts:
                self.accounts[(record.platform.value, record.external_id)] = record  # type: ignore[union-attr]
                outcomes.append((ACCOUNTS, "applied"))
            ids = [self._message_id(p) for p in parsed if not isinstance(p.message, AccountRecord)]
            fresh = await self.store.first_seen(conn, ids)
            todo: list[Parsed] = []
            for p in parsed:
                if isinstance(p.message, AccountRecord):
                    continue
                message_id = self._message_id(p)
                if message_id in fresh:
                    fresh.discard(message_id)  # a second copy in the same batch is a duplicate too
                    todo.append(p)
                else:
                    outcomes.append((p.topic, "duplicate"))
            threads = {(m.platform.value, m.account_id, m.thread_id) for m in (p.message for p in todo)}  # type: ignore[union-attr]
            items = {(m.platform.value, m.account_id, m.item_id) for m in (p.message for p in todo)}  # type: ignore[union-attr]
            ledger = await self.store.load_ledger(conn, threads, items)
            posts: list[tuple] = []
            snapshots: list[tuple] = []
            removal_threads: dict[tuple[str, str, str], str] = {}
            for p in todo:
                message = p.message
                if isinstance(message, ModerationDecision):
                    changes += self.tracker.on_decision(ledger, message, now)
                    outcomes.append((p.topic, "applied"))
                    continue
                assert isinstance(message, SocialEvent)
                if message.kind is EventKind.POST_PUBLISHED:
                    late = is_late_friday(message.occurred_at)
                    posts.append((message.platform.value, message.account_id, message.item_id, message.event_id,
                                  message.occurred_at, late))
                elif message.kind is EventKind.METRICS_SNAPSHOT:
                    if message.metrics is None or message.item_id != message.account_id:
                        outcomes.append((p.topic, "ignored"))  # post-level: not a channel KPI
                        continue
                    m = message.metrics
                    snapshots.append((message.event_id, message.platform.value, message.account_id,
                                      message.occurred_at, m.period, m.reach, m.impressions, m.interactions,
                                      m.followers))
                else:
                    if message.kind in REMOVAL_KINDS:
                        removal_threads[(message.platform.value, message.account_id, message.item_id)] = message.thread_id
                    changes += self.tracker.on_event(ledger, message, now)
                outcomes.append((p.topic, "applied"))
            await self.store.save_ledger(conn, ledger, removal_threads)
            late_friday = await self.store.save_posts(conn, posts)
            await self.store.save_snapshots(conn, snapshots)
            await self.store.add_to_outbox(conn, changes)
        # committed: count it, and wake the publisher and the scheduler (new deadlines may be near)
        for topic, outcome in outcomes:
            self.metrics.messages.labels(topic, outcome).inc()
        for platform, account_id in late_friday:
            record = self.accounts.get((platform, account_id))
            self.metrics.late_friday_posts.labels(
                *self.labels(platform, account_id, record.department if record else None)).inc()
        self._count(changes)
        if changes:
            self._outbox_wakeup.set()
        self._scheduler_wakeup.set()
        return changes

    @staticmethod
    def _message_id(p: Parsed) -> str:
        if isinstance(p.message, ModerationDecision):
            return f"decision:{p.message.decision_id}"
        return f"event:{p.message.event_id}"  # type: ignore[union-attr]

    def _count(self, changes: Sequence[SlaStateChange], lag_from: datetime | None = None) -> None:
        for change in changes:
            labels = self.labels(change.platform.value, change.account_id, change.department)
            if change.previous_state != change.state:
                self.metrics.state_changes.labels(change.state.value, *labels).inc()
            if change.answered_at is not None and change.state in (SlaState.MET, SlaState.BREACHED) and (
                change.state is SlaState.MET or change.reason == "answered_late"
            ):
                self.metrics.response_working.labels(*labels).observe(change.response_working_seconds or 0.0)
                self.metrics.response_wall.labels(*labels).observe(change.response_wall_seconds or 0.0)
            if lag_from is not None:
                lag = max(0.0, (lag_from - change.changed_at).total_seconds())
                self.metrics.breach_lag.labels(change.state.value).observe(lag)

    async def consume(self, consumer: AIOKafkaConsumer) -> None:
        """Until `stopping`: a batch, its transaction, then the offsets (retrying the batch on failure)."""
        while not self.stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=self.settings.sla_batch_size)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                if consumer.assignment():
                    self.caught_up.set()
                continue
            await self.guard.handle(records)  # handled or dead-lettered, each one
            try:
                await consumer.commit()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # e.g. a rebalance: the batch comes again, which changes nothing
                log.warning("offset commit failed; the batch will be redelivered", error=repr(error))

    async def _dead_letter_poison(self, record: ConsumerRecord, reason: str) -> None:
        await publish_dead_letter(self.producer, dead_letter(
            source="sla.consumer", reason=reason, payload=record.value or b"", topic=record.topic,
            partition=record.partition, offset=record.offset, key=record.key))
        self.metrics.messages.labels(record.topic, "dead_letter").inc()

    # --- scheduler --------------------------------------------------------------------------------

    async def run_due(self, limit: int = 2000) -> list[SlaStateChange]:
        """One pass: every item whose at-risk instant or deadline has come moves on."""
        now = self.clock.now()
        async with self._lock, self.pool.acquire() as conn, conn.transaction():
            items = await self.store.due_items(conn, now, limit)
            changes = [change for item in items for change in self.tracker.advance(item, now)]
            await self.store.save_items(conn, items)
            await self.store.add_to_outbox(conn, changes)
        self._count(changes, lag_from=self.clock.now())
        self.metrics.scheduler_runs.inc()
        self.metrics.scheduler_last_run.set(self.clock.now().timestamp())
        if changes:
            self._outbox_wakeup.set()
        return changes

    async def schedule(self) -> None:
        poll = self.settings.sla_scheduler_poll_seconds
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.caught_up.wait(), self.settings.sla_catch_up_timeout_seconds)
        while True:
            try:
                changes = await self.run_due()
                if changes and len(changes) >= 2000:
                    continue  # more are due: no sleep
                next_due = await self.store.next_due_at()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler pass failed")
                next_due = None
            sleep = poll
            if next_due is not None:
                sleep = min(poll, max(0.0, (next_due - self.clock.now()).total_seconds()))
            self._scheduler_wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._scheduler_wakeup.wait(), sleep)

    # --- outbox -----------------------------------------------------------------------------------

    async def publish_outbox(self, limit: int = 2000) -> int:
        """Publish pending changes (acks=all), then delete them; rows stay locked meanwhile."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, message_key, payload FROM sla_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", limit
            )
            if not rows:
                return 0
            sends = [await self.producer.send(SLA, value=r["payload"].encode("utf-8"), key=bytes(r["message_key"]))
                     for r in rows]
            await asyncio.gather(*sends)
            await conn.execute("DELETE FROM sla_outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        self.metrics.published.inc(len(rows))
        return len(rows)

    def stop_relay(self) -> None:
        """Let `relay` finish the batch in hand and return (cancelling it mid-batch would roll back
        the delete of rows already published, and they would go out a second time)."""
        self._relay_stopping = True
        self._outbox_wakeup.set()

    async def relay(self) -> None:
        self._relay_stopping = False
        while not self._relay_stopping:
            try:
                published = await self.publish_outbox()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox publish failed; retrying")
                published = 0
                await asyncio.sleep(1.0)
            if published:
                continue
            self._outbox_wakeup.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._outbox_wakeup.wait(), 1.0)

    # --- staff ------------------------------------------------------------------------------------

    async def no_answer_needed(self, event_id: str, by: Actor) -> tuple[Item, list[SlaStateChange]]:
        async with self._lock, self.pool.acquire() as conn, conn.transaction():
            item = await self.store.item_by_event_id(conn, event_id)
            if item is None or item.state is None:
                raise NotFound(event_id)
            changes = self.tracker.no_answer_needed(item, by, self.clock.now())
            await self.store.save_items(conn, [item])
            await self.store.add_to_outbox(conn, changes)
        self._count(changes)
        if changes:
            self._outbox_wakeup.set()
        return item, changes

    # --- gauges and reports -----------------------------------------------------------------------

    async def refresh_gauges(self) -> None:
        now = self.clock.now()
        gauges = self.metrics.database_gauges
        awaiting: dict[tuple[str, ...], float] = {}
        for r in await self.store.awaiting_answer_counts():
            awaiting[(r["state"], *self.labels(r["platform"], r["account_id"], r["department"]))] = float(r["n"])
        gauges.replace("socialops_sla_items", awaiting)

        compliance: dict[tuple[str, ...], float] = {}
        response_rate: dict[tuple[str, ...], float] = {}
        for r in await self.store.outcomes_between(now - timedelta(days=30), now + timedelta(seconds=1)):
            labels = self.labels(r["platform"], r["account_id"], r["department"])
            if r["met"] + r["breached"]:
                compliance[labels] = r["met"] / (r["met"] + r["breached"])
            if r["needing_answer"]:
                response_rate[labels] = r["answered"] / r["needing_answer"]
        gauges.replace("socialops_sla_compliance_ratio", compliance)
        gauges.replace("socialops_sla_response_rate_ratio", response_rate)

        weeks = max(1, self.settings.sla_inactive_review_weeks)
        posts: dict[tuple[str, str], list[datetime]] = {}
        for r in await self.store.posts_since(now - timedelta(days=7 * weeks)):
            posts.setdefault((r["platform"], r["account_id"]), []).append(r["published_at"])
        frequency: dict[str, dict[tuple[str, ...], float]] = {
            name: {} for name in ("socialops_sla_account_posts_last_7_days", "socialops_sla_account_inactive",
                                  "socialops_sla_account_inactive_weeks", "socialops_sla_account_review_required")
        }
        for (platform, account_id), record in self.accounts.items():
            if record.status is AccountStatus.CLOSED:
                continue
            since = None
            if record.start_date is not None:
                since = datetime.combine(record.start_date, datetime.min.time(), now.tzinfo)
            status = publishing_status(posts.get((platform, account_id), []), now,
                                       min_posts_per_week=self.settings.sla_min_posts_per_week,
                                       review_after_weeks=weeks, active_since=since)
            labels = self.labels(platform, account_id, record.department)
            frequency["socialops_sla_account_posts_last_7_days"][labels] = status.posts_last_7_days
            frequency["socialops_sla_account_inactive"][labels] = float(status.inactive)
            frequency["socialops_sla_account_inactive_weeks"][labels] = status.inactive_weeks
            frequency["socialops_sla_account_review_required"][labels] = float(status.review)
        for name, values in frequency.items():
            gauges.replace(name, values)

        month = now.astimezone(ResponsePromise().calendar.tz).strftime("%Y-%m")
        kpis = {name: {} for name in ("socialops_channel_reach", "socialops_channel_interactions",
                                      "socialops_channel_followers", "socialops_channel_new_followers",
                                      "socialops_channel_engagement_ratio")}
        for (platform, account_id), result in (await self._channel_kpis(month)).items():
            record = self.accounts.get((platform, account_id))
            labels = self.labels(platform, account_id, record.department if record else None)
            for name, value in (("socialops_channel_reach", result.reach),
                                ("socialops_channel_interactions", result.interactions),
                                ("socialops_channel_followers", result.followers),
                                ("socialops_channel_new_followers", result.new_followers),
                                ("socialops_channel_engagement_ratio", result.engagement_rate)):
                if value is not None:
                    kpis[name][labels] = float(value)
        for name, values in kpis.items():
            gauges.replace(name, values)
        gauges.replace("socialops_sla_outbox_pending_changes", {(): float(await self.store.outbox_pending())})
        # topics keep 30 days (socialops_common.topics): ids older than that cannot come again
        await self.store.prune_seen(datetime.now(UTC) - timedelta(days=35))

    async def _channel_kpis(self, month: str) -> dict[tuple[str, str], Any]:
        _, end = month_bounds(month)
        by_account: dict[tuple[str, str], list[Snapshot]] = {}
        for r in await self.store.snapshots_until(end):
            by_account.setdefault((r["platform"], r["account_id"]), []).append(Snapshot(
                r["taken_at"], r["period"], r["reach"], r["impressions"], r["interactions"], r["followers"]))
        return {key: monthly_kpis(snaps, month) for key, snaps in by_account.items()}

    async def refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh_gauges()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("gauge refresh failed")
            await asyncio.sleep(self.settings.sla_refresh_seconds)

    async def monthly_report(self, month: str) -> dict[str, Any]:
        """`GET /reports/monthly?month=YYYY-MM`: KPIs and the answer promise, per channel and department."""
        start, end = month_bounds(month)
        channels: dict[tuple[str, str], dict[str, Any]] = {}

        def channel(platform: str, account_id: str) -> dict[str, Any]:
            if (platform, account_id) not in channels:
                record = self.accounts.get((platform, account_id))
                channels[(platform, account_id)] = {
                    "platform": platform, "account_id": account_id,
                    "name": record.name if record else None,
                    "department": record.department if record else None,
                    "reach": None, "interactions": None, "followers": None, "new_followers": None,
                    "engagement_rate": None, "posts": 0, "late_friday_posts": 0,
                    "items_needing_answer": 0, "answered": 0, "met": 0, "breached": 0, "cancelled": 0,
                    "response_rate": None, "compliance": None,
                    "median_response_working_seconds": None, "median_response_wall_seconds": None,
                }
            return channels[(platform, account_id)]

        for (platform, account_id), record in self.accounts.items():
            if record.status is AccountStatus.ACTIVE:
                channel(platform, account_id)
        for (platform, account_id), kpis in (await self._channel_kpis(month)).items():
            row = channel(platform, account_id)
            row.update(reach=kpis.reach, interactions=kpis.interactions, followers=kpis.followers,
                       new_followers=kpis.new_followers, engagement_rate=kpis.engagement_rate)
        for r in await self.store.post_counts_between(start, end):
            channel(r["platform"], r["account_id"]).update(posts=r["posts"], late_friday_posts=r["late_friday"])
        departments: dict[str, dict[str, int]] = {}
        for r in await self.store.outcomes_between(start, end):
            row = channel(r["platform"], r["account_id"])
            row.update(items_needing_answer=r["needing_answer"], answered=r["answered"], met=r["met"],
                       breached=r["breached"], cancelled=r["cancelled"],
                       median_response_working_seconds=r["median_working_seconds"],
                       median_response_wall_seconds=r["median_wall_seconds"])
            dept = departments.setdefault(row["department"] or r["department"] or UNKNOWN_DEPARTMENT,
                                          {"items_needing_answer": 0, "answered": 0, "met": 0, "breached": 0})
            for key in dept:
                dept[key] += row[key]
        for row in channels.values():
            _ratios(row)
        return {
            "month": month,
            "timezone": str(start.tzinfo),
            "channels": sorted(channels.values(), key=lambda c: (c["platform"], c["account_id"])),
            "departments": [{"department": name, **_ratios(values)} for name, values in sorted(departments.items())],
        }


def _ratios(row: dict[str, Any]) -> dict[str, Any]:
    row["response_rate"] = row["answered"] / row["items_needing_answer"] if row["items_needing_answer"] else None
    decided = row["met"] + row["breached"]
    row["compliance"] = row["met"] / decided if decided else None
    return row


def change_as_json(change: SlaStateChange) -> dict[str, Any]:
    return json.loads(change.model_dump_json())
