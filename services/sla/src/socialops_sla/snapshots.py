"""Metric snapshots of one consumed batch as rows for the store. Pure.

The insights poller sends one snapshot per metric set, account (or post) and day, and a new
version whenever the platform revises a figure. Rows are keyed by what they are about (account and
day, account and month, post), so several metric sets of one day become one row, and a later
version of a figure replaces the earlier one while a figure a version lacks leaves the known one
in place (the store applies the same rule against what it already has). Snapshots without a level
or day (the Instagram story webhook's) are not KPI figures: `add` says so.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from socialops_common.events import SocialEvent

from .followup import is_late_friday, local_month
from .store import DAY_FIGURES, POST_FIGURES


class SnapshotRows:
    def __init__(self) -> None:
        self._days: dict[tuple[str, str, date], dict[str, Any]] = {}
        self._months: dict[tuple[str, str, date], dict[str, Any]] = {}
        self._posts: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._published: dict[tuple[str, str, str], tuple[str, datetime]] = {}

    @staticmethod
    def _merge(row: dict[str, Any], values: dict[str, Any], received: datetime, order: tuple) -> None:
        newer = order >= row.get("_order", order)
        for name, value in values.items():
            if value is not None and (newer or row.get(name) is None):
                row[name] = value
        if newer:
            row["_order"], row["updated_at"] = order, received

    def add(self, event: SocialEvent) -> bool:
        m = event.metrics
        if m is None or m.level is None or m.day is None:
            return False
        platform, account = event.platform.value, event.account_id
        if m.level == "account" and m.period == "day":
            row = self._days.setdefault((platform, account, m.day), {})
            self._merge(row, {f: getattr(m, f) for f in DAY_FIGURES}, event.received_at, (event.received_at,))
        elif m.level == "account" and m.period == "month":
            row = self._months.setdefault((platform, account, m.day.replace(day=1)), {})
            self._merge(row, {"reach": m.reach}, event.received_at, (event.received_at,))
        elif m.level == "post" and m.published_at is not None:
            key = (platform, account, event.item_id)
            row = self._posts.setdefault(key, {})
            self._merge(row, {"published_at": m.published_at, "as_of": m.day, **{f: getattr(m, f) for f in POST_FIGURES}},
                        event.received_at, (m.day, event.received_at))
            self._published.setdefault(key, (event.event_id, m.published_at))
        else:
            return False
        return True

    def day_rows(self) -> list[tuple]:
        return [(p, a, d, *(row.get(f) for f in DAY_FIGURES), row["updated_at"])
                for (p, a, d), row in self._days.items()]

    def month_rows(self) -> list[tuple]:
        return [(p, a, d, row.get("reach"), row["updated_at"]) for (p, a, d), row in self._months.items()]

    def post_rows(self) -> list[tuple]:
        return [(p, a, post, row["published_at"], row["as_of"], *(row.get(f) for f in POST_FIGURES), row["updated_at"])
                for (p, a, post), row in self._posts.items()]

    def day_months(self) -> set[tuple[str, str, str]]:
        """(platform, account, month) of the days this batch changed: their monthly sums are stale."""
        return {(p, a, d.strftime("%Y-%m")) for p, a, d in self._days}

    def post_months(self) -> set[tuple[str, str, str]]:
        """(platform, account, month published, Stockholm time) of the posts this batch changed."""
        return {(p, a, local_month(row["published_at"])) for (p, a, _), row in self._posts.items()}

    def posts(self) -> list[tuple]:
        """The posts the platforms listed, for publishing frequency: (platform, account, item, event id,
        published at, late Friday), as `SlaStore.save_posts` takes them (a post we already know stays)."""
        return [(p, a, post, event_id, at, is_late_friday(at))
                for (p, a, post), (event_id, at) in self._published.items()]
