"""Follow-up of the accounts: monthly KPIs, publishing frequency, quiet accounts, late-Friday posts. Pure.

The definitions (written out for people in docs/sla.md, "Monthly KPIs"):

Sources:
- seeds/001_206af399bca50804.txt, "Mätning och uppföljning": per post "räckvidd (hur många unika
  personer som nås), antal videovisningar, antal länkklick, antal interaktioner (vilket i sig kan
  delas upp i reaktioner, kommentarer, dela eller spara) eller engagemangsgrad (hur stor andel av
  kanalens följare som har engagerat sig i inlägget)"; per channel "räckvidd och interaktion samt
  engagemang månadsvis [...] antalet nya följare".
- seeds/004_36a8872177a81555.txt, "Definiera kommunikationsmål och nyckeltal": Orienterad
  (räckvidd, delningar, klick på länk, minskat antal frågor), Förvissad (engagemangsgrad, mängd och
  kvalité på diskussioner i kommentarsfält), Lyssnad till (en fråga "väl besvarad").
- seeds/000_5bef728e9d0aa8f0.txt: "publiceringsfrekvensen för inlägg [...] bör vara minst ett par
  gånger i veckan. Det skulle vara en fördel om policyn även anger hur konton som över tid har för
  låg publiceringsfrekvens kommer att hanteras" -> `evaluate_publishing`.
- seeds/001_206af399bca50804.txt, "Svara så fort som möjligt": "Undvik att publicera laddat
  innehåll sent på fredagar" -> posts on Friday from 15:00 local time are flagged.

Reach counts people, so it is never added up over days or platforms: a month's reach is the
platform's own monthly figure where it has one (LinkedIn), else the average daily reach, named so.
Interactions, link clicks and video views are counted on the posts published in the month, from
their post-level parts. A figure the platform does not have, or did not give, is missing (None),
never 0, and the report says which.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .calendar import STOCKHOLM

WEEK = timedelta(days=7)

# What each platform offers (docs/platforms.md). A figure outside this is "not on the platform";
# inside it and still None, the platform did not give it for the month ("missing").
PLATFORM_OFFERS: dict[str, frozenset[str]] = {
    "facebook": frozenset({"reach", "reactions", "comments", "shares", "link_clicks", "video_views", "followers",
                           "new_followers", "lost_followers"}),
    "instagram": frozenset({"reach", "reactions", "comments", "shares", "saves", "video_views", "followers",
                            "new_followers", "lost_followers"}),
    "linkedin": frozenset({"reach", "reactions", "comments", "shares", "followers", "new_followers", "page_views"}),
    "x": frozenset({"reactions", "comments", "shares", "saves", "link_clicks", "followers", "new_followers"}),
}
INTERACTION_PARTS = ("reactions", "comments", "shares", "saves")
MONTHLY_REACH = frozenset({"linkedin"})  # platforms with their own unique reach for a whole month
NET_FOLLOWERS = frozenset({"x"})  # platforms that report no follows: new followers are the count's change


# --- publishing frequency (last 7 days) ------------------------------------------------------------


@dataclass(frozen=True)
class PublishingStatus:
    posts_last_7_days: int
    inactive: bool
    inactive_weeks: int  # consecutive 7-day windows, newest first, below the minimum


def publishing_status(
    published: Iterable[datetime],
    now: datetime,
    *,
    min_posts_per_week: int = 2,
    weeks: int = 4,
    active_since: datetime | None = None,
) -> PublishingStatus:
    """Posts in the last 7 days, and for how many 7-day windows in a row the account fell short.

    Windows before `active_since` (the account's start) are not counted against it.
    """
    times = [t for t in published if t <= now]
    counts: list[int] = []
    for week in range(max(weeks, 1)):
        end = now - week * WEEK
        start = end - WEEK
        if active_since is not None and start < active_since:
            break
        counts.append(sum(1 for t in times if start < t <= end))
    last_7 = sum(1 for t in times if now - WEEK < t <= now)
    inactive_weeks = 0
    for count in counts:
        if count >= min_posts_per_week:
            break
        inactive_weeks += 1
    return PublishingStatus(posts_last_7_days=last_7, inactive=last_7 < min_posts_per_week,
                            inactive_weeks=inactive_weeks)


def is_late_friday(published_at: datetime, tz: ZoneInfo = STOCKHOLM, from_time: time = time(15)) -> bool:
    """A post on a Friday from 15:00 local time: comments wait until Monday at the earliest."""
    local = published_at.astimezone(tz)
    return local.weekday() == 4 and local.time() >= from_time


# --- accounts that go quiet ---------------------------------------------------------------------

QuietStatus = Literal["active", "flagged", "escalated"]


@dataclass(frozen=True)
class PublishingState:
    """Where an account stands with "minst ett par gånger i veckan" (kept between evaluations)."""

    status: QuietStatus = "active"
    quiet_since: datetime | None = None  # start of the first quiet period
    flagged_at: datetime | None = None
    escalated_at: datetime | None = None
    cleared_at: datetime | None = None  # its last clearing post: the measurement starts again there
    posts_in_period: int = 0
    last_post_at: datetime | None = None


Notice = Literal["flagged", "escalated", "cleared"]


def evaluate_publishing(state: PublishingState, posts: Sequence[datetime], now: datetime, *,
                        observed_since: datetime, period: timedelta = 4 * WEEK,
                        min_posts_per_week: float = 2.0) -> tuple[PublishingState, list[Notice]]:
    """The account's publishing status now, and the notices the change calls for.

    - A period is quiet when the account published fewer than `min_posts_per_week` a week over it
      (fewer than 8 posts in the default 4 weeks). Only time this service could see counts
      (`observed_since`: when it learned of the account or its earliest known post, whichever is
      first) and, after a flag was cleared, only time since the clearing post.
    - active -> flagged when the last full period was quiet: notice to the department;
    - flagged -> escalated when a second quiet period follows (a whole period more without a post,
      or two quiet periods at once in what was observed): notice to the communication department;
    - flagged or escalated -> active as soon as the account publishes again (any post after the
      flag); the measurement restarts from that post.
    `posts` are the account's publishing times (any order); those before `now - 2 * period` and
    after the flag matter, so the caller may pass only those.
    """
    ordered = sorted(t for t in posts if t <= now)
    last_post = ordered[-1] if ordered else state.last_post_at
    notices: list[Notice] = []
    if state.status != "active" and state.flagged_at is not None:
        after_flag = [t for t in ordered if t > state.flagged_at]
        if after_flag:
            state = PublishingState(status="active", cleared_at=after_flag[0], last_post_at=last_post)
            notices.append("cleared")
    start = max(observed_since, state.cleared_at) if state.cleared_at else observed_since
    threshold = min_posts_per_week * period / WEEK
    quiet_periods, recent = 0, 0
    for k in range(2):
        window_end, window_start = now - k * period, now - (k + 1) * period
        if window_start < start:
            break
        count = sum(1 for t in ordered if window_start < t <= window_end)
        if k == 0:
            recent = count
        if count >= threshold:
            break
        quiet_periods += 1
    state = replace(state, posts_in_period=recent, last_post_at=last_post)
    if state.status == "active" and quiet_periods >= 1:
        state = replace(state, status="flagged", flagged_at=now, quiet_since=now - quiet_periods * period)
        notices.append("flagged")
    if state.status == "flagged" and state.flagged_at is not None and (
            quiet_periods >= 2 or now >= state.flagged_at + period):
        state = replace(state, status="escalated", escalated_at=now)
        notices.append("escalated")
    return state, notices


# --- months -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def month_bounds(month: str, tz: ZoneInfo = STOCKHOLM) -> tuple[datetime, datetime]:
    """'2026-11' -> [first instant, first instant of next month) in local time."""
    first, following = month_days(month)
    return datetime.combine(first, time(0), tz), datetime.combine(following, time(0), tz)


@functools.lru_cache(maxsize=512)
def month_days(month: str) -> tuple[date, date]:
    """'2026-11' -> (1 November, 1 December)."""
    year, number = (int(part) for part in month.split("-"))
    if not (1 <= number <= 12):
        raise ValueError(f"not a month: {month!r}")
    return date(year, number, 1), date(year + number // 12, number % 12 + 1, 1)


def months_back(month: str, count: int) -> list[str]:
    """The `count` months ending with `month`, oldest first."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def local_month(instant: datetime, tz: ZoneInfo = STOCKHOLM) -> str:
    """The month an instant falls in, local time: '2026-11'."""
    return instant.astimezone(tz).strftime("%Y-%m")


@functools.lru_cache(maxsize=512)
def weeks_in(month: str) -> float:
    first, following = month_days(month)
    return (following - first).days / 7


# --- monthly KPIs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformFigures:
    """One account's figures from the platform for one month (aggregated by the store)."""

    reach_days: int = 0  # days with a daily reach figure
    reach_day_sum: int | None = None
    month_reach: int | None = None  # the platform's own monthly unique reach
    followers_end: int | None = None  # the last follower count in the month
    followers_first: int | None = None  # the first follower count in the month
    new_followers: int | None = None  # follows gained, added up over the days
    lost_followers: int | None = None
    page_views: int | None = None
    posts: int = 0  # posts published in the month with figures
    reactions: int | None = None  # the parts, added up over the month's posts
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    link_clicks: int | None = None
    video_views: int | None = None
    post_reach: int | None = None  # reach of the month's posts that have one, added up
    interactions_on_reached_posts: int | None = None  # interactions of those same posts


@dataclass(frozen=True)
class EventFigures:
    """One account's month from our own events (posts, comments, questions, removals)."""

    posts: int = 0
    late_friday_posts: int = 0
    needing_answer: int = 0
    answered: int = 0
    met: int = 0
    breached: int = 0
    cancelled: int = 0
    median_response_working_seconds: float | None = None
    median_response_wall_seconds: float | None = None
    comments: int = 0  # citizens' comments received
    removed: dict[str, int] = field(default_factory=dict)  # reason -> comments the city removed


NO_EVENTS = EventFigures()


@dataclass(frozen=True)
class ChannelKpis:
    platform: str
    account_id: str
    month: str
    reach: float | None
    reach_basis: Literal["month", "daily_average"] | None
    reach_days: int
    interactions: int | None
    interaction_parts: tuple[str, ...]  # which parts the platform gave (a part it lacks is left out)
    engagement_rate: float | None  # interactions / followers
    engagement_rate_by_reach: float | None  # interactions / reach of the month's posts
    followers: int | None
    new_followers: int | None
    new_followers_basis: Literal["gained", "net"] | None
    lost_followers: int | None
    link_clicks: int | None
    video_views: int | None
    page_views: int | None
    posts_with_figures: int
    missing: dict[str, str]  # figure -> "not_on_platform" | "not_given"
    events: EventFigures
    observed_weeks: float = 0.0  # of the month, the weeks this service could see the account publish

    @property
    def observed(self) -> bool:
        return self.observed_weeks > 0

    @property
    def posts_per_week(self) -> float | None:
        """Posts over the weeks of the month that were observed (all of a past month, so far of this
        one, from the first day seen of an account's first month), at least one week: a day's posts
        are not made a week's rate."""
        return self.events.posts / max(self.observed_weeks, 1.0) if self.observed else None

    @property
    def late_friday_posts(self) -> int | None:
        return self.events.late_friday_posts if self.observed else None

    @property
    def response_rate(self) -> float | None:
        return self.events.answered / self.events.needing_answer if self.events.needing_answer else None

    @property
    def compliance(self) -> float | None:
        decided = self.events.met + self.events.breached
        return self.events.met / decided if decided else None

    @property
    def removed(self) -> int:
        return sum(self.events.removed.values())

    @property
    def removed_share(self) -> float | None:
        return self.removed / self.events.comments if self.events.comments else None


def _sum(values: Iterable[int | float | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None  # type: ignore[return-value]


DAY_SUMS = ("new_followers", "lost_followers", "page_views")
POST_SUMS = (*INTERACTION_PARTS, "link_clicks", "video_views", "post_reach", "interactions_on_reached_posts")


def channel_kpis(platform: str, account_id: str, month: str, figures: PlatformFigures | None,
                 events: EventFigures | None = None, followers_before: int | None = None,
                 observed_weeks: float | None = None, days_from: date | None = None,
                 posts_from: datetime | None = None, period_start: datetime | None = None) -> ChannelKpis:
    """One account's month. `followers_before`: its last follower count before the month (X's new
    followers are the difference: X reports no follows). `observed_weeks`: how much of the month
    this service could see the account publish (None: all of it; before that, posts are unknown).
    `days_from` / `posts_from`: since when the platform's days and posts were read; a month that
    began earlier was read in part, so its sums are missing ("partial"), not too small.
    `period_start`: the figures are of another period than the month (the dashboards' last 28 days)."""
    f = figures or PlatformFigures()
    start = period_start or month_bounds(month)[0]
    partial: set[str] = set()
    if days_from is not None and start.astimezone(STOCKHOLM).date() < days_from:
        partial.update(DAY_SUMS)
    if posts_from is not None and start < posts_from:
        partial.update(POST_SUMS)
    if partial:
        f = replace(f, **{name: None for name in partial}, posts=0 if "post_reach" in partial else f.posts)
    if platform in MONTHLY_REACH and f.month_reach is not None:
        reach, basis = float(f.month_reach), "month"
    elif f.reach_days and f.reach_day_sum is not None:
        reach, basis = f.reach_day_sum / f.reach_days, "daily_average"
    else:
        reach, basis = None, None
    part_values = (f.reactions, f.comments, f.shares, f.saves)
    parts = tuple(name for name, value in zip(INTERACTION_PARTS, part_values, strict=True) if value is not None)
    interactions = sum(value for value in part_values if value is not None) if parts else None
    followers = f.followers_end
    if platform not in NET_FOLLOWERS:
        new, new_basis = f.new_followers, "gained" if f.new_followers is not None else None
    elif followers is not None and followers_before is not None:
        new, new_basis = followers - followers_before, "net"
    else:  # no count from before the month: the change over the whole month is unknown
        new, new_basis = None, None
        if followers is not None:
            partial.add("new_followers")
    rate = interactions / followers if interactions is not None and followers else None
    by_reach = (f.interactions_on_reached_posts / f.post_reach
                if f.interactions_on_reached_posts is not None and f.post_reach else None)
    offers = PLATFORM_OFFERS.get(platform, frozenset())
    missing = {}
    for name, value in (("reach", reach), ("interactions", interactions), ("followers", followers),
                        ("new_followers", new), ("lost_followers", f.lost_followers), ("link_clicks", f.link_clicks),
                        ("video_views", f.video_views), ("page_views", f.page_views),
                        *zip(INTERACTION_PARTS, part_values, strict=True)):
        if value is None:
            wanted = not offers.isdisjoint(INTERACTION_PARTS) if name == "interactions" else name in offers
            read_in_part = name in partial or (name == "interactions" and "reactions" in partial)
            missing[name] = "partial" if wanted and read_in_part else "not_given" if wanted else "not_on_platform"
    return ChannelKpis(
        platform=platform, account_id=account_id, month=month, reach=reach, reach_basis=basis,  # type: ignore[arg-type]
        reach_days=f.reach_days, interactions=interactions, interaction_parts=parts, engagement_rate=rate,
        engagement_rate_by_reach=by_reach, followers=followers, new_followers=new,
        new_followers_basis=new_basis,  # type: ignore[arg-type]
        lost_followers=f.lost_followers, link_clicks=f.link_clicks, video_views=f.video_views,
        page_views=f.page_views, posts_with_figures=f.posts, missing=missing, events=events or NO_EVENTS,
        observed_weeks=weeks_in(month) if observed_weeks is None else observed_weeks,
    )


@dataclass(frozen=True)
class PlatformReach:
    value: float
    basis: str  # "month" or "daily_average" (of each account; added up over the group's accounts)
    accounts: int


@dataclass(frozen=True)
class GroupKpis:
    """A department's or the city's month: counts added up, rates over the added-up parts, reach
    kept per platform, the median response time over all of the group's items."""

    month: str
    accounts: int
    reach_by_platform: dict[str, PlatformReach]
    interactions: int | None
    engagement_rate: float | None
    engagement_rate_by_reach: float | None
    followers: int | None
    new_followers: int | None
    link_clicks: int | None
    video_views: int | None
    posts: int
    late_friday_posts: int | None
    observed_weeks: float  # the accounts' weeks of publishing seen in the month, added up
    needing_answer: int
    answered: int
    met: int
    breached: int
    median_response_working_seconds: float | None
    comments: int
    removed: dict[str, int]
    reporting: dict[str, int] = field(default_factory=dict)  # figure -> accounts that have it

    @property
    def posts_per_week_per_account(self) -> float | None:
        """The group's posts over its accounts' observed weeks: an account's average week."""
        return self.posts / max(self.observed_weeks, 1.0) if self.observed_weeks > 0 else None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.needing_answer if self.needing_answer else None

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None

    @property
    def removed_share(self) -> float | None:
        return sum(self.removed.values()) / self.comments if self.comments else None


def group_kpis(month: str, channels: Sequence[ChannelKpis], median_working_seconds: float | None = None,
               post_reach: int | None = None, interactions_on_reached_posts: int | None = None) -> GroupKpis:
    """Roll accounts up. The median cannot be rolled up from the accounts' medians: the store passes
    the group's own (`median_working_seconds`); without it the accounts' medians' median is used.
    `post_reach` / `interactions_on_reached_posts`: the group's sums behind the rate by reach."""
    reach: dict[str, list[tuple[float, str]]] = {}
    for c in channels:
        if c.reach is not None and c.reach_basis is not None:
            reach.setdefault(c.platform, []).append((c.reach, c.reach_basis))
    by_platform = {}
    for platform, values in sorted(reach.items()):
        bases = {b for _, b in values}
        by_platform[platform] = PlatformReach(sum(v for v, _ in values), bases.pop() if len(bases) == 1 else "mixed",
                                              len(values))
    with_followers = [c for c in channels if c.interactions is not None and c.followers]
    rate = (sum(c.interactions for c in with_followers) / sum(c.followers for c in with_followers)  # type: ignore[misc]
            if with_followers else None)
    removed: dict[str, int] = {}
    for c in channels:
        for reason, n in c.events.removed.items():
            removed[reason] = removed.get(reason, 0) + n
    observed = [c for c in channels if c.observed]
    if median_working_seconds is None:
        medians = [c.events.median_response_working_seconds for c in channels
                   if c.events.median_response_working_seconds is not None]
        median_working_seconds = statistics.median(medians) if medians else None
    return GroupKpis(
        month=month, accounts=len(channels), reach_by_platform=by_platform,
        interactions=_sum(c.interactions for c in channels), engagement_rate=rate,
        engagement_rate_by_reach=(interactions_on_reached_posts / post_reach
                                  if interactions_on_reached_posts is not None and post_reach else None),
        followers=_sum(c.followers for c in channels), new_followers=_sum(c.new_followers for c in channels),
        link_clicks=_sum(c.link_clicks for c in channels), video_views=_sum(c.video_views for c in channels),
        posts=sum(c.events.posts for c in observed),
        late_friday_posts=sum(c.events.late_friday_posts for c in observed) if observed else None,
        observed_weeks=sum(c.observed_weeks for c in observed),
        needing_answer=sum(c.events.needing_answer for c in channels), answered=sum(c.events.answered for c in channels),
        met=sum(c.events.met for c in channels), breached=sum(c.events.breached for c in channels),
        median_response_working_seconds=median_working_seconds, comments=sum(c.events.comments for c in channels),
        removed=removed,
        reporting={name: sum(1 for c in channels if getattr(c, name) is not None)
                   for name in ("followers", "new_followers", "interactions", "reach")},
    )


# Why comments were removed, in the guideline's words (seeds/001, "Riktlinjer vid hantering av
# kommentarer"), from the acting rule of the moderation decision.
REMOVAL_REASONS = (
    ("abuse.threat", "hot"),
    ("abuse.personal_attack", "personliga påhopp"),
    ("abuse.hate", "rasism och hat"),
    ("abuse", "kränkningar"),
    ("personal_data", "personuppgifter"),
    ("links", "vilseledande länkar"),
    ("spam", "spam och upprepade inlägg"),
)
REMOVED_BY_EDITOR = "borttagen av redaktör"
OTHER_REASON = "annat"


def removal_reason(rule: str | None) -> str:
    """The reason people read for a removed comment's acting rule (None: removed in the platform)."""
    if not rule:
        return REMOVED_BY_EDITOR
    for prefix, label in REMOVAL_REASONS:
        if rule == prefix or rule.startswith(prefix + "."):
            return label
    return OTHER_REASON
