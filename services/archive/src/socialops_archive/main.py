"""socialops-archive: the entrypoint a newcomer opens first.

The archive keeps every post, comment, reply, edit, DM, moderation decision and SLA outcome as a
public record ("allmän handling"), append-only and tamper-evident (SHA-256 per version, a hash
chain per item). A comment the city hides or deletes is snapshotted in its thread, registered
with a diarium number and e-mailed to the registrar. Archivists search and read it through the
query API; registrars also see personal data and DMs and export E-ARK packages for the e-archive.

    socialops-archive serve --port 8083      API + Kafka consumer + registration desk + exports
    socialops-archive verify                 recompute every hash and chain link
    socialops-archive export --account A --from 2026-01-01 --to 2026-02-01 [--out DIR]
    socialops-archive capture [--now ISO]    one pass of the yearly / closure account captures
    socialops-archive migrate                apply the SQL migrations and exit
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import structlog
from fastapi import FastAPI
from socialops_common.apidocs import install_api_docs
from socialops_common.contract import asyncapi_routes
from socialops_common.kafka import make_producer
from socialops_common.lag import LagMonitor
from socialops_common.observability import (
    Health,
    configure_logging,
    database_reachable,
    kafka_reachable,
    metrics_route,
    serve_http,
)
from socialops_common.oidc import install_identity

from . import api
from .capture import AccountCapturer
from .consumer import ARCHIVED_TOPICS, ArchiveConsumer
from .export.worker import ExportWorker
from .migrations import migrate
from .registration import RegistrationDesk
from .settings import ArchiveSettings
from .store import ArchiveStore
from .verify import verify_archive

SERVICE = "archive"
log = structlog.get_logger(SERVICE)


async def open_pool(settings: ArchiveSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=10)
    async with pool.acquire() as connection:
        applied = await migrate(connection)
    if applied:
        log.info("migrations applied", names=applied)
    return pool


def build_app(settings: ArchiveSettings, *, consume: bool = True, background: bool = True) -> FastAPI:
    """The whole service in one ASGI app: its lifespan starts the consumer and the workers.

    `consume=False` serves the API alone; `background=False` also leaves out the registration desk
    and the export builder (benchmarks of the read side)."""
    health = Health()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(settings)
        app.state.pool = pool
        desk = RegistrationDesk(pool, settings)
        exports = ExportWorker(pool, settings)
        app.state.desk, app.state.exports = desk, exports
        health.add("database", database_reachable(pool))
        tasks = []
        if background:
            capturer = AccountCapturer(pool, exports, settings.registration_series)
            tasks += [asyncio.create_task(desk.run(), name="registration-desk"),
                      asyncio.create_task(exports.run(), name="exports"),
                      asyncio.create_task(capturer.run(settings.capture_interval_s), name="captures")]
        producer = consumer = lag = None
        if consume:
            health.add("kafka", kafka_reachable(settings.kafka_bootstrap))
            producer = make_producer(settings, SERVICE)
            await producer.start()
            store = ArchiveStore(pool, settings.registration_series, settings.registrar_address)
            consumer = ArchiveConsumer(
                store, settings.kafka_bootstrap, settings.archive_group_id, producer,
                batch_size=settings.archive_batch_size, batch_timeout_ms=settings.archive_batch_timeout_ms,
                writers=settings.archive_writers,
            )
            consumer.on_registered.append(desk.wake)
            await consumer.start()
            app.state.consumer = consumer
            tasks.append(asyncio.create_task(consumer.run(), name="consumer"))
            # consumer lag per partition: socialops_consumer_lag_messages (alert ConsumerLagHigh)
            lag = LagMonitor(settings.kafka_bootstrap, settings.archive_group_id, list(ARCHIVED_TOPICS))
            lag.start()
        health.started = True
        try:
            yield
        finally:
            health.started = False
            if lag is not None:
                await lag.stop()
            if consumer is not None:
                await consumer.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            desk.close()
            if producer is not None:
                await producer.stop()
            await pool.close()

    app = FastAPI(
        title="socialops archive",
        version="1.0",
        description=__doc__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_api_docs(app)
    for route in [*health.routes(), metrics_route(), *asyncapi_routes()]:
        app.router.routes.append(route)
    install_identity(app, settings)
    api.install(app)
    return app


async def _verify(settings: ArchiveSettings) -> int:
    connection = await asyncpg.connect(settings.database_url)
    try:
        report = await verify_archive(connection)
    finally:
        await connection.close()
    print(f"checked {report.items} items, {report.events} events, {report.side_records} other records")
    for line in report.broken:
        print(f"BROKEN: {line}")
    print("archive intact" if report.ok else f"{len(report.broken)} broken link(s)")
    return 0 if report.ok else 1


async def _export(settings: ArchiveSettings, account: str, start: datetime, end: datetime, out: str | None) -> int:
    pool = await open_pool(settings)
    try:
        worker = ExportWorker(pool, settings)
        export_id = await worker.request(account, start, end, requested_by="cli")
        row = await worker.build(export_id, out_dir=out)
    finally:
        await pool.close()
    if row["status"] != "ready":
        print(f"export {export_id} failed: {row['error']}", file=sys.stderr)
        return 1
    print(f"export {export_id}: {row['items']} items -> {row['path']} (sha256 {row['sha256']})")
    return 0


async def _capture(settings: ArchiveSettings, now: datetime | None) -> int:
    pool = await open_pool(settings)
    try:
        capturer = AccountCapturer(pool, ExportWorker(pool, settings), settings.registration_series)
        plans = await capturer.run_once(now)
    finally:
        await pool.close()
    for plan in plans:
        print(f"captured {plan.platform}:{plan.account_id} {plan.reason} {plan.year} at level {plan.level}")
    print(f"{len(plans)} capture(s)")
    return 0


def _date(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-archive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API, the consumer and the workers")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (containers pass 0.0.0.0)")
    serve.add_argument("--port", type=int, default=8083)
    commands.add_parser("verify", help="check every hash and chain link; exit 1 when one is broken")
    commands.add_parser("migrate", help="apply the SQL migrations")
    capture = commands.add_parser("capture", help="run one pass of the scheduled account captures")
    capture.add_argument("--now", type=_date, default=None, help="pretend it is this time (ISO 8601)")
    export = commands.add_parser("export", help="build an E-ARK SIP package for one account and period")
    export.add_argument("--account", required=True)
    export.add_argument("--from", dest="start", required=True, type=_date)
    export.add_argument("--to", dest="end", required=True, type=_date)
    export.add_argument("--out", default=None, help="folder for the zip (default SOCIALOPS_EXPORT_DIR)")
    args = parser.parse_args(argv)

    settings = ArchiveSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    if args.command == "serve":
        return serve_http(build_app(settings), host=args.host, port=args.port, log_config=None)
    if args.command == "verify":
        return asyncio.run(_verify(settings))
    if args.command == "migrate":
        async def run() -> None:
            await (await open_pool(settings)).close()

        asyncio.run(run())
        return 0
    if args.command == "capture":
        return asyncio.run(_capture(settings, args.now))
    if args.command == "export":
        return asyncio.run(_export(settings, args.account, args.start, args.end, args.out))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
