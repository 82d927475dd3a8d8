"""The Meta Graph API calls that carry out moderation actions (the only vendor-specific code).

Facebook Pages:  hide   POST   /{comment-id}        is_hidden=true   (unhide: is_hidden=false)
                 delete DELETE /{comment-id}
                 block  POST   /{page-id}/blocked   user={user-id}
Instagram:       hide   POST   /{ig-comment-id}     hide=true        (unhide: hide=false)
                 delete DELETE /{ig-comment-id}
                 (the Instagram Graph API has no endpoint to block a user: reported as failed)
The page access token goes in `access_token`. Without a token for the account nothing is sent
(dry run). Retries: network errors, 429 and 5xx, with exponential backoff; other 4xx are final.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from socialops_common.events import ActionOperation, ActionStatus, Platform, PlatformActionCommand


@dataclass(frozen=True)
class CallResult:
    status: ActionStatus
    attempts: int
    http_status: int | None
    detail: str


@dataclass(frozen=True)
class GraphRequest:
    method: str
    path: str
    data: dict[str, str]


def graph_request(command: PlatformActionCommand) -> GraphRequest | str:
    """The request for a command, or why there is none."""
    item, op = command.item_id, command.operation
    if command.platform == Platform.FACEBOOK:
        if op == ActionOperation.HIDE:
            return GraphRequest("POST", f"/{item}", {"is_hidden": "true"})
        if op == ActionOperation.UNHIDE:
            return GraphRequest("POST", f"/{item}", {"is_hidden": "false"})
        if op == ActionOperation.DELETE:
            return GraphRequest("DELETE", f"/{item}", {})
        if op == ActionOperation.BLOCK_AUTHOR:
            if not command.author_id:
                return "no author id to block"
            return GraphRequest("POST", f"/{command.account_id}/blocked", {"user": command.author_id})
    if command.platform == Platform.INSTAGRAM:
        if op == ActionOperation.HIDE:
            return GraphRequest("POST", f"/{item}", {"hide": "true"})
        if op == ActionOperation.UNHIDE:
            return GraphRequest("POST", f"/{item}", {"hide": "false"})
        if op == ActionOperation.DELETE:
            return GraphRequest("DELETE", f"/{item}", {})
        return "the Instagram Graph API cannot block a user; block in the app"
    return f"no executor for {command.platform.value}: act in the platform's own tool"


class GraphApi:
    def __init__(
        self,
        base_url: str,
        tokens: dict[str, str],
        *,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        timeout_s: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self._client.aclose()

    async def execute(self, command: PlatformActionCommand) -> CallResult:
        request = graph_request(command)
        if isinstance(request, str):
            return CallResult(ActionStatus.FAILED, 0, None, request)
        token = self.tokens.get(command.account_id)
        if not token:
            return CallResult(
                ActionStatus.DRY_RUN, 0, None, f"dry run: would {request.method} {request.path} {request.data or ''}".strip()
            )
        url = self.base_url + request.path
        last = "not attempted"
        status_code: int | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = await self._client.request(
                    request.method, url, data={**request.data, "access_token": token} if request.method == "POST" else None,
                    params={"access_token": token} if request.method == "DELETE" else None,
                )
                status_code = response.status_code
                if response.status_code < 300:
                    return CallResult(ActionStatus.DONE, attempt, status_code, response.text[:300])
                last = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code < 500 and response.status_code != 429:
                    return CallResult(ActionStatus.FAILED, attempt, status_code, last)
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
                status_code = None
            if attempt < self.max_attempts:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        return CallResult(ActionStatus.FAILED, self.max_attempts, status_code, last)
