"""LinkedIn organization (Page) statistics, Community Management API (versioned `/rest` APIs with
the `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0` headers; Rest.li 2.0 query
syntax, URNs percent-encoded inside it):

- "Organization Share Statistics": `GET /rest/organizationalEntityShareStatistics?q=organizationalEntity
  &organizationalEntity=<urn>&timeIntervals=(timeRange:(start:<ms>,end:<ms>),timeGranularityType:DAY)`
  -> `{"elements": [{"organizationalEntity", "timeRange": {"start", "end"}, "totalShareStatistics":
  {"uniqueImpressionsCount", "impressionCount", "clickCount", "likeCount", "commentCount",
  "shareCount", "engagement"}}]}`; with `timeGranularityType:MONTH` one element per month (the
  platform's own monthly unique reach); with `&ugcPosts=List(<urn>,...)` / `&shares=List(...)` and
  no time interval the lifetime statistics of those posts (each element names its `ugcPost`/`share`).
  Share statistics cover the past 12 months only.
- "Organization Follower Statistics": `GET /rest/organizationalEntityFollowerStatistics?q=
  organizationalEntity&organizationalEntity=<urn>&timeIntervals=(...DAY)` -> elements with
  `followerGains: {"organicFollowerGain", "paidFollowerGain"}` per day.
- "Organization Page Statistics": `GET /rest/organizationPageStatistics?q=organization&organization=<urn>
  &timeIntervals=(...DAY)` -> `totalPageStatistics.views.allPageViews.pageViews` per day.
- "Organization follower count": `GET /rest/networkSizes/<urn>?edgeType=COMPANY_FOLLOWED_BY_MEMBER`
  -> `{"firstDegreeSize"}` (followers now).
- "Posts API": `GET /rest/posts?author=<urn>&q=author&count=50&sortBy=CREATED` -> `{"elements": [{"id",
  "createdAt", "publishedAt"}], "paging": {"start", "count", "total"}}`.
Errors: 401 (`serviceErrorCode` 65600 invalid, 65601 revoked, 65602 expired token) -> the token is
refused; 429 -> rate limited until `Retry-After`, else until the daily limits reset (midnight UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from .client import Answer, InsightsHttp, RateLimited, TokenRejected, UnreadableAnswer
from .config import MetricConfig, MetricMap
from .graph import token_scope
from .readings import Reading, count, parse_time
from .window import PollWindow, chunks

MAX_POSTS = 200


def urn(value: str) -> str:
    return quote(value, safe="")


def day_ms(day: date) -> int:
    return int(datetime.combine(day, time(0), UTC).timestamp() * 1000)


def interval(first: date, last: date, granularity: str = "DAY") -> str:
    end = last + timedelta(days=1)
    return f"(timeRange:(start:{day_ms(first)},end:{day_ms(end)}),timeGranularityType:{granularity})"


def classifier(token: str):
    def classify(answer: Answer, now: datetime) -> None:
        if answer.status == 401:
            detail = answer.body if isinstance(answer.body, dict) else {}
            raise TokenRejected(f"LinkedIn 401 {detail.get('serviceErrorCode', '')}: {detail.get('message', '')}"[:300])
        if answer.status == 429:
            wait = answer.headers.get("retry-after")
            if wait and wait.isdigit():
                retry = now + timedelta(seconds=int(wait))
            else:  # LinkedIn's application and member limits reset at midnight UTC
                retry = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)
            raise RateLimited("LinkedIn 429: rate limited", retry, f"linkedin:token:{token_scope(token)}")

    return classify


class LinkedInCaller:
    def __init__(self, http: InsightsHttp, base_url: str, version: str, account_id: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.headers = {"Authorization": f"Bearer {token}", "LinkedIn-Version": version,
                        "X-Restli-Protocol-Version": "2.0.0"}
        self.classify = classifier(token)

    async def get(self, path: str, query: str) -> dict[str, Any]:
        # the Rest.li query is written out (its parentheses and colons must stay as they are)
        body = await self.http.get("linkedin", f"{self.base_url}/{path}?{query}", headers=self.headers,
                                   classify=self.classify)
        if not isinstance(body, dict):
            raise UnreadableAnswer(f"LinkedIn: /{path} did not answer an object")
        return body

    async def elements(self, path: str, query: str) -> list[dict[str, Any]]:
        elements = (await self.get(path, query)).get("elements")
        if not isinstance(elements, list):
            raise UnreadableAnswer(f"LinkedIn: /{path} answered no 'elements' list")
        return [e for e in elements if isinstance(e, dict)]


def element_day(element: dict[str, Any]) -> date | None:
    start = parse_time((element.get("timeRange") or {}).get("start"))
    return start.date() if start else None


def share_values(reading: Reading, mapping: MetricMap, statistics: Any) -> None:
    if isinstance(statistics, dict):
        for name, target in mapping.fields.items():
            reading.add(target, count(statistics.get(name)))
        reading.raw["totalShareStatistics"] = statistics


async def poll(caller: LinkedInCaller, window: PollWindow, config: MetricConfig) -> list[Reading]:
    org = caller.account_id
    entity = f"organizationalEntity={urn(org)}"
    shares = config("linkedin", "share_statistics")
    days = set(window.days)
    readings: list[Reading] = []
    for first, last in chunks(window.days, 90):
        span = interval(first, last)
        for element in await caller.elements("organizationalEntityShareStatistics",
                                             f"q=organizationalEntity&{entity}&timeIntervals={span}"):
            day = element_day(element)
            if day in days:
                reading = Reading("share_statistics", "account", "day", day, org, asked=set(shares.targets))
                share_values(reading, shares, element.get("totalShareStatistics"))
                readings.append(reading)
        for element in await caller.elements("organizationalEntityFollowerStatistics",
                                             f"q=organizationalEntity&{entity}&timeIntervals={span}"):
            day = element_day(element)
            gains = element.get("followerGains")
            if day in days and isinstance(gains, dict):
                reading = Reading("follower_statistics", "account", "day", day, org, asked={"new_followers"},
                                  raw={"followerGains": gains})
                organic, paid = count(gains.get("organicFollowerGain")), count(gains.get("paidFollowerGain"))
                if organic is not None or paid is not None:
                    reading.add("new_followers", (organic or 0) + (paid or 0))
                readings.append(reading)
        for element in await caller.elements("organizationPageStatistics",
                                             f"q=organization&organization={urn(org)}&timeIntervals={span}"):
            day = element_day(element)
            if day in days:
                views = (((element.get("totalPageStatistics") or {}).get("views") or {}).get("allPageViews") or {})
                reading = Reading("page_statistics", "account", "day", day, org, asked={"page_views"},
                                  raw={"allPageViews": views})
                reading.add("page_views", count(views.get("pageViews")))
                readings.append(reading)

    # the platform's own monthly unique reach, for the months the window touches
    monthly = MetricMap({name: target for name, target in shares.fields.items() if target == "reach"})
    if monthly.fields and window.days:
        first_month = window.first_day.replace(day=1)
        for element in await caller.elements(
                "organizationalEntityShareStatistics",
                f"q=organizationalEntity&{entity}&timeIntervals={interval(first_month, window.last_day, 'MONTH')}"):
            day = element_day(element)
            if day is not None:
                reading = Reading("share_statistics", "account", "month", day.replace(day=1), org,
                                  asked=set(monthly.targets))
                share_values(reading, monthly, element.get("totalShareStatistics"))
                readings.append(reading)

    size = await caller.get(f"networkSizes/{urn(org)}", "edgeType=COMPANY_FOLLOWED_BY_MEMBER")
    followers = Reading("followers", "account", "day", window.today, org, asked={"followers"}, raw={"networkSize": size})
    followers.add("followers", count(size.get("firstDegreeSize")))
    readings.append(followers)

    posts = [p for p in await caller.elements("posts", f"author={urn(org)}&q=author&count=50&sortBy=CREATED")
             if isinstance(p.get("id"), str)][:MAX_POSTS]
    published = {p["id"]: parse_time(p.get("publishedAt") or p.get("createdAt")) for p in posts}
    recent = [pid for pid, at in published.items() if at is not None and at >= window.posts_since]
    post_map = config("linkedin", "post_statistics")
    for kind, parameter in (("urn:li:ugcPost:", "ugcPosts"), ("urn:li:share:", "shares")):
        ids = [pid for pid in recent if pid.startswith(kind)]
        for start in range(0, len(ids), 20):
            batch = ids[start:start + 20]
            listed = ",".join(urn(pid) for pid in batch)
            for element in await caller.elements("organizationalEntityShareStatistics",
                                                 f"q=organizationalEntity&{entity}&{parameter}=List({listed})"):
                post_id = element.get("ugcPost") or element.get("share")
                if post_id not in batch:
                    continue
                reading = Reading("post", "post", "lifetime", window.today, post_id, asked=set(post_map.targets),
                                  published_at=published[post_id])
                share_values(reading, post_map, element.get("totalShareStatistics"))
                readings.append(reading)
    return readings


__all__ = ["InsightsHttp", "LinkedInCaller", "poll"]
