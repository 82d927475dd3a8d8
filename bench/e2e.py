"""End to end under load: signed webhooks into ingest -> Kafka -> archive (and moderation) -> PostgreSQL.

Starts the whole platform as real processes (tests/e2e/harness.py: tansu broker, private embedded
PostgreSQL, SMTP mailbox, fake Graph API, the four services via `socialops-<svc> serve`) and sends
the seeded Swedish traffic of `socialops_ingest.traffic.TrafficGenerator` open-loop at a target
rate, retrying on 5xx like the platforms. It prints:

- sustained events/s from webhook to archived (first receipt to last archived row);
- end-to-end latency per event, p50/p99: ingest's `received_at` -> the archive's `archived_at`
  (the row's transaction start) for the event, and -> `archived_at` of its moderation decision;
- a step search: rising rates for `--step-s` each; a step "holds" when the archive keeps up
  (the sender offered the rate, the archive took it at >= 90 % of it, latency in the step's last
  third not above twice its first third + 0.5 s, the backlog gone within 10 s of the step's end).
  The last rate that holds is the maximum. Load average is printed: the machine may be shared.

    .venv/bin/python bench/e2e.py                                  # 300 events/s for 30 s + short step search
    .venv/bin/python bench/e2e.py --rate 1000 --duration 300       # the target: 1,000 events/s for 5 min
    .venv/bin/python bench/e2e.py --steps 500,1000,1500,2000,3000 --step-s 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from cpu import process_cpu_seconds  # noqa: E402
from harness import ACCOUNTS_FILE, SECRETS, DeliveryLog, Stack, consumer_lag, send_traffic  # noqa: E402
from socialops_ingest.accounts import load_inventory  # noqa: E402
from socialops_ingest.payloads import Secrets  # noqa: E402
from socialops_ingest.traffic import TrafficGenerator  # noqa: E402


def traffic(seed: int, batch: int):
    secrets = Secrets(SECRETS["SOCIALOPS_META_APP_SECRET"], SECRETS["SOCIALOPS_X_CONSUMER_SECRET"],
                      SECRETS["SOCIALOPS_LINKEDIN_CLIENT_SECRET"])
    generator = TrafficGenerator(load_inventory(ACCOUNTS_FILE), secrets, seed=seed, unknown_account_share=0.0)
    return generator.deliveries(datetime.now(UTC) - timedelta(days=1), batch=batch, step=timedelta(seconds=2))


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each part of the platform and by this sender."""
    used = {name: process_cpu_seconds(psutil.Process(service.process.pid), with_children=True)
            for name, service in stack.services.items()
            if service.process}
    if stack.broker and stack.broker.process:
        used["broker (tansu)"] = process_cpu_seconds(psutil.Process(stack.broker.process.pid))
    postmaster = stack.database.data_dir / "postmaster.pid" if stack.database and stack.database.data_dir else None
    if postmaster and postmaster.exists():
        used["postgresql"] = process_cpu_seconds(psutil.Process(int(postmaster.read_text().split()[0])), with_children=True)
    used["sender (this bench)"] = process_cpu_seconds(psutil.Process())
    return used


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def wait_archived(database_url: str, since: datetime, expected: int, within_s: float) -> float | None:
    """Seconds until `expected` events received since `since` are archived (None if not within)."""
    started = time.monotonic()
    connection = await asyncpg.connect(database_url)
    try:
        while time.monotonic() - started < within_s:
            archived = await connection.fetchval("SELECT count(*) FROM item_event WHERE received_at >= $1", since)
            if archived >= expected:
                return time.monotonic() - started
            await asyncio.sleep(0.2)
        return None
    finally:
        await connection.close()


async def latencies(database_url: str, since: datetime) -> dict[str, list]:
    connection = await asyncpg.connect(database_url)
    try:
        events = await connection.fetch(
            "SELECT received_at, extract(epoch FROM archived_at - received_at) AS latency"
            " FROM item_event WHERE received_at >= $1 ORDER BY received_at", since)
        decisions = await connection.fetch(
            "SELECT extract(epoch FROM d.archived_at - e.received_at) AS latency FROM moderation_decision d"
            " JOIN item_event e ON e.event_id = d.event_id WHERE e.received_at >= $1 ORDER BY e.received_at", since)
        span = await connection.fetchrow(
            "SELECT min(received_at) AS first, max(archived_at) AS last FROM item_event WHERE received_at >= $1", since)
    finally:
        await connection.close()
    return {"events": [(r["received_at"], float(r["latency"])) for r in events],
            "decisions": [float(r["latency"]) for r in decisions], "span": [span["first"], span["last"]]}


async def run_at(stack: Stack, rate: float, duration: float, batch: int, seed: int) -> dict:
    """Send `rate` events/s for `duration` s; returns throughput and latencies of that stretch."""
    since = datetime.now(UTC)
    stream = traffic(seed, batch)
    count = max(1, int(rate * duration / batch))
    deliveries = [next(stream) for _ in range(count)]
    log = DeliveryLog()
    cpu_before = cpu_seconds(stack)
    sent_started = time.monotonic()
    await send_traffic(stack.services["ingest"].url, deliveries, rate=rate / batch, log=log, concurrency=128)
    send_s = time.monotonic() - sent_started
    drained_after = await wait_archived(stack.database_url, since, log.events_accepted, within_s=max(30.0, duration))
    # Every group (moderation, its executor, SLA, archive) has caught up, not just the archive.
    pipeline_drained_after = await wait_groups_caught_up(stack, within_s=max(30.0, duration))
    if pipeline_drained_after is not None:  # counted, like the archive's, from the end of sending
        pipeline_drained_after = time.monotonic() - sent_started - send_s
    cpu_after = cpu_seconds(stack)
    found = await latencies(stack.database_url, since)
    values = [latency for _, latency in found["events"]]
    third = max(1, len(values) // 3)
    decided = found["decisions"]
    decided_third = max(1, len(decided) // 3)
    first, last = found["span"]
    elapsed = (last - first).total_seconds() if first and last else float("nan")
    return {
        "rate": rate, "sent_events": log.events_accepted, "send_s": send_s, "retries": log.retries,
        "refused": len(log.refused), "archived": len(values),
        "events_per_s": len(values) / elapsed if elapsed else float("nan"),
        "p50": percentile(values, 0.5), "p99": percentile(values, 0.99), "max": max(values, default=float("nan")),
        "early_p50": statistics.median(values[:third]) if values else float("nan"),
        "late_p50": statistics.median(values[-third:]) if values else float("nan"),
        "decision_p50": percentile(found["decisions"], 0.5), "decision_p99": percentile(found["decisions"], 0.99),
        "decisions": len(found["decisions"]), "drained_after_s": drained_after,
        "decision_early_p50": statistics.median(decided[:decided_third]) if decided else float("nan"),
        "decision_late_p50": statistics.median(decided[-decided_third:]) if decided else float("nan"),
        "pipeline_drained_after_s": pipeline_drained_after,
        "webhook_p99_ms": percentile(log.latencies, 0.99) * 1000,
        "cpu_ms_per_event": {name: 1000 * (cpu_after[name] - cpu_before.get(name, 0.0)) / max(1, log.events_accepted)
                             for name in cpu_after},
    }


def holds(result: dict, step_s: float) -> bool:
    """The rate was really offered (the sender kept up), archived as fast as offered, and latency
    did not keep growing through the step (nor left a backlog that takes long to drain) — for the
    events and for the moderation decisions: a step where moderation falls behind does not hold."""
    offered = result["send_s"] <= 1.1 * step_s
    kept_up = result["events_per_s"] >= 0.9 * result["rate"]
    drained = result["drained_after_s"] is not None and result["drained_after_s"] <= 10.0
    pipeline = result["pipeline_drained_after_s"] is not None and result["pipeline_drained_after_s"] <= 10.0
    steady = result["late_p50"] <= 2 * result["early_p50"] + 0.5
    decisions_steady = result["decision_late_p50"] <= 2 * result["decision_early_p50"] + 0.5
    return offered and kept_up and drained and pipeline and steady and decisions_steady and result["refused"] == 0


async def wait_groups_caught_up(stack: Stack, within_s: float) -> float | None:
    """Seconds until no consumer group has uncommitted messages (None if not within: then the lag
    of each group is printed, to say which part of the platform fell behind)."""
    started = time.monotonic()
    lag: dict[str, int] = {}
    while time.monotonic() - started < within_s:
        lag = await consumer_lag(stack.broker.bootstrap)
        if not any(lag.values()):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    print(f"  consumer groups still behind after {within_s:.0f} s: {lag}", flush=True)
    return None


def show(label: str, r: dict) -> None:
    drained = "never" if r["drained_after_s"] is None else f"{r['drained_after_s']:.1f}s"
    pipeline = "not within the wait" if r["pipeline_drained_after_s"] is None else f"{r['pipeline_drained_after_s']:.1f}s"
    print(f"{label}: target {r['rate']:.0f} ev/s, sent {r['sent_events']} in {r['send_s']:.1f}s "
          f"(retries {r['retries']}, refused {r['refused']}); archived {r['archived']} at {r['events_per_s']:.0f} ev/s; "
          f"webhook->archived p50 {r['p50'] * 1000:.0f} ms p99 {r['p99'] * 1000:.0f} ms max {r['max'] * 1000:.0f} ms "
          f"(first third p50 {r['early_p50'] * 1000:.0f} ms, last third {r['late_p50'] * 1000:.0f} ms); "
          f"webhook->decision archived p50 {r['decision_p50'] * 1000:.0f} ms p99 {r['decision_p99'] * 1000:.0f} ms "
          f"({r['decisions']} decisions; first third p50 {r['decision_early_p50'] * 1000:.0f} ms, "
          f"last third {r['decision_late_p50'] * 1000:.0f} ms); archive backlog drained {drained} after sending, "
          f"every consumer group caught up {pipeline} after sending; "
          f"webhook answer p99 {r['webhook_p99_ms']:.0f} ms", flush=True)
    cpu = r["cpu_ms_per_event"]
    print("  CPU ms per event: " + ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(cpu.items(), key=lambda kv: -kv[1]))
          + f"; total {sum(cpu.values()):.2f} (2 cores = 2,000 ms/s: the ceiling is ~{2000 / max(sum(cpu.values()), 1e-9):,.0f} ev/s)",
          flush=True)


async def main(args: argparse.Namespace) -> None:
    print(f"starting broker, database, mailbox and the four services ... (load average {os.getloadavg()})",
          flush=True)
    stack = await asyncio.to_thread(Stack().start)  # it runs its own event loop for topic creation
    try:
        result = await run_at(stack, args.rate, args.duration, args.batch, seed=1)
        show("sustained", result)
        best = None
        for index, rate in enumerate(float(r) for r in args.steps.split(",") if r):
            step = await run_at(stack, rate, args.step_s, args.batch, seed=10 + index)
            show(f"step {index + 1}", step)
            if not holds(step, args.step_s):
                print(f"  -> {rate:.0f} events/s does not hold (not offered in time, not archived as fast, "
                      "event or decision latency growing, or a backlog left in some consumer group)")
                break
            best = rate
        print(f"maximum rate that holds: {best:.0f} events/s" if best else "no step held")
        print(f"load average at the end: {os.getloadavg()}")
    finally:
        await asyncio.to_thread(stack.stop)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=300.0, help="events/s for the sustained run")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the sustained run")
    parser.add_argument("--batch", type=int, default=5, help="events per webhook body")
    parser.add_argument("--steps", default="300,600,1000,1500", help="rates of the step search (events/s)")
    parser.add_argument("--step-s", type=float, default=10.0, help="seconds per step")
    asyncio.run(main(parser.parse_args()))
