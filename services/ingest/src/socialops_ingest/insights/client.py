"""HTTP for the insights poller: GET with retries, and the platforms' failures told apart.

Every call is a GET (idempotent): a network error, a timeout or a 5xx is retried with exponential
backoff a few times, then the account's poll fails for this cycle and the next cycle reads the same
days again (`covered_until` did not move: nothing is lost). What the platform says about the
caller is not retried: an expired or revoked token (`TokenRejected`), a rate limit (`RateLimited`,
with the instant it lifts), a metric it no longer knows (`InvalidMetric`). Each platform module
passes a `classify` function that reads its own error shapes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx


class PollError(Exception):
    """Polling this account failed for this cycle (the message says why, for the status record)."""


class TokenRejected(PollError):
    """The platform refused the token: expired, revoked, or without the insights permission."""


class RateLimited(PollError):
    def __init__(self, message: str, retry_at: datetime, scope: str) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.scope = scope  # what is limited: the app, a token, or one account


class InvalidMetric(PollError):
    """A metric of the request is not (or no longer) a valid metric: the others must still be read."""


class PlatformUnavailable(PollError):
    """Outage: still failing after the retries."""


class UnreadableAnswer(PollError):
    """The platform answered something that is not the documented shape."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


Classify = Callable[[Answer, datetime], None]
"""Raises the `PollError` an answer means (rate limit, token, metric), or returns for a good one."""


def now_utc() -> datetime:
    return datetime.now(UTC)


class InsightsHttp:
    def __init__(self, *, timeout_s: float = 15.0, attempts: int = 3, backoff_s: float = 0.5,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], datetime] = now_utc, on_request: Callable[[str], None] | None = None) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self._sleep = sleep
        self.clock = clock
        self._on_request = on_request

    async def close(self) -> None:
        await self._client.aclose()

    async def get(self, platform: str, url: str, *, params: Mapping[str, str] | None = None,
                  headers: Mapping[str, str] | None = None, classify: Classify) -> Any:
        last = "not attempted"
        for attempt in range(1, self.attempts + 1):
            try:
                if self._on_request:
                    self._on_request(platform)
                response = await self._client.get(url, params=params, headers=headers)
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
            else:
                answer = Answer(response.status_code, _json(response), response.headers)
                classify(answer, self.clock())  # raises what the platform's answer means
                if response.status_code < 300:
                    if answer.body is None:
                        raise UnreadableAnswer(f"{platform}: {url} answered {response.status_code} without JSON")
                    return answer.body
                last = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code < 500:
                    raise PollError(f"{platform}: {url} answered {last}")
            if attempt < self.attempts:
                await self._sleep(self.backoff_s * 2 ** (attempt - 1))
        raise PlatformUnavailable(f"{platform}: {url} failed {self.attempts} times, last: {last}"[:500])


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
