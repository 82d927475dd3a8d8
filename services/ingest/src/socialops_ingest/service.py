"""ingest — start here.

Webhook receivers with the platforms' real handshakes and signatures (Meta: Facebook Page feed,
Messenger, Instagram; X Account Activity; LinkedIn organization social actions). Every authentic
body is normalised to canonical events and published with acks=all *before* the platform gets its
200; if Kafka is unavailable the answer is 503 so the platform retries and nothing is lost.
Authentic bodies that cannot be understood go to `social.deadletter.v1` with the raw body and the
reason. The account inventory is published to `social.accounts.v1` at start-up.

    GET/POST /webhooks/meta      hub.challenge handshake, X-Hub-Signature-256
    GET/POST /webhooks/x         crc_token -> response_token, x-twitter-webhooks-signature
    GET/POST /webhooks/linkedin  challengeCode -> challengeResponse, X-LI-Signature
    GET /healthz /readyz /metrics
    GET /asyncapi /docs/asyncapi  the platform's event contract (socialops_common.contract)

Wiring lives in `create_app`; the platform rules in `platforms/`; the pipeline in `intake.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import structlog
from socialops_common.contract import asyncapi_routes
from socialops_common.observability import Health, kafka_reachable, metrics_route
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import metrics
from .accounts import AccountDirectory, inventory_path, load_inventory, publish_inventory
from .intake import WebhookIntake
from .platforms import HandshakeRefused, linkedin, meta, x
from .publisher import BrokerUnavailable, EventPublisher, dead_letter_room
from .settings import IngestSettings

log = structlog.get_logger("ingest")


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refusing early (by Content-Length, or while streaming) beyond `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def load_directory(settings: IngestSettings) -> AccountDirectory:
    path = inventory_path(settings.accounts_file)
    if not path.exists():
        log.warning("account inventory not found: every event is flagged account_known=false", path=str(path))
        return AccountDirectory()
    return AccountDirectory(load_inventory(path))


def create_app(settings: IngestSettings | None = None, directory: AccountDirectory | None = None) -> Starlette:
    settings = settings or IngestSettings()
    directory = directory if directory is not None else load_directory(settings)
    publisher = EventPublisher(settings, timeout_s=settings.publish_timeout_s,
                               max_request_bytes=dead_letter_room(settings.max_body_bytes))
    intake = WebhookIntake(settings, publisher, directory)
    health = Health()
    health.add("kafka", kafka_reachable(settings.kafka_bootstrap))

    async def publish_accounts_until_done() -> None:
        delay = 0.5
        while True:
            try:
                await publish_inventory(publisher, directory.records)
                log.info("account inventory published", accounts=len(directory.records))
                return
            except BrokerUnavailable as error:
                log.warning("account inventory not published yet; retrying", reason=str(error), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await publisher.connect()  # a broker that is down now is retried by every webhook
        task = asyncio.create_task(publish_accounts_until_done()) if directory.records else None
        health.started = True
        try:
            yield
        finally:
            health.started = False
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await publisher.stop()

    async def webhook_post(request: Request, platform: str) -> Response:
        try:
            body = await read_limited(request, settings.max_body_bytes)
        except BodyTooLarge:
            metrics.WEBHOOKS.labels(platform, "413").inc()
            return JSONResponse({"error": f"body larger than {settings.max_body_bytes} bytes"}, status_code=413)
        except ClientDisconnect:
            return Response(status_code=400)
        outcome = await intake.receive(platform, body, request.headers)
        return JSONResponse(outcome.body, status_code=outcome.status)

    async def meta_webhook(request: Request) -> Response:
        if request.method == "GET":
            try:
                challenge = meta.answer_handshake(request.query_params, settings.meta_verify_token)
            except HandshakeRefused as error:
                metrics.HANDSHAKES.labels("meta", "refused").inc()
                return PlainTextResponse(str(error), status_code=403)
            metrics.HANDSHAKES.labels("meta", "ok").inc()
            return PlainTextResponse(challenge)
        return await webhook_post(request, "meta")

    def json_handshake_route(platform: str, answer: Callable[[Mapping[str, str], str], dict[str, str]],
                             secret: str) -> Callable[[Request], Awaitable[Response]]:
        """X's CRC and LinkedIn's challengeCode: a JSON answer computed from a query parameter."""

        async def endpoint(request: Request) -> Response:
            if request.method == "GET":
                try:
                    answered = answer(request.query_params, secret)
                except HandshakeRefused as error:
                    metrics.HANDSHAKES.labels(platform, "refused").inc()
                    return JSONResponse({"error": str(error)}, status_code=400)
                metrics.HANDSHAKES.labels(platform, "ok").inc()
                return JSONResponse(answered)
            return await webhook_post(request, platform)

        return endpoint

    x_webhook = json_handshake_route("x", x.answer_crc, settings.x_consumer_secret)
    linkedin_webhook = json_handshake_route("linkedin", linkedin.answer_challenge, settings.linkedin_client_secret)

    routes = [
        Route("/webhooks/meta", meta_webhook, methods=["GET", "POST"]),
        Route("/webhooks/x", x_webhook, methods=["GET", "POST"]),
        Route("/webhooks/linkedin", linkedin_webhook, methods=["GET", "POST"]),
        *health.routes(),
        metrics_route(),
        *asyncapi_routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.intake = intake
    app.state.publisher = publisher
    return app
