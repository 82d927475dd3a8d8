"""What Facebook Pages and Instagram share: the Graph API's errors, paging and insights requests.

Errors (Graph API "Handling Errors" and "Rate Limits"): `{"error": {"message", "type", "code",
"error_subcode", "is_transient", "fbtrace_id"}}`.
- code 190 (and 102): the access token expired or was revoked -> `TokenRejected`;
- code 4 (application), 17 (user), 32 (Page), 613 (custom), 80001–80014 (business use case):
  rate limited -> `RateLimited`, lifted after `estimated_time_to_regain_access` minutes of the
  `X-Business-Use-Case-Usage` header (`{"<business-object-id>": [{"type", "call_count",
  "total_cputime", "total_time", "estimated_time_to_regain_access"}]}`), else after a default;
- code 100 with "valid insights metric" in the message: one metric of the request is invalid
  (Meta removed it) -> `InvalidMetric`; `insights` then asks for each metric on its own, so the
  others are still read and only the removed one is missing;
- 5xx or `is_transient`: retried by the client.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .client import (
    Answer,
    InsightsHttp,
    InvalidMetric,
    PlatformUnavailable,
    RateLimited,
    TokenRejected,
    UnreadableAnswer,
)
from .readings import parse_time

TOKEN_CODES = frozenset({190, 102})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
MAX_PAGES = 50


def token_scope(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def regain_access(headers: Mapping[str, str], now: datetime) -> datetime:
    """When the business use case limit lifts: the longest estimate in the usage header."""
    minutes = 0.0
    for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage"):
        text = headers.get(name)
        if not text:
            continue
        try:
            usage = json.loads(text)
        except json.JSONDecodeError:
            continue
        entries = [e for v in usage.values() for e in (v if isinstance(v, list) else [v])] if isinstance(usage, dict) else []
        if isinstance(usage, dict) and "estimated_time_to_regain_access" in usage:
            entries.append(usage)
        for entry in entries:
            value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
            if isinstance(value, int | float) and value > minutes:
                minutes = float(value)
    return now + (timedelta(minutes=minutes) if minutes else DEFAULT_RATE_LIMIT_WAIT)


def classifier(account_id: str, token: str):
    def classify(answer: Answer, now: datetime) -> None:
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if not isinstance(error, dict):
            if answer.status >= 400 and answer.status < 500:
                raise UnreadableAnswer(f"Graph API answered {answer.status} without an error object")
            return
        code, message = error.get("code"), str(error.get("message", ""))[:300]
        if code in TOKEN_CODES:
            raise TokenRejected(f"Graph API error {code}: {message}")
        if code in RATE_LIMIT_CODES:
            scope = {4: "meta:app", 17: f"meta:token:{token_scope(token)}"}.get(code, f"meta:account:{account_id}")
            raise RateLimited(f"Graph API error {code}: {message}", regain_access(answer.headers, now), scope)
        if code == 100 and "insights metric" in message:
            raise InvalidMetric(message)
        if error.get("is_transient") or answer.status >= 500:
            return  # the client retries
        raise UnreadableAnswer(f"Graph API error {code}: {message}")

    return classify


class GraphCaller:
    """GET requests to one Graph API host for one account (its token goes in `access_token`)."""

    def __init__(self, http: InsightsHttp, base_url: str, platform: str, account_id: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        self.account_id = account_id
        self.token = token
        self.classify = classifier(account_id, token)

    async def get(self, path: str, params: Mapping[str, str | int]) -> Any:
        body = await self.http.get(self.platform, f"{self.base_url}/{path.lstrip('/')}",
                                   params={**{k: str(v) for k, v in params.items()}, "access_token": self.token},
                                   classify=self.classify)
        if not isinstance(body, dict):
            raise UnreadableAnswer(f"Graph API: /{path} did not answer an object")
        return body

    async def pages(self, path: str, params: Mapping[str, str | int]) -> list[dict[str, Any]]:
        """Every `data` item, following `paging.next` (bounded)."""
        body = await self.get(path, params)
        items = _items(body)
        for _ in range(MAX_PAGES):
            following = (body.get("paging") or {}).get("next")
            if not following:
                return items
            body = await self.http.get(self.platform, following, classify=self.classify)
            items += _items(body)
        return items

    async def recent(self, edge: str, fields: str, time_field: str,
                     since: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
        """The account's posts (or media) published since `since`: (id, published at, the item)."""
        items = await self.pages(f"{self.account_id}/{edge}", {"fields": fields, "limit": 100,
                                                              "since": int(since.timestamp())})
        found = []
        for item in items:
            item_id, published = item.get("id"), parse_time(item.get(time_field))
            if isinstance(item_id, str) and published is not None and published >= since:
                found.append((item_id, published, item))
        return found

    async def insights(self, path: str, params: Mapping[str, str | int], metrics: list[str],
                       refused: set[str]) -> list[dict[str, Any]]:
        """`GET {path}?metric=a,b,c`; a metric Meta refuses as invalid is added to `refused` and
        the rest are still read (each on its own once the combined request was refused)."""
        wanted = [m for m in metrics if m not in refused]
        if not wanted:
            return []
        try:
            return _items(await self.get(path, {**params, "metric": ",".join(wanted)}))
        except InvalidMetric:
            if len(wanted) == 1:
                refused.add(wanted[0])
                return []
        entries: list[dict[str, Any]] = []
        for metric in wanted:
            try:
                entries += _items(await self.get(path, {**params, "metric": metric}))
            except InvalidMetric:
                refused.add(metric)
        return entries


def _items(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise UnreadableAnswer("Graph API: no 'data' list in the answer")
    return [item for item in data if isinstance(item, dict)]


__all__ = ["GraphCaller", "PlatformUnavailable", "classifier", "regain_access"]
