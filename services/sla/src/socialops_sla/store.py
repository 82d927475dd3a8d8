"""PostgreSQL adapter (asyncpg): migrations, ledgers for the tracker, outbox, follow-up queries.

Plain SQL; every write of one batch happens in the caller's transaction (`async with
pool.acquire() as conn, conn.transaction()`), so item state, consumed-message ids and outbox rows
are committed together or not at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

import asyncpg
from socialops_common.events import (
    AccountRecord,
    EventKind,
    InsightsPollStatus,
    ModerationAction,
    Platform,
    SlaState,
    SlaStateChange,
)

from .calendar import STOCKHOLM
from .followup import PublishingState, month_bounds, month_days
from .tracker import Answer, Item, ItemKey, Ledger, Removal, Verdict

ThreadKey = tuple[str, str, str]  # (platform, account_id, thread_id)
# the platforms' figures kept per account and day, and per post (migrations/0003_followup.sql)
DAY_FIGURES = ("reach", "impressions", "video_views", "interactions", "engaged_accounts", "followers",
               "new_followers", "lost_followers", "page_views")
POST_FIGURES = ("reach", "impressions", "video_views", "link_clicks", "reactions", "comments", "shares", "saves")
MIGRATION_LOCK = 0x51A  # advisory lock id: one replica migrates at a time (also the thread locks' class)
THREAD_LOCK_BUCKETS = 64


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply `migrations/*.sql` in name order, each once; returns the names applied now."""
    applied_now: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS sla_schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM sla_schema_migrations")}
        files = sorted(
            (f for f in resources.files("socialops_sla").joinpath("migrations").iterdir() if f.name.endswith(".sql")),
            key=lambda f: f.name,
        )
        for file in files:
            if file.name in done:
                continue
            await conn.execute(file.read_text(encoding="utf-8"))
            await conn.execute("INSERT INTO sla_schema_migrations (name) VALUES ($1)", file.name)
            applied_now.append(file.name)
    return applied_now


_ITEM_COLUMNS = (
    "platform, account_id, item_id, event_id, thread_id, parent_id, item_kind, occurred_at, text_is_question, "
    "state, opened_by, department, deadline, at_risk_at, answered_at, answer_event_id, closed_reason, "
    "response_working_seconds, response_wall_seconds, next_due_at, text, author_id, author_name, reopenings"
)


def _item(row: asyncpg.Record) -> Item:
    return Item(
        event_id=row["event_id"], platform=Platform(row["platform"]), account_id=row["account_id"],
        item_id=row["item_id"], thread_id=row["thread_id"], parent_id=row["parent_id"],
        item_kind=EventKind(row["item_kind"]), occurred_at=row["occurred_at"],
        text_is_question=row["text_is_question"], state=SlaState(row["state"]) if row["state"] else None,
        opened_by=row["opened_by"], department=row["department"], deadline=row["deadline"],
        at_risk_at=row["at_risk_at"], answered_at=row["answered_at"], answer_event_id=row["answer_event_id"],
        closed_reason=row["closed_reason"], response_working_seconds=row["response_working_seconds"],
        response_wall_seconds=row["response_wall_seconds"],
        text=row["text"], author_id=row["author_id"], author_name=row["author_name"], reopenings=row["reopenings"],
    )


def _item_values(item: Item) -> tuple[Any, ...]:
    return (
        item.platform.value, item.account_id, item.item_id, item.event_id, item.thread_id, item.parent_id,
        item.item_kind.value, item.occurred_at, item.text_is_question, item.state.value if item.state else None,
        item.opened_by, item.department, item.deadline, item.at_risk_at, item.answered_at, item.answer_event_id,
        item.closed_reason, item.response_working_seconds, item.response_wall_seconds, item.next_due_at,
        item.text, item.author_id, item.author_name, item.reopenings,
    )


def _unnest(keys: Iterable[ThreadKey]) -> tuple[list[str], list[str], list[str]]:
    unique = sorted(set(keys))
    return [k[0] for k in unique], [k[1] for k in unique], [k[2] for k in unique]


_BY_THREAD = "(platform, account_id, thread_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))"
_BY_THREAD_OR_ITEM = (_BY_THREAD + " OR (platform, account_id, item_id) IN "
                      "(SELECT * FROM unnest($4::text[], $5::text[], $6::text[]))")


class SlaStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    # --- consumed messages --------------------------------------------------------------------------

    @staticmethod
    async def first_seen(conn: asyncpg.Connection, message_ids: Sequence[str]) -> set[str]:
        """Records the ids; returns those never seen before (the rest are redeliveries)."""
        if not message_ids:
            return set()
        rows = await conn.fetch(
            "INSERT INTO sla_seen_messages (message_id) SELECT DISTINCT unnest($1::text[]) "
            "ON CONFLICT DO NOTHING RETURNING message_id",
            list(message_ids),
        )
        return {r["message_id"] for r in rows}

    async def prune_seen(self, older_than: datetime) -> int:
        """Forget consumed ids older than the topics' retention: they cannot be redelivered."""
        result = await self.pool.execute("DELETE FROM sla_seen_messages WHERE seen_at < $1", older_than)
        return int(result.split()[-1])

    # --- ledger ---------------------------------------------------------------------------------

    @staticmethod
    async def load_ledger(conn: asyncpg.Connection, threads: Iterable[ThreadKey],
                          items: Iterable[ItemKey] = ()) -> Ledger:
        """Everything known about these threads, items locked against concurrent writers.

        Items and removals are also found by the items' own keys: a removal does not always know
        its comment's thread (X tells a deletion by tweet id alone), and met by thread only it
        would never cancel the question, nor a question arriving after it see it."""
        args = _unnest(threads)
        by_item = _unnest(items)
        ledger = Ledger()
        if not args[0]:
            return ledger
        # A thread's comments and its moderation decisions come on two topics, which two replicas
        # may consume at once: serialise per thread (hashed into a few buckets, taken in order so
        # two transactions never deadlock, few enough to stay far below the lock table's size).
        await conn.execute(
            "SELECT pg_advisory_xact_lock($4::int, b) FROM (SELECT DISTINCT "
            "abs(hashtext(p || ':' || a || ':' || t)) % $5 AS b "
            "FROM unnest($1::text[], $2::text[], $3::text[]) AS k(p, a, t) ORDER BY b) AS buckets",
            *args, MIGRATION_LOCK, THREAD_LOCK_BUCKETS,
        )
        for row in await conn.fetch(f"SELECT {_ITEM_COLUMNS} FROM sla_items WHERE {_BY_THREAD_OR_ITEM} FOR UPDATE",
                                    *args, *by_item):
            item = _item(row)
            ledger.items[item.key] = item
        for row in await conn.fetch(f"SELECT * FROM sla_answers WHERE {_BY_THREAD}", *args):
            ledger.answers.append(Answer(row["event_id"], Platform(row["platform"]), row["account_id"],
                                         row["thread_id"], row["parent_id"], EventKind(row["kind"]), row["occurred_at"]))
        for row in await conn.fetch(f"SELECT * FROM sla_verdicts WHERE {_BY_THREAD}", *args):
            verdict = Verdict(row["decision_id"], Platform(row["platform"]), row["account_id"], row["item_id"],
                              row["thread_id"], row["needs_answer"], ModerationAction(row["action"]), row["decided_at"],
                              row["rule"])
            ledger.verdicts[verdict.key] = verdict
        for row in await conn.fetch(f"SELECT * FROM sla_removals WHERE {_BY_THREAD_OR_ITEM}", *args, *by_item):
            removal = Removal(row["event_id"], Platform(row["platform"]), row["account_id"], row["item_id"],
                              row["reason"], row["occurred_at"])
            ledger.removals[removal.key] = removal
        return ledger

    @classmethod
    async def save_ledger(cls, conn: asyncpg.Connection, ledger: Ledger, threads: dict[tuple[str, str, str], str]) -> None:
        """Write changed items and new facts. `threads` maps an item key to its thread (for removals)."""
        await cls.save_items(conn, ledger.dirty_items())
        if ledger.new_answers:
            await conn.executemany(
                "INSERT INTO sla_answers VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
                [(a.event_id, a.platform.value, a.account_id, a.thread_id, a.parent_id, a.kind.value, a.occurred_at)
                 for a in ledger.new_answers],
            )
        latest: dict[tuple[str, str, str], Verdict] = {}
        for v in ledger.new_verdicts:
            latest[v.key] = v
        if latest:
            await conn.executemany(
                "INSERT INTO sla_verdicts VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (platform, account_id, item_id) "
                "DO UPDATE SET decision_id = EXCLUDED.decision_id, needs_answer = EXCLUDED.needs_answer, "
                "action = EXCLUDED.action, decided_at = EXCLUDED.decided_at, rule = EXCLUDED.rule "
                "WHERE sla_verdicts.decided_at <= EXCLUDED.decided_at",
                [(v.platform.value, v.account_id, v.item_id, v.thread_id, v.decision_id, v.needs_answer,
                  v.action.value, v.decided_at, v.rule) for v in latest.values()],
            )
        if ledger.new_removals:
            await conn.executemany(
                "INSERT INTO sla_removals VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
                [(r.platform.value, r.account_id, r.item_id, threads[r.key], r.event_id, r.reason, r.occurred_at)
                 for r in ledger.new_removals],
            )

    @staticmethod
    async def save_reply_errors(conn: asyncpg.Connection, errors: Sequence[tuple[Any, str | None]]) -> None:
        """A reply that did not go out: the platform's words on the item, until a reply succeeds."""
        if errors:
            await conn.executemany(
                "UPDATE sla_items SET reply_error = $4, reply_error_at = $5 WHERE platform = $1 AND account_id = $2"
                " AND item_id = $3 AND (reply_error_at IS NULL OR reply_error_at <= $5)",
                [(o.platform.value, o.account_id, o.item_id, text[:1000] if text else None, o.completed_at)
                 for o, text in errors])

    @staticmethod
    async def save_items(conn: asyncpg.Connection, items: Sequence[Item]) -> None:
        if not items:
            return
        columns = _ITEM_COLUMNS.split(", ")
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[3:])
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        await conn.executemany(
            f"INSERT INTO sla_items ({_ITEM_COLUMNS}) VALUES ({placeholders}) "
            f"ON CONFLICT (platform, account_id, item_id) DO UPDATE SET {updates}",
            [_item_values(item) for item in items],
        )
        for item in items:
            item.dirty = False

    @staticmethod
    async def item_by_event_id(conn: asyncpg.Connection, event_id: str) -> Item | None:
        row = await conn.fetchrow(f"SELECT {_ITEM_COLUMNS} FROM sla_items WHERE event_id = $1 FOR UPDATE", event_id)
        return _item(row) if row else None

    # --- scheduler ------------------------------------------------------------------------------

    @staticmethod
    async def due_items(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Item]:
        rows = await conn.fetch(
            f"SELECT {_ITEM_COLUMNS} FROM sla_items WHERE next_due_at <= $1 ORDER BY next_due_at LIMIT $2 "
            "FOR UPDATE SKIP LOCKED",
            now, limit,
        )
        return [_item(r) for r in rows]

    async def next_due_at(self) -> datetime | None:
        return await self.pool.fetchval("SELECT min(next_due_at) FROM sla_items WHERE next_due_at IS NOT NULL")

    # --- outbox ---------------------------------------------------------------------------------

    @staticmethod
    async def add_to_outbox(conn: asyncpg.Connection, changes: Sequence[SlaStateChange]) -> None:
        if changes:
            await conn.executemany(
                "INSERT INTO sla_outbox (change_id, message_key, payload) VALUES ($1, $2, $3)",
                [(c.change_id, c.partition_key, c.model_dump_json()) for c in changes],
            )

    async def outbox_batch(self, limit: int) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT id, message_key, payload FROM sla_outbox ORDER BY id LIMIT $1", limit
        )

    async def outbox_done(self, ids: Sequence[int]) -> None:
        await self.pool.execute("DELETE FROM sla_outbox WHERE id = ANY($1::bigint[])", list(ids))

    async def outbox_pending(self) -> int:
        return await self.pool.fetchval("SELECT count(*) FROM sla_outbox")

    # --- accounts -------------------------------------------------------------------------------

    @staticmethod
    async def save_accounts(conn: asyncpg.Connection, records: Sequence[AccountRecord], seen_at: datetime) -> None:
        if records:
            await conn.executemany(
                "INSERT INTO sla_accounts (platform, external_id, name, department, status, start_date, "
                "response_calendar, response_target_hours, department_email, first_seen_at) "
                "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
                "ON CONFLICT (platform, external_id) "
                "DO UPDATE SET name = EXCLUDED.name, department = EXCLUDED.department, status = EXCLUDED.status, "
                "start_date = EXCLUDED.start_date, response_calendar = EXCLUDED.response_calendar, "
                "response_target_hours = EXCLUDED.response_target_hours, department_email = EXCLUDED.department_email",
                [(r.platform.value, r.external_id, r.name, r.department, r.status.value, r.start_date,
                  r.response_calendar, r.response_target_hours, r.department_email, seen_at) for r in records],
            )

    async def accounts(self) -> list[asyncpg.Record]:
        return await self.pool.fetch("SELECT * FROM sla_accounts")

    # --- posts and snapshots ----------------------------------------------------------------------

    @staticmethod
    async def save_posts(conn: asyncpg.Connection, rows: Sequence[tuple]) -> list[tuple[str, str]]:
        """(platform, account, item, event_id, published_at, late_friday); returns new late-Friday posts."""
        if not rows:
            return []
        inserted = await conn.fetch(
            "INSERT INTO sla_posts SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
            "$5::timestamptz[], $6::boolean[]) ON CONFLICT DO NOTHING RETURNING platform, account_id, late_friday",
            *[list(column) for column in zip(*rows, strict=True)],
        )
        return [(r["platform"], r["account_id"]) for r in inserted if r["late_friday"]]

    @staticmethod
    async def save_account_days(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
        """(platform, account, day, *DAY_FIGURES, updated_at), one row per key (merged by the caller):
        a newer version replaces a figure; a figure it lacks never erases a known one."""
        if not rows:
            return
        columns = ", ".join(DAY_FIGURES)
        merged = ", ".join(f"{c} = coalesce(EXCLUDED.{c}, sla_account_days.{c})" for c in DAY_FIGURES)
        types = ["text", "text", "date", *["bigint"] * len(DAY_FIGURES), "timestamptz"]
        arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, start=1))
        await conn.execute(
            f"INSERT INTO sla_account_days (platform, account_id, day, {columns}, updated_at) "
            f"SELECT * FROM unnest({arrays}) ON CONFLICT (platform, account_id, day) DO UPDATE SET {merged}, "
            "updated_at = EXCLUDED.updated_at WHERE EXCLUDED.updated_at >= sla_account_days.updated_at",
            *[list(column) for column in zip(*rows, strict=True)],
        )

    @staticmethod
    async def save_account_months(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
        """(platform, account, first day of the month, reach, updated_at)."""
        if rows:
            await conn.execute(
                "INSERT INTO sla_account_months SELECT * FROM unnest($1::text[], $2::text[], $3::date[], "
                "$4::bigint[], $5::timestamptz[]) ON CONFLICT (platform, account_id, month) DO UPDATE SET "
                "reach = coalesce(EXCLUDED.reach, sla_account_months.reach), updated_at = EXCLUDED.updated_at "
                "WHERE EXCLUDED.updated_at >= sla_account_months.updated_at",
                *[list(column) for column in zip(*rows, strict=True)],
            )

    @staticmethod
    async def save_post_figures(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
        """(platform, account, post, published_at, as_of, *POST_FIGURES, updated_at): the latest poll wins."""
        if not rows:
            return
        columns = ", ".join(POST_FIGURES)
        merged = ", ".join(f"{c} = coalesce(EXCLUDED.{c}, sla_post_figures.{c})" for c in POST_FIGURES)
        types = ["text", "text", "text", "timestamptz", "date", *["bigint"] * len(POST_FIGURES), "timestamptz"]
        arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, start=1))
        await conn.execute(
            f"INSERT INTO sla_post_figures (platform, account_id, post_id, published_at, as_of, {columns}, updated_at) "
            f"SELECT * FROM unnest({arrays}) ON CONFLICT (platform, account_id, post_id) DO UPDATE SET {merged}, "
            "published_at = EXCLUDED.published_at, as_of = EXCLUDED.as_of, updated_at = EXCLUDED.updated_at "
            "WHERE (EXCLUDED.as_of, EXCLUDED.updated_at) >= (sla_post_figures.as_of, sla_post_figures.updated_at)",
            *[list(column) for column in zip(*rows, strict=True)],
        )

    @staticmethod
    async def save_insights_status(conn: asyncpg.Connection, statuses: Sequence[InsightsPollStatus]) -> None:
        if statuses:
            await conn.executemany(
                "INSERT INTO sla_insights_status VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (platform, account_id) "
                "DO UPDATE SET state = EXCLUDED.state, detail = EXCLUDED.detail, covered_until = EXCLUDED.covered_until, "
                "covered_since = EXCLUDED.covered_since, posts_covered_since = EXCLUDED.posts_covered_since, "
                "last_success_at = EXCLUDED.last_success_at, missing_metrics = EXCLUDED.missing_metrics, "
                "updated_at = EXCLUDED.updated_at WHERE EXCLUDED.updated_at >= sla_insights_status.updated_at",
                [(s.platform.value, s.account_id, s.state.value, s.detail, s.covered_until, s.covered_since,
                  s.posts_covered_since, s.last_success_at, s.missing_metrics, s.updated_at) for s in statuses],
            )

    async def posts_since(self, since: datetime) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT platform, account_id, published_at FROM sla_posts WHERE published_at > $1", since
        )

    # --- aggregates -----------------------------------------------------------------------------

    async def awaiting_answer_counts(self) -> list[asyncpg.Record]:
        """Items waiting for an answer now, by state: open, at_risk, or breached and unanswered."""
        return await self.pool.fetch(
            "SELECT platform, account_id, coalesce(department, '') AS department, state, count(*) AS n "
            "FROM sla_items WHERE state IN ('open', 'at_risk', 'breached') AND answered_at IS NULL "
            "GROUP BY 1, 2, 3, 4"
        )

    async def outcomes_between(self, start: datetime, end: datetime) -> list[asyncpg.Record]:
        """Per account: items that arrived in [start, end) and needed an answer, and how they went."""
        return await self.pool.fetch(
            """
            SELECT platform, account_id, coalesce(department, '') AS department,
                   count(*) FILTER (WHERE state <> 'cancelled') AS needing_answer,
                   count(*) FILTER (WHERE answered_at IS NOT NULL AND state <> 'cancelled') AS answered,
                   count(*) FILTER (WHERE state = 'met') AS met,
                   count(*) FILTER (WHERE state = 'breached') AS breached,
                   count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY response_working_seconds)
                       FILTER (WHERE state <> 'cancelled') AS median_working_seconds,
                   avg(response_working_seconds) FILTER (WHERE state <> 'cancelled') AS mean_working_seconds,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY response_wall_seconds)
                       FILTER (WHERE state <> 'cancelled') AS median_wall_seconds
            FROM sla_items
            WHERE state IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2
            GROUP BY 1, 2, 3
            """,
            start, end,
        )

    async def post_counts_between(self, start: datetime, end: datetime) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT platform, account_id, count(*) AS posts, count(*) FILTER (WHERE late_friday) AS late_friday "
            "FROM sla_posts WHERE published_at >= $1 AND published_at < $2 GROUP BY 1, 2",
            start, end,
        )

    # --- monthly follow-up (the report's figures, 13 months at a time) -----------------------------------
    # `keys` limits a query to some accounts ((platform, account_id) pairs); None: every account.
    # `db`: the connection to run on (`report_connection`), else the pool.
    # Months are calendar months: of the platform's own day for its daily figures, of Stockholm
    # time for posts and items.

    @contextlib.asynccontextmanager
    async def report_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for the report's grouped queries: enough sort/hash memory that grouping
        hundreds of thousands of account-months does not spill to disk (a city of 15,000 accounts:
        bench/followup.py), in a read-only transaction of its own."""
        async with self.pool.acquire() as connection, connection.transaction(readonly=True):
            await connection.execute("SET LOCAL work_mem = '256MB'")
            yield connection

    @staticmethod
    async def refresh_months(conn: asyncpg.Connection, days: Iterable[MonthKey], posts: Iterable[MonthKey]) -> None:
        """Recompute the monthly sums of the months whose days (`days`) or posts (`posts`, by the
        month they were published in, Stockholm time) changed: in the writer's transaction."""
        day_keys, post_keys = sorted(set(days)), sorted(set(posts))
        if day_keys:
            firsts = [month_days(k[2])[0] for k in day_keys]
            ends = [month_days(k[2])[1] for k in day_keys]
            await conn.execute(_month_sums("sla_day_figures_by_month", DAY_SUM_COLUMNS, "sla_account_days d", "d.day",
                                           "date"),
                               [k[0] for k in day_keys], [k[1] for k in day_keys], firsts, firsts, ends)
        if post_keys:
            bounds = [month_bounds(k[2]) for k in post_keys]
            args = ([k[0] for k in post_keys], [k[1] for k in post_keys], [month_days(k[2])[0] for k in post_keys],
                    [b[0] for b in bounds], [b[1] for b in bounds])
            await conn.execute(_month_sums("sla_post_figures_by_month", POST_SUM_COLUMNS, "sla_post_figures f",
                                           "f.published_at", "timestamptz"), *args)
            await conn.execute(_month_sums("sla_posts_by_month", OWN_POST_SUM_COLUMNS, "sla_posts s", "s.published_at",
                                           "timestamptz"), *args)

    async def recent_sums(self, since: datetime, until: datetime) -> dict[str, list[asyncpg.Record]]:
        """Every account's sums over [since, until): its days (after the day of `since`, up to and with
        the day of `until`, whose count of followers is today's; days in Stockholm, as the poller
        dates them), its posts published then and our own posts — the same sums as the monthly ones
        (the dashboards' window)."""
        days = await self.pool.fetch(
            f"SELECT d.platform, d.account_id, {DAY_SUMS} FROM sla_account_days d "
            "WHERE d.day > $1 AND d.day <= $2 GROUP BY 1, 2",
            since.astimezone(STOCKHOLM).date(), until.astimezone(STOCKHOLM).date())
        posts = await self.pool.fetch(
            f"SELECT f.platform, f.account_id, {POST_SUMS} FROM sla_post_figures f "
            "WHERE f.published_at >= $1 AND f.published_at < $2 GROUP BY 1, 2", since, until)
        own = await self.pool.fetch(
            f"SELECT s.platform, s.account_id, {OWN_POST_SUMS} FROM sla_posts s "
            "WHERE s.published_at >= $1 AND s.published_at < $2 GROUP BY 1, 2", since, until)
        return {"days": days, "posts": posts, "own_posts": own}

    async def day_figures_by_month(self, months: Sequence[str], keys: AccountKeys = None,
                                   db: Any = None) -> list[asyncpg.Record]:
        return await self._by_month("sla_day_figures_by_month", months, keys, db)

    async def month_figures(self, months: Sequence[str], keys: AccountKeys = None,
                            db: Any = None) -> list[asyncpg.Record]:
        """The platforms' own monthly figures (LinkedIn's monthly reach)."""
        return await self._by_month("sla_account_months", months, keys, db)

    async def post_figures_by_month(self, months: Sequence[str], keys: AccountKeys = None,
                                    db: Any = None) -> list[asyncpg.Record]:
        return await self._by_month("sla_post_figures_by_month", months, keys, db)

    async def posts_by_month(self, months: Sequence[str], keys: AccountKeys = None,
                             db: Any = None) -> list[asyncpg.Record]:
        """Posts we know of (our events and the platforms' post lists), late-Friday ones apart."""
        return await self._by_month("sla_posts_by_month", months, keys, db)

    async def _by_month(self, table: str, months: Sequence[str], keys: AccountKeys, db: Any) -> list[asyncpg.Record]:
        where, args = _accounts_filter("t", keys, 3)
        return await (db or self.pool).fetch(
            f"SELECT to_char(t.month, 'YYYY-MM') AS label, t.* FROM {table} t WHERE t.month >= $1 AND t.month < $2 {where}",
            month_days(months[0])[0], month_days(months[-1])[1], *args)

    async def outcomes_by_month(self, months: Sequence[str], keys: AccountKeys = None,
                                db: Any = None) -> list[asyncpg.Record]:
        """Per month: each account's items that needed an answer and how they went, and the median
        working-time response of each department (`level` 'department') and the city ('city')."""
        grid = MonthGrid(months)
        where, args = _accounts_filter("i", keys, 5)
        return await (db or self.pool).fetch(
            f"""
            WITH i AS (
                SELECT i.*, {grid.month("i.occurred_at", "timestamptz")} AS label, a.department AS owner
                FROM sla_items i LEFT JOIN sla_accounts a ON a.platform = i.platform AND a.external_id = i.account_id
                WHERE i.state IS NOT NULL AND i.occurred_at >= $1 AND i.occurred_at < $2 {where})
            SELECT label, platform, account_id, owner,
                   CASE WHEN GROUPING(platform, account_id) = 0 THEN 'account'
                        WHEN GROUPING(owner) = 0 THEN 'department' ELSE 'city' END AS level,
                   count(*) FILTER (WHERE state <> 'cancelled') AS needing_answer,
                   count(*) FILTER (WHERE answered_at IS NOT NULL AND state <> 'cancelled') AS answered,
                   count(*) FILTER (WHERE state = 'met') AS met,
                   count(*) FILTER (WHERE state = 'breached') AS breached,
                   count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY response_working_seconds)
                       FILTER (WHERE state <> 'cancelled') AS median_working_seconds,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY response_wall_seconds)
                       FILTER (WHERE state <> 'cancelled') AS median_wall_seconds
            FROM i GROUP BY GROUPING SETS ((label, platform, account_id), (label, owner), (label))
            """, *grid.instants_args, *args)

    async def comments_by_month(self, months: Sequence[str], keys: AccountKeys = None,
                                db: Any = None) -> list[asyncpg.Record]:
        """Citizens' comments per account and month, and those the city removed by the rule acted on
        (a removal in the platform, or a moderation decision to hide or delete)."""
        grid = MonthGrid(months)
        where, args = _accounts_filter("i", keys, 5)
        return await (db or self.pool).fetch(
            f"""
            SELECT i.platform, i.account_id, {grid.month("i.occurred_at", "timestamptz")} AS label,
                   (r.reason IN ('hidden', 'deleted_by_city') OR v.action IN ('hide', 'delete')) AS removed,
                   CASE WHEN v.action IN ('hide', 'delete') THEN v.rule END AS rule, count(*) AS n
            FROM sla_items i
            LEFT JOIN sla_removals r ON r.platform = i.platform AND r.account_id = i.account_id AND r.item_id = i.item_id
            LEFT JOIN sla_verdicts v ON v.platform = i.platform AND v.account_id = i.account_id AND v.item_id = i.item_id
            WHERE i.item_kind = 'comment.created' AND i.occurred_at >= $1 AND i.occurred_at < $2 {where}
            GROUP BY 1, 2, 3, 4, 5
            """, *grid.instants_args, *args)

    async def insights_statuses(self) -> list[asyncpg.Record]:
        return await self.pool.fetch("SELECT * FROM sla_insights_status")

    # --- publishing (quiet accounts) ---------------------------------------------------------------

    async def publishing_states(self) -> dict[tuple[str, str], PublishingState]:
        return {(r["platform"], r["account_id"]): PublishingState(
                    status=r["status"], quiet_since=r["quiet_since"], flagged_at=r["flagged_at"],
                    escalated_at=r["escalated_at"], cleared_at=r["cleared_at"], posts_in_period=r["posts_in_period"],
                    last_post_at=r["last_post_at"])
                for r in await self.pool.fetch("SELECT * FROM sla_publishing")}

    @staticmethod
    async def save_publishing(conn: asyncpg.Connection, rows: Sequence[tuple[str, str, PublishingState]],
                              at: datetime) -> None:
        if rows:
            await conn.executemany(
                "INSERT INTO sla_publishing VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (platform, account_id) "
                "DO UPDATE SET status = EXCLUDED.status, quiet_since = EXCLUDED.quiet_since, "
                "flagged_at = EXCLUDED.flagged_at, escalated_at = EXCLUDED.escalated_at, "
                "cleared_at = EXCLUDED.cleared_at, posts_in_period = EXCLUDED.posts_in_period, "
                "last_post_at = EXCLUDED.last_post_at, evaluated_at = EXCLUDED.evaluated_at",
                [(p, a, s.status, s.quiet_since, s.flagged_at, s.escalated_at, s.cleared_at, s.posts_in_period,
                  s.last_post_at, at) for p, a, s in rows])

    async def first_posts_after(self, since: dict[tuple[str, str], datetime]) -> dict[tuple[str, str], datetime]:
        """Each account's first post after its instant (has a flagged account published since?)."""
        if not since:
            return {}
        keys = list(since)
        rows = await self.pool.fetch(
            "SELECT k.p AS platform, k.a AS account_id, min(s.published_at) AS first "
            "FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(p, a, t) "
            "JOIN sla_posts s ON s.platform = k.p AND s.account_id = k.a AND s.published_at > k.t GROUP BY 1, 2",
            [k[0] for k in keys], [k[1] for k in keys], [since[k] for k in keys])
        return {(r["platform"], r["account_id"]): r["first"] for r in rows}

    async def observed_since(self) -> dict[tuple[str, str], datetime]:
        """Since when each account's publishing is known: when this service learned of it (from then
        on the webhooks tell every post), as far back as the poller read the platform's posts, or
        its earliest known post (an import of older events), whichever is first."""
        rows = await self.pool.fetch(
            "SELECT a.platform, a.external_id, least(a.first_seen_at, s.posts_covered_since, "
            "(SELECT min(p.published_at) FROM sla_posts p WHERE p.platform = a.platform "
            "AND p.account_id = a.external_id)) AS since "
            "FROM sla_accounts a LEFT JOIN sla_insights_status s ON s.platform = a.platform "
            "AND s.account_id = a.external_id")
        return {(r["platform"], r["external_id"]): r["since"] for r in rows}

    async def mail_pending(self) -> dict[str, int]:
        rows = await self.pool.fetch(
            "SELECT kind, count(*) AS n FROM sla_mail_outbox WHERE status = 'pending' GROUP BY kind")
        return {r["kind"]: r["n"] for r in rows}


AccountKeys = Sequence[tuple[str, str]] | None
MonthKey = tuple[str, str, str]  # (platform, account_id, 'YYYY-MM')

# The sums behind the KPIs, (column, expression) in the order of the *_by_month tables' columns: of
# days `d`, of post figures `f`, of our own posts `s`. A month's follower count is that of its last
# (first) day with one: the max (min) of [day, count] pairs, which needs no sort.
Sums = tuple[tuple[str, str], ...]
DAY_SUM_COLUMNS: Sums = (
    ("reach_days", "count(d.reach)"), ("reach_sum", "sum(d.reach)"),
    ("followers_end", "(max(ARRAY[d.day - DATE '2000-01-01', d.followers]) FILTER (WHERE d.followers IS NOT NULL))[2]"),
    ("followers_first", "(min(ARRAY[d.day - DATE '2000-01-01', d.followers]) FILTER (WHERE d.followers IS NOT NULL))[2]"),
    ("new_followers", "sum(d.new_followers)"), ("lost_followers", "sum(d.lost_followers)"),
    ("page_views", "sum(d.page_views)"),
)
POST_SUM_COLUMNS: Sums = (
    ("posts", "count(*)"), ("reactions", "sum(f.reactions)"), ("comments", "sum(f.comments)"),
    ("shares", "sum(f.shares)"), ("saves", "sum(f.saves)"), ("link_clicks", "sum(f.link_clicks)"),
    ("video_views", "sum(f.video_views)"), ("post_reach", "sum(f.reach)"),
    ("interactions_on_reached", "sum(coalesce(f.reactions, 0) + coalesce(f.comments, 0) + coalesce(f.shares, 0)"
                                " + coalesce(f.saves, 0)) FILTER (WHERE f.reach IS NOT NULL)"),
)
OWN_POST_SUM_COLUMNS: Sums = (("posts", "count(*)"), ("late_friday", "count(*) FILTER (WHERE s.late_friday)"))


def _select(sums: Sums) -> str:
    return ", ".join(f"{expression} AS {name}" for name, expression in sums)


DAY_SUMS, POST_SUMS, OWN_POST_SUMS = _select(DAY_SUM_COLUMNS), _select(POST_SUM_COLUMNS), _select(OWN_POST_SUM_COLUMNS)


def _month_sums(table: str, sums: Sums, source: str, column: str, kind: str) -> str:
    """INSERT … ON CONFLICT DO UPDATE of the monthly `sums` of `source` into `table`, for the accounts
    and months $1/$2/$3 (platform, account, first day) over the rows with `column` in [$4, $5)."""
    alias = source.split()[-1]
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name, _ in sums)
    return (f"INSERT INTO {table} SELECT k.p, k.a, k.m, {_select(sums)} "
            f"FROM unnest($1::text[], $2::text[], $3::date[], $4::{kind}[], $5::{kind}[]) AS k(p, a, m, s, e) "
            f"JOIN {source} ON {alias}.platform = k.p AND {alias}.account_id = k.a "
            f"AND {column} >= k.s AND {column} < k.e "
            f"GROUP BY k.p, k.a, k.m ON CONFLICT (platform, account_id, month) DO UPDATE SET {updates}")


class MonthGrid:
    """The months of a report as query arguments: $1/$2 the span, $3 the months' names, $4 their first
    instants (Stockholm time). A row's month is a binary search of its instant in $4 (`width_bucket`),
    so grouping a million items needs no time-zone arithmetic per row."""

    def __init__(self, months: Sequence[str]) -> None:
        self.names = list(months)
        self.instants = [month_bounds(m)[0] for m in months]
        self.end_instant = month_bounds(months[-1])[1]

    @staticmethod
    def month(column: str, kind: str) -> str:
        return f"($3::text[])[width_bucket({column}, $4::{kind}[])]"

    @property
    def instants_args(self) -> tuple:
        return self.instants[0], self.end_instant, self.names, self.instants


def _accounts_filter(alias: str, keys: AccountKeys, first: int) -> tuple[str, list[list[str]]]:
    """SQL limiting `alias` to the given accounts, with the arguments it needs from `$first` on."""
    if keys is None:
        return "", []
    return (f"AND ({alias}.platform, {alias}.account_id) IN (SELECT * FROM unnest(${first}::text[], "
            f"${first + 1}::text[]))", [[k[0] for k in keys], [k[1] for k in keys]])
