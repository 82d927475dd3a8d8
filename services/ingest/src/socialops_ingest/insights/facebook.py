"""Facebook Page insights (Graph API reference "Page Insights", "Page Post"; Pages API).

- `GET /{page-id}/insights?metric=<page_insights>&period=day&since=<YYYY-MM-DD>&until=<YYYY-MM-DD>`
  (at most 90 days per request) -> `{"data": [{"name", "period": "day", "values": [{"value",
  "end_time"}], "title", "description", "id"}], "paging": {...}}`; a value belongs to the day its
  end_time closes (Pacific time).
- `GET /{page-id}/posts?fields=id,created_time,permalink_url,shares,reactions.summary(total_count)
  .limit(0),comments.summary(total_count).limit(0)&since=<unix>&limit=100` (paged by `paging.next`)
  -> reactions, comments and shares of each recent post;
- `GET /{post-id}/insights?metric=<post_insights>` -> lifetime values (`values[0].value`, an object
  for `post_clicks_by_type`).
Which metric fills which field is `metrics.yaml` (facebook.page_insights / post_insights).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .config import MetricConfig, MetricMap
from .graph import GraphCaller
from .readings import Reading, count, meta_day
from .window import PollWindow, chunks

POST_FIELDS = ("id,created_time,permalink_url,shares,reactions.summary(total_count).limit(0),"
               "comments.summary(total_count).limit(0)")


def apply_insight(reading: Reading, mapping: MetricMap, entry: dict[str, Any], value: Any) -> None:
    name = entry.get("name")
    if name in mapping.fields:
        reading.add(mapping.fields[name], count(value))
    elif name in mapping.keyed and isinstance(value, dict):
        for key, target in mapping.keyed[name].items():
            reading.add(target, count(value.get(key)))


def day_readings(entries: list[dict[str, Any]], mapping: MetricMap, window: PollWindow, account_id: str,
                 metric_set: str) -> list[Reading]:
    """Page insights entries -> one reading per day of the window that has any value."""
    days = set(window.days)
    readings: dict[Any, Reading] = {}
    for entry in entries:
        if entry.get("period") != "day":
            continue
        for point in entry.get("values") or []:
            day = meta_day(point.get("end_time")) if isinstance(point, dict) else None
            if day not in days:
                continue
            reading = readings.setdefault(day, Reading(metric_set, "account", "day", day, account_id,
                                                       asked=set(mapping.targets)))
            apply_insight(reading, mapping, entry, point.get("value"))
            reading.raw.setdefault("values", {})[entry.get("name")] = point.get("value")
    return [r for r in readings.values() if r.values]


def lifetime_values(reading: Reading, mapping: MetricMap, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        values = entry.get("values") or []
        if values and isinstance(values[0], dict):
            apply_insight(reading, mapping, entry, values[0].get("value"))
            reading.raw.setdefault("insights", {})[entry.get("name")] = values[0].get("value")


async def poll(graph: GraphCaller, window: PollWindow, config: MetricConfig, refused: set[str]) -> list[Reading]:
    page_map = config("facebook", "page_insights")
    readings: list[Reading] = []
    for first, last in chunks(window.days, 90):
        until = last + timedelta(days=1)
        entries = await graph.insights(f"{graph.account_id}/insights",
                                       {"period": "day", "since": first.isoformat(), "until": until.isoformat()},
                                       page_map.names, refused)
        readings += day_readings(entries, page_map, window, graph.account_id, "page_insights")

    post_map = config("facebook", "post_insights")
    for post_id, published, post in await graph.recent("posts", POST_FIELDS, "created_time", window.posts_since):
        reading = Reading("post", "post", "lifetime", window.today, post_id,
                          asked={"reactions", "comments", "shares", *post_map.targets}, published_at=published,
                          permalink=post.get("permalink_url") if isinstance(post.get("permalink_url"), str) else None)
        reading.add("reactions", count(((post.get("reactions") or {}).get("summary") or {}).get("total_count")))
        reading.add("comments", count(((post.get("comments") or {}).get("summary") or {}).get("total_count")))
        reading.add("shares", count((post.get("shares") or {}).get("count")))
        reading.raw["post"] = {k: post.get(k) for k in ("id", "created_time", "shares", "reactions", "comments")}
        lifetime_values(reading, post_map, await graph.insights(f"{post_id}/insights", {}, post_map.names, refused))
        readings.append(reading)
    return readings
