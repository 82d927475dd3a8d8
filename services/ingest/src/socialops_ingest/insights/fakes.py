"""Local servers that speak the four platforms' insights APIs, for `make run` and the tests.

Not a mock of our code: real HTTP on a port, answering the documented requests with the documented
shapes (each fake below names the documentation it follows), so the poller is exercised exactly as
against the platforms. The figures are a deterministic function of (account, day), so reading a
day again gives the same numbers, except where the platforms themselves change them:
- the 48-hour lag: a day's figures read the day after are still partial (70 %), final from the
  second day on; a post's lifetime figures grow for three days after it was published;
- switches for the tests: `remove_metric` (Meta answers `(#100) The value must be a valid insights
  metric` for any request naming it), `expire_token` (Graph 190, HTTP 401), `rate_limit` (Graph 32
  with `X-Business-Use-Case-Usage`, HTTP 429 with `x-rate-limit-reset` or `Retry-After`), `outage`
  (HTTP 503).
Accounts are those of the inventory given; an account's posting rate follows from its id (a few
publish about once a week, one of them only lately: the demo then shows quiet accounts).

    socialops-ingest fake-platforms --port 8089   # Graph /graph/v25.0, LinkedIn /linkedin/rest, X /x/2
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from socialops_common.events import AccountRecord, Platform
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .readings import PACIFIC, STOCKHOLM, meta_day

GRAPH_VERSION = "v25.0"


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) from the parts."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class FakePost:
    post_id: str
    published_at: datetime
    video: bool


@dataclass
class FakeData:
    """The figures every fake answers with. `now` is the platforms' clock (tests move it)."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    # --- accounts -------------------------------------------------------------------------------

    @staticmethod
    def size(account: str) -> float:
        return 0.3 + 2.0 * _unit("size", account)

    def posts_per_week(self, account: str, day: date) -> float:
        profile = _unit("profile", account)
        if profile < 0.12:
            return 1.0  # publishes about once a week: quiet
        if profile < 0.24 and day >= self.now().astimezone(STOCKHOLM).date() - timedelta(days=40):
            return 0.5  # was active, has gone quiet in the last weeks
        return 3.0 + 7.0 * _unit("rate", account)

    def posts_on(self, account: str, day: date) -> list[FakePost]:
        rate = self.posts_per_week(account, day) / 7.0
        count = int(rate) + (1 if _unit("posts", account, day) < rate - int(rate) else 0)
        posts = []
        for n in range(count):
            minute = int(7 * 60 + 14 * 60 * _unit("minute", account, day, n))  # 07:00-21:00 local
            at = datetime.combine(day, time(minute // 60, minute % 60), STOCKHOLM).astimezone(UTC)
            posts.append(FakePost(f"{account}_{day:%Y%m%d}{n:02d}", at, _unit("video", account, day, n) < 0.25))
        return posts

    def posts_between(self, account: str, start: datetime, end: datetime) -> list[FakePost]:
        first = start.astimezone(STOCKHOLM).date()
        last = end.astimezone(STOCKHOLM).date()
        out: list[FakePost] = []
        day = first
        while day <= last:
            out += [p for p in self.posts_on(account, day) if start <= p.published_at <= end]
            day += timedelta(days=1)
        return sorted(out, key=lambda p: p.published_at, reverse=True)

    # --- daily account figures ------------------------------------------------------------------

    def _ripeness(self, day: date) -> float:
        """The 48-hour lag: read the next day a day is partial; final from the second day on."""
        age = (self.now().astimezone(PACIFIC).date() - day).days
        return 0.0 if age < 1 else 0.7 if age < 2 else 1.0

    def followers(self, account: str, day: date) -> int:
        days = (day - date(2020, 1, 1)).days
        return int(2000 * self.size(account) + 1.5 * self.size(account) * days + 3 * _unit("wobble", account, day))

    def daily(self, account: str, day: date) -> dict[str, int] | None:
        ripe = self._ripeness(day)
        if ripe == 0.0 or day > self.now().date():
            return None
        size, week = self.size(account), 1.0 + 0.25 * (day.weekday() < 5)
        unfollows = 3 + int(7 * _unit("unfollows", account, day))
        follows = max(0, self.followers(account, day) - self.followers(account, day - timedelta(days=1)) + unfollows)
        full = {
            "reach": int(900 * size * week * (0.8 + 0.4 * _unit("reach", account, day))),
            "impressions": int(2600 * size * week * (0.8 + 0.4 * _unit("views", account, day))),
            "interactions": int(120 * size * (0.6 + 0.8 * _unit("engaged", account, day))),
            "engaged_accounts": int(80 * size * (0.6 + 0.8 * _unit("engaged", account, day))),
            "video_views": int(300 * size * (0.5 + _unit("video", account, day))),
            "new_followers": follows, "lost_followers": unfollows,
            "page_views": int(150 * size * (0.5 + _unit("pageviews", account, day))),
            "followers": self.followers(account, day),
        }
        return {k: (v if k == "followers" else int(v * ripe)) for k, v in full.items()}

    def monthly_reach(self, account: str, month_start: date) -> int | None:
        end = (month_start + timedelta(days=32)).replace(day=1)
        days = [d for d in (month_start + timedelta(n) for n in range((end - month_start).days)) if self.daily(account, d)]
        if not days:
            return None
        # unique people over a month: far fewer than the days' reach added up
        return int(sum(self.daily(account, d)["reach"] for d in days) * 0.35)  # type: ignore[index]

    # --- post figures -----------------------------------------------------------------------------

    def post_figures(self, account: str, post: FakePost) -> dict[str, int]:
        hours = max(0.0, (self.now() - post.published_at).total_seconds() / 3600)
        grown = min(1.0, hours / 72.0)  # a post's lifetime figures grow for three days
        size, pop = self.size(account), 0.4 + 1.2 * _unit("pop", post.post_id)
        full = {
            "reach": int(1500 * size * pop), "impressions": int(2300 * size * pop),
            "reactions": int(60 * size * pop), "comments": int(12 * size * pop), "shares": int(7 * size * pop),
            "saves": int(5 * size * pop), "link_clicks": int(25 * size * pop),
            "video_views": int(900 * size * pop) if post.video else 0, "quotes": int(2 * size * pop),
        }
        return {k: int(v * grown) for k, v in full.items()}


@dataclass
class Switches:
    expired_tokens: set[str] = field(default_factory=set)
    removed_metrics: set[str] = field(default_factory=set)
    rate_limited: dict[str, int] = field(default_factory=dict)  # platform -> requests still refused
    outages: dict[str, int] = field(default_factory=dict)  # platform -> requests answered 503
    retry_after_s: int = 1800


class FakePlatforms:
    """The four fakes on one Starlette app; `requests` keeps every request (platform, path, query, headers)."""

    def __init__(self, accounts: list[AccountRecord], data: FakeData | None = None) -> None:
        self.data = data or FakeData()
        self.switches = Switches()
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
        self.kinds = {a.external_id: a.platform for a in accounts}
        self.app = Starlette(routes=[
            Route("/graph/{version}/{path:path}", self.graph, methods=["GET"]),
            Route("/linkedin/rest/{path:path}", self.linkedin, methods=["GET"]),
            Route("/x/2/{path:path}", self.x, methods=["GET"]),
            Route("/healthz", lambda _: JSONResponse({"status": "ok"}), methods=["GET"]),
            Route("/readyz", lambda _: JSONResponse({"status": "ok"}), methods=["GET"]),
        ])

    # --- test switches ------------------------------------------------------------------------------

    def expire_token(self, token: str) -> None:
        self.switches.expired_tokens.add(token)

    def remove_metric(self, metric: str) -> None:
        self.switches.removed_metrics.add(metric)

    def rate_limit(self, platform: str, requests: int = 1, retry_after_s: int = 1800) -> None:
        self.switches.rate_limited[platform] = requests
        self.switches.retry_after_s = retry_after_s

    def outage(self, platform: str, requests: int = 1) -> None:
        self.switches.outages[platform] = requests

    def _take(self, table: dict[str, int], platform: str) -> bool:
        if table.get(platform, 0) > 0:
            table[platform] -= 1
            return True
        return False

    def _log(self, platform: str, request: Request) -> dict[str, str]:
        query = {k: v[-1] for k, v in parse_qs(request.url.query, keep_blank_values=True).items()}
        self.requests.append((platform, request.url.path, query, dict(request.headers)))
        return query

    # --- Meta Graph API: Facebook Pages and Instagram --------------------------------------------
    # Follows: Graph API reference "Page Insights" (data[].name/period/values[{value, end_time}]),
    # "Page" /posts with field expansion and summaries, "Page Post" insights; Instagram Platform
    # reference "Instagram Account Insights" (metric_type=total_value, breakdowns), "IG User"
    # (followers_count), "IG User Media", "Instagram Media Insights"; "Handling Errors" and
    # "Rate Limits" (error codes 190, 100, 32; X-Business-Use-Case-Usage).

    @staticmethod
    def _graph_error(code: int, message: str, status: int = 400, headers: dict[str, str] | None = None,
                     subcode: int | None = None) -> JSONResponse:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                                 "fbtrace_id": "AbCdEfGhIjK"}
        if subcode is not None:
            error["error_subcode"] = subcode
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    async def graph(self, request: Request) -> JSONResponse:
        query = self._log("meta", request)
        if self._take(self.switches.outages, "meta"):
            return JSONResponse({"error": {"message": "An unexpected error has occurred.", "type": "OAuthException",
                                           "code": 2, "is_transient": True}}, status_code=503)
        token = query.get("access_token", "")
        if not token:
            return self._graph_error(104, "An access token is required to request this resource.")
        if token in self.switches.expired_tokens:
            return self._graph_error(190, "Error validating access token: Session has expired on Monday, "
                                          "02-Nov-26 10:00:00 PST.", status=401, subcode=463)
        parts = request.path_params["path"].strip("/").split("/")
        object_id = parts[0]
        if self._take(self.switches.rate_limited, "meta"):
            usage = {object_id: [{"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 60,
                                  "estimated_time_to_regain_access": max(1, self.switches.retry_after_s // 60)}]}
            return self._graph_error(32, "Page request limit reached", status=400,
                                     headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
        edge = parts[1] if len(parts) > 1 else None
        metrics = [m for m in query.get("metric", "").split(",") if m]
        if edge == "insights" and any(m in self.switches.removed_metrics for m in metrics):
            return self._graph_error(100, "(#100) The value must be a valid insights metric")
        if "_" in object_id and edge == "insights":
            return self._post_insights(object_id, metrics)
        if "-m-" in object_id and edge == "insights":
            return self._media_insights(object_id, metrics)
        kind = self.kinds.get(object_id)
        if kind is Platform.FACEBOOK and edge == "insights":
            return self._page_insights(object_id, metrics, query)
        if kind is Platform.FACEBOOK and edge == "posts":
            return self._page_posts(object_id, query)
        if kind is Platform.INSTAGRAM and edge == "insights":
            return self._ig_insights(object_id, metrics, query)
        if kind is Platform.INSTAGRAM and edge == "media":
            return self._ig_media(object_id, query)
        if kind is Platform.INSTAGRAM and edge is None:
            today = self.data.now().astimezone(PACIFIC).date()
            return JSONResponse({"followers_count": self.data.followers(object_id, today), "id": object_id})
        return self._graph_error(100, f"Unsupported get request. Object with ID '{object_id}' does not exist, "
                                      "cannot be loaded due to missing permissions, or does not support this "
                                      "operation.", subcode=33)

    PAGE_METRICS = {"page_total_media_view_unique": "reach", "page_media_view": "impressions",
                    "page_post_engagements": "interactions", "page_follows": "followers",
                    "page_daily_follows_unique": "new_followers", "page_daily_unfollows_unique": "lost_followers",
                    "page_video_views": "video_views"}

    def _page_insights(self, page: str, metrics: list[str], query: dict[str, str]) -> JSONResponse:
        unknown = [m for m in metrics if m not in self.PAGE_METRICS]
        if unknown:
            return self._graph_error(100, "(#100) The value must be a valid insights metric")
        since, until = date.fromisoformat(query["since"]), date.fromisoformat(query["until"])
        if (until - since).days > 93:
            return self._graph_error(100, "(#100) The since and until parameters must be no more than 93 days apart")
        data = []
        for metric in metrics:
            values = []
            day = since
            while day < until:
                figures = self.data.daily(page, day)
                if figures is not None:
                    end = datetime.combine(day + timedelta(days=1), time(0), PACIFIC)
                    values.append({"value": figures[self.PAGE_METRICS[metric]],
                                   "end_time": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")})
                day += timedelta(days=1)
            data.append({"name": metric, "period": "day", "values": values, "title": metric,
                         "description": f"Daily: {metric}", "id": f"{page}/insights/{metric}/day"})
        return JSONResponse({"data": data, "paging": {"previous": "", "next": ""}})

    def _page_posts(self, page: str, query: dict[str, str]) -> JSONResponse:
        since = datetime.fromtimestamp(int(query.get("since", "0")), UTC)
        data = []
        for post in self.data.posts_between(page, since, self.data.now()):
            figures = self.data.post_figures(page, post)
            item: dict[str, Any] = {
                "id": post.post_id, "created_time": post.published_at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "permalink_url": f"https://www.facebook.com/{post.post_id}",
                "reactions": {"data": [], "summary": {"total_count": figures["reactions"]}},
                "comments": {"data": [], "summary": {"total_count": figures["comments"], "order": "ranked"}},
            }
            if figures["shares"]:  # Meta leaves `shares` out of a post nobody shared
                item["shares"] = {"count": figures["shares"]}
            data.append(item)
        return JSONResponse({"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}})

    def _post(self, account: str, post_id: str) -> FakePost | None:
        stamp = post_id.rsplit("_", 1)[-1].rsplit("-m-", 1)[-1]
        try:
            day, n = datetime.strptime(stamp[:8], "%Y%m%d").date(), int(stamp[8:])
        except ValueError:
            return None
        posts = self.data.posts_on(account, day)
        return posts[n] if n < len(posts) else None

    def _post_insights(self, post_id: str, metrics: list[str]) -> JSONResponse:
        page = post_id.split("_", 1)[0]
        post = self._post(page, post_id)
        if post is None:
            return self._graph_error(100, "Unsupported get request.", subcode=33)
        figures = self.data.post_figures(page, post)
        known = {"post_total_media_view_unique": figures["reach"], "post_video_views": figures["video_views"],
                 "post_clicks_by_type": {"link clicks": figures["link_clicks"], "other clicks": figures["reactions"]}}
        if any(m not in known for m in metrics):
            return self._graph_error(100, "(#100) The value must be a valid insights metric")
        return JSONResponse({"data": [{"name": m, "period": "lifetime", "values": [{"value": known[m]}],
                                       "id": f"{post_id}/insights/{m}/lifetime"} for m in metrics]})

    IG_TOTALS = {"reach": "reach", "views": "impressions", "accounts_engaged": "engaged_accounts",
                 "total_interactions": "interactions"}

    def _ig_insights(self, user: str, metrics: list[str], query: dict[str, str]) -> JSONResponse:
        since = datetime.fromtimestamp(int(query["since"]), UTC)
        until = datetime.fromtimestamp(int(query["until"]), UTC)
        if query.get("metric_type") == "total_value":
            day = since.astimezone(PACIFIC).date()
            figures = self.data.daily(user, day) if until - since <= timedelta(days=1, hours=1) else None
            data = []
            for metric in metrics:
                entry: dict[str, Any] = {"name": metric, "period": "day", "title": metric,
                                         "id": f"{user}/insights/{metric}/day"}
                if metric == "follows_and_unfollows":
                    if query.get("breakdown") != "follow_type":
                        return self._graph_error(100, "(#100) follows_and_unfollows needs breakdown=follow_type")
                    if figures is None:
                        continue  # no data yet: an empty data set, not 0
                    entry["total_value"] = {"breakdowns": [{"dimension_keys": ["follow_type"], "results": [
                        {"dimension_values": ["FOLLOWER"], "value": figures["new_followers"]},
                        {"dimension_values": ["NON_FOLLOWER"], "value": figures["lost_followers"]}]}]}
                elif metric in self.IG_TOTALS:
                    if figures is None:
                        continue
                    entry["total_value"] = {"value": figures[self.IG_TOTALS[metric]]}
                else:
                    return self._graph_error(100, "(#100) The value must be a valid insights metric")
                data.append(entry)
            return JSONResponse({"data": data, "paging": {}})
        # time series: follower_count, the last 30 days only, not today
        if any(m != "follower_count" for m in metrics):
            return self._graph_error(100, "(#100) The value must be a valid insights metric")
        values, day = [], since.astimezone(PACIFIC).date()
        horizon = self.data.now().astimezone(PACIFIC).date() - timedelta(days=30)
        while datetime.combine(day + timedelta(days=1), time(0), PACIFIC) <= until:
            figures = self.data.daily(user, day)
            if figures is not None and day >= horizon:
                end = datetime.combine(day + timedelta(days=1), time(0), PACIFIC)
                values.append({"value": figures["new_followers"],
                               "end_time": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")})
            day += timedelta(days=1)
        return JSONResponse({"data": [{"name": "follower_count", "period": "day", "values": values,
                                       "id": f"{user}/insights/follower_count/day"}]})

    def _ig_media(self, user: str, query: dict[str, str]) -> JSONResponse:
        since = datetime.fromtimestamp(int(query.get("since", "0")), UTC)
        data = [{"id": p.post_id.replace(f"{user}_", f"{user}-m-"), "timestamp": p.published_at.strftime(
                    "%Y-%m-%dT%H:%M:%S+0000"), "media_type": "VIDEO" if p.video else "IMAGE",
                 "media_product_type": "REELS" if p.video else "FEED",
                 "permalink": f"https://www.instagram.com/p/{p.post_id[-10:]}/",
                 "like_count": self.data.post_figures(user, p)["reactions"],
                 "comments_count": self.data.post_figures(user, p)["comments"]}
                for p in self.data.posts_between(user, since, self.data.now())]
        return JSONResponse({"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}})

    def _media_insights(self, media_id: str, metrics: list[str]) -> JSONResponse:
        user = media_id.split("-m-", 1)[0]
        post = self._post(user, media_id)
        if post is None:
            return self._graph_error(100, "Unsupported get request.", subcode=33)
        figures = self.data.post_figures(user, post)
        known = {"reach": figures["reach"], "likes": figures["reactions"], "comments": figures["comments"],
                 "shares": figures["shares"], "saved": figures["saves"],
                 "views": figures["video_views"] if post.video else figures["impressions"]}
        if any(m not in known for m in metrics):
            return self._graph_error(100, "(#100) The value must be a valid insights metric")
        return JSONResponse({"data": [{"name": m, "period": "lifetime", "values": [{"value": known[m]}],
                                       "id": f"{media_id}/insights/{m}/lifetime"} for m in metrics]})

    # --- LinkedIn Community Management API ----------------------------------------------------------
    # Follows: Microsoft Learn, LinkedIn Marketing "Organization Share Statistics",
    # "Organization Follower Statistics", "Organization Page Statistics", "Organization Lookup
    # API" (networkSizes), "Posts API"; "API Versioning" (LinkedIn-Version, X-Restli-Protocol-Version
    # 2.0.0); "Rate Limits" (429). Rest.li 2.0 query syntax for timeIntervals and List(...).

    INTERVAL = re.compile(r"\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:(DAY|MONTH)\)")

    async def linkedin(self, request: Request) -> JSONResponse:
        query = self._log("linkedin", request)
        headers = request.headers
        if self._take(self.switches.outages, "linkedin"):
            return JSONResponse({"status": 503, "message": "Service Unavailable"}, status_code=503)
        if headers.get("x-restli-protocol-version") != "2.0.0" or not re.fullmatch(r"\d{6}", headers.get("linkedin-version", "")):
            return JSONResponse({"status": 400, "code": "VERSION_MISSING",
                                 "message": "A version must be present. Please specify a version by adding the "
                                            "LinkedIn-Version header."}, status_code=400)
        token = headers.get("authorization", "").removeprefix("Bearer ")
        if not token or token in self.switches.expired_tokens:
            return JSONResponse({"status": 401, "serviceErrorCode": 65602, "code": "EXPIRED_ACCESS_TOKEN",
                                 "message": "The token used in the request has expired"}, status_code=401)
        if self._take(self.switches.rate_limited, "linkedin"):
            return JSONResponse({"status": 429, "message": "Resource level throttle APPLICATION DAY limit for "
                                 "calls to this resource is reached."}, status_code=429,
                                headers={"Retry-After": str(self.switches.retry_after_s)})
        if "urn:li:" in request.url.query:  # Rest.li 2.0: URNs inside the query are percent-encoded
            return JSONResponse({"status": 400, "code": "ILLEGAL_ARGUMENT",
                                 "message": "Syntax exception in path variables"}, status_code=400)
        path = request.path_params["path"]
        if path.startswith("networkSizes/"):
            org = unquote(path.split("/", 1)[1])
            return JSONResponse({"firstDegreeSize": self.data.followers(org, self.data.now().date())})
        if path == "posts":
            return self._li_posts(unquote(query.get("author", "")))
        org = unquote(query.get("organizationalEntity") or query.get("organization") or "")
        if self.kinds.get(org) is not Platform.LINKEDIN:
            return JSONResponse({"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                                 "message": f"Not enough permissions to access: {path}"}, status_code=403)
        raw_query = unquote(request.url.query)
        for parameter in ("ugcPosts", "shares"):
            listed = re.search(rf"{parameter}=List\(([^)]*)\)", raw_query)
            if listed and path == "organizationalEntityShareStatistics":
                return self._li_post_statistics(org, parameter, [u for u in listed.group(1).split(",") if u])
        found = self.INTERVAL.search(raw_query)
        if not found:
            return JSONResponse({"status": 400, "message": "timeIntervals is required by this fake"}, status_code=400)
        start = datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
        end = datetime.fromtimestamp(int(found.group(2)) / 1000, UTC).date()
        elements = []
        for first, last in self._intervals(start, end, found.group(3)):
            element: dict[str, Any] = {"timeRange": {"start": int(datetime.combine(first, time(0), UTC).timestamp() * 1000),
                                                     "end": int(datetime.combine(last, time(0), UTC).timestamp() * 1000)}}
            if found.group(3) == "MONTH":
                reach = self.data.monthly_reach(org, first)
                if reach is None:
                    continue
                element["totalShareStatistics"] = {"uniqueImpressionsCount": reach}
            else:
                figures = self.data.daily(org, first)
                if figures is None:
                    continue
                element.update(self._li_day(path, figures))
            element["organizationalEntity" if path != "organizationPageStatistics" else "organization"] = org
            elements.append(element)
        return JSONResponse({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    @staticmethod
    def _intervals(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
        out, day = [], start
        while day < end:
            following = (day + timedelta(days=32)).replace(day=1) if granularity == "MONTH" else day + timedelta(days=1)
            out.append((day, min(following, end)))
            day = following
        return out

    @staticmethod
    def _li_day(path: str, figures: dict[str, int]) -> dict[str, Any]:
        if path == "organizationalEntityShareStatistics":
            return {"totalShareStatistics": {
                "uniqueImpressionsCount": figures["reach"], "impressionCount": figures["impressions"],
                "clickCount": figures["interactions"] // 2, "likeCount": figures["interactions"] // 2,
                "commentCount": figures["interactions"] // 8, "shareCount": figures["interactions"] // 16,
                "engagement": round(figures["interactions"] / max(1, figures["impressions"]), 4)}}
        if path == "organizationalEntityFollowerStatistics":
            return {"followerGains": {"organicFollowerGain": figures["new_followers"], "paidFollowerGain": 0}}
        return {"totalPageStatistics": {"views": {"allPageViews": {"pageViews": figures["page_views"]},
                                                  "allDesktopPageViews": {"pageViews": figures["page_views"] // 2}}}}

    def _li_posts(self, org: str) -> JSONResponse:
        if self.kinds.get(org) is not Platform.LINKEDIN:
            return JSONResponse({"status": 403, "message": "Not enough permissions"}, status_code=403)
        now = self.data.now()
        posts = self.data.posts_between(org, now - timedelta(days=60), now)[:50]
        elements = [{"id": f"urn:li:share:{_numeric_id(p.post_id)}", "author": org,
                     "createdAt": int(p.published_at.timestamp() * 1000),
                     "publishedAt": int(p.published_at.timestamp() * 1000), "lifecycleState": "PUBLISHED",
                     "visibility": "PUBLIC"} for p in posts]
        return JSONResponse({"paging": {"start": 0, "count": 50, "links": [], "total": len(elements)},
                             "elements": elements})

    def _li_post_statistics(self, org: str, parameter: str, urns: list[str]) -> JSONResponse:
        now = self.data.now()
        by_id = {f"urn:li:share:{_numeric_id(p.post_id)}": p for p in self.data.posts_between(org, now - timedelta(days=60), now)}
        elements = []
        for urn in urns:
            post = by_id.get(unquote(urn))
            if post is None:
                continue
            figures = self.data.post_figures(org, post)
            elements.append({"share" if parameter == "shares" else "ugcPost": unquote(urn), "organizationalEntity": org,
                             "totalShareStatistics": {
                                 "uniqueImpressionsCount": figures["reach"], "impressionCount": figures["impressions"],
                                 "clickCount": figures["link_clicks"], "likeCount": figures["reactions"],
                                 "commentCount": figures["comments"], "shareCount": figures["shares"],
                                 "engagement": round((figures["reactions"] + figures["comments"]) /
                                                     max(1, figures["impressions"]), 4)}})
        return JSONResponse({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    # --- X API v2 -----------------------------------------------------------------------------------
    # Follows: docs.x.com "Users lookup" (GET /2/users/:id, user.fields=public_metrics), "User Posts
    # timeline" (GET /2/users/:id/tweets, tweet.fields, start_time, exclude, pagination), "Metrics"
    # (public_metrics; non_public_metrics only for the user's own posts of the last 30 days with a
    # user-context token), "Rate limits" (429 with x-rate-limit-reset), errors as problem details.

    async def x(self, request: Request) -> JSONResponse:
        query = self._log("x", request)
        if self._take(self.switches.outages, "x"):
            return JSONResponse({"title": "Service Unavailable", "type": "about:blank", "status": 503}, status_code=503)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token or token in self.switches.expired_tokens:
            return JSONResponse({"title": "Unauthorized", "type": "about:blank", "status": 401,
                                 "detail": "Unauthorized"}, status_code=401)
        now = self.data.now()
        if self._take(self.switches.rate_limited, "x"):
            reset = int(now.timestamp()) + self.switches.retry_after_s
            return JSONResponse({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                                 "status": 429}, status_code=429,
                                headers={"x-rate-limit-limit": "900", "x-rate-limit-remaining": "0",
                                         "x-rate-limit-reset": str(reset)})
        parts = request.path_params["path"].strip("/").split("/")
        if parts[0] != "users" or self.kinds.get(parts[1] if len(parts) > 1 else "") is not Platform.X:
            return JSONResponse({"errors": [{"value": parts[-1], "detail": f"Could not find user with id: [{parts[-1]}].",
                                             "title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        user = parts[1]
        if len(parts) == 2:
            return JSONResponse({"data": {"id": user, "name": user, "username": f"user{user}", "public_metrics": {
                "followers_count": self.data.followers(user, now.date()), "following_count": 310,
                "tweet_count": 12000, "listed_count": 450}}})
        start = datetime.fromisoformat(query["start_time"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(query["end_time"].replace("Z", "+00:00")) if "end_time" in query else now
        fields = set(query.get("tweet.fields", "").split(","))
        data, errors = [], []
        for post in self.data.posts_between(user, start, end):
            figures = self.data.post_figures(user, post)
            tweet: dict[str, Any] = {"id": _numeric_id(post.post_id), "text": "Inlägg",
                                     "created_at": post.published_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                     "edit_history_tweet_ids": [_numeric_id(post.post_id)]}
            if "public_metrics" in fields:
                tweet["public_metrics"] = {"retweet_count": figures["shares"], "reply_count": figures["comments"],
                                           "like_count": figures["reactions"], "quote_count": figures["quotes"],
                                           "bookmark_count": figures["saves"], "impression_count": figures["impressions"]}
            if "non_public_metrics" in fields:
                if token.startswith("app-only") or now - post.published_at > timedelta(days=30):
                    errors.append({"value": tweet["id"], "detail": "Sorry, you are not authorized to access "
                                   "'non_public_metrics' on this Tweet.", "title": "Field Authorization Error",
                                   "resource_type": "tweet", "parameter": "non_public_metrics",
                                   "type": "https://api.twitter.com/2/problems/not-authorized-for-field"})
                else:
                    tweet["non_public_metrics"] = {"impression_count": figures["impressions"],
                                                   "url_link_clicks": figures["link_clicks"],
                                                   "user_profile_clicks": figures["reactions"] // 3}
            data.append(tweet)
        body: dict[str, Any] = {"data": data, "meta": {"result_count": len(data)}} if data else {"meta": {"result_count": 0}}
        if errors:
            body["errors"] = errors
        return JSONResponse(body)


def _numeric_id(post_id: str) -> str:
    """A numeric id (LinkedIn share ids and X post ids are numbers) stable for a fake post id."""
    return str(int(hashlib.sha256(post_id.encode()).hexdigest()[:15], 16))


@contextlib.asynccontextmanager
async def serve_fakes(fakes: FakePlatforms, port: int | None = None) -> AsyncIterator[str]:
    """Run the fakes under uvicorn on 127.0.0.1 (a free port unless given); yields the base URL."""
    import uvicorn
    from socialops_common.devstack import free_port

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(fakes.app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def urls(base: str) -> dict[str, str]:
    """The poller's API settings for fakes at `base`."""
    return {"insights_graph_url": f"{base}/graph/{GRAPH_VERSION}", "insights_linkedin_url": f"{base}/linkedin/rest",
            "insights_x_url": f"{base}/x/2"}


__all__ = ["FakeData", "FakePlatforms", "meta_day", "serve_fakes", "urls"]
