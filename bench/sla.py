"""SLA benchmark: open items tracked, events/s through Kafka + PostgreSQL, memory, breach lag.

    .venv/bin/python bench/sla.py                          # 50,000 open items (about a minute)
    .venv/bin/python bench/sla.py --open-items 1000000     # the issue's size (long: ~10+ minutes)

What it does, against its own broker (tansu) and database (PostgreSQL on 127.0.0.1:5432 or an
embedded one), with the real `SlaRuntime` (consumer, scheduler, outbox):
1. produces `--open-items` question comments that stay unanswered plus `--answered` questions
   with the account's reply (so both the open and the met path run), then measures how fast the
   service applies them (events/s, from its start until the last item is in the database);
2. reports the process's resident memory and the size of the items table;
3. with all those items open, puts `--breach-items` questions on a crisis account (always open,
   deadline 5 s after arrival) and measures, per item, the time between its deadline and the
   Kafka timestamp of its `breached` state change (deadline -> breach event on the topic).
Numbers on a shared 2-core machine are noisy (other engineers run tests at the same time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from socialops_common.devstack import LocalBroker, LocalDatabase
from socialops_common.events import AccountRecord, Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import ensure_topics, to_bytes
from socialops_common.observability import configure_logging
from socialops_common.topics import ACCOUNTS, EVENTS, SLA
from socialops_sla.app import SlaRuntime
from socialops_sla.config import SlaSettings, SystemClock

BUSINESS = "bench-business"
CRISIS = "bench-crisis"
DEADLINE_SECONDS = 5.0


def comment(account: str, item: str, thread: str, at: datetime) -> SocialEvent:
    return SocialEvent(
        event_id=social_event_id(Platform.FACEBOOK, EventKind.COMMENT_CREATED, f"{account}:{item}"),
        kind=EventKind.COMMENT_CREATED, platform=Platform.FACEBOOK, account_id=account, item_id=item,
        thread_id=thread, parent_id=thread, author=Author(id=f"u{item}"), text="När öppnar simhallen igen?",
        occurred_at=at, received_at=at,
    )


def reply(account: str, item: str, thread: str, parent: str, at: datetime) -> SocialEvent:
    return SocialEvent(
        event_id=social_event_id(Platform.FACEBOOK, EventKind.REPLY_BY_ACCOUNT, f"{account}:{item}"),
        kind=EventKind.REPLY_BY_ACCOUNT, platform=Platform.FACEBOOK, account_id=account, item_id=item,
        thread_id=thread, parent_id=parent, author=Author(id=account, is_account=True), text="Den 1 december.",
        occurred_at=at, received_at=at,
    )


async def produce(bootstrap: str, messages: list[tuple[str, bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=512 * 1024, compression_type=None)
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for topic, key, value in messages:
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def breach_timestamps(bootstrap: str, wanted: int, within: float) -> dict[str, int]:
    """event_id -> Kafka timestamp (ms) of each crisis item's `breached` change."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    found: dict[str, int] = {}
    try:
        partitions = [TopicPartition(SLA, p) for p in sorted(consumer.partitions_for_topic(SLA) or [])]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(SLA, p) for p in sorted(consumer.partitions_for_topic(SLA) or [])]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = time.monotonic() + within
        while len(found) < wanted and time.monotonic() < end:
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for record in records:
                    value = json.loads(record.value)
                    if value["account_id"] == CRISIS and value["state"] == "breached":
                        found[value["event_id"]] = record.timestamp
    finally:
        await consumer.stop()
    return found


async def run(args: argparse.Namespace, broker: LocalBroker, database: LocalDatabase) -> None:
    name = f"sla_bench_{uuid.uuid4().hex[:8]}"
    dsn = await database.create_database(name)
    runtime = None
    try:
        await ensure_topics(broker.bootstrap)
        now = datetime.now(UTC)
        accounts = [
            AccountRecord(platform=Platform.FACEBOOK, external_id=BUSINESS, name="Bench", department="Bench"),
            AccountRecord(platform=Platform.FACEBOOK, external_id=CRISIS, name="Kris", department="Bench",
                          response_calendar="always_open", response_target_hours=DEADLINE_SECONDS / 3600),
        ]
        messages = [(ACCOUNTS, a.key, to_bytes(a)) for a in accounts]
        for n in range(args.open_items + args.answered):
            thread = f"post{n // 20}"  # 20 questions per post
            event = comment(BUSINESS, f"c{n}", thread, now - timedelta(minutes=5))
            messages.append((EVENTS, event.partition_key, to_bytes(event)))
            if n >= args.open_items:
                answer = reply(BUSINESS, f"r{n}", thread, f"c{n}", now)
                messages.append((EVENTS, answer.partition_key, to_bytes(answer)))
        events = len(messages) - len(accounts)
        produce_seconds = await produce(broker.bootstrap, messages)
        del messages
        print(f"produced {events:,} events in {produce_seconds:.1f} s")

        settings = SlaSettings(kafka_bootstrap=broker.bootstrap, database_url=dsn, sla_consumer_group="sla-bench",
                               sla_refresh_seconds=3600, sla_scheduler_poll_seconds=0.25)
        runtime = SlaRuntime(settings, SystemClock(), CollectorRegistry())
        service = await runtime.start()
        total = args.open_items + args.answered
        # polling the database: the progress we measure is what is committed there
        while not await service.pool.fetchval("SELECT count(*) FROM sla_items"):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        started = time.perf_counter()  # from the first applied batch: group join not counted
        while not await service.pool.fetchval(  # noqa: ASYNC110 - progress is what the database holds
            "SELECT count(*) FILTER (WHERE state IS NOT NULL) >= $1 AND count(*) FILTER (WHERE state = 'met') >= $2 "
            "FROM sla_items", total, args.answered,
        ):
            await asyncio.sleep(0.5)
        consume_seconds = time.perf_counter() - started
        open_now = await service.pool.fetchval("SELECT count(*) FROM sla_items WHERE state IN ('open', 'at_risk')")
        print(f"applied {events:,} events in {consume_seconds:.1f} s = {events / consume_seconds:,.0f} events/s "
              f"(from the first applied batch on)")
        print(f"open items tracked: {open_now:,}")
        rss = psutil.Process().memory_info().rss
        table = await service.pool.fetchval("SELECT pg_total_relation_size('sla_items')")
        print(f"memory: process RSS {rss / 2**20:,.0f} MiB (state lives in PostgreSQL); "
              f"sla_items table + indexes {table / 2**20:,.0f} MiB ({table / max(open_now, 1):,.0f} B/item)")

        # breach lag with every open item still in the table
        at = datetime.now(UTC)
        crisis = [comment(CRISIS, f"k{n}", f"kpost{n % 50}", at) for n in range(args.breach_items)]
        await produce(broker.bootstrap, [(EVENTS, e.partition_key, to_bytes(e)) for e in crisis])
        deadline = {e.event_id: e.occurred_at + timedelta(seconds=DEADLINE_SECONDS) for e in crisis}
        stamps = await breach_timestamps(broker.bootstrap, len(crisis), within=60 + DEADLINE_SECONDS)
        lags = sorted(stamps[k] / 1000 - deadline[k].timestamp() for k in stamps)
        if len(lags) < len(crisis):
            print(f"breach lag: only {len(lags)} of {len(crisis)} breaches seen in time")
        if lags:
            p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]  # noqa: E731
            print(f"breach lag (deadline -> breached on {SLA}), {len(lags)} items: min {lags[0]:.3f} s, "
                  f"median {statistics.median(lags):.3f} s, p99 {p(0.99):.3f} s, max {lags[-1]:.3f} s")
    finally:
        if runtime is not None:
            await runtime.stop()
        await database.drop_database(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-items", type=int, default=50_000, help="questions left unanswered")
    parser.add_argument("--answered", type=int, default=10_000, help="questions answered (2 events each)")
    parser.add_argument("--breach-items", type=int, default=200, help="items whose breach lag is measured")
    args = parser.parse_args()
    configure_logging("sla-bench", "WARNING", "console")
    broker = LocalBroker().start()
    database = LocalDatabase.find_or_start()  # synchronous: outside the event loop
    try:
        asyncio.run(run(args, broker, database))
    finally:
        database.stop()
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
