"""Scheduled account captures, per the Stockholm city archive's guidance.

Seed 000 (Stockholm, comments on the social-media policy, "arkivering"): each account is archived
at least once a year and always before it is closed, at the level set for it — *översiktsbild*
(overview: profile, name, layout), *unik information* (every post in full with its comments, plus
the overview) or *fullständig arkivering* (everything, DMs included) — and the files are
registered, typically in one collection case per year, and delivered to the e-archive.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import structlog

from .export.worker import ExportWorker
from .snapshot import render_pdf
from .store import registration_number

log = structlog.get_logger("archive.capture")


@dataclass(frozen=True)
class CapturePlan:
    platform: str
    account_id: str
    reason: str  # "yearly" | "closure"
    year: int
    level: str
    period_from: datetime
    period_to: datetime

    @property
    def wants_package(self) -> bool:
        return self.level in ("unique", "full")

    @property
    def includes_direct_messages(self) -> bool:
        return self.level == "full"


def _year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


def captures_due(accounts: list[dict[str, Any]], done: set[tuple[str, str, str, int]], now: datetime,
                 first_year: int | None = None) -> list[CapturePlan]:
    """What should be captured now: last year's capture of every account that existed then (once
    the year is over), and a closure capture of every closed account (once)."""
    plans: list[CapturePlan] = []
    last_year = now.year - 1
    for a in accounts:
        key = (a["platform"], a["external_id"])
        start: date | None = a.get("start_date")
        closed: date | None = a.get("closed_date")
        existed_last_year = (start is None or start.year <= last_year) and (closed is None or closed.year >= last_year)
        if (first_year is None or last_year >= first_year) and existed_last_year \
                and (*key, "yearly", last_year) not in done:
            plans.append(CapturePlan(*key, "yearly", last_year, a["archive_level"], _year_start(last_year),
                                     _year_start(now.year)))
        if a["status"] == "closed":
            year = closed.year if closed else now.year
            if (*key, "closure", year) not in done:
                plans.append(CapturePlan(*key, "closure", year, a["archive_level"], _year_start(year), now))
    return plans


@dataclass(frozen=True)
class AccountOverview:
    """The overview snapshot (översiktsbild) of one account, as the archive knows it."""

    plan: CapturePlan
    name: str
    department: str
    status: str
    start_date: date | None
    closed_date: date | None
    editors: list[str]
    collection_case: str
    counts: dict[str, int] = field(default_factory=dict)
    latest_posts: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Översiktsbild: {self.name} ({self.plan.platform}) {self.plan.year}"

    @property
    def subject(self) -> str:
        return f"Arkivering av konto {self.plan.account_id}, samlingsärende {self.collection_case}"

    @property
    def keywords(self) -> list[str]:
        return ["allmän handling", "arkivering", self.collection_case]

    def lines(self) -> list[tuple[str, str]]:
        level = {"overview": "översiktsbild", "unique": "unik information",
                 "full": "fullständig arkivering"}[self.plan.level]
        reason = "årlig arkivering" if self.plan.reason == "yearly" else "arkivering vid nedläggning"
        out = [("title", self.title),
               ("meta", f"Samlingsärende: {self.collection_case}   Skäl: {reason}   Nivå: {level}"),
               ("meta", f"Period: {self.plan.period_from:%Y-%m-%d} – {self.plan.period_to:%Y-%m-%d}"),
               ("gap", ""),
               ("heading", "Konto"),
               ("body", f"Namn: {self.name}"),
               ("body", f"Plattform: {self.plan.platform}   Id: {self.plan.account_id}"),
               ("body", f"Förvaltning: {self.department}"),
               ("body", f"Status: {'nedlagt' if self.status == 'closed' else 'aktivt'}"
                        f"   Startat: {self.start_date or 'okänt'}   Nedlagt: {self.closed_date or '–'}"),
               ("body", f"Redaktörer: {', '.join(self.editors) or 'inga angivna'}"),
               ("gap", ""),
               ("heading", "Innehåll i arkivet under perioden")]
        out += [("body", f"{kind}: {count}") for kind, count in sorted(self.counts.items())] or [("body", "inget")]
        if self.latest_posts:
            out += [("gap", ""), ("heading", "Senaste inlägg")]
            out += [("body", f"{at:%Y-%m-%d} {text[:100]}") for at, text in self.latest_posts]
        return out


class AccountCapturer:
    def __init__(self, pool: asyncpg.Pool, exports: ExportWorker, series: str) -> None:
        self.pool = pool
        self.exports = exports
        self.series = series

    async def run_once(self, now: datetime | None = None) -> list[CapturePlan]:
        now = now or datetime.now(UTC)
        accounts = [dict(r) for r in await self.pool.fetch("SELECT * FROM account")]
        for a in accounts:  # start/closed dates and editors live in the inventory record
            record = json.loads(a["record"])
            a["start_date"] = date.fromisoformat(record["start_date"]) if record.get("start_date") else None
            a["editors"] = record.get("editors", [])
        done = {(r["platform"], r["account_id"], r["reason"], r["year"])
                for r in await self.pool.fetch("SELECT platform, account_id, reason, year FROM account_capture")}
        first = await self.pool.fetchval("SELECT min(first_occurred_at) FROM item")
        plans = captures_due(accounts, done, now, first.year if first else None)
        by_key = {(a["platform"], a["external_id"]): a for a in accounts}
        for plan in plans:
            await self.capture(plan, by_key[(plan.platform, plan.account_id)], now)
        return plans

    async def run(self, interval_s: float = 3600.0) -> None:
        """Check hourly: a year's captures start right after New Year, a closure's right after it."""
        while True:
            try:
                await self.run_once()
            except Exception as error:  # the next pass tries again; nothing is marked done
                log.error("capture pass failed", error=repr(error))
            await asyncio.sleep(interval_s)

    async def collection_case(self, connection: asyncpg.Connection, year: int) -> str:
        """The year's collection case, opened (with a number from the series) on first use."""
        existing = await connection.fetchval("SELECT number FROM collection_case WHERE year = $1", year)
        if existing:
            return existing
        sequence = await connection.fetchval(
            "INSERT INTO registration_counter (series, year, last_number) VALUES ($1, $2, 1)"
            " ON CONFLICT (series, year) DO UPDATE SET last_number = registration_counter.last_number + 1"
            " RETURNING last_number", self.series, year)
        number = registration_number(self.series, year, sequence)
        await connection.execute("INSERT INTO collection_case (year, number) VALUES ($1, $2)", year, number)
        return number

    async def capture(self, plan: CapturePlan, account: dict[str, Any], now: datetime) -> None:
        export_id = None
        if plan.wants_package:
            export_id = await self.exports.request(
                plan.account_id, plan.period_from, plan.period_to, requested_by="capture", purpose="capture",
                include_direct_messages=plan.includes_direct_messages)
            row = await self.exports.build(export_id)
            if row["status"] != "ready":
                log.error("capture package failed; will retry next pass", account=plan.account_id,
                          error=row["error"])
                return
        async with self.pool.acquire() as connection, connection.transaction():
            case = await self.collection_case(connection, plan.year)
            counts = {r["item_type"]: r["n"] for r in await connection.fetch(
                "SELECT item_type, count(*) AS n FROM item WHERE platform = $1 AND account_id = $2"
                " AND first_occurred_at >= $3 AND first_occurred_at < $4 GROUP BY item_type",
                plan.platform, plan.account_id, plan.period_from, plan.period_to)}
            posts = [(r["first_occurred_at"], r["latest_text"] or "") for r in await connection.fetch(
                "SELECT i.first_occurred_at, s.latest_text FROM item i JOIN item_state s ON s.item_ref = i.id"
                " WHERE i.platform = $1 AND i.account_id = $2 AND i.item_type = 'post'"
                " AND i.first_occurred_at >= $3 AND i.first_occurred_at < $4"
                " ORDER BY i.first_occurred_at DESC LIMIT 10",
                plan.platform, plan.account_id, plan.period_from, plan.period_to)]
            overview = AccountOverview(
                plan=plan, name=account["name"], department=account["department"], status=account["status"],
                start_date=account.get("start_date"), closed_date=account["closed_date"],
                editors=account.get("editors", []), collection_case=case, counts=counts, latest_posts=posts)
            pdf = render_pdf(overview, now)
            await connection.execute(
                "INSERT INTO account_capture (platform, account_id, reason, year, level, period_from, period_to,"
                " collection_case, overview_pdf, overview_sha256, export_ref)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                " ON CONFLICT (platform, account_id, reason, year) DO NOTHING",
                plan.platform, plan.account_id, plan.reason, plan.year, plan.level, plan.period_from,
                plan.period_to, case, pdf, hashlib.sha256(pdf).hexdigest(),
                None if export_id is None else uuid.UUID(export_id))
        log.info("account captured", account=plan.account_id, reason=plan.reason, year=plan.year,
                 level=plan.level, collection_case=case)
