"""Test helpers: canonical events, and a fake Graph API that is a real HTTP server on a free port."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import uvicorn
from socialops_common.devstack import free_port
from socialops_common.events import Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.testing import wait_until
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


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
