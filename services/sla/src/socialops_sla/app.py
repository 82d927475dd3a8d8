"""SLA service entrypoint: open this first.

The city promises "Vi svarar inom 24 timmar under arbetstid, vardagar 8-17"
(seeds/001_206af399bca50804.txt, "Svara så fort som möjligt"). This process:
- consumes `social.events.v1`, `social.moderation.v1`, `social.accounts.v1`, the insights
  poller's status (`social.insights.v1`) and the actions' outcomes (`social.actions.v1`: a reply sent
  from the console answers its item at once), and tracks every
  item that needs an answer (`tracker.py`) against the account's working calendar (`calendar.py`);
- moves items to at risk and breached when their instants come, with no new events needed
  (`SlaService.schedule`), and publishes every state change on `social.sla.v1` through an outbox;
- follows the accounts up (`followup.py`): monthly KPIs from the insights poller's metric snapshots
  (`social.events.v1`) and our own events, accounts that go quiet (notices to the department,
  escalation to the communication department), the monthly report (`report.py`, `report_pdf.py`)
  e-mailed on the second working day of each month (`mailing.py`);
- serves `/metrics` (Prometheus), `/healthz`, `/readyz`, `GET /reports/monthly?month=YYYY-MM`
  `[&account=platform:id|&department=name]` (JSON) and `GET /reports/monthly.pdf` (the same scopes),
  `GET /accounts/publishing[?status=flagged|escalated]`, `GET /items/{event_id}` and
  `POST /items/{event_id}/no-answer-needed` (an access token of the city's identity provider with
  the `read_inbox` / `answer` right; socialops_common.identity).

Run: `socialops-sla serve --port 8082`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from prometheus_client import REGISTRY, CollectorRegistry
from socialops_common.contract import asyncapi_routes
from socialops_common.events import Actor
from socialops_common.identity import Permission
from socialops_common.kafka import ensure_topics, make_broker, make_producer
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
from socialops_common.subscriptions import stop_broker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .access import person_with
from .config import Clock, SlaSettings, SystemClock
from .inbox import Inbox
from .inbox_api import inbox_routes
from .metrics import SlaMetrics
from .report import UnknownScope
from .service import SUBSCRIBED, NotFound, SlaService

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
log = structlog.get_logger("sla")


class SlaRuntime:
    """Everything the process runs, started and stopped as one (the app's lifespan, or a test)."""

    def __init__(self, settings: SlaSettings, clock: Clock | None = None,
                 registry: CollectorRegistry = REGISTRY) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.metrics = SlaMetrics(registry)
        self.registry = registry
        self.health = Health()
        self.service: SlaService | None = None
        self._tasks: list[asyncio.Task] = []
        self.broker: KafkaBroker | None = None
        self.subscriber: BatchSubscriber | None = None
        self.batch_grace_s = 15.0
        self._lag: LagMonitor | None = None

    async def start(self) -> SlaService:
        settings = self.settings
        await ensure_topics(settings.kafka_bootstrap)
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=6)
        producer = make_producer(settings, "sla")
        await producer.start()
        self.service = service = SlaService(settings, pool, producer, self.clock, self.metrics)
        await service.prepare()
        # The consumer group on FastStream: the batch in hand is finished and committed on stop (up to
        # `batch_grace_s`); one held by an outage (circuit open) is abandoned uncommitted and comes
        # again after the restart. FastStream's metrics go to the runtime's registry.
        self.broker = make_broker(settings, "sla", logger=logging.getLogger("sla.faststream"), log_level=logging.DEBUG,
                                  graceful_timeout=self.batch_grace_s, registry=self.registry)
        self.subscriber = service.subscribe(self.broker)
        await self.broker.start()
        self.health.add("kafka", kafka_reachable(settings.kafka_bootstrap))
        self.health.add("database", database_reachable(pool))
        self._tasks = [
            asyncio.create_task(service.watch_catch_up(self.subscriber), name="sla-catch-up"),
            asyncio.create_task(service.schedule(), name="sla-schedule"),
            asyncio.create_task(service.relay(), name="sla-outbox"),
            asyncio.create_task(service.refresh_forever(), name="sla-gauges"),
            asyncio.create_task(service.mail.run(service.plan_monthly_reports), name="sla-mail"),
        ]
        if self.registry is REGISTRY:  # the lag gauge lives in the process-wide registry
            self._lag = LagMonitor(settings.kafka_bootstrap, settings.sla_consumer_group, list(SUBSCRIBED))
            self._lag.start()
        self.health.started = True
        return service

    async def stop(self) -> None:
        self.health.started = False
        if self.broker:
            # the batch in hand is finished and committed; one held by an outage (circuit open) is
            # abandoned after the grace period, uncommitted, and comes again after the restart
            await stop_broker(self.broker, self.batch_grace_s)
            self.broker = None
        relay = next((t for t in self._tasks if t.get_name() == "sla-outbox"), None)
        if self.service:
            self.service.mail.stop()
        for task in self._tasks:
            if task is not relay:
                task.cancel()
        if relay and self.service:
            self.service.stop_relay()
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(relay), 10)
            relay.cancel()
        # bounded: a task that lost its cancellation must not hold the process (or a test) forever
        done, still_running = await asyncio.wait(self._tasks, timeout=15) if self._tasks else (set(), set())
        for task in done:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
        if still_running:
            log.error("tasks did not stop", tasks=sorted(t.get_name() for t in still_running))
        self._tasks = []
        if self._lag:
            await self._lag.stop()
        if self.service:
            with contextlib.suppress(Exception):
                await self.service.publish_outbox()  # hand over what is pending before leaving
            await self.service.producer.stop()
            await self.service.pool.close()


def create_app(runtime: SlaRuntime, manage_lifespan: bool = True) -> Starlette:
    settings = runtime.settings

    def service() -> SlaService:
        if runtime.service is None:
            raise RuntimeError("service not started")
        return runtime.service

    def report_query(request: Request) -> tuple[str, dict[str, str | None]] | JSONResponse:
        month = request.query_params.get("month", "")
        if not MONTH.match(month):
            return JSONResponse({"error": "month must be YYYY-MM"}, status_code=400)
        account, department = request.query_params.get("account"), request.query_params.get("department")
        if account and department:
            return JSONResponse({"error": "ask for an account or a department, not both"}, status_code=400)
        return month, {"account": account, "department": department}

    async def monthly(request: Request) -> Response:
        person = await person_with(request, Permission.READ_FOLLOWUP)
        if isinstance(person, JSONResponse):
            return person
        query = report_query(request)
        if isinstance(query, JSONResponse):
            return query
        try:
            return JSONResponse(await service().monthly_report(query[0], **query[1]))
        except UnknownScope as error:
            return JSONResponse({"error": str(error)}, status_code=404)

    async def monthly_pdf(request: Request) -> Response:
        person = await person_with(request, Permission.READ_FOLLOWUP)
        if isinstance(person, JSONResponse):
            return person
        query = report_query(request)
        if isinstance(query, JSONResponse):
            return query
        month, scope = query
        try:
            pdf = await service().monthly_report_pdf(month, **scope)
        except UnknownScope as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        name = f"manadsrapport-{month}.pdf"
        return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})

    async def publishing(request: Request) -> JSONResponse:
        person = await person_with(request, Permission.READ_FOLLOWUP)
        if isinstance(person, JSONResponse):
            return person
        status = request.query_params.get("status")
        if status not in (None, "active", "flagged", "escalated"):
            return JSONResponse({"error": "status is active, flagged or escalated"}, status_code=400)
        return JSONResponse({"accounts": await service().publishing(status)})

    async def item(request: Request) -> JSONResponse:
        person = await person_with(request, Permission.READ_INBOX)
        if isinstance(person, JSONResponse):
            return person
        event_id = request.path_params["event_id"]
        row = await service().pool.fetchrow("SELECT * FROM sla_items WHERE event_id = $1", event_id)
        if row is None:
            return JSONResponse({"error": "unknown item"}, status_code=404)
        return JSONResponse({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(row).items()})

    async def no_answer_needed(request: Request) -> JSONResponse:
        person = await person_with(request, Permission.ANSWER)
        if isinstance(person, JSONResponse):
            return person
        by = Actor(**person.as_record())
        body = await request.json() if await request.body() else {}
        reason = str(body.get("reason") or "").strip()[:500]
        try:
            tracked, changes = await service().no_answer_needed(request.path_params["event_id"], by)
        except NotFound:
            return JSONResponse({"error": "no tracked item with that event_id"}, status_code=404)
        if reason and changes:  # the why stays with the item, for the others who answer
            await Inbox(service().pool).add_note(tracked.event_id, person, f"Inget svar behövs: {reason}")
        return JSONResponse({"event_id": tracked.event_id, "state": tracked.state.value if tracked.state else None,
                             "changed": bool(changes), "by": by.model_dump()})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_lifespan:
            await runtime.start()
        try:
            yield
        finally:
            if manage_lifespan:
                await runtime.stop()

    routes: list[Any] = [
        metrics_route(runtime.registry),
        *asyncapi_routes(),
        *runtime.health.routes(),
        Route("/reports/monthly", monthly, methods=["GET"]),
        Route("/reports/monthly.pdf", monthly_pdf, methods=["GET"]),
        Route("/accounts/publishing", publishing, methods=["GET"]),
        Route("/items/{event_id}", item, methods=["GET"]),
        Route("/items/{event_id}/no-answer-needed", no_answer_needed, methods=["POST"]),
        *inbox_routes(service),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    install_identity(app, settings)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-sla", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API, the consumers and the scheduler")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (containers pass 0.0.0.0)")
    serve.add_argument("--port", type=int, default=8082)
    args = parser.parse_args(argv)
    settings = SlaSettings()
    configure_logging("sla", settings.log_level, settings.log_format)
    app = create_app(SlaRuntime(settings))
    return serve_http(app, host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
