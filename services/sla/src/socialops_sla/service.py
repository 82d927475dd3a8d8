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
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from pydantic import TypeAdapter, ValidationError
from socialops_common.events import (
    AccountRecord,
    AccountStatus,
    ActionMessage,
    ActionOperation,
    ActionStatus,
    Actor,
    EventKind,
    InsightsPollStatus,
    ModerationDecision,
    Platform,
    PlatformActionCommand,
    PlatformActionOutcome,
    PollState,
    SlaState,
    SlaStateChange,
    SocialEvent,
)
from socialops_common.kafka import dead_letter, publish_dead_letter
from socialops_common.observability import database_reachable, kafka_reachable
from socialops_common.resilience import Backoff, BatchGuard, all_answer
from socialops_common.subscriptions import guarded_batch_subscriber, has_caught_up
from socialops_common.topics import ACCOUNTS, ACTIONS, EVENTS, INSIGHTS, MODERATION, SLA

from .calendar import ResponsePromise
from .config import Clock, SlaSettings
from .followup import (
    WEEK,
    PublishingState,
    evaluate_publishing,
    is_late_friday,
    local_month,
    month_days,
    months_back,
    publishing_status,
)
from .mailing import MailDesk, monthly_report_mail, publishing_notice, report_due
from .metrics import SlaMetrics
from .report import (
    CITY,
    TREND_MONTHS,
    PollView,
    ReportData,
    load_figures,
    recent_kpis,
    report_data,
    report_json,
    scope_for,
)
from .report_pdf import headline, render_report
from .snapshots import SnapshotRows
from .store import SlaStore, migrate
from .tracker import REMOVAL_KINDS, Item, Tracker

log = structlog.get_logger("sla")
SUBSCRIBED = (EVENTS, MODERATION, ACCOUNTS, INSIGHTS, ACTIONS)
_ACTION = TypeAdapter(ActionMessage)
UNKNOWN_DEPARTMENT = "unknown"
UNLISTED_ACCOUNT = "unlisted"


class NotFound(LookupError):
    pass


@dataclass
class Parsed:
    topic: str
    message: SocialEvent | ModerationDecision | AccountRecord | InsightsPollStatus | PlatformActionOutcome


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
        self.mail = MailDesk(pool, settings, metrics)
        self._kpis_at: datetime | None = None
        self.tracker = Tracker(self.promise_for)
        self._lock = asyncio.Lock()  # one writer of item state per process (rows are locked too)
        self._outbox_wakeup = asyncio.Event()
        self._scheduler_wakeup = asyncio.Event()
        # Set once the consumer has read up to the end of its partitions after start-up: until
        # then the scheduler holds back, so that a restart does not breach items whose answer is
        # still waiting in the backlog (it fires anyway after `sla_catch_up_timeout_seconds`).
        self.caught_up = asyncio.Event()
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
                department_email=row["department_email"],
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
        if record.topic == INSIGHTS:
            return Parsed(record.topic, InsightsPollStatus.model_validate_json(record.value))
        if record.topic == ACTIONS:
            return Parsed(record.topic, _ACTION.validate_json(record.value))
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
            await self.store.save_accounts(conn, accounts, now)  # type: ignore[arg-type]
            for record in accounts:
                self.accounts[(record.platform.value, record.external_id)] = record  # type: ignore[union-attr]
                outcomes.append((ACCOUNTS, "applied"))
            # the poller's status per account: the latest record wins (compacted topic, idempotent)
            statuses = [p.message for p in parsed if isinstance(p.message, InsightsPollStatus)]
            await self.store.save_insights_status(conn, statuses)  # type: ignore[arg-type]
            outcomes += [(INSIGHTS, "applied")] * len(statuses)
            # Of the platform actions only the outcomes of replies concern answering; the rest is someone else's.
            ignored = [p for p in parsed if isinstance(p.message, PlatformActionCommand) or (
                isinstance(p.message, PlatformActionOutcome) and p.message.operation is not ActionOperation.REPLY)]
            outcomes += [(ACTIONS, "ignored")] * len(ignored)
            parsed = [p for p in parsed if p not in ignored]
            state_records = (AccountRecord, InsightsPollStatus)
            ids = [self._message_id(p) for p in parsed if not isinstance(p.message, state_records)]
            fresh = await self.store.first_seen(conn, ids)
            todo: list[Parsed] = []
            for p in parsed:
                if isinstance(p.message, state_records):
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
            snapshots = SnapshotRows()
            removal_threads: dict[tuple[str, str, str], str] = {}
            reply_errors: list[tuple[PlatformActionOutcome, str]] = []
            for p in todo:
                message = p.message
                if isinstance(message, ModerationDecision):
                    changes += self.tracker.on_decision(ledger, message, now)
                    outcomes.append((p.topic, "applied"))
                    continue
                if isinstance(message, PlatformActionOutcome):
                    changes += self.tracker.on_reply(ledger, message, now)
                    if message.status in (ActionStatus.FAILED, ActionStatus.UNSUPPORTED):
                        reply_errors.append((message, message.detail or message.error_code or message.status.value))
                    elif message.status is ActionStatus.DONE:
                        reply_errors.append((message, None))  # answered: the earlier error is history
                    outcomes.append((p.topic, "applied"))
                    continue
                assert isinstance(message, SocialEvent)
                if message.kind is EventKind.POST_PUBLISHED:
                    late = is_late_friday(message.occurred_at)
                    posts.append((message.platform.value, message.account_id, message.item_id, message.event_id,
                                  message.occurred_at, late))
                elif message.kind is EventKind.METRICS_SNAPSHOT:
                    if not snapshots.add(message):
                        outcomes.append((p.topic, "ignored"))  # no day or level: not a KPI figure
                        continue
                else:
                    if message.kind in REMOVAL_KINDS:
                        removal_threads[(message.platform.value, message.account_id, message.item_id)] = message.thread_id
                    changes += self.tracker.on_event(ledger, message, now)
                outcomes.append((p.topic, "applied"))
            await self.store.save_ledger(conn, ledger, removal_threads)
            await self.store.save_reply_errors(conn, reply_errors)
            all_posts = posts + snapshots.posts()
            late_friday = await self.store.save_posts(conn, all_posts)
            await self.store.save_account_days(conn, snapshots.day_rows())
            await self.store.save_account_months(conn, snapshots.month_rows())
            await self.store.save_post_figures(conn, snapshots.post_rows())
            await self.store.refresh_months(conn, snapshots.day_months(), snapshots.post_months() | {
                (p[0], p[1], local_month(p[4])) for p in all_posts})
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
        if isinstance(p.message, PlatformActionOutcome):
            return f"outcome:{p.message.action_id}:{p.message.status.value}:{p.message.attempts}"
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

    def subscribe(self, broker: KafkaBroker) -> BatchSubscriber:
        """The consumer group on the service's FastStream broker: a batch, its transaction, then the
        offsets (a batch that fails is read again: the dedupe table makes that a no-op)."""
        return guarded_batch_subscriber(
            broker, *SUBSCRIBED, group_id=self.settings.sla_consumer_group, guard=self.guard,
            max_records=self.settings.sla_batch_size, batch_timeout_ms=500, settings=self.settings,
            title="sla.consumer",
            description="The SLA consumer: items, answers, removals, the inventory and statistics, one transaction a batch.",
        )

    async def watch_catch_up(self, subscriber: BatchSubscriber, poll_s: float = 0.5) -> None:
        """Set `caught_up` once the group has committed up to the end of its partitions after start-up."""
        while not self.caught_up.is_set():
            try:
                if await has_caught_up(subscriber):
                    self.caught_up.set()
                    return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the broker away: ask again
                log.debug("catch-up not known yet", error=repr(error)[:200])
            await asyncio.sleep(poll_s)

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

    # --- gauges -----------------------------------------------------------------------------------

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

        weeks = max(1, self.settings.sla_quiet_period_weeks)
        posts: dict[tuple[str, str], list[datetime]] = {}
        for r in await self.store.posts_since(now - timedelta(days=7 * weeks)):
            posts.setdefault((r["platform"], r["account_id"]), []).append(r["published_at"])
        frequency: dict[str, dict[tuple[str, ...], float]] = {
            name: {} for name in ("socialops_sla_account_posts_last_7_days", "socialops_sla_account_inactive",
                                  "socialops_sla_account_inactive_weeks", "socialops_channel_posts_per_week")
        }
        for (platform, account_id), record in self.accounts.items():
            if record.status is AccountStatus.CLOSED:
                continue
            since = None
            if record.start_date is not None:
                since = datetime.combine(record.start_date, datetime.min.time(), now.tzinfo)
            status = publishing_status(posts.get((platform, account_id), []), now,
                                       min_posts_per_week=self.settings.sla_min_posts_per_week,
                                       weeks=weeks, active_since=since)
            labels = self.labels(platform, account_id, record.department)
            frequency["socialops_sla_account_posts_last_7_days"][labels] = status.posts_last_7_days
            frequency["socialops_sla_account_inactive"][labels] = float(status.inactive)
            frequency["socialops_sla_account_inactive_weeks"][labels] = status.inactive_weeks
            frequency["socialops_channel_posts_per_week"][labels] = len(posts.get((platform, account_id), [])) / weeks
        for name, values in frequency.items():
            gauges.replace(name, values)

        if self._kpis_due(now):
            await self.evaluate_publishing()
            await self.refresh_channel_gauges(now)
        gauges.replace("socialops_sla_outbox_pending_changes", {(): float(await self.store.outbox_pending())})
        gauges.replace("socialops_sla_mail_pending", {(k,): float(n) for k, n in (await self.store.mail_pending()).items()})
        # topics keep 30 days (socialops_common.topics): ids older than that cannot come again
        await self.store.prune_seen(datetime.now(UTC) - timedelta(days=35))

    def _kpis_due(self, now: datetime) -> bool:
        """The channel KPIs and quiet accounts are computed every `sla_kpi_refresh_seconds` (they read
        months of figures), the other gauges every `sla_refresh_seconds`."""
        if self._kpis_at is not None and (now - self._kpis_at).total_seconds() < self.settings.sla_kpi_refresh_seconds:
            return False
        self._kpis_at = now
        return True

    async def refresh_channel_gauges(self, now: datetime) -> None:
        """The channel gauges: the last 28 days by the monthly definitions (`report.recent_kpis`)."""
        polling = await self.polling()
        active = [k for k, r in self.accounts.items() if r.status is AccountStatus.ACTIVE]
        channels = await recent_kpis(self.store, active, now, polling)
        names = ("socialops_channel_reach_daily_average",
                 "socialops_channel_interactions", "socialops_channel_followers", "socialops_channel_new_followers",
                 "socialops_channel_engagement_ratio", "socialops_channel_engagement_by_reach_ratio",
                 "socialops_channel_link_clicks", "socialops_channel_video_views",
                 "socialops_channel_late_friday_posts")
        kpis: dict[str, dict[tuple[str, ...], float]] = {name: {} for name in names}
        for c in channels:
            record = self.accounts.get((c.platform, c.account_id))
            labels = self.labels(c.platform, c.account_id, record.department if record else None)
            values = {
                "socialops_channel_reach_daily_average": c.reach if c.reach_basis == "daily_average" else None,
                "socialops_channel_interactions": c.interactions, "socialops_channel_followers": c.followers,
                "socialops_channel_new_followers": c.new_followers,
                "socialops_channel_engagement_ratio": c.engagement_rate,
                "socialops_channel_engagement_by_reach_ratio": c.engagement_rate_by_reach,
                "socialops_channel_link_clicks": c.link_clicks, "socialops_channel_video_views": c.video_views,
                "socialops_channel_late_friday_posts": c.late_friday_posts,
            }
            for name, value in values.items():
                if value is not None:
                    kpis[name][labels] = float(value)
        for name, values in kpis.items():
            self.metrics.database_gauges.replace(name, values)
        states: dict[tuple[str, ...], float] = {}
        for (platform, account_id), record in self.accounts.items():
            if record.status is AccountStatus.ACTIVE:
                poll = polling.get((platform, account_id))
                current = poll.state if poll else "no_status"
                for state in (*(s.value for s in PollState), "no_status"):
                    states[(state, *self.labels(platform, account_id, record.department))] = float(state == current)
        self.metrics.database_gauges.replace("socialops_channel_insights_state", states)

    async def refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh_gauges()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("gauge refresh failed")
            await asyncio.sleep(self.settings.sla_refresh_seconds)

    # --- accounts that go quiet ---------------------------------------------------------------------

    async def evaluate_publishing(self) -> list[tuple[AccountRecord, str]]:
        """Every active account's publishing status now; notices for the changes (`followup.py`)."""
        now = self.clock.now()
        period = WEEK * max(1, self.settings.sla_quiet_period_weeks)
        states = await self.store.publishing_states()
        posts: dict[tuple[str, str], list[datetime]] = {}
        for r in await self.store.posts_since(now - 2 * period):
            posts.setdefault((r["platform"], r["account_id"]), []).append(r["published_at"])
        older_flags = {k: s.flagged_at for k, s in states.items()
                       if s.status != "active" and s.flagged_at is not None and s.flagged_at < now - 2 * period}
        for key, first in (await self.store.first_posts_after(older_flags)).items():
            posts.setdefault(key, []).append(first)
        observed = await self.store.observed_since()
        rows, mails, changes = [], [], []
        for key, record in self.accounts.items():
            if record.status is not AccountStatus.ACTIVE:
                continue
            state, notices = evaluate_publishing(
                states.get(key, PublishingState()), posts.get(key, []), now, observed_since=observed.get(key, now),
                period=period, min_posts_per_week=self.settings.sla_min_posts_per_week)
            rows.append((*key, state))
            for kind in notices:
                self.metrics.publishing_notices.labels(kind).inc()
                changes.append((record, kind))
                log.info("publishing status changed", platform=key[0], account=key[1], change=kind)
                mail = publishing_notice(kind, record, state, period_weeks=self.settings.sla_quiet_period_weeks,
                                         min_posts_per_week=self.settings.sla_min_posts_per_week,
                                         communication_email=self.settings.sla_communication_email,
                                         checklist_url=self.settings.sla_closure_checklist_url)
                if mail is not None:
                    mails.append(mail)
        async with self.pool.acquire() as conn, conn.transaction():
            await self.store.save_publishing(conn, rows, now)
            await self.mail.plan(conn, mails)
        quiet: dict[tuple[str, ...], float] = {}
        review: dict[tuple[str, ...], float] = {}
        for platform, account_id, state in rows:
            labels = self.labels(platform, account_id, self.accounts[(platform, account_id)].department)
            quiet[labels] = float(state.status != "active")
            review[labels] = float(state.status == "escalated")
        self.metrics.database_gauges.replace("socialops_sla_account_quiet", quiet)
        self.metrics.database_gauges.replace("socialops_sla_account_review_required", review)
        return changes

    async def publishing(self, status: str | None = None) -> list[dict[str, Any]]:
        """`GET /accounts/publishing`: every active account's publishing status and its notices."""
        states = await self.store.publishing_states()
        notices = await self.mail.notices_for()
        out = []
        for key, record in sorted(self.accounts.items()):
            if record.status is not AccountStatus.ACTIVE:
                continue
            state = states.get(key, PublishingState())
            if status and state.status != status:
                continue
            out.append({
                "platform": key[0], "account_id": key[1], "name": record.name, "department": record.department,
                "status": state.status, "posts_in_period": state.posts_in_period,
                "period_weeks": self.settings.sla_quiet_period_weeks,
                "min_posts_per_week": self.settings.sla_min_posts_per_week,
                **{name: (value.isoformat() if value else None) for name, value in (
                    ("quiet_since", state.quiet_since), ("flagged_at", state.flagged_at),
                    ("escalated_at", state.escalated_at), ("cleared_at", state.cleared_at),
                    ("last_post_at", state.last_post_at))},
                "notices": notices.get(key, []),
            })
        return out

    # --- the monthly report by mail -------------------------------------------------------------

    def report_recipients(self) -> list[tuple[str | None, str]]:
        """(department, address) for every department with an address; (None, the communication
        department) for the city's report."""
        found = sorted({(r.department, r.department_email) for r in self.accounts.values()
                        if r.status is AccountStatus.ACTIVE and r.department_email})
        recipients: list[tuple[str | None, str]] = list(found)  # type: ignore[arg-type]
        if self.settings.sla_communication_email:
            recipients.append((None, self.settings.sla_communication_email))
        return recipients

    async def figures_complete(self, month: str, now: datetime) -> bool:
        """Whether the month's figures are in: the consumer has read its backlog, and every account
        the poller reads has been read to the month's last day (an account it cannot read does not
        hold the report back; after a day past the due date nothing does, the report says what lacks)."""
        if not self.caught_up.is_set():
            return False
        _, following = month_days(month)
        last_day = following - timedelta(days=1)
        behind = [r for r in await self.store.insights_statuses()
                  if r["state"] == PollState.OK.value and (r["covered_until"] is None or r["covered_until"] < last_day)]
        due = report_due(now - timedelta(days=1), self.settings.sla_report_hour)
        return not behind or due == month

    async def plan_monthly_reports(self) -> int:
        """Write the due month's report mails not written yet (each department's, the city's)."""
        now = self.clock.now()
        month = report_due(now, self.settings.sla_report_hour)
        if month is None or not await self.figures_complete(month, now):
            return 0
        wanted = {f"monthly_report:{month}:{department or CITY}:{address}": (department, address)
                  for department, address in self.report_recipients()}
        todo = [wanted[key] for key in sorted(set(wanted) - await self.mail.planned(list(wanted)))]
        mails = []
        for department, address in todo:
            data = await self.report(month, department=department)
            pdf = await asyncio.get_running_loop().run_in_executor(None, render_report, data, self.clock.now())
            mails.append(monthly_report_mail(month, department or CITY, address, pdf, headline(data)))
        if not mails:
            return 0
        async with self.pool.acquire() as conn, conn.transaction():
            return await self.mail.plan(conn, mails)

    # --- reports ----------------------------------------------------------------------------------

    async def polling(self) -> dict[tuple[str, str], PollView]:
        """The insights poller's last word on each account."""
        return {(r["platform"], r["account_id"]): PollView(r["state"], r["detail"], r["last_success_at"],
                                                           r["covered_since"], r["posts_covered_since"])
                for r in await self.store.insights_statuses()}

    def inventory(self) -> dict[tuple[str, str], AccountRecord]:
        return dict(self.accounts)

    async def report(self, month: str, *, account: str | None = None, department: str | None = None,
                     months: int = TREND_MONTHS) -> ReportData:
        """The report's data for the city, a department or an account (`UnknownScope` if none)."""
        scope = scope_for(self.accounts.values(), account=account, department=department)
        figures = await load_figures(self.store, months_back(month, months + 1), scope.keys)
        polling = await self.polling()
        return report_data(month, scope, figures, polling=polling, publishing=await self.store.publishing_states(),
                           months=months, inventory=self.inventory(), observed_since=await self.store.observed_since(),
                           now=self.clock.now())

    async def monthly_report(self, month: str, *, account: str | None = None,
                             department: str | None = None) -> dict[str, Any]:
        """`GET /reports/monthly?month=YYYY-MM[&account=|&department=]`: the KPIs of the month."""
        return report_json(await self.report(month, account=account, department=department))

    async def monthly_report_pdf(self, month: str, *, account: str | None = None,
                                 department: str | None = None) -> bytes:
        data = await self.report(month, account=account, department=department)
        return await asyncio.get_running_loop().run_in_executor(None, render_report, data, self.clock.now())

def change_as_json(change: SlaStateChange) -> dict[str, Any]:
    return json.loads(change.model_dump_json())
