"""`socialops-ingest simulate`: realistic signed webhooks sent to a running ingest over HTTP.

It behaves like the platforms: each body is signed with the app secret, POSTed to the webhook URL,
and retried with exponential backoff on 5xx or connection errors (Meta, X and LinkedIn all retry
failed deliveries), so a broker outage during a simulation loses nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from .accounts import load_inventory
from .payloads import Delivery, Secrets
from .settings import IngestSettings
from .traffic import TrafficGenerator


@dataclass
class SimulationReport:
    deliveries: int = 0
    events: int = 0
    accepted: int = 0
    retries: int = 0
    failed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> str:
        rate = self.events / self.elapsed_s if self.elapsed_s else 0.0
        return (f"sent {self.deliveries} webhooks carrying {self.events} events in {self.elapsed_s:.1f}s "
                f"({rate:.0f} events/s); accepted {self.accepted}, retried {self.retries}, failed {self.failed}; "
                f"statuses {dict(sorted(self.statuses.items()))}; latency p50 {self.percentile(0.5) * 1000:.1f} ms, "
                f"p99 {self.percentile(0.99) * 1000:.1f} ms")


async def deliver(client: httpx.AsyncClient, delivery: Delivery, report: SimulationReport, *, attempts: int = 6,
                  first_backoff_s: float = 0.2) -> None:
    """POST until a non-5xx answer, backing off like the platforms do; 4xx are final (and reported)."""
    backoff = first_backoff_s
    for attempt in range(attempts):
        started = time.perf_counter()
        try:
            response = await client.post(delivery.path, content=delivery.body, headers=delivery.headers)
            status = response.status_code
        except httpx.TransportError:
            status = 0
        report.statuses[status] = report.statuses.get(status, 0) + 1
        if status and status < 500:
            report.latencies.append(time.perf_counter() - started)
            if status == 200:
                report.accepted += 1
            else:
                report.failed += 1
            return
        if attempt + 1 < attempts:
            report.retries += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
    report.failed += 1


async def run_simulation(settings: IngestSettings, *, target: str, rate: float, duration: float, seed: int | None = None,
                         batch: int = 1, concurrency: int = 64) -> SimulationReport:
    accounts = load_inventory(settings.accounts_file)
    secrets = Secrets(settings.meta_app_secret, settings.x_consumer_secret, settings.linkedin_client_secret)
    missing = [name for name, value in (("SOCIALOPS_META_APP_SECRET", secrets.meta_app_secret),
                                        ("SOCIALOPS_X_CONSUMER_SECRET", secrets.x_consumer_secret),
                                        ("SOCIALOPS_LINKEDIN_CLIENT_SECRET", secrets.linkedin_client_secret)) if not value]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} to the secrets the target ingest uses: the simulator signs "
                         "like the platforms, and ingest refuses unsigned webhooks")
    generator = TrafficGenerator(accounts, secrets, seed=seed if seed is not None else time.time_ns() % 2**32)
    report = SimulationReport()
    interval = batch / rate if rate > 0 else 0.0
    gate = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()

    async def send(delivery: Delivery) -> None:
        async with gate:
            await deliver(client, delivery, report)

    loop = asyncio.get_running_loop()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=target, timeout=30, limits=limits) as client:
        started = loop.time()
        for index, delivery in enumerate(generator.deliveries(datetime.now(UTC), batch=batch)):
            due = started + index * interval
            if due - started >= duration:
                break
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            report.deliveries += 1
            report.events += delivery.events
            task = asyncio.create_task(send(delivery))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        report.elapsed_s = loop.time() - started
    return report
