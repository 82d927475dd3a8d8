"""Test support for moderation (like socialops_common.testing): canonical comments, publishing them,
settings for an in-process service, and a fake Graph API that is a real HTTP server on a free port.

Only the platform is faked, and by a server speaking its documented HTTP API, never by patching.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import uvicorn
from aiokafka import AIOKafkaProducer
from socialops_common.devstack import free_port
from socialops_common.events import Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import to_bytes
from socialops_common.testing import wait_until
from socialops_common.topics import EVENTS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .settings import ModerationSettings


def comment(
    text: str,
    *,
    account: str = "page-1",
    author: str = "user-1",
    item: str | None = None,
    kind: EventKind = EventKind.COMMENT_CREATED,
    platform: Platform = Platform.FACEBOOK,
    at: datetime | None = None,
) -> SocialEvent:
    item = item or f"{account}_{uuid.uuid4().hex[:12]}"
    at = at or datetime.now(UTC)
    return SocialEvent(
        event_id=social_event_id(platform, kind, item),
        kind=kind,
        platform=platform,
        account_id=account,
        item_id=item,
        thread_id=f"{account}_post",
        author=Author(id=author, name="Test Testsson"),
        text=text,
        occurred_at=at,
        received_at=at,
    )


@dataclass
class FakeGraphApi:
    """Speaks the Graph API shapes the executor uses: POST /{id}, DELETE /{id}, POST /{page}/blocked."""

    calls: list[dict] = field(default_factory=list)
    fail_first: int = 0  # answer this many requests with 500 first (to test retries)
    delay_s: float = 0.0  # how long each call takes (to see calls overlap)
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = field(default_factory=free_port)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v21.0"

    def app(self) -> Starlette:
        async def node(request: Request) -> JSONResponse:
            form = dict(parse_qsl((await request.body()).decode())) if request.method == "POST" else {}
            token = form.pop("access_token", None) or request.query_params.get("access_token")
            if not token:
                return JSONResponse({"error": {"message": "An access token is required", "code": 104}}, status_code=400)
            if self.fail_first > 0:
                self.fail_first -= 1
                return JSONResponse({"error": {"message": "Service temporarily unavailable", "code": 2}}, status_code=500)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.delay_s)
            finally:
                self.in_flight -= 1
            self.calls.append(
                {"method": request.method, "path": request.url.path.removeprefix("/v21.0"), "data": form, "token": token}
            )
            return JSONResponse({"success": True})

        return Starlette(routes=[Route("/v21.0/{node_id}", node, methods=["POST", "DELETE"]),
                                 Route("/v21.0/{page_id}/blocked", node, methods=["POST"])])

    async def __aenter__(self) -> FakeGraphApi:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        await wait_until(lambda: self._server.started, timeout=10, interval=0.02)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server and self._task
        self._server.should_exit = True
        await self._task


def settings_for(kafka_bootstrap: str, database_url: str, graph: FakeGraphApi | None, account: str) -> ModerationSettings:
    suffix = uuid.uuid4().hex[:8]
    return ModerationSettings(
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        moderation_consumer_group=f"moderation-test-{suffix}",
        moderation_executor_group=f"moderation-actions-test-{suffix}",
        machine_tokens="Louise kommunikatör:editor:s3cret",
        graph_api_url=graph.url if graph else "http://127.0.0.1:9/none",
        graph_tokens={account: "page-token-123"} if graph else {},
        graph_backoff_s=0.01,
    )


async def publish(bootstrap: str, *events) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(EVENTS, to_bytes(event), key=event.partition_key)
    finally:
        await producer.stop()
