"""Retention ("gallring") and legal hold: what may be disposed, and the disposal run itself.

Swedish practice (SKR; the city archive's guidance, seed 000): everything received is a public
record, and only a disposal decision (gallringsbeslut) allows it to go. So the default is to keep
everything; a rule per item class says how long, a legal hold stops disposal of what it covers,
and a comment the city removed is its own class ('removed_comment'), kept unless a rule says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

ITEM_CLASSES = ("post", "comment", "reply", "mention", "dm", "removed_comment")


def item_class(item_type: str, removed_by_city: bool) -> str:
    """A comment the city hid or deleted was registered: it is kept under its own rule."""
    return "removed_comment" if removed_by_city and item_type in ("comment", "reply", "mention") else item_type


def disposal_due(first_occurred_at: datetime, keep_days: int, now: datetime) -> bool:
    return first_occurred_at < now - timedelta(days=keep_days)


@dataclass(frozen=True)
class Hold:
    account_id: str | None
    item_ref: int | None
    period_from: datetime | None
    period_to: datetime | None

    def covers(self, account_id: str, item_ref: int, first_occurred_at: datetime) -> bool:
        return (
            (self.account_id is None or self.account_id == account_id)
            and (self.item_ref is None or self.item_ref == item_ref)
            and (self.period_from is None or first_occurred_at >= self.period_from)
            and (self.period_to is None or first_occurred_at < self.period_to)
        )


@dataclass
class DisposalReport:
    run_id: int
    dry_run: bool
    disposed: list[dict[str, Any]]
    held_back: int


_CANDIDATES = """
SELECT i.id, i.platform, i.account_id, i.platform_item_id, i.item_type, i.first_occurred_at,
       EXISTS (SELECT 1 FROM removal m WHERE m.platform = i.platform AND m.account_id = i.account_id
               AND m.platform_item_id = i.platform_item_id) AS removed_by_city
FROM item i
WHERE i.first_occurred_at < $1
ORDER BY i.first_occurred_at, i.id
LIMIT $2
"""


async def run_disposal(connection: asyncpg.Connection, run_by: str, now: datetime, *, dry_run: bool,
                       limit: int = 10_000) -> DisposalReport:
    """Dispose what a rule says is due and no hold covers; log each item with its rule."""
    rules = {r["item_class"]: r for r in await connection.fetch("SELECT * FROM retention_rule")}
    holds = [Hold(h["account_id"], h["item_ref"], h["period_from"], h["period_to"])
             for h in await connection.fetch("SELECT * FROM legal_hold WHERE released_at IS NULL")]
    async with connection.transaction():
        run_id = await connection.fetchval(
            "INSERT INTO disposal_run (run_by, dry_run) VALUES ($1, $2) RETURNING id", run_by, dry_run)
        disposed: list[dict[str, Any]] = []
        held = 0
        if rules:
            oldest_due = now - timedelta(days=min(r["keep_days"] for r in rules.values()))
            for row in await connection.fetch(_CANDIDATES, oldest_due, limit):
                klass = item_class(row["item_type"], row["removed_by_city"])
                rule = rules.get(klass)
                if rule is None or not disposal_due(row["first_occurred_at"], rule["keep_days"], now):
                    continue
                if any(h.covers(row["account_id"], row["id"], row["first_occurred_at"]) for h in holds):
                    held += 1
                    continue
                disposed.append({"item": row["id"], "platform_item_id": row["platform_item_id"],
                                 "class": klass, "keep_days": rule["keep_days"], "decision": rule["decision"]})
                if not dry_run:
                    await connection.execute(
                        "SELECT dispose_archived_item($1, $2, $3, $4, $5)",
                        row["id"], run_id, klass, rule["keep_days"], rule["decision"])
        await connection.execute(
            "UPDATE disposal_run SET finished_at = now(), disposed = $2, held_back = $3 WHERE id = $1",
            run_id, len(disposed), held)
    return DisposalReport(run_id, dry_run, disposed, held)
