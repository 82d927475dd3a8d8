"""`make run`: the whole stack on this machine, in the foreground, stopped cleanly by Ctrl-C.

Starts the broker on 127.0.0.1:9092, finds or starts PostgreSQL, creates the topics and the
`socialops` database, a local SMTP mailbox on 127.0.0.1:1025 (messages saved under `var/mail/`,
standing in for the registrar's inbox), then every service whose command is installed (and local
servers speaking the platforms' insights APIs, which the insights poller reads), and prints where
each is. Local-only secrets and tokens come from `config/local.env`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .devstack import LocalBroker, LocalDatabase, port_open, service_environment, wait_for_port
from .kafka import ensure_topics


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    command: str  # console script installed by the service's package
    port: int
    subcommand: str = "serve"


SERVICES = (
    ServiceSpec("ingest", "socialops-ingest", 8080),
    ServiceSpec("moderation", "socialops-moderation", 8081),
    ServiceSpec("sla", "socialops-sla", 8082),
    ServiceSpec("archive", "socialops-archive", 8083),
    ServiceSpec("console", "socialops-console", 8084),
    # local servers speaking the platforms' insights APIs, and the poller reading them (issue 15)
    ServiceSpec("platforms", "socialops-ingest", 8089, "fake-platforms"),
    ServiceSpec("insights", "socialops-ingest", 8085, "poll"),
)
# The local OpenID Connect provider people sign in with (socialops_common.local_idp); the issuer in
# config/local.env names this port.
IDENTITY_PROVIDER_PORT = 8090


# The start-up table's first column: the longest name ("moderation") and two spaces.
NAME_WIDTH = max(len(spec.name) for spec in SERVICES) + 2


def _installed(command: str) -> str | None:
    local = Path(sys.executable).parent / command
    return str(local) if local.exists() else shutil.which(command)


REPOSITORY = Path(__file__).resolve().parents[4]


def local_settings(path: Path = REPOSITORY / "config" / "local.env") -> dict[str, str]:
    """`KEY=value` lines of the local settings file, for variables the environment does not set."""
    settings: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#") and key not in os.environ:
                settings[key.strip()] = value.strip()
    return settings


class SmtpSink:
    """An SMTP server on 127.0.0.1:port accepting every e-mail; `keep` says what becomes of it."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.port = port
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    def keep(self, content: bytes) -> None:
        raise NotImplementedError

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.keep(envelope.content)
        return "250 OK"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


class LocalMailbox(SmtpSink):
    """Saves every e-mail as an .eml file (the registrar's inbox)."""

    def __init__(self, port: int, folder: Path) -> None:
        super().__init__(port)
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def keep(self, content: bytes) -> None:
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns()}.eml"
        (self.folder / name).write_bytes(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-stack", description=__doc__)
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--database", default="socialops")
    args = parser.parse_args(argv)

    if port_open("127.0.0.1", args.kafka_port):
        print(f"something already listens on 127.0.0.1:{args.kafka_port}; using it as the broker")
        broker = None
        bootstrap = f"127.0.0.1:{args.kafka_port}"
    else:
        broker = LocalBroker(port=args.kafka_port).start()
        bootstrap = broker.bootstrap
    asyncio.run(ensure_topics(bootstrap))
    database = LocalDatabase.find_or_start(os.environ.get("SOCIALOPS_DATABASE_URL"))
    database_url = asyncio.run(database.create_database(args.database))
    print(f"{'broker':<{NAME_WIDTH}}kafka://{bootstrap}  (tansu, memory storage)")
    print(f"{'database':<{NAME_WIDTH}}{database_url}")

    extra = local_settings()
    mailbox = None
    smtp_port = int(extra.get("SOCIALOPS_SMTP_PORT", os.environ.get("SOCIALOPS_SMTP_PORT", "25")))
    if not port_open("127.0.0.1", smtp_port):
        try:
            mailbox = LocalMailbox(smtp_port, REPOSITORY / "var" / "mail").start()
            print(f"{'mailbox':<{NAME_WIDTH}}smtp://127.0.0.1:{smtp_port}  (saved to var/mail/)")
        except ImportError:
            print("no local SMTP server (aiosmtpd missing): registration e-mails stay queued")

    processes: list[tuple[ServiceSpec, subprocess.Popen]] = []
    env = service_environment(bootstrap, database_url, **extra)
    identity = _installed("socialops-local-idp")
    if port_open("127.0.0.1", IDENTITY_PROVIDER_PORT):
        print(f"something already listens on 127.0.0.1:{IDENTITY_PROVIDER_PORT}; using it as the identity provider")
    elif identity is not None:
        processes.append((ServiceSpec("identity", "socialops-local-idp", IDENTITY_PROVIDER_PORT), subprocess.Popen(
            [identity, "--port", str(IDENTITY_PROVIDER_PORT)], env=env, stdout=subprocess.DEVNULL)))
    for spec in SERVICES:
        command = _installed(spec.command)
        if command is None:
            continue
        env_for = dict(env, SOCIALOPS_HTTP_PORT=str(spec.port))
        # Loopback only: the local settings are demo secrets and shared tokens, not for the network.
        processes.append((spec, subprocess.Popen(
            [command, spec.subcommand, "--host", "127.0.0.1", "--port", str(spec.port)], env=env_for)))
    for spec, process in processes:
        try:
            wait_for_port("127.0.0.1", spec.port, timeout=60)
            what = {"identity": "(local sign-in: README, \"Sign in\")", "console": "(open this in a browser)"}
            print(f"{spec.name:<{NAME_WIDTH}}http://127.0.0.1:{spec.port}  {what.get(spec.name, '(/metrics /healthz /readyz)')}")
        except TimeoutError:
            print(f"{spec.name:<{NAME_WIDTH}}did not start (exit code {process.poll()})")
    print("Ctrl-C stops everything.")

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for spec, process in processes:
                if process.poll() is not None:
                    print(f"{spec.name} exited with {process.returncode}; stopping the stack")
                    stopping = True
            time.sleep(0.5)
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if mailbox:
            mailbox.stop()
        if broker:
            broker.stop()
        database.stop()
        print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
