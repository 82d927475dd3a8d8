"""The monthly report's data: for a month and an account, a department or the city, the KPIs of the
month and of the twelve before it (the trends), who was not polled and who has gone quiet.

`load_figures` asks the store for the months' aggregates (a handful of grouped queries, whatever the
number of accounts); everything after it is pure: `report_data` applies the definitions of
`followup.py` and rolls accounts up; `report_json` is what `GET /reports/monthly` answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from socialops_common.events import AccountRecord, AccountStatus

from .followup import (
    ChannelKpis,
    EventFigures,
    GroupKpis,
    PlatformFigures,
    PublishingState,
    channel_kpis,
    group_kpis,
    local_month,
    month_bounds,
    months_back,
    removal_reason,
)
from .store import AccountKeys, SlaStore

TREND_MONTHS = 13
CITY = "Hela staden"
AccountKey = tuple[str, str]  # (platform, external_id)


@dataclass(frozen=True)
class Scope:
    kind: Literal["account", "department", "city"]
    name: str
    accounts: tuple[AccountRecord, ...]

    @property
    def keys(self) -> AccountKeys:
        return None if self.kind == "city" else [(a.platform.value, a.external_id) for a in self.accounts]


class UnknownScope(LookupError):
    pass


def scope_for(accounts: Iterable[AccountRecord], *, account: str | None = None,
              department: str | None = None) -> Scope:
    """`account` is "platform:external_id" (or an external id alone); `department` its name."""
    records = list(accounts)
    if account:
        platform, _, external = account.partition(":") if ":" in account else ("", "", account)
        found = [a for a in records if a.external_id == (external if platform else account)
                 and (not platform or a.platform.value == platform)]
        if not found:
            raise UnknownScope(f"no account {account!r} in the inventory")
        record = found[0]
        return Scope("account", f"{record.name} ({record.platform.value})", (record,))
    if department:
        found = [a for a in records if a.department == department and a.status is AccountStatus.ACTIVE]
        if not found:
            raise UnknownScope(f"no active account of department {department!r}")
        return Scope("department", department, tuple(found))
    return Scope("city", CITY, tuple(a for a in records if a.status is AccountStatus.ACTIVE))


@dataclass
class Figures:
    """The months' aggregates, keyed (platform, account, month)."""

    platform: dict[tuple[str, str, str], PlatformFigures] = field(default_factory=dict)
    events: dict[tuple[str, str, str], EventFigures] = field(default_factory=dict)
    medians: dict[tuple[str, str], float] = field(default_factory=dict)  # (level name, month); city: CITY
    unlisted: set[AccountKey] = field(default_factory=set)  # accounts with figures, outside the scope given


def _value(row: Any, name: str) -> int | None:
    value = row[name]
    return int(value) if value is not None else None


def day_sums(r: Any) -> dict[str, Any]:
    """A row of `store.DAY_SUMS` as `PlatformFigures` fields."""
    return dict(reach_days=r["reach_days"], reach_day_sum=_value(r, "reach_sum"),
                followers_end=_value(r, "followers_end"), followers_first=_value(r, "followers_first"),
                new_followers=_value(r, "new_followers"), lost_followers=_value(r, "lost_followers"),
                page_views=_value(r, "page_views"))


def post_sums(r: Any) -> dict[str, Any]:
    """A row of `store.POST_SUMS` as `PlatformFigures` fields."""
    return dict(posts=r["posts"], interactions_on_reached_posts=_value(r, "interactions_on_reached"),
                **{name: _value(r, name) for name in ("reactions", "comments", "shares", "saves", "link_clicks",
                                                       "video_views", "post_reach")})


def own_post_sums(r: Any) -> dict[str, Any]:
    """A row of `store.OWN_POST_SUMS` as `EventFigures` fields."""
    return dict(posts=r["posts"], late_friday_posts=r["late_friday"])


async def recent_kpis(store: SlaStore, accounts: Iterable[tuple[str, str]], now: datetime,
                      polling: dict[AccountKey, PollView], days: int = 28) -> list[ChannelKpis]:
    """Each account's KPIs over the last `days` days (the dashboards: a calendar month has no
    complete day yet on its first), by the monthly definitions. Reach is the daily average."""
    since = now - timedelta(days=days)
    sums = await store.recent_sums(since, now)
    platform: dict[AccountKey, dict[str, Any]] = {}
    for r in sums["days"]:
        platform.setdefault((r["platform"], r["account_id"]), {}).update(day_sums(r))
    for r in sums["posts"]:
        platform.setdefault((r["platform"], r["account_id"]), {}).update(post_sums(r))
    own = {(r["platform"], r["account_id"]): EventFigures(**own_post_sums(r)) for r in sums["own_posts"]}
    month = local_month(now)
    out = []
    for key in accounts:
        figures = PlatformFigures(**platform[key]) if key in platform else None
        poll = polling.get(key)
        out.append(channel_kpis(key[0], key[1], month, figures, own.get(key),
                                followers_before=figures.followers_first if figures else None,
                                observed_weeks=days / 7, period_start=since,
                                days_from=poll.covered_since if poll else None,
                                posts_from=poll.posts_covered_since if poll else None))
    return out


async def load_figures(store: SlaStore, months: Sequence[str], keys: AccountKeys = None) -> Figures:
    """The aggregates of `months` (give `report_data` one month more than it shows: the baseline)."""
    async def query(method: Any) -> list[Any]:
        async with store.report_connection() as db:
            return await method(months, keys, db=db)

    # six grouped queries, each on a connection of its own: PostgreSQL runs them side by side
    days, monthly, post_figures, own_posts, outcomes, comments = await asyncio.gather(*(query(m) for m in (
        store.day_figures_by_month, store.month_figures, store.post_figures_by_month, store.posts_by_month,
        store.outcomes_by_month, store.comments_by_month)))
    platform: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in days:
        platform.setdefault((r["platform"], r["account_id"], r["label"]), {}).update(day_sums(r))
    for r in monthly:
        platform.setdefault((r["platform"], r["account_id"], r["label"]), {})["month_reach"] = _value(r, "reach")
    for r in post_figures:
        platform.setdefault((r["platform"], r["account_id"], r["label"]), {}).update(post_sums(r))
    events: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in own_posts:
        events.setdefault((r["platform"], r["account_id"], r["label"]), {}).update(own_post_sums(r))
    medians: dict[tuple[str, str], float] = {}
    for r in outcomes:
        if r["level"] == "account":
            events.setdefault((r["platform"], r["account_id"], r["label"]), {}).update(
                needing_answer=r["needing_answer"], answered=r["answered"], met=r["met"], breached=r["breached"],
                cancelled=r["cancelled"], median_response_working_seconds=r["median_working_seconds"],
                median_response_wall_seconds=r["median_wall_seconds"])
        elif r["median_working_seconds"] is not None:
            name = CITY if r["level"] == "city" else r["owner"]
            if name is not None:
                medians[(name, r["label"])] = float(r["median_working_seconds"])
    for r in comments:
        entry = events.setdefault((r["platform"], r["account_id"], r["label"]), {})
        entry["comments"] = entry.get("comments", 0) + r["n"]
        if r["removed"]:
            removed = entry.setdefault("removed", {})
            reason = removal_reason(r["rule"])
            removed[reason] = removed.get(reason, 0) + r["n"]
    return Figures({k: PlatformFigures(**v) for k, v in platform.items()},
                   {k: EventFigures(**v) for k, v in events.items()}, medians)


@dataclass(frozen=True)
class PollView:
    state: str
    detail: str | None = None
    last_success_at: Any = None
    covered_since: date | None = None  # the first platform day read
    posts_covered_since: datetime | None = None  # the oldest posts read


@dataclass
class ReportData:
    month: str
    months: list[str]
    scope: Scope
    channels: list[ChannelKpis]  # the month, one per account of the scope
    trend: list[GroupKpis]  # the scope's months, oldest first (the last is `month`)
    departments: list[tuple[str, GroupKpis]]  # the city report: each department's month
    accounts: dict[AccountKey, AccountRecord]
    polling: dict[AccountKey, PollView]
    publishing: dict[AccountKey, PublishingState]
    names: dict[AccountKey, AccountRecord] = field(default_factory=dict)  # also accounts outside the scope
    channel_trends: dict[AccountKey, list[ChannelKpis]] = field(default_factory=dict)

    @property
    def summary(self) -> GroupKpis:
        return self.trend[-1]

    @property
    def previous(self) -> GroupKpis | None:
        return self.trend[-2] if len(self.trend) > 1 else None

    def not_polled(self) -> list[tuple[AccountRecord, PollView]]:
        return [(self.accounts[k], v) for k, v in sorted(self.polling.items())
                if k in self.accounts and v.state != "ok"] + [
            (record, PollView("no_status", "the poller has never reported on this account"))
            for k, record in sorted(self.accounts.items()) if k not in self.polling]

    def quiet(self) -> list[tuple[AccountRecord, PublishingState]]:
        return [(self.accounts[k], s) for k, s in sorted(self.publishing.items())
                if k in self.accounts and s.status != "active"]


def report_data(month: str, scope: Scope, figures: Figures, *, polling: dict[AccountKey, PollView] | None = None,
                publishing: dict[AccountKey, PublishingState] | None = None, months: int = TREND_MONTHS,
                inventory: dict[AccountKey, AccountRecord] | None = None,
                observed_since: dict[AccountKey, datetime] | None = None, now: datetime | None = None) -> ReportData:
    """The KPIs by the definitions of `followup.py`, for the scope's accounts over `months` months.

    The city counts every account with figures in the months too (a closed or unlisted account
    still counted while it published); `inventory` names them. `observed_since`: since when each
    account's publishing is known (`SlaStore.observed_since`): posts a week are counted over the
    weeks observed (none before it, the part until `now` of the month in progress)."""
    span = months_back(month, months)
    baseline = months_back(month, months + 1)[0]  # X's new followers in the first month need the count before it
    keys = [(a.platform.value, a.external_id) for a in scope.accounts]
    if scope.kind == "city":  # accounts with figures but outside the inventory count for the city too
        known = set(keys)
        keys += sorted({(p, a) for p, a, _ in (*figures.platform, *figures.events)} - known)
    trends: dict[AccountKey, list[ChannelKpis]] = {}
    for key in keys:
        series, before = [], None
        since = (observed_since or {}).get(key)
        poll = (polling or {}).get(key)
        for m in [baseline, *span]:
            f = figures.platform.get((*key, m))
            kpis = channel_kpis(key[0], key[1], m, f, figures.events.get((*key, m)), followers_before=before,
                                observed_weeks=observed_weeks(m, since, now),
                                days_from=poll.covered_since if poll else None,
                                posts_from=poll.posts_covered_since if poll else None)
            before = kpis.followers if kpis.followers is not None else before
            series.append(kpis)
        trends[key] = series[1:]

    def group(name: str, members: Sequence[AccountKey], index: int) -> GroupKpis:
        m = span[index]
        channels = [trends[k][index] for k in members]
        plat = [figures.platform.get((*k, m)) for k, c in zip(members, channels, strict=True)
                if c.engagement_rate_by_reach is not None]  # not a month read in part
        reached = [p for p in plat if p is not None and p.post_reach]
        return group_kpis(m, channels, figures.medians.get((name, m)),
                          post_reach=sum(p.post_reach for p in reached) if reached else None,  # type: ignore[misc]
                          interactions_on_reached_posts=sum(p.interactions_on_reached_posts or 0 for p in reached)
                          if reached else None)

    name = CITY if scope.kind == "city" else scope.name
    trend = [group(name, keys, i) if scope.kind != "account" else _single(trends[keys[0]][i], figures)
             for i in range(len(span))]
    departments: list[tuple[str, GroupKpis]] = []
    if scope.kind == "city":
        by_department: dict[str, list[AccountKey]] = {}
        for record in scope.accounts:
            by_department.setdefault(record.department, []).append((record.platform.value, record.external_id))
        departments = [(d, group(d, members, len(span) - 1)) for d, members in sorted(by_department.items())]
    accounts = {(a.platform.value, a.external_id): a for a in scope.accounts}
    named = {**(inventory or {}), **accounts}
    return ReportData(
        month=month, months=span, scope=scope, channels=[trends[k][-1] for k in keys], trend=trend,
        departments=departments, accounts=accounts, names=named,
        polling={k: v for k, v in (polling or {}).items() if k in accounts},
        publishing={k: v for k, v in (publishing or {}).items() if k in accounts}, channel_trends=trends)


def observed_weeks(month: str, since: datetime | None, now: datetime | None) -> float | None:
    """The weeks of `month` between `since` (when the account's publishing became visible) and `now`
    (None: the whole month)."""
    start, end = month_bounds(month)
    if (since is None or since <= start) and (now is None or now >= end):
        return None
    start = max(start, since) if since else start
    end = min(end, now) if now else end
    return max(0.0, (end - start).total_seconds() / (7 * 86400))


def _single(channel: ChannelKpis, figures: Figures) -> GroupKpis:
    f = figures.platform.get((channel.platform, channel.account_id, channel.month))
    if channel.engagement_rate_by_reach is None:
        f = None
    return group_kpis(channel.month, [channel], channel.events.median_response_working_seconds,
                      post_reach=f.post_reach if f else None,
                      interactions_on_reached_posts=f.interactions_on_reached_posts if f else None)


# --- JSON (GET /reports/monthly) ---------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def channel_json(c: ChannelKpis, record: AccountRecord | None, poll: PollView | None,
                 publishing: PublishingState | None) -> dict[str, Any]:
    e = c.events
    return {
        "platform": c.platform, "account_id": c.account_id, "name": record.name if record else None,
        "department": record.department if record else None,
        "reach": c.reach, "reach_basis": c.reach_basis, "reach_days": c.reach_days,
        "interactions": c.interactions, "interaction_parts": list(c.interaction_parts),
        "engagement_rate": c.engagement_rate, "engagement_rate_base": "followers",
        "engagement_rate_by_reach": c.engagement_rate_by_reach,
        "followers": c.followers, "new_followers": c.new_followers, "new_followers_basis": c.new_followers_basis,
        "lost_followers": c.lost_followers, "link_clicks": c.link_clicks, "video_views": c.video_views,
        "page_views": c.page_views, "posts_with_figures": c.posts_with_figures, "missing": c.missing,
        "posts": e.posts if c.observed else None, "observed_weeks": round(c.observed_weeks, 2),
        "posts_per_week": round(c.posts_per_week, 2) if c.posts_per_week is not None else None,
        "late_friday_posts": c.late_friday_posts,
        "items_needing_answer": e.needing_answer, "answered": e.answered, "met": e.met, "breached": e.breached,
        "cancelled": e.cancelled, "response_rate": c.response_rate, "compliance": c.compliance,
        "median_response_working_seconds": e.median_response_working_seconds,
        "median_response_wall_seconds": e.median_response_wall_seconds,
        "comments": e.comments, "removed": c.removed, "removed_share": c.removed_share, "removal_reasons": e.removed,
        "insights": {"state": poll.state, "detail": poll.detail, "last_success_at": _iso(poll.last_success_at)}
        if poll else {"state": "no_status", "detail": None, "last_success_at": None},
        "publishing": {"status": publishing.status, "flagged_at": _iso(publishing.flagged_at),
                       "escalated_at": _iso(publishing.escalated_at), "posts_in_period": publishing.posts_in_period}
        if publishing else None,
    }


def group_json(g: GroupKpis) -> dict[str, Any]:
    return {
        "accounts": g.accounts,
        "reach_by_platform": {p: {"value": r.value, "basis": r.basis, "accounts": r.accounts}
                              for p, r in g.reach_by_platform.items()},
        "interactions": g.interactions, "engagement_rate": g.engagement_rate, "engagement_rate_base": "followers",
        "engagement_rate_by_reach": g.engagement_rate_by_reach, "followers": g.followers,
        "new_followers": g.new_followers, "link_clicks": g.link_clicks, "video_views": g.video_views,
        "posts": g.posts if g.observed_weeks else None,
        "posts_per_week_per_account": round(g.posts_per_week_per_account, 2)
        if g.posts_per_week_per_account is not None else None,
        "late_friday_posts": g.late_friday_posts,
        "items_needing_answer": g.needing_answer, "answered": g.answered, "met": g.met, "breached": g.breached,
        "response_rate": g.response_rate, "compliance": g.compliance,
        "median_response_working_seconds": g.median_response_working_seconds,
        "comments": g.comments, "removed": sum(g.removed.values()), "removed_share": g.removed_share,
        "removal_reasons": g.removed,
    }


def report_json(data: ReportData) -> dict[str, Any]:
    start, _ = month_bounds(data.month)
    channels = sorted(data.channels, key=lambda c: (c.platform, c.account_id))
    out: dict[str, Any] = {
        "month": data.month, "timezone": str(start.tzinfo),
        "scope": {"kind": data.scope.kind, "name": data.scope.name},
        "channels": [channel_json(c, data.names.get((c.platform, c.account_id)),
                                  data.polling.get((c.platform, c.account_id)),
                                  data.publishing.get((c.platform, c.account_id))) for c in channels],
        "summary": group_json(data.summary),
        "trend": [{"month": g.month, **group_json(g)} for g in data.trend],
        "departments": [{"department": name, **group_json(g)} for name, g in data.departments],
        "not_polled": [{"platform": r.platform.value, "account_id": r.external_id, "name": r.name,
                        "state": v.state, "detail": v.detail} for r, v in data.not_polled()],
    }
    return out
