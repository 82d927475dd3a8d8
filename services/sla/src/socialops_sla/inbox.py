"""The inbox: every item that needs an answer, for the people who answer it (docs/sla.md, "The inbox").

The items are the SLA's own (`sla_items`); this module adds what people need to work on them: the time
left in working time, who has claimed an item, internal notes. Who sees which items is decided here,
from the account inventory and the person's token (`socialops_common.identity.works_on`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from socialops_common.events import AccountRecord, SlaState
from socialops_common.identity import Person, works_on

from .calendar import ResponsePromise

WAITING = (SlaState.OPEN.value, SlaState.AT_RISK.value, SlaState.BREACHED.value)
CLOSED = (SlaState.MET.value, SlaState.CANCELLED.value)
# Closed items stay in the inbox's "besvarade/stängda" view this long.
CLOSED_SHOWN = timedelta(days=7)
NOTE_MAX = 4000


class ClaimedByOther(Exception):
    def __init__(self, claim: dict[str, Any]) -> None:
        super().__init__(claim["name"])
        self.claim = claim


@dataclass(frozen=True)
class InboxFilters:
    account: str | None = None
    department: str | None = None
    state: str | None = None  # open | at_risk | breached | met | cancelled; none: everything waiting
    platform: str | None = None


def working_seconds_left(promise: ResponsePromise, now: datetime, deadline: datetime | None) -> float | None:
    """Working time until the deadline; negative when it has passed (how late, in working time) (pure)."""
    if deadline is None:
        return None
    if now <= deadline:
        return promise.working_seconds_between(now, deadline)
    return -promise.working_seconds_between(deadline, now)


def visible(person: Person, accounts: Mapping[tuple[str, str], AccountRecord], platform: str, account_id: str) -> bool:
    record = accounts.get((platform, account_id))
    return works_on(person, record.department if record else None, record.editors if record else ())


def counts(rows: Iterable[Mapping[str, Any]], names: Mapping[tuple[str, str], str]) -> dict[str, dict[str, int]]:
    """How many items per state, platform, account and department (for the filters' numbers) (pure)."""
    tally: dict[str, Counter] = {"state": Counter(), "platform": Counter(), "account": Counter(),
                                 "department": Counter()}
    for row in rows:
        tally["state"][row["state"]] += 1
        tally["platform"][row["platform"]] += 1
        tally["account"][names.get((row["platform"], row["account_id"]), row["account_id"])] += 1
        tally["department"][row["department"] or "okänd"] += 1
    return {key: dict(counter) for key, counter in tally.items()}


def row_view(row: Mapping[str, Any], promise: ResponsePromise, now: datetime,
             record: AccountRecord | None) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "event_id": row["event_id"], "platform": row["platform"], "account_id": row["account_id"],
        "account_name": record.name if record else None, "department": row["department"],
        "item_id": row["item_id"], "thread_id": row["thread_id"], "parent_id": row["parent_id"],
        "kind": "dm" if row["item_kind"] == "dm.received" else "comment", "item_kind": row["item_kind"],
        "text": row["text"], "author_id": row["author_id"], "author_name": row["author_name"],
        "occurred_at": iso(row["occurred_at"]), "state": row["state"], "deadline": iso(row["deadline"]),
        "answered_at": iso(row["answered_at"]), "closed_reason": row["closed_reason"],
        "working_seconds_left": (working_seconds_left(promise, now, row["deadline"])
                                 if row["state"] in WAITING else None),
        "claim": None if row["claim_subject"] is None else {
            "subject": row["claim_subject"], "name": row["claim_name"], "at": iso(row["claimed_at"]),
            "taken_from": row["taken_from"], "taken_from_subject": row["taken_from_subject"]},
        "notes": row["notes"],
        "reply_error": row["reply_error"], "reply_error_at": iso(row["reply_error_at"]),
    }


_SELECT = """
    SELECT i.event_id, i.platform, i.account_id, i.department, i.item_id, i.thread_id, i.parent_id, i.item_kind,
           i.text, i.author_id, i.author_name, i.occurred_at, i.state, i.deadline, i.answered_at, i.closed_reason,
           i.reply_error, i.reply_error_at,
           c.subject AS claim_subject, c.name AS claim_name, c.claimed_at, c.taken_from, c.taken_from_subject,
           (SELECT count(*) FROM inbox_notes n WHERE n.event_id = i.event_id) AS notes
    FROM sla_items i LEFT JOIN inbox_claims c ON c.event_id = i.event_id
"""


class Inbox:
    """The inbox's reads and writes (asyncpg); who may see and do what is checked by the caller."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def items(self, now: datetime, filters: InboxFilters, limit: int = 500) -> list[asyncpg.Record]:
        if filters.state in CLOSED:
            where, args = "i.state = $1 AND i.occurred_at >= $2", [filters.state, now - CLOSED_SHOWN]
        elif filters.state in WAITING:
            where, args = "i.state = $1", [filters.state]
        else:
            where, args = "i.state = ANY($1::text[])", [list(WAITING)]
        for column, value in (("i.account_id", filters.account), ("i.department", filters.department),
                              ("i.platform", filters.platform)):
            if value:
                args.append(value)
                where += f" AND {column} = ${len(args)}"
        args.append(limit)
        return await self.pool.fetch(
            f"{_SELECT} WHERE {where} ORDER BY i.deadline NULLS LAST, i.occurred_at LIMIT ${len(args)}", *args)

    async def item(self, event_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(f"{_SELECT} WHERE i.event_id = $1", event_id)

    async def notes(self, event_id: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT id, subject, name, text, written_at FROM inbox_notes WHERE event_id = $1 ORDER BY id", event_id)
        return [{**dict(r), "written_at": r["written_at"].isoformat()} for r in rows]

    async def claim(self, event_id: str, person: Person, now: datetime, *, take_over: bool) -> dict[str, Any]:
        """Claim an item; someone else's claim only with `take_over` (and it says whom it was taken from)."""
        async with self.pool.acquire() as conn, conn.transaction():
            current = await conn.fetchrow("SELECT * FROM inbox_claims WHERE event_id = $1 FOR UPDATE", event_id)
            if current is not None and current["subject"] != person.subject and not take_over:
                raise ClaimedByOther({"subject": current["subject"], "name": current["name"],
                                      "at": current["claimed_at"].isoformat()})
            if current is not None and current["subject"] == person.subject:
                return {"subject": person.subject, "name": person.name, "at": current["claimed_at"].isoformat(),
                        "taken_from": current["taken_from"]}
            taken_from = current["name"] if current is not None else None
            taken_subject = current["subject"] if current is not None else None
            await conn.execute(
                "INSERT INTO inbox_claims (event_id, subject, name, email, claimed_at, taken_from, taken_from_subject)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO UPDATE SET subject = $2, name = $3,"
                " email = $4, claimed_at = $5, taken_from = $6, taken_from_subject = $7",
                event_id, person.subject, person.name, person.email, now, taken_from, taken_subject)
        return {"subject": person.subject, "name": person.name, "at": now.isoformat(), "taken_from": taken_from}

    async def release(self, event_id: str, person: Person) -> bool:
        result = await self.pool.execute("DELETE FROM inbox_claims WHERE event_id = $1 AND subject = $2",
                                         event_id, person.subject)
        return result.endswith(" 1")

    async def add_note(self, event_id: str, person: Person, text: str) -> dict[str, Any]:
        row = await self.pool.fetchrow(
            "INSERT INTO inbox_notes (event_id, subject, name, text) VALUES ($1, $2, $3, $4)"
            " RETURNING id, subject, name, text, written_at", event_id, person.subject, person.name, text)
        return {**dict(row), "written_at": row["written_at"].isoformat()}
