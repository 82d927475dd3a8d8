"""Archive benchmark: events/s archived end-to-end from Kafka vs the raw COPY rate of the same rows,
and search latency p50/p95 over the archived items.

    .venv/bin/python bench/archive.py                 # 20,000 items (about a minute)
    .venv/bin/python bench/archive.py --items 1000000 # the issue's size (long)

Starts its own broker (tansu) and database (PostgreSQL on 127.0.0.1:5432 or an embedded one).
Numbers on a shared 2-core machine are noisy: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import psutil
import uvloop
from aiokafka import AIOKafkaProducer
from cpu import process_cpu_seconds
from socialops_archive import metrics as archive_metrics
from socialops_archive.consumer import ArchiveConsumer
from socialops_archive.main import build_app
from socialops_archive.migrations import migrate
from socialops_archive.settings import ArchiveSettings
from socialops_archive.store import ArchiveStore
from socialops_common import topics
from socialops_common.devstack import LocalBroker, LocalDatabase
from socialops_common.events import Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import ensure_topics, make_producer, to_bytes
from socialops_common.observability import configure_logging, tune_garbage_collector

WORDS = (
    "badhuset öppettider skolan förskolan parkering bygglov cykelbana busskort biblioteket simhallen "
    "sophämtning återvinning vägarbete snöröjning gatubelysning lekplats idrottshall konserthuset "
    "kommunen staden förvaltningen nämnden beslut avgift ansökan handläggning kö väntetid svar fråga "
    "varför när hur vem tack bra dåligt stängt öppet igen måndag tisdag onsdag torsdag fredag helgen "
    "sommaren vintern renovering budget skatt politiker medborgare grannar barn föräldrar äldreboende "
    "hemtjänst vård trafik olycka buller träd park strand hamnen torget evenemang festival konsert"
).split()


def _event(kind: EventKind, account: str, thread: str, item: str, text: str | None, author: Author,
           at: datetime, version: str = "") -> SocialEvent:
    return SocialEvent(
        event_id=social_event_id(Platform.FACEBOOK, kind, item, version), kind=kind,
        platform=Platform.FACEBOOK, account_id=account, item_id=item, thread_id=thread,
        parent_id=None if kind is EventKind.POST_PUBLISHED else thread, author=author, text=text,
        occurred_at=at, received_at=at + timedelta(seconds=1),
        raw={"id": item, "message": text, "created_time": at.isoformat()},
    )


def make_events(items: int, accounts: int, seed: int = 7) -> list[SocialEvent]:
    """Comments in threads under posts, ~10% edited, ~0.5% hidden by the city."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[SocialEvent] = []
    threads = max(1, items // 50)
    for n in range(items):
        account = f"acc-{n % accounts}"
        thread = f"post-{n % threads}"
        kind = EventKind.POST_PUBLISHED if n < threads else EventKind.COMMENT_CREATED
        item = thread if kind is EventKind.POST_PUBLISHED else f"c-{n}"
        at = start + timedelta(seconds=n * 30)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 24)))
        author = Author(id=account, name="Staden", is_account=True) if kind is EventKind.POST_PUBLISHED else \
            Author(id=f"u-{rng.randint(1, items // 5 + 1)}", name=f"Person {rng.randint(1, 5000)}")
        events.append(_event(kind, account, thread, item, text, author, at))
        if kind is EventKind.COMMENT_CREATED and rng.random() < 0.10:
            events.append(_event(EventKind.COMMENT_EDITED, account, thread, item, text + " (redigerad)", author,
                                 at, "e1"))
        if kind is EventKind.COMMENT_CREATED and rng.random() < 0.005:
            events.append(_event(EventKind.COMMENT_HIDDEN, account, thread, item, None,
                                 Author(id=account, is_account=True), at))
    return events


async def produce(bootstrap: str, events: list[SocialEvent]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    began = time.perf_counter()
    try:
        for start in range(0, len(events), 5000):
            futures = [await producer.send(topics.EVENTS, to_bytes(e), key=e.partition_key)
                       for e in events[start:start + 5000]]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - began


def cpu_now(broker: LocalBroker) -> dict[str, float]:
    """CPU seconds so far of the archive consumer (it runs in this process), of PostgreSQL (every
    `postgres` process on this machine: the benchmark's own server or the shared one) and of the broker."""
    return {
        "archive (this process)": process_cpu_seconds(psutil.Process()),
        "postgresql": sum(process_cpu_seconds(p) for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"),
        "broker (tansu)": process_cpu_seconds(psutil.Process(broker.process.pid)) if broker.process else 0.0,
    }


async def archive_from_kafka(broker: LocalBroker, dsn: str, expected: int, batch: int,
                             writers: int) -> tuple[float, dict[str, float]]:
    """Seconds to archive `expected` events from Kafka, and the CPU seconds each process used meanwhile."""
    bootstrap = broker.bootstrap
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    async with pool.acquire() as connection:
        await migrate(connection)
    settings = ArchiveSettings(kafka_bootstrap=bootstrap)
    producer = make_producer(settings, "archive-bench")
    await producer.start()
    consumer = ArchiveConsumer(ArchiveStore(pool, "KS", "registrator@example.se"), bootstrap,
                               f"bench-{uuid.uuid4().hex[:6]}", producer, batch_size=batch, batch_timeout_ms=100,
                               writers=writers)
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    archived_before = _events_archived()
    # The clock starts once the group has its partitions: joining a group is start-up, not throughput.
    joining = time.perf_counter()
    while not consumer.consumer.assignment():  # noqa: ASYNC110 - aiokafka offers no join event
        await asyncio.sleep(0.001)
    began, cpu_before = time.perf_counter(), cpu_now(broker)
    print(f"consumer group joined in {began - joining:.2f} s (not counted)")
    try:
        # The consumer counts what each committed transaction archived: watching that counter costs
        # the database nothing (polling count(*) would load it, and only on the archive's side).
        while _events_archived() - archived_before < expected:  # noqa: ASYNC110 - polls a counter
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - began
        cpu_used = {name: seconds - cpu_before[name] for name, seconds in cpu_now(broker).items()}
        stored = await pool.fetchval("SELECT count(*) FROM item_event")
        if stored != expected:
            raise SystemExit(f"archived {stored} events, expected {expected}")
    finally:
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
        await pool.close()
    return elapsed, cpu_used


def _events_archived() -> float:
    # This counter alone: REGISTRY.get_sample_value would run every collector (the process
    # collector reads /proc) a hundred times a second, in the process being measured.
    for metric in archive_metrics.EVENTS_ARCHIVED.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("topic") == topics.EVENTS:
                return sample.value
    return 0.0


ITEM_COLUMNS = ("id", "item_key", "platform", "account_id", "platform_item_id", "item_type", "thread_id",
                "parent_id", "author_id", "author_name", "author_is_account", "first_occurred_at")
ITEM_EVENT_COLUMNS = ("item_ref", "seq", "version_no", "event_id", "kind", "text", "occurred_at", "received_at",
                      "record", "raw", "sha256", "prev_hash", "chain_hash")
ITEM_STATE_COLUMNS = ("item_ref", "latest_text", "version_count", "hidden", "deleted_by_city", "deleted_by_author",
                      "removed_at", "search")


async def stored_rows(archive_dsn: str) -> dict[str, object]:
    """The rows the archive wrote (item, item_event, item_state), read back to be COPYed as the reference."""
    connection = await asyncpg.connect(archive_dsn)
    try:
        items = [tuple(r) for r in await connection.fetch(f"SELECT {', '.join(ITEM_COLUMNS)} FROM item ORDER BY id")]
        item_events = [tuple(r) for r in await connection.fetch(
            f"SELECT {', '.join(ITEM_EVENT_COLUMNS)} FROM item_event ORDER BY item_ref, seq")]
        # tsvector has no binary COPY format in asyncpg: item_state goes as CSV, its text form.
        buffer = io.BytesIO()
        await connection.copy_from_query(
            f"SELECT {', '.join(ITEM_STATE_COLUMNS)} FROM item_state ORDER BY item_ref", output=buffer, format="csv")
        return {"item": items, "item_event": item_events, "item_state_csv": buffer.getvalue()}
    finally:
        await connection.close()


async def raw_copy(dsn: str, rows: dict[str, object], with_state: bool) -> float:
    """The reference: the archive's own rows, written by plain COPY in one transaction."""
    connection = await asyncpg.connect(dsn)
    try:
        await migrate(connection)
        began = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table("item", records=rows["item"], columns=ITEM_COLUMNS)
            await connection.copy_records_to_table("item_event", records=rows["item_event"],
                                                   columns=ITEM_EVENT_COLUMNS)
            if with_state:
                await connection.copy_to_table("item_state", source=io.BytesIO(rows["item_state_csv"]),
                                               columns=ITEM_STATE_COLUMNS, format="csv")
        return time.perf_counter() - began
    finally:
        await connection.close()


async def search_latency(dsn: str, queries: int) -> dict[str, list[float]]:
    settings = ArchiveSettings(database_url=dsn, machine_tokens="bench:registrar:bench", smtp_port=1)
    app = build_app(settings, consume=False, background=False)
    rng = random.Random(3)
    timings: dict[str, list[float]] = {"full-text": [], "full-text + account + dates": [], "item": []}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://archive",
                                     headers={"Authorization": "Bearer bench"}) as client:
            ids = [r["id"] for r in await app.state.pool.fetch("SELECT id FROM item ORDER BY random() LIMIT 200")]
            for n in range(queries):
                word = rng.choice(WORDS)
                for label, params in (
                    ("full-text", {"q": word, "limit": 50}),
                    ("full-text + account + dates", {"q": word, "account": f"acc-{n % 5}", "limit": 50,
                                                     "from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}),
                ):
                    began = time.perf_counter()
                    response = await client.get("/items", params=params)
                    timings[label].append(time.perf_counter() - began)
                    response.raise_for_status()
                began = time.perf_counter()
                (await client.get(f"/items/{rng.choice(ids)}")).raise_for_status()
                timings["item"].append(time.perf_counter() - began)
    return timings


def print_search_latency(statistics: str, timings: dict[str, list[float]]) -> None:
    print(f"search, {statistics}:")
    for label, values in timings.items():
        print(f"{label:>28}: p50 {percentile(values, 50) * 1000:6.1f} ms   "
              f"p95 {percentile(values, 95) * 1000:6.1f} ms   ({len(values)} requests through the API)")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=ArchiveSettings().archive_writers,
                        help="concurrent batch writers (SOCIALOPS_ARCHIVE_WRITERS)")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)

    configure_logging("archive-bench", "WARNING", "console")
    broker = LocalBroker().start()
    database = await asyncio.to_thread(LocalDatabase.find_or_start)
    names = [f"archive_bench_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    try:
        await ensure_topics(broker.bootstrap)
        archive_dsn, copy_dsn, copy_all_dsn = [await database.create_database(n) for n in names]
        events = make_events(args.items, args.accounts)
        count = len(events)
        print(f"{args.items:,} items -> {count:,} events ({args.accounts} accounts)")
        produce_s = await produce(broker.bootstrap, events)
        print(f"produced to Kafka in {produce_s:.1f} s ({count / produce_s:,.0f} events/s)")
        # The consumer measured shares this process: the generated events must not stay on its heap,
        # where every full garbage collection would walk them (1.1M models at --items 1000000);
        # the archive service holds only the batches it is writing.
        del events
        gc.collect()
        tune_garbage_collector()  # as `socialops-archive serve` does once the app is built
        archive_s, cpu_used = await archive_from_kafka(broker, archive_dsn, count, args.batch, args.writers)
        rows = await stored_rows(archive_dsn)
        copy_s = await raw_copy(copy_dsn, rows, with_state=False)
        copy_all_s = await raw_copy(copy_all_dsn, rows, with_state=True)
        archive_rate, copy_rate, copy_all_rate = (count / t for t in (archive_s, copy_s, copy_all_s))
        print(f"archived from Kafka: {archive_rate:,.0f} events/s ({archive_s:.1f} s, batch {args.batch}, {args.writers} writers; "
              "dedup, hash chain, item state, search vector, registrations)")
        print("CPU while archiving: " + ", ".join(
            f"{name} {seconds / count * 1e6:.1f} µs/event ({seconds / archive_s:.2f} cores)"
            for name, seconds in cpu_used.items()) + f"; {sum(cpu_used.values()) / archive_s:.2f} of {os.cpu_count()} cores busy")
        print(f"raw COPY of the same rows (item, item_event, item_state): {copy_all_rate:,.0f} events/s "
              f"({copy_all_s:.1f} s)")
        print(f"raw COPY of item and item_event only: {copy_rate:,.0f} events/s ({copy_s:.1f} s)")
        print(f"archive / raw COPY of the same rows: {archive_rate / copy_all_rate:.0%} (target >= 50%); "
              f"/ item and item_event only: {archive_rate / copy_rate:.0%}")
        # Right after the load the planner's statistics are whatever autovacuum last gathered (maybe
        # when the tables were a fraction of their size); in service, autovacuum keeps them current.
        print_search_latency("statistics as the load left them", await search_latency(archive_dsn, args.queries))
        connection = await asyncpg.connect(archive_dsn)
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()
        print_search_latency("after ANALYZE", await search_latency(archive_dsn, args.queries))
        print("(shared 2-core machine: numbers are noisy)")
    finally:
        for name in names:
            try:
                await database.drop_database(name)
            except Exception as error:  # keep the numbers; say what was left behind
                print(f"could not drop {name}: {error}", file=sys.stderr)
        broker.stop()
        database.stop()


if __name__ == "__main__":
    # The service runs on uvloop (uvicorn picks it when installed): so does the consumer measured here.
    uvloop.run(main(sys.argv[1:]))
