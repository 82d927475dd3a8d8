"""X (Twitter) API v2 ("Users lookup", "Timelines", "Metrics"), bearer token in `Authorization`.

- `GET /2/users/{id}?user.fields=public_metrics` -> `{"data": {"id", "username", "public_metrics":
  {"followers_count", "following_count", "tweet_count", "listed_count"}}}`: the follower count now.
  X keeps no history of it: new followers are the differences of the daily counts we poll.
- `GET /2/users/{id}/tweets?tweet.fields=created_at,public_metrics[,non_public_metrics]&start_time=
  <ISO 8601>&max_results=100&exclude=retweets,replies[&pagination_token=]` -> `{"data": [{"id", "text",
  "created_at", "public_metrics": {"retweet_count", "reply_count", "like_count", "quote_count",
  "bookmark_count", "impression_count"}, "non_public_metrics": {"impression_count",
  "url_link_clicks", "user_profile_clicks"}}], "meta": {"result_count", "next_token"}}`.
  `non_public_metrics` exists only for the authenticated user's posts of the last 30 days and a
  user-context token: asked for those posts only; without it (an app-only token: X answers the
  data with a "Field Authorization Error" in `errors`) link clicks are missing.
Errors: 401 -> the token is refused; 429 -> rate limited until `x-rate-limit-reset` (unix seconds).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .client import Answer, InsightsHttp, RateLimited, TokenRejected, UnreadableAnswer
from .config import MetricConfig, MetricMap
from .graph import token_scope
from .readings import Reading, count, parse_time
from .window import PollWindow

MAX_PAGES = 20
NON_PUBLIC_DAYS = 30


def classifier(token: str):
    def classify(answer: Answer, now: datetime) -> None:
        if answer.status == 401:
            raise TokenRejected(f"X 401: {str(answer.body)[:200]}")
        if answer.status == 429:
            reset = answer.headers.get("x-rate-limit-reset")
            retry = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else now + timedelta(minutes=15)
            raise RateLimited("X 429: rate limited", max(retry, now), f"x:token:{token_scope(token)}")

    return classify


class XCaller:
    def __init__(self, http: InsightsHttp, base_url: str, account_id: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.classify = classifier(token)

    async def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        body = await self.http.get("x", f"{self.base_url}/{path}", params=params, headers=self.headers,
                                   classify=self.classify)
        if not isinstance(body, dict):
            raise UnreadableAnswer(f"X: /{path} did not answer an object")
        return body


def post_reading(tweet: dict[str, Any], window: PollWindow, public: MetricMap, private: MetricMap,
                 with_private: bool) -> Reading | None:
    tweet_id, published = tweet.get("id"), parse_time(tweet.get("created_at"))
    if not isinstance(tweet_id, str) or published is None:
        return None
    asked = public.targets | (private.targets if with_private else set())
    reading = Reading("post", "post", "lifetime", window.today, tweet_id, asked=asked, published_at=published,
                      raw={k: tweet.get(k) for k in ("id", "created_at", "public_metrics", "non_public_metrics")})
    for section, mapping in (("public_metrics", public), ("non_public_metrics", private)):
        metrics = tweet.get(section)
        if isinstance(metrics, dict):
            for name, target in mapping.fields.items():
                reading.add(target, count(metrics.get(name)))
    return reading


async def poll(caller: XCaller, window: PollWindow, config: MetricConfig) -> list[Reading]:
    user = (await caller.get(f"users/{caller.account_id}", {"user.fields": "public_metrics"})).get("data")
    if not isinstance(user, dict):
        raise UnreadableAnswer("X: the user lookup answered no 'data'")
    followers = Reading("followers", "account", "day", window.today, caller.account_id, asked={"followers"},
                        raw={"public_metrics": user.get("public_metrics")})
    followers.add("followers", count((user.get("public_metrics") or {}).get("followers_count")))
    readings = [followers]

    public, private = config("x", "post_public_metrics"), config("x", "post_non_public_metrics")
    recent_from = max(window.posts_since, window.now - timedelta(days=NON_PUBLIC_DAYS - 1))
    spans = [(recent_from, None, True)]
    if window.posts_since < recent_from:
        spans.append((window.posts_since, recent_from, False))
    for start, end, with_private in spans:
        fields = "created_at,public_metrics" + (",non_public_metrics" if with_private else "")
        params = {"tweet.fields": fields, "max_results": "100", "exclude": "retweets,replies",
                  "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if end is not None:
            params["end_time"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        for _ in range(MAX_PAGES):
            body = await caller.get(f"users/{caller.account_id}/tweets", params)
            for tweet in body.get("data") or []:
                reading = post_reading(tweet, window, public, private, with_private) if isinstance(tweet, dict) else None
                if reading is not None:
                    readings.append(reading)
            following = (body.get("meta") or {}).get("next_token")
            if not following:
                break
            params = {**params, "pagination_token": following}
    return readings


__all__ = ["InsightsHttp", "XCaller", "poll"]
