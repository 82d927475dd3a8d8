"""Pytest fixtures shared by every service's tests: a real broker and a real database.

Enabled from the repository's root `conftest.py`. Set `SOCIALOPS_TEST_KAFKA_BOOTSTRAP` or
`SOCIALOPS_TEST_DATABASE_URL` to point the tests at servers you already run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from .devstack import LocalBroker, LocalDatabase, free_port
from .kafka import ensure_topics
from .stack import SmtpSink

# Every process the test session starts inherits this variable (directly or through a grandchild whose
# parent has died), so at the end the session can find what it left running.
SESSION_MARKER = "SOCIALOPS_TEST_SESSION"
# A process may take this long to exit after the session stopped it (SIGTERM handlers, xdist workers).
LEFTOVER_GRACE_S = float(os.environ.get("SOCIALOPS_TEST_LEFTOVER_GRACE_S", "10"))


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(SESSION_MARKER, f"{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _is_interpreter_helper(process: psutil.Process) -> bool:
    """multiprocessing's resource tracker lives exactly as long as this interpreter; not a leak."""
    return "multiprocessing.resource_tracker" in " ".join(process.cmdline())


def processes_left_by_session(marker: str, *, exclude: set[int]) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        if process.pid in exclude:
            continue
        try:
            if process.environ().get(SESSION_MARKER) != marker or process.status() == psutil.STATUS_ZOMBIE:
                continue
            if not _is_interpreter_helper(process):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _describe(process: psutil.Process) -> str:
    try:
        return f"pid {process.pid} {process.name()}: {' '.join(process.cmdline())[:300]}"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return f"pid {process.pid} (gone while reporting)"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a process the session started is still alive at its end (and stop it).

    Only the process that started the session checks (under xdist: the controller, after its workers);
    a worker's own leftovers carry the same marker, so the controller sees them too.
    """
    if hasattr(session.config, "workerinput"):
        return
    marker = os.environ.get(SESSION_MARKER)
    if not marker or not marker.startswith(f"{os.getpid()}-"):
        return  # the marker came from an outer session (a pytest run inside a test)
    me = os.getpid()
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = processes_left_by_session(marker, exclude={me})
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = processes_left_by_session(marker, exclude={me})
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["processes started by this test session are still alive at its end:"]
    lines += [f"  {_describe(process)}" for process in left]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line)
    for process in left:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def required_tool(command: str, install: str) -> str:
    """The path of an external program a test needs (promtool, chromium, pdftoppm ...).

    Missing on a developer's machine: the test is skipped and says how to install it. Missing under
    `CI=true`: the test fails with the same words, because CI must never pass by skipping what it checks.
    """
    path = shutil.which(command)
    if path:
        return path
    message = f"{command} is not installed; install it with: {install}"
    if running_in_ci():
        pytest.fail(f"{message} (CI=true: a missing tool fails the run; .ci/run installs it)", pytrace=False)
    pytest.skip(message)


class TestIssuer:
    """An OpenID Connect issuer on 127.0.0.1 whose keys the test holds: discovery and JWKS over real HTTP.

    `token(**claims)` mints an access token for any claims (expired, another audience ...); `keys` can be
    replaced to rotate; `jwks_fetches` counts how often a service asked for them.
    """

    __test__ = False  # not a test class, whatever its name

    def __init__(self, audience: str = "socialops-api") -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from joserfc.jwk import RSAKey

        from .devstack import free_port

        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.audience = audience
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        self.keys = [self.key]
        self.jwks_fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": outer.issuer, "jwks_uri": f"{outer.issuer}/keys"}
                elif self.path == "/keys":
                    outer.jwks_fetches += 1
                    body = {"keys": [key.as_dict(private=False) for key in outer.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        import threading

        threading.Thread(target=self._server.serve_forever, name="test-issuer", daemon=True).start()

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "sub": "00u-test-person",
                                  "iat": now, "nbf": now, "exp": now + 600, "name": "Testa Testsson",
                                  "email": "testa.testsson@stad.example", "roles": []}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: Any = None, **changes: Any) -> str:
        from joserfc import jwt

        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, self.claims(**changes), key)

    def settings(self) -> dict[str, str]:
        return {"oidc_issuer": self.issuer, "oidc_audience": self.audience}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def forged_tokens(issuer: TestIssuer) -> dict[str, str]:
    """Tokens every API must answer 401: each breaks one rule of the token contract."""
    import base64
    import hashlib
    import hmac

    from joserfc.jwk import RSAKey

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    stranger = RSAKey.generate_key(2048, parameters={"kid": "not-published", "use": "sig"})
    unsigned = f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(issuer.claims(roles=['registrar'])).encode())}."
    hs_input = (f"{b64(json.dumps({'alg': 'HS256', 'kid': issuer.key.kid}).encode())}."
                f"{b64(json.dumps(issuer.claims(roles=['registrar'])).encode())}")
    hs256 = f"{hs_input}.{b64(hmac.new(issuer.key.as_pem(private=False), hs_input.encode(), hashlib.sha256).digest())}"
    header, _, signature = issuer.token(roles=["archivist"]).split(".")
    tampered = f"{header}.{b64(json.dumps(issuer.claims(roles=['registrar', 'archive_admin'])).encode())}.{signature}"
    return {
        "another issuer": issuer.token(iss="https://login.example.net/other/v2.0", roles=["registrar"]),
        "the wrong audience": issuer.token(aud="another-api", roles=["registrar"]),
        "expired": issuer.token(exp=int(time.time()) - 3600, roles=["registrar"]),
        "signed by a key not in the JWKS": issuer.token(key=stranger, roles=["registrar"]),
        "alg none": unsigned,
        "HS256 signed with the public key": hs256,
        "a tampered payload": tampered,
    }


@pytest.fixture
def test_issuer() -> Iterator[TestIssuer]:
    issuer = TestIssuer()
    try:
        yield issuer
    finally:
        issuer.close()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """One broker for the whole run, with every topic created. Tests tell their data apart by ids."""
    existing = os.environ.get("SOCIALOPS_TEST_KAFKA_BOOTSTRAP")
    if existing:
        asyncio.run(ensure_topics(existing))
        yield existing
        return
    broker = LocalBroker().start()
    try:
        asyncio.run(ensure_topics(broker.bootstrap))
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def fresh_broker() -> Iterator[LocalBroker]:
    """A broker of the test's own (for consumer-group and fault tests), topics created."""
    broker = LocalBroker().start()
    try:
        asyncio.run(ensure_topics(broker.bootstrap))
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def local_database() -> Iterator[LocalDatabase]:
    database = LocalDatabase.find_or_start(os.environ.get("SOCIALOPS_TEST_DATABASE_URL"))
    try:
        yield database
    finally:
        database.stop()


@pytest.fixture
def database_url(local_database: LocalDatabase) -> Iterator[str]:
    """A new, empty database for this test, dropped afterwards."""
    name = f"socialops_test_{uuid.uuid4().hex[:10]}"
    dsn = asyncio.run(local_database.create_database(name))
    try:
        yield dsn
    finally:
        asyncio.run(local_database.drop_database(name))


async def refuse_connections(admin_dsn: str, database: str, refuse: bool) -> None:
    """Make the database go away for its clients (existing connections cut, new ones refused), or come back."""
    import asyncpg

    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        if refuse:
            await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await connection.close()


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expected: int,
    timeout: float = 10.0,
    where: Any = None,
    to_end: bool = False,
) -> list[tuple[bytes | None, dict[str, Any]]]:
    """Read `topic` from the beginning with a real consumer until `expected` matching records came.

    `where` filters decoded records (a callable on the dict); returns (key, value) pairs.
    `to_end`: also read on to the end offsets the topic had when the read began, so that everything
    a producer had written before is there (exactly, on a loaded machine too), not only `expected`.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[bytes | None, dict[str, Any]]] = []
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        for _ in range(50):
            if partitions:
                break
            await asyncio.sleep(0.1)
            await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh topic
            partitions = consumer.partitions_for_topic(topic) or set()
        assignment = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assignment)
        await consumer.seek_to_beginning(*assignment)
        loop = asyncio.get_running_loop()

        async def collect(until: float, poll_ms: int, enough: int | None) -> None:
            while loop.time() < until and (enough is None or len(found) < enough):
                for records in (await consumer.getmany(timeout_ms=poll_ms)).values():
                    for record in records:
                        value = json.loads(record.value) if record.value else {}
                        if where is None or where(value):
                            found.append((record.key, value))

        async def short_of_the_end(ends: dict[TopicPartition, int]) -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        ends = await consumer.end_offsets(assignment) if to_end else {}
        await collect(loop.time() + timeout, 200, expected)
        deadline = loop.time() + timeout
        while loop.time() < deadline and await short_of_the_end(ends):
            await collect(loop.time() + 0.2, 100, None)
        # a little longer, so that "exactly N" assertions see extra records too
        await collect(loop.time() + 0.5, 100, None)
    finally:
        await consumer.stop()
    return found


async def wait_until(condition: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an (async or sync) condition until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)


class Mailbox(SmtpSink):
    """A real SMTP server on a free port that keeps every message it accepts, parsed."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port or free_port())
        self.messages: list[EmailMessage] = []

    def keep(self, content: bytes) -> None:
        self.messages.append(message_from_bytes(content, policy=policy.default))  # type: ignore[arg-type]


@pytest.fixture
def smtp_mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for the test (`.port`, `.messages`)."""
    box = Mailbox().start()
    try:
        yield box
    finally:
        box.stop()


class SettableClock:
    """A clock a test sets (`clock.at = ...`), for code that takes a `() -> datetime` clock."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

