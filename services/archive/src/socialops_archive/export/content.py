"""What goes into an export: the account's items of the period with every version and history."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg


@dataclass
class ExportContent:
    account_id: str
    account_name: str | None
    department: str | None
    period_from: datetime
    period_to: datetime
    items: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # (number, pdf, png)


async def load_export_content(
    connection: asyncpg.Connection, account_id: str, period_from: datetime, period_to: datetime,
    include_direct_messages: bool = True,
) -> ExportContent:
    account = await connection.fetchrow("SELECT * FROM account WHERE external_id = $1 LIMIT 1", account_id)
    content = ExportContent(
        account_id=account_id,
        account_name=account["name"] if account else None,
        department=account["department"] if account else None,
        period_from=period_from,
        period_to=period_to,
    )
    items = await connection.fetch(
        "SELECT * FROM item WHERE account_id = $1 AND first_occurred_at >= $2 AND first_occurred_at < $3"
        " AND ($4 OR item_type <> 'dm') ORDER BY first_occurred_at, id",
        account_id, period_from, period_to, include_direct_messages,
    )
    refs = [i["id"] for i in items]
    events: dict[int, list[dict[str, Any]]] = {}
    for e in await connection.fetch(
        "SELECT item_ref, seq, version_no, record, sha256, chain_hash, archived_at FROM item_event"
        " WHERE item_ref = ANY($1::bigint[]) ORDER BY item_ref, seq",
        refs,
    ):
        events.setdefault(e["item_ref"], []).append(
            {"seq": e["seq"], "version": e["version_no"], "sha256": e["sha256"], "chain_hash": e["chain_hash"],
             "archived_at": e["archived_at"].isoformat(), "event": json.loads(e["record"])}
        )
    side: dict[tuple[str, str], dict[str, list[Any]]] = {}
    for table, label in (("moderation_decision", "moderation"), ("sla_change", "sla"),
                         ("platform_action", "actions")):
        for r in await connection.fetch(
            f"SELECT platform, platform_item_id, record, sha256 FROM {table} WHERE account_id = $1", account_id
        ):
            bucket = side.setdefault((r["platform"], r["platform_item_id"]), {})
            bucket.setdefault(label, []).append({"sha256": r["sha256"], "record": json.loads(r["record"])})
    registrations: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in await connection.fetch(
        "SELECT m.platform, m.platform_item_id, m.operation, m.removed_at, m.removed_by, g.number,"
        " g.registered_at, s.pdf, s.png FROM removal m JOIN registration g ON g.removal_ref = m.id"
        " LEFT JOIN snapshot s ON s.registration_ref = g.id"
        " WHERE m.account_id = $1 AND m.removed_at >= $2 AND m.removed_at < $3",
        account_id, period_from, period_to,
    ):
        registrations.setdefault((r["platform"], r["platform_item_id"]), []).append(
            {"number": r["number"], "registered_at": r["registered_at"].isoformat(), "operation": r["operation"],
             "removed_at": r["removed_at"].isoformat(), "removed_by": r["removed_by"]}
        )
        if r["pdf"] is not None:
            content.snapshots.append((r["number"], bytes(r["pdf"]), bytes(r["png"])))
    for i in items:
        key = (i["platform"], i["platform_item_id"])
        content.items.append(
            {
                "archive_id": i["id"],
                "platform": i["platform"],
                "account_id": i["account_id"],
                "platform_item_id": i["platform_item_id"],
                "type": i["item_type"],
                "thread_id": i["thread_id"],
                "parent_id": i["parent_id"],
                "author": {"id": i["author_id"], "name": i["author_name"], "is_account": i["author_is_account"]},
                "first_occurred_at": i["first_occurred_at"].isoformat(),
                "events": events.get(i["id"], []),
                **side.get(key, {}),
                "registrations": registrations.get(key, []),
            }
        )
    return content
