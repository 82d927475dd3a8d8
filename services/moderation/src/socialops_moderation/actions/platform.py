"""What every platform client shares: the request a command becomes, what an answer means, and the one
retry/backoff loop all three platforms (Meta's Graph API, X API v2, LinkedIn's Community Management API)
go through.

A platform module (`graph.py`, `x.py`, `linkedin.py`) is a `Dialect`: it turns a command into a
`PlatformRequest` (or says why there is none: `Unsupported` when the platform has no way to do it,
`Invalid` when the command lacks what the call needs), puts the account's token where the platform
wants it, and reads the platform's error bodies. `PlatformClient` does the rest, the same way for all:
dry run without a token; retries with exponential backoff on network errors, 5xx, 429 and the
platform's own rate-limit errors; the wait a platform asks for respected (and not waited out when it is
longer than `max_wait_s`: the outcome then says when to try again); other errors final at once.

Not sending twice: a request that creates something (a reply, a message) is `idempotent=False`. It is
sent again only when the platform surely did not act on it: the connection was never made, or the
platform refused it (429, a rate-limit error, 5xx — the platforms document these as "not processed,
retry"). When the request went out and no answer came back (a read timeout, a dropped connection) it is
not sent again: the outcome is `failed` with the error code `<platform>:no-answer` and says to look on
the platform before answering again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from socialops_common.events import ActionStatus, Platform, PlatformActionCommand
from socialops_common.resilience import Backoff


@dataclass(frozen=True)
class PlatformRequest:
    method: str
    path: str
    form: Mapping[str, str] = field(default_factory=dict)  # application/x-www-form-urlencoded body
    json: Mapping[str, Any] | None = None  # JSON body
    params: Mapping[str, str] = field(default_factory=dict)  # query string
    idempotent: bool = True  # the same request twice has the effect of one (hide, delete, like)

    def describe(self) -> str:
        body = self.json if self.json is not None else dict(self.form)
        query = "?" + "&".join(f"{k}={v}" for k, v in self.params.items()) if self.params else ""
        return f"{self.method} {self.path}{query} {json.dumps(body, ensure_ascii=False) if body else ''}".strip()


@dataclass(frozen=True)
class Unsupported:
    """The platform has no way to do this: an `unsupported` outcome, never retried."""

    reason: str


@dataclass(frozen=True)
class Invalid:
    """The command lacks what the call needs (no author to block, no recipient for a DM): `failed`."""

    reason: str


@dataclass(frozen=True)
class Answer:
    """What a platform's HTTP answer means."""

    done: bool
    retry: bool = False
    error_code: str | None = None
    detail: str = ""
    created_id: str | None = None
    wait_s: float | None = None  # how long the platform asks us to wait before trying again


@dataclass(frozen=True)
class CallResult:
    status: ActionStatus
    attempts: int
    http_status: int | None
    detail: str
    error_code: str | None = None
    created_id: str | None = None


class Dialect:
    """One platform's shapes. Subclasses set `platforms` and `prefix` and implement `request_for`."""

    platforms: frozenset[Platform] = frozenset()
    prefix = ""  # error codes are "<prefix>:<the platform's code>", e.g. "graph:190", "x:403"

    def request_for(self, command: PlatformActionCommand) -> PlatformRequest | Unsupported | Invalid:
        raise NotImplementedError

    def http_request(self, request: PlatformRequest, token: str) -> dict[str, Any]:
        """httpx.request keyword arguments with the token where the platform wants it (default: bearer)."""
        return {
            "headers": {"Authorization": f"Bearer {token}"},
            "params": dict(request.params) or None,
            "json": request.json,
            "data": dict(request.form) or None,
        }

    def created_id(self, body: Any, headers: httpx.Headers) -> str | None:
        return None

    def error(self, status: int, body: Any, headers: httpx.Headers) -> Answer:
        """A refusal (status ≥ 300): the shared rules, which a platform may refine."""
        retry = status == 429 or status >= 500
        return Answer(done=False, retry=retry, error_code=f"{self.prefix}:{status}",
                      detail=f"HTTP {status}: {_short(body)}", wait_s=retry_after_s(headers) if retry else None)

    def read(self, status: int, content: bytes, headers: httpx.Headers) -> Answer:
        body = _json_or_text(content)
        if status < 300:
            return Answer(done=True, detail=_short(body) if content else f"HTTP {status}",
                          created_id=self.created_id(body, headers))
        return self.error(status, body, headers)


def retry_after_s(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """`Retry-After` (RFC 9110: seconds, or an HTTP date), or X's `x-rate-limit-reset` (epoch seconds)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def _json_or_text(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def _short(body: Any, limit: int = 300) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return text[:limit]


# Transport errors before anything reached the platform: safe to send again, whatever the request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class PlatformClient:
    """Carries out one platform's commands: dry run, retries with backoff, the outcome's details."""

    def __init__(
        self,
        dialect: Dialect,
        base_url: str,
        tokens: Mapping[str, str],
        *,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_wait_s: float = 60.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.dialect = dialect
        self.base_url = base_url.rstrip("/")
        self.tokens = dict(tokens)
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self._client.aclose()

    async def execute(self, command: PlatformActionCommand) -> CallResult:
        request = self.dialect.request_for(command)
        if isinstance(request, Unsupported):
            return CallResult(ActionStatus.UNSUPPORTED, 0, None, request.reason)
        if isinstance(request, Invalid):
            return CallResult(ActionStatus.FAILED, 0, None, request.reason, error_code="invalid")
        token = self.tokens.get(command.account_id)
        if not token:
            return CallResult(ActionStatus.DRY_RUN, 0, None, f"dry run: would {request.describe()}")
        return await self.send(request, token)

    async def send(self, request: PlatformRequest, token: str) -> CallResult:
        backoff = Backoff(self.backoff_s, maximum_s=max(self.backoff_s, self.max_wait_s))
        arguments = self.dialect.http_request(request, token)
        prefix = self.dialect.prefix
        for attempt in range(1, self.max_attempts + 1):
            status: int | None = None
            try:
                response = await self._client.request(request.method, self.base_url + request.path, **arguments)
            except _NOT_SENT as error:
                answer = Answer(done=False, retry=True, error_code=f"{prefix}:network",
                                detail=f"{type(error).__name__}: {error}")
            except httpx.HTTPError as error:
                answer = Answer(
                    done=False, retry=request.idempotent, error_code=f"{prefix}:no-answer",
                    detail=f"{type(error).__name__}: {error}" + (
                        "" if request.idempotent else
                        " — the request went out and no answer came: it may have been carried out; look on the "
                        "platform before sending it again"),
                )
            else:
                status = response.status_code
                answer = self.dialect.read(status, response.content, response.headers)
            if answer.done:
                return CallResult(ActionStatus.DONE, attempt, status, answer.detail, created_id=answer.created_id)
            if not answer.retry or attempt == self.max_attempts:
                return CallResult(ActionStatus.FAILED, attempt, status, answer.detail, error_code=answer.error_code)
            delay = max(backoff.next(), answer.wait_s or 0.0)
            if delay > self.max_wait_s:
                return CallResult(
                    ActionStatus.FAILED, attempt, status,
                    f"{answer.detail} (the platform asks to wait {_duration(delay)} before trying again)",
                    error_code=answer.error_code,
                )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


class PlatformActions:
    """The clients of every platform, chosen by the command's platform."""

    def __init__(self, clients: list[PlatformClient]) -> None:
        self._by_platform = {platform: client for client in clients for platform in client.dialect.platforms}

    async def execute(self, command: PlatformActionCommand) -> CallResult:
        client = self._by_platform.get(command.platform)
        if client is None:
            return CallResult(ActionStatus.UNSUPPORTED, 0, None,
                              f"no client for {command.platform.value} is configured: act in the platform's own tool")
        return await client.execute(command)

    def may_repeat(self, command: PlatformActionCommand) -> bool:
        """Whether sending the command a second time has the effect of once (hide, like), unlike a reply."""
        client = self._by_platform.get(command.platform)
        request = client.dialect.request_for(command) if client else None
        return not isinstance(request, PlatformRequest) or request.idempotent

    async def close(self) -> None:
        for client in {id(c): c for c in self._by_platform.values()}.values():
            await client.close()
