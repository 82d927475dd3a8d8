"""Instagram professional account insights (Instagram Platform reference, "Instagram Account
Insights", "IG User", "IG Media", "Instagram Media Insights"), Instagram API with Facebook Login.

- `GET /{ig-user-id}/insights?metric=<account_total_value>&period=day&metric_type=total_value
  &since=<unix>&until=<unix>`, one day per request (a total_value answer has no end_time: the
  request says which day it is) -> `{"data": [{"name", "period", "total_value": {"value"}}]}`;
  a metric with a breakdown (`follows_and_unfollows` by `follow_type`) is asked on its own with
  `breakdown=` and answers `total_value.breakdowns[0].results[{"dimension_values": [...], "value"}]`;
- `GET /{ig-user-id}/insights?metric=follower_count&period=day&since&until` (time series, the last
  30 days, not today) -> `values[{"value", "end_time"}]`;
- `GET /{ig-user-id}?fields=followers_count` -> the follower count now (for today);
- `GET /{ig-user-id}/media?fields=id,timestamp,media_type,media_product_type,permalink,like_count,
  comments_count&since=<unix>&limit=100` then `GET /{ig-media-id}/insights?metric=<media_insights>`
  (lifetime); `views` of a video or reel also counts as its video views.
The API answers an empty data set, not 0, for a figure it does not have: stored as missing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .config import MetricConfig, MetricMap
from .facebook import day_readings, lifetime_values
from .graph import GraphCaller
from .readings import Reading, count, meta_day_bounds
from .window import PollWindow, chunks

MEDIA_FIELDS = "id,timestamp,media_type,media_product_type,permalink,like_count,comments_count"
VIDEO_MEDIA = frozenset({"VIDEO", "REELS"})


def total_value_readings(reading: Reading, mapping: MetricMap, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        name, total = entry.get("name"), entry.get("total_value")
        if not isinstance(total, dict):
            continue
        if name in mapping.fields:
            reading.add(mapping.fields[name], count(total.get("value")))
        elif name in mapping.breakdowns:
            _, targets = mapping.breakdowns[name]
            for breakdown in total.get("breakdowns") or []:
                for result in (breakdown or {}).get("results") or []:
                    values = result.get("dimension_values") or []
                    if values and values[0] in targets:
                        reading.add(targets[values[0]], count(result.get("value")))
        reading.raw.setdefault("total_value", {})[name] = total


async def poll(graph: GraphCaller, window: PollWindow, config: MetricConfig, refused: set[str]) -> list[Reading]:
    account = graph.account_id
    totals = config("instagram", "account_total_value")
    series = config("instagram", "account_time_series")
    asked = totals.targets | series.targets
    by_day: dict[Any, Reading] = {}
    plain = [m for m in totals.names if m not in totals.breakdowns]
    for day in window.days:
        since, until = meta_day_bounds(day)
        reading = Reading("account_insights", "account", "day", day, account, asked=set(asked))
        params = {"period": "day", "metric_type": "total_value", "since": since, "until": until}
        entries = await graph.insights(f"{account}/insights", params, plain, refused)
        for metric, (dimension, _) in totals.breakdowns.items():
            entries += await graph.insights(f"{account}/insights", {**params, "breakdown": dimension}, [metric], refused)
        total_value_readings(reading, totals, entries)
        by_day[day] = reading
    # the time series fills only what no total_value metric gave for that day
    recent = [d for d in window.days if d >= window.today - timedelta(days=30)]
    for first, last in chunks(recent, 30):
        since, _ = meta_day_bounds(first)
        _, until = meta_day_bounds(last)
        entries = await graph.insights(f"{account}/insights", {"period": "day", "since": since, "until": until},
                                       series.names, refused)
        for extra in day_readings(entries, series, window, account, "account_insights"):
            reading = by_day[extra.day]
            for name, value in extra.values.items():
                if reading.values.get(name) is None:
                    reading.add(name, value)
            reading.raw["time_series"] = extra.raw.get("values")
    readings = [r for r in by_day.values() if r.values]

    user = await graph.get(account, {"fields": "followers_count"})
    followers = Reading("followers", "account", "day", window.today, account, asked={"followers"},
                        raw={"user": {"followers_count": user.get("followers_count")}})
    followers.add("followers", count(user.get("followers_count")))
    readings.append(followers)

    media_map = config("instagram", "media_insights")
    for media_id, published, item in await graph.recent("media", MEDIA_FIELDS, "timestamp", window.posts_since):
        video = item.get("media_type") in VIDEO_MEDIA or item.get("media_product_type") in VIDEO_MEDIA
        reading = Reading("post", "post", "lifetime", window.today, media_id,
                          asked=media_map.targets | ({"video_views"} if video else set()), published_at=published,
                          permalink=item.get("permalink") if isinstance(item.get("permalink"), str) else None,
                          raw={"media": {k: item.get(k) for k in ("id", "timestamp", "media_type", "media_product_type")}})
        entries = await graph.insights(f"{media_id}/insights", {}, media_map.names, refused)
        lifetime_values(reading, media_map, entries)
        if video:
            views = next((e for e in entries if e.get("name") == "views"), None)
            if views and views.get("values"):
                reading.add("video_views", count(views["values"][0].get("value")))
        readings.append(reading)
    return readings
