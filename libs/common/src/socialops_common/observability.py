"""Structured logging, `/metrics`, `/healthz` and `/readyz` for every service."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ReadinessCheck = Callable[[], Awaitable[None]]


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> structlog.stdlib.BoundLogger:
    """JSON lines on stderr (one event per line), with the service name on every line."""
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries (uvicorn, aiokafka, faststream) log through stdlib: render them the same way.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.bind_contextvars(service=service)
    return structlog.get_logger(service)


def metrics_route(registry: CollectorRegistry = REGISTRY) -> Route:
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])


class Health:
    """Liveness is the process answering; readiness is every dependency answering in time."""

    def __init__(self, timeout_s: float = 2.0) -> None:
        self._checks: dict[str, ReadinessCheck] = {}
        self._timeout_s = timeout_s
        self.started = False

    def add(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    async def readiness(self) -> tuple[bool, dict[str, str]]:
        if not self.started:
            return False, {"service": "starting"}
        results: dict[str, str] = {}

        async def run(name: str, check: ReadinessCheck) -> None:
            try:
                await asyncio.wait_for(check(), self._timeout_s)
                results[name] = "ok"
            except Exception as error:  # any failure means not ready, with the reason shown
                results[name] = f"failed: {type(error).__name__}: {error}"[:300]

        await asyncio.gather(*(run(n, c) for n, c in self._checks.items()))
        return all(v == "ok" for v in results.values()), results

    def routes(self) -> list[Route]:
        async def healthz(_: Request) -> Response:
            return JSONResponse({"status": "ok"})

        async def readyz(_: Request) -> Response:
            ready, results = await self.readiness()
            return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

        return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]


def kafka_reachable(bootstrap: str) -> ReadinessCheck:
    """A broker is reachable when one bootstrap address accepts a TCP connection."""

    async def check() -> None:
        errors = []
        for address in bootstrap.split(","):
            host, _, port = address.strip().rpartition(":")
            try:
                _, writer = await asyncio.open_connection(host or "127.0.0.1", int(port))
                writer.close()
                return
            except OSError as error:
                errors.append(f"{address}: {error}")
        raise ConnectionError("; ".join(errors))

    return check


def database_reachable(pool: Any) -> ReadinessCheck:
    """`pool` is an asyncpg pool (or anything with `fetchval`)."""

    async def check() -> None:
        await pool.fetchval("SELECT 1")

    return check


class Stopwatch:
    """`with Stopwatch() as sw: ...; histogram.observe(sw.seconds)`."""

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self._start


# Every message makes a few dozen short-lived objects (models, dicts, rows) that reference counting
# frees at once; the collector's passes over them are wasted. A full collection walks everything
# loaded at start-up (about 100,000 objects, 80 ms for the archive), and the default thresholds
# ran one every few batches. bench/archive.py: a quarter of the archive's parsing time was collection.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Once the app is built: keep what start-up loaded out of every collection (`gc.freeze`), and
    collect the young generation every 50,000 allocations instead of 700."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve_http(app: Any, *, host: str, port: int, **options: Any) -> int:
    """Run `app` under uvicorn until SIGTERM/SIGINT; 0 once the graceful shutdown is done.

    On SIGTERM (`docker compose stop`) uvicorn stops accepting requests, finishes those in flight
    and runs the lifespan's shutdown (consumers finish their batch, commit, close). Afterwards it
    raises the captured signal again, so the process would die "by SIGTERM" (exit 143) although it
    stopped cleanly; the handlers below only note that signal, and the process exits 0.
    """
    import uvicorn

    tune_garbage_collector()
    received: list[int] = []
    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda sig, _frame: received.append(sig)) for sig in stops}
    try:
        uvicorn.run(app, host=host, port=port, **options)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        structlog.get_logger("observability").info("stopped by signal", signal=signal.Signals(received[0]).name)
    return 0
