"""`socialops-archive verify`: recompute every hash and chain link and name any broken one."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg

from .records import BrokenLink, sha256_hex, verify_chain

_SIDE_TABLES = {
    "moderation_decision": "decision_id",
    "sla_change": "change_id",
    "platform_action": "message_key",
    "metric_snapshot": "event_id",
}


@dataclass
class VerifyReport:
    items: int = 0
    events: int = 0
    side_records: int = 0
    broken: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


async def _item_rows(connection: asyncpg.Connection, chunk: int = 5000) -> AsyncIterator[tuple[int, list]]:
    """Events grouped per item, streamed with a cursor (the archive can be large)."""
    current: int | None = None
    rows: list = []
    async with connection.transaction():
        async for r in connection.cursor(
            "SELECT item_ref, seq, event_id, record, sha256, prev_hash, chain_hash, text"
            " FROM item_event ORDER BY item_ref, seq",
            prefetch=chunk,
        ):
            if r["item_ref"] != current:
                if current is not None:
                    yield current, rows
                current, rows = r["item_ref"], []
            rows.append((r["seq"], r["event_id"], r["record"], r["sha256"], r["prev_hash"], r["chain_hash"],
                         r["text"]))
    if current is not None:
        yield current, rows


async def verify_archive(connection: asyncpg.Connection) -> VerifyReport:
    report = VerifyReport()
    async for item_ref, rows in _item_rows(connection):
        report.items += 1
        report.events += len(rows)
        report.broken.extend(str(b) for b in verify_chain(item_ref, rows))
    for table, key in _SIDE_TABLES.items():
        async with connection.transaction():
            async for r in connection.cursor(f"SELECT {key} AS key, record, sha256 FROM {table}"):
                report.side_records += 1
                if sha256_hex(r["record"]) != r["sha256"]:
                    report.broken.append(f"{table} {r['key']}: record does not match its SHA-256")
    snapshots = await connection.fetch(
        "SELECT g.number, s.pdf, s.pdf_sha256 FROM snapshot s JOIN registration g ON g.id = s.registration_ref"
    )
    for s in snapshots:
        if hashlib.sha256(bytes(s["pdf"])).hexdigest() != s["pdf_sha256"]:
            report.broken.append(f"snapshot of {s['number']}: PDF does not match its SHA-256")
    return report


__all__ = ["BrokenLink", "VerifyReport", "verify_archive"]
