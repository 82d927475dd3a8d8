"""PostgreSQL adapter (asyncpg): migrations, ledgers for the tracker, outbox, follow-up queries.

Plain SQL; every write of one batch happens in the caller's transaction (`async with
pool.acquire() as conn, conn.transaction()`), so item state, consumed-message ids and outbox rows
are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

import asyncpg
from socialops_common.events import (
    AccountRecord,
    EventKind,
    ModerationAction,
    Platform,
    SlaState,
    SlaStateChange,
)

from .tracker import Answer, Item, ItemKey, Ledger, Removal, Verdict

ThreadKey = tuple[str, str, str]  # (platform, account_id, thread_id)
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
    "response_working_seconds, response_wall_seconds, next_due_at"
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
    )


def _item_values(item: Item) -> tuple[Any, ...]:
    return (
        item.platform.value, item.account_id, item.item_id, item.event_id, item.thread_id, item.parent_id,
        item.item_kind.value, item.occurred_at, item.text_is_question, item.state.value if item.state else None,
        item.opened_by, item.department, item.deadline, item.at_risk_at, item.answered_at, item.answer_event_id,
        item.closed_reason, item.response_working_seconds, item.response_wall_seconds, item.next_due_at,
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
                              row["thread_id"], row["needs_answer"], ModerationAction(row["action"]), row["decided_at"])
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
                "INSERT INTO sla_verdicts VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (platform, account_id, item_id) "
                "DO UPDATE SET decision_id = EXCLUDED.decision_id, needs_answer = EXCLUDED.needs_answer, "
                "action = EXCLUDED.action, decided_at = EXCLUDED.decided_at "
                "WHERE sla_verdicts.decided_at <= EXCLUDED.decided_at",
                [(v.platform.value, v.account_id, v.item_id, v.thread_id, v.decision_id, v.needs_answer,
                  v.action.value, v.decided_at) for v in latest.values()],
            )
        if ledger.new_removals:
            await conn.executemany(
                "INSERT INTO sla_removals VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
                [(r.platform.value, r.account_id, r.item_id, threads[r.key], r.event_id, r.reason, r.occurred_at)
                 for r in ledger.new_removals],
            )

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
    async def save_accounts(conn: asyncpg.Connection, records: Sequence[AccountRecord]) -> None:
        if records:
            await conn.executemany(
                "INSERT INTO sla_accounts VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (platform, external_id) "
                "DO UPDATE SET name = EXCLUDED.name, department = EXCLUDED.department, status = EXCLUDED.status, "
                "start_date = EXCLUDED.start_date, response_calendar = EXCLUDED.response_calendar, "
                "response_target_hours = EXCLUDED.response_target_hours",
                [(r.platform.value, r.external_id, r.name, r.department, r.status.value, r.start_date,
                  r.response_calendar, r.response_target_hours) for r in records],
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
    async def save_snapshots(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
        if rows:
            await conn.executemany(
                "INSERT INTO sla_metric_snapshots VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING", rows
            )

    async def posts_since(self, since: datetime) -> list[asyncpg.Record]:
        return await self.pool.fetch(
            "SELECT platform, account_id, published_at FROM sla_posts WHERE published_at > $1", since
        )

    async def snapshots_until(self, until: datetime) -> list[asyncpg.Record]:
        """All account-level snapshots up to `until` (a month's KPIs need the last one before it)."""
        return await self.pool.fetch(
            "SELECT * FROM sla_metric_snapshots WHERE taken_at < $1 ORDER BY taken_at", until
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
