"""Benchmark: webhook events/s into Kafka through ingest vs the raw aiokafka producer, and p99 latency.

Run: `.venv/bin/python bench/ingest.py` (default run well under 2 minutes; `--help` for bigger ones).

1. Raw producer: one aiokafka producer (acks=all) sends canonical-event-sized records to
   `social.events.v1` as fast as it can (send all of a window, then await the acknowledgements).
2. Ingest, sustained: `socialops-ingest serve` in its own process (uvicorn on a free port); this
   process POSTs signed, batched webhooks from the seeded traffic generator with a few connections
   in flight; events/s counts only events the broker acknowledged (HTTP 200).
3. Ingest, latency: an open-loop schedule of 1,000 events/s (webhooks of `--latency-batch` events)
   for a few seconds; p50/p99 of the webhook round trip (signature, normalisation, acks=all publish).

Both rates run against the same local broker (tansu, memory storage) in the same run, so the ratio
compares like with like. Targets (issue 2): ratio >= 50 % for batched webhooks, p99 < 50 ms at 1,000
events/s. The machine is shared and has 2 cores: treat the numbers as indicative.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from socialops_common.devstack import LocalBroker, free_port, wait_for_port
from socialops_common.events import utc_now
from socialops_common.kafka import ensure_topics, make_producer, to_bytes
from socialops_common.observability import tune_garbage_collector
from socialops_common.settings import CommonSettings
from socialops_common.topics import EVENTS
from socialops_ingest.accounts import load_inventory
from socialops_ingest.intake import ADAPTERS, decode_and_normalize
from socialops_ingest.payloads import Delivery, Secrets
from socialops_ingest.platforms import Context
from socialops_ingest.traffic import TrafficGenerator

REPO = Path(__file__).resolve().parents[1]
SECRETS = Secrets("bench-meta-secret", "bench-x-secret", "bench-linkedin-secret")
ACCOUNTS = load_inventory(REPO / "config" / "accounts.yaml")


def deliveries(count: int, batch: int, seed: int) -> list[Delivery]:
    generator = TrafficGenerator(ACCOUNTS, SECRETS, seed=seed)
    return list(islice(generator.deliveries(datetime.now(UTC), batch=batch), count))


def canonical_records(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of real canonical events, to give the raw producer the same bytes ingest sends."""
    ctx = Context(received_at=utc_now())
    records: list[tuple[bytes, bytes]] = []
    for delivery in deliveries(count // 10 + 1, 10, seed):
        normalized, _ = decode_and_normalize(ADAPTERS[delivery.platform], delivery.body, ctx)
        records.extend((e.partition_key, to_bytes(e)) for e in normalized.events)
    return records[:count]


async def raw_producer_rate(bootstrap: str, records: list[tuple[bytes, bytes]], window: int) -> float:
    producer = make_producer(CommonSettings(kafka_bootstrap=bootstrap), "bench-raw", linger_ms=1)
    await producer.start()
    try:
        started = time.perf_counter()
        for offset in range(0, len(records), window):
            futures = [await producer.send(EVENTS, value, key=key) for key, value in records[offset:offset + window]]
            await asyncio.gather(*futures)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def _address(base_url: str) -> tuple[str, int]:
    host, _, port = base_url.removeprefix("http://").partition(":")
    return host, int(port)


async def ingest_rate(base_url: str, batch: list[Delivery], connections: int) -> tuple[float, int]:
    """Closed loop: `connections` keep-alive connections POST webhooks back to back."""
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    for delivery in batch:
        queue.put_nowait(delivery)
    acknowledged = 0
    refused = 0

    async def worker() -> None:
        nonlocal acknowledged, refused
        connection = Connection(*_address(base_url))
        try:
            while not queue.empty():
                delivery = queue.get_nowait()
                if await connection.post(delivery) == 200:
                    acknowledged += delivery.events
                else:
                    refused += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return acknowledged / (time.perf_counter() - started), refused


async def latency_at(base_url: str, events_per_s: float, seconds: float, batch: int, seed: int,
                     connections: int = 64) -> dict[str, float]:
    """Open loop: webhooks leave on a fixed schedule; latency counts from the scheduled time, so
    time spent waiting for a free connection is included (no coordinated omission)."""
    schedule = deliveries(int(events_per_s * seconds / batch), batch, seed)
    interval = batch / events_per_s
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(Connection(*_address(base_url)))

    async def send(delivery: Delivery, due: float) -> None:
        connection = await idle.get()
        try:
            status = await connection.post(delivery)
        finally:
            idle.put_nowait(connection)
        latencies.append(loop.time() - due)
        statuses[status] = statuses.get(status, 0) + 1

    for delivery in schedule[:connections]:  # open the connections, warm the server's producer
        await send(delivery, loop.time())
    latencies.clear()
    statuses.clear()
    tasks = []
    start = loop.time()
    for index, delivery in enumerate(schedule):
        due = start + index * interval
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(delivery, due)))
    await asyncio.gather(*tasks)
    achieved = len(schedule) * batch / (loop.time() - start)
    while not idle.empty():
        idle.get_nowait().close()
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": ordered[-1] * 1000, "achieved_events_s": achieved,
            "ok": statuses.get(200, 0), "requests": len(schedule)}


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection: the load generator must not be the bottleneck."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, delivery: Delivery) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"POST {delivery.path} HTTP/1.1", f"host: {self.host}:{self.port}",
                f"content-length: {len(delivery.body)}"]
        head += [f"{name}: {value}" for name, value in delivery.headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + delivery.body)
        assert self.reader is not None
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def start_ingest(bootstrap: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, SOCIALOPS_KAFKA_BOOTSTRAP=bootstrap, SOCIALOPS_LOG_LEVEL="WARNING",
               SOCIALOPS_META_APP_SECRET=SECRETS.meta_app_secret, SOCIALOPS_META_VERIFY_TOKEN="bench",
               SOCIALOPS_X_CONSUMER_SECRET=SECRETS.x_consumer_secret,
               SOCIALOPS_LINKEDIN_CLIENT_SECRET=SECRETS.linkedin_client_secret,
               SOCIALOPS_ACCOUNTS_FILE=str(REPO / "config" / "accounts.yaml"))
    command = [str(Path(sys.executable).parent / "socialops-ingest"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port("127.0.0.1", port, timeout=30)
    return process, f"http://127.0.0.1:{port}"


async def main(args: argparse.Namespace) -> None:
    # The same garbage-collector settings every service runs with (serve_http), so the raw producer gets them too.
    tune_garbage_collector()
    broker = LocalBroker().start()
    server = None
    try:
        await ensure_topics(broker.bootstrap)
        records = canonical_records(args.raw_events, seed=1)
        size = sum(len(v) for _, v in records) / len(records)
        server, base_url = start_ingest(broker.bootstrap)
        webhooks = deliveries(args.ingest_events // args.batch, args.batch, seed=2)
        await ingest_rate(base_url, webhooks[: max(1, len(webhooks) // 10)], args.connections)  # warm-up
        raws, ingests, ratios = [], [], []
        print(f"{args.rounds} rounds, alternating (records of ~{size:.0f} B; webhooks of {args.batch} events, "
              f"{args.connections} connections):")
        for round_number in range(1, args.rounds + 1):
            raw = await raw_producer_rate(broker.bootstrap, records, window=args.window)
            rate, refused = await ingest_rate(base_url, webhooks, args.connections)
            raws.append(raw)
            ingests.append(rate)
            ratios.append(rate / raw)
            print(f"  round {round_number}: raw aiokafka producer (acks=all) {raw:,.0f} records/s, "
                  f"ingest over HTTP {rate:,.0f} events/s acknowledged ({refused} refused), ratio {rate / raw:.0%}")
        print(f"median raw producer {statistics.median(raws):,.0f} records/s, median ingest "
              f"{statistics.median(ingests):,.0f} events/s, median ratio {statistics.median(ratios):.0%} (target >= 50%)")

        for batch in args.latency_batches:
            result = await latency_at(base_url, args.latency_rate, args.latency_seconds, batch, seed=3 + batch)
            print(f"latency at {args.latency_rate:,.0f} events/s (webhooks of {batch} events, "
                  f"achieved {result['achieved_events_s']:,.0f}/s, {result['ok']}/{result['requests']} ok): "
                  f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms "
                  f"(target p99 < 50 ms)")
        print(f"machine: {os.cpu_count()} cores, shared with other work: numbers are indicative")
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        broker.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating raw/ingest measurements (noise)")
    parser.add_argument("--raw-events", type=int, default=30_000)
    parser.add_argument("--window", type=int, default=2_000, help="raw producer: records in flight per await")
    parser.add_argument("--ingest-events", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=100, help="events per webhook in the throughput run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--latency-rate", type=float, default=1_000.0)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--latency-batches", type=int, nargs="+", default=[1, 10])
    asyncio.run(main(parser.parse_args()))
