"""`socialops-ingest poll`: the insights poller as a process, with /metrics, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from socialops_common.contract import asyncapi_routes
from socialops_common.kafka import ensure_topics
from socialops_common.observability import Health, kafka_reachable, metrics_route
from starlette.applications import Starlette

from ..publisher import EventPublisher
from ..settings import IngestSettings
from .config import load_config
from .poller import InsightsPoller

log = structlog.get_logger("ingest.insights")


def create_poller_app(settings: IngestSettings, poller: InsightsPoller | None = None) -> Starlette:
    publisher = EventPublisher(settings, timeout_s=max(settings.publish_timeout_s, 10.0), service="insights")
    poller = poller or InsightsPoller(settings, publisher, load_config(settings.insights_metrics_file))
    health = Health()
    health.add("kafka", kafka_reachable(settings.kafka_bootstrap))
    stop = asyncio.Event()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap)
        restored = await poller.restore()
        log.info("insights poller starting", accounts_with_status=restored,
                 tokens=len(settings.insights_tokens), interval_s=settings.insights_poll_interval_s)
        task = asyncio.create_task(poller.run_forever(stop), name="insights-poll")
        health.started = True
        try:
            yield
        finally:
            health.started = False
            stop.set()
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(task, 30)
            task.cancel()
            await poller.http.close()
            await poller.publisher.stop()

    app = Starlette(routes=[metrics_route(), *health.routes(), *asyncapi_routes()], lifespan=lifespan)
    app.state.poller = poller
    return app
