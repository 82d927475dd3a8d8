"""Read side: search and item views as plain SQL (the filter builder is pure and unit-tested)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from socialops_common.identity import Permission, Person

from .access import masked_text
from .records import verify_chain

SEARCH_COLUMNS = (
    "SELECT i.id, i.platform, i.account_id, i.platform_item_id, i.item_type, i.thread_id, i.parent_id,"
    " i.author_id, i.author_name, i.author_is_account, i.first_occurred_at, a.department,"
    " s.latest_text, s.version_count, s.hidden, s.deleted_by_city, s.deleted_by_author, s.removed_at"
    " FROM item i JOIN item_state s ON s.item_ref = i.id"
    " LEFT JOIN account a ON a.platform = i.platform AND a.external_id = i.account_id"
)

_SAME_ITEM = "x.platform = i.platform AND x.account_id = i.account_id AND x.platform_item_id = i.platform_item_id"


@dataclass(frozen=True)
class SearchFilters:
    q: str | None = None
    account: str | None = None
    platform: str | None = None
    department: str | None = None
    item_type: str | None = None
    author: str | None = None
    from_: datetime | None = None
    to: datetime | None = None
    removed: bool | None = None
    hidden: bool | None = None
    rule: str | None = None
    sla: str | None = None
    include_direct_messages: bool = False

    def as_audit(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()
                if v is not None and k != "include_direct_messages"}


def build_search(f: SearchFilters, limit: int, offset: int) -> tuple[str, list[Any]]:
    """The search as one SQL statement and its parameters (never string-formatted values)."""
    where: list[str] = []
    params: list[Any] = []

    def p(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    if f.q:
        where.append(f"s.search @@ websearch_to_tsquery('swedish', {p(f.q)})")
    if f.account:
        where.append(f"i.account_id = {p(f.account)}")
    if f.platform:
        where.append(f"i.platform = {p(f.platform)}")
    if f.department:
        where.append(f"a.department = {p(f.department)}")
    if f.item_type:
        where.append(f"i.item_type = {p(f.item_type)}")
    if not f.include_direct_messages:
        where.append("i.item_type <> 'dm'")
    if f.author:
        ref = p(f.author)
        where.append(f"(i.author_id = {ref} OR i.author_name = {ref})")
    if f.from_:
        where.append(f"i.first_occurred_at >= {p(f.from_)}")
    if f.to:
        where.append(f"i.first_occurred_at < {p(f.to)}")
    removed = (
        f"(s.deleted_by_city OR s.deleted_by_author OR s.hidden"
        f" OR EXISTS (SELECT 1 FROM removal x WHERE {_SAME_ITEM}))"
    )
    if f.removed is not None:
        where.append(removed if f.removed else f"NOT {removed}")
    hidden = f"(s.hidden OR EXISTS (SELECT 1 FROM removal x WHERE {_SAME_ITEM} AND x.operation = 'hide'))"
    if f.hidden is not None:
        where.append(hidden if f.hidden else f"NOT {hidden}")
    if f.rule:
        ref = p(f.rule)
        where.append(
            f"EXISTS (SELECT 1 FROM moderation_decision x WHERE {_SAME_ITEM} AND EXISTS"
            f" (SELECT 1 FROM unnest(x.rules) r WHERE r = {ref} OR r LIKE {ref} || '.%'))"
        )
    if f.sla:
        where.append(f"EXISTS (SELECT 1 FROM sla_change x WHERE {_SAME_ITEM} AND x.state = {p(f.sla)})")
    sql = SEARCH_COLUMNS
    if where:
        sql += " WHERE " + " AND ".join(where)
    if limit == 0:  # the count of matches, up to `offset` (a cap: counting a million rows helps nobody)
        return f"SELECT count(*) FROM ({sql} LIMIT {p(offset)}) AS matches", params
    sql += f" ORDER BY i.first_occurred_at DESC, i.id DESC LIMIT {p(limit)} OFFSET {p(offset)}"
    return sql, params


COUNT_CAP = 10_000


async def count_matches(connection: asyncpg.Connection, f: SearchFilters) -> int:
    """How many items match, counted up to COUNT_CAP + 1 (the page says "more than 10 000")."""
    sql, params = build_search(f, 0, COUNT_CAP + 1)
    async with connection.transaction():
        await connection.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        return await connection.fetchval(sql, *params)


HIGHLIGHT_START, HIGHLIGHT_END = "\x02", "\x03"


async def highlights(connection: asyncpg.Connection, items: list[dict[str, Any]], q: str) -> None:
    """Where the query's words (as Swedish stems) occur in each item's shown text: `matches` offsets.

    From PostgreSQL's own ts_headline, on the text the reader sees (masked or not), so the marks are
    exactly what the search matched and never point into masked personal data."""
    shown = [(item["id"], item["text"]) for item in items if item.get("text")]
    if not shown:
        return
    rows = await connection.fetch(
        "SELECT id, ts_headline('swedish', t, websearch_to_tsquery('swedish', $3),"
        " 'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3)) AS marked"
        " FROM unnest($1::bigint[], $2::text[]) AS u(id, t)",
        [i for i, _ in shown], [t for _, t in shown], q)
    texts = dict(shown)
    by_id = {item["id"]: item for item in items}
    for row in rows:
        spans = marked_spans(row["marked"])
        if spans is not None and spans[0] == texts[row["id"]]:
            by_id[row["id"]]["matches"] = spans[1]


def marked_spans(marked: str) -> tuple[str, list[list[int]]] | None:
    """The plain text and the [start, end) offsets of the parts ts_headline marked (pure)."""
    plain: list[str] = []
    spans: list[list[int]] = []
    start: int | None = None
    length = 0
    for char in marked:
        if char == HIGHLIGHT_START:
            start = length
        elif char == HIGHLIGHT_END:
            if start is None:
                return None
            spans.append([start, length])
            start = None
        else:
            plain.append(char)
            length += 1
    return "".join(plain), spans


async def decisions_by_event(connection: asyncpg.Connection, event_ids: list[str]) -> dict[str, dict]:
    """The latest decision per item version (a reviewer's override comes later and wins)."""
    # LATERAL … LIMIT 1: one index probe per id (DISTINCT ON over ANY() can walk the whole index).
    rows = await connection.fetch(
        "SELECT e AS event_id, d.record FROM unnest($1::text[]) AS e,"
        " LATERAL (SELECT record FROM moderation_decision x WHERE x.event_id = e"
        "   ORDER BY decided_at DESC, id DESC LIMIT 1) AS d",
        event_ids,
    )
    return {r["event_id"]: json.loads(r["record"]) for r in rows}


async def latest_versions(connection: asyncpg.Connection, item_refs: list[int]) -> dict[int, str]:
    rows = await connection.fetch(
        "SELECT r AS item_ref, v.event_id FROM unnest($1::bigint[]) AS r,"
        " LATERAL (SELECT event_id FROM item_event x WHERE x.item_ref = r AND x.version_no IS NOT NULL"
        "   ORDER BY version_no DESC LIMIT 1) AS v",
        item_refs,
    )
    return {r["item_ref"]: r["event_id"] for r in rows}


def item_summary(row: Any, principal: Person, decision: dict | None) -> dict[str, Any]:
    text = row["latest_text"]
    if not principal.may(Permission.READ_PERSONAL_DATA):
        text = masked_text(text, decision)
    return {
        "id": row["id"],
        "platform": row["platform"],
        "account_id": row["account_id"],
        "department": row["department"],
        "platform_item_id": row["platform_item_id"],
        "type": row["item_type"],
        "thread_id": row["thread_id"],
        "parent_id": row["parent_id"],
        "author": {"id": row["author_id"], "name": row["author_name"], "is_account": row["author_is_account"]},
        "occurred_at": row["first_occurred_at"].isoformat(),
        "text": text,
        "versions": row["version_count"],
        "hidden": row["hidden"],
        "deleted_by_city": row["deleted_by_city"],
        "deleted_by_author": row["deleted_by_author"],
        "removed_at": row["removed_at"].isoformat() if row["removed_at"] else None,
    }


async def search(
    connection: asyncpg.Connection, f: SearchFilters, principal: Person, limit: int, offset: int
) -> list[dict[str, Any]]:
    sql, params = build_search(f, limit, offset)
    # Planned for this query's values every time. After five runs of a prepared statement the
    # server may switch to a generic plan, which cannot see that a query holds only stop words
    # ("när") or a rare combination of words: it walked the account's whole period for them
    # (80–190 ms at 200,000 items, against 0.2–13 ms; the filtered search's p95 in bench/archive.py).
    async with connection.transaction():
        await connection.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = await connection.fetch(sql, *params)
    latest = await latest_versions(connection, [r["id"] for r in rows])
    decisions = await decisions_by_event(connection, list(latest.values()))
    items = [item_summary(r, principal, decisions.get(latest.get(r["id"], ""))) for r in rows]
    if f.q and not principal.may(Permission.READ_PERSONAL_DATA):
        items = await _matching_what_they_may_see(connection, items, rows, f.q)
    return items


async def _matching_what_they_may_see(
    connection: asyncpg.Connection, items: list[dict[str, Any]], rows: list[Any], q: str
) -> list[dict[str, Any]]:
    """A role that sees masked text must not find an item by its personal data (searching for a
    phone number would tell whose comment holds it): where masking changed the text, the query
    must match the masked text too. (A page can then hold fewer than `limit` items.)"""
    masked = [(item["id"], item["text"]) for item, row in zip(items, rows, strict=True)
              if item["text"] != row["latest_text"]]
    if not masked:
        return items
    still = {
        r["id"] for r in await connection.fetch(
            "SELECT id FROM unnest($1::bigint[], $2::text[]) AS u(id, t)"
            " WHERE to_tsvector('swedish', coalesce(t, '')) @@ websearch_to_tsquery('swedish', $3)",
            [m[0] for m in masked], [m[1] for m in masked], q,
        )
    }
    hidden = {m[0] for m in masked} - still
    return [item for item in items if item["id"] not in hidden]


async def item_detail(connection: asyncpg.Connection, item_id: int, principal: Person) -> dict[str, Any] | None:
    rows = await connection.fetch(SEARCH_COLUMNS + " WHERE i.id = $1", item_id)
    if not rows:
        return None
    row = rows[0]
    unmasked = principal.may(Permission.READ_PERSONAL_DATA)
    events = await connection.fetch(
        "SELECT seq, version_no, event_id, kind, text, occurred_at, received_at, archived_at, sha256,"
        " prev_hash, chain_hash, record, raw FROM item_event WHERE item_ref = $1 ORDER BY seq",
        item_id,
    )
    decisions = await decisions_by_event(connection, [e["event_id"] for e in events])
    versions = []
    for e in events:
        if e["version_no"] is None:
            continue
        version = {
            "version": e["version_no"],
            "event_id": e["event_id"],
            "kind": e["kind"],
            "text": e["text"] if unmasked else masked_text(e["text"], decisions.get(e["event_id"])),
            "occurred_at": e["occurred_at"].isoformat(),
            "received_at": e["received_at"].isoformat(),
            "archived_at": e["archived_at"].isoformat(),
            "sha256": e["sha256"],
            "chain_hash": e["chain_hash"],
        }
        if unmasked:  # the raw payload holds the unmasked text
            version["raw"] = json.loads(e["raw"])
        versions.append(version)
    detail = item_summary(row, principal, decisions.get(versions[-1]["event_id"]) if versions else None)
    detail["versions"] = versions
    detail["events"] = [
        {"seq": e["seq"], "event_id": e["event_id"], "kind": e["kind"], "occurred_at": e["occurred_at"].isoformat(),
         "sha256": e["sha256"]}
        for e in events
    ]
    # Recomputed on every read, so what the reader sees is checked, not remembered.
    broken = verify_chain(item_id, [(e["seq"], e["event_id"], e["record"], e["sha256"], e["prev_hash"],
                                     e["chain_hash"], e["text"]) for e in events])
    detail["integrity"] = {"verified": not broken, "events_checked": len(events),
                           "broken": [str(link) for link in broken]}
    key = (row["platform"], row["account_id"], row["platform_item_id"])
    detail["moderation"] = [decision_view(d) for d in await connection.fetch(
        "SELECT * FROM moderation_decision WHERE platform = $1 AND account_id = $2"
        " AND platform_item_id = $3 ORDER BY decided_at, id", *key)]
    detail["sla"] = [
        {"change_id": c["change_id"], "state": c["state"], "changed_at": c["changed_at"].isoformat(),
         "reason": json.loads(c["record"]).get("reason")}
        for c in await connection.fetch(
            "SELECT * FROM sla_change WHERE platform = $1 AND account_id = $2 AND platform_item_id = $3"
            " ORDER BY changed_at, id", *key)
    ]
    detail["actions"] = [
        {"action_id": a["action_id"], "type": a["message_type"], "operation": a["operation"],
         "status": a["status"], "at": a["at"].isoformat()}
        for a in await connection.fetch(
            "SELECT * FROM platform_action WHERE platform = $1 AND account_id = $2 AND platform_item_id = $3"
            " ORDER BY at, id", *key)
    ]
    registrations = await registrations_for(connection, key)
    detail["registrations"] = registrations
    detail["registration"] = registrations[-1] if registrations else None
    detail["thread"] = await thread_of(connection, row, principal)
    return detail


async def registrations_for(connection: asyncpg.Connection, key: tuple[str, str, str]) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT g.id, g.number, g.registered_at, m.operation, m.source, m.removed_by, m.removed_at,"
        " s.pdf_sha256, s.png_sha256, o.status, o.attempts, o.last_error, o.sent_at, o.recipient"
        " FROM removal m JOIN registration g ON g.removal_ref = m.id"
        " LEFT JOIN snapshot s ON s.registration_ref = g.id"
        " LEFT JOIN mail_outbox o ON o.registration_ref = g.id"
        " WHERE m.platform = $1 AND m.account_id = $2 AND m.platform_item_id = $3 ORDER BY g.id",
        *key,
    )
    return [registration_view(r) for r in rows]


def registration_view(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "number": r["number"],
        "registered_at": r["registered_at"].isoformat(),
        "operation": r["operation"],
        "source": r["source"],
        "removed_by": r["removed_by"],
        "removed_at": r["removed_at"].isoformat(),
        "snapshot": None if r["pdf_sha256"] is None else {
            "pdf": f"/registrations/{r['id']}/snapshot.pdf",
            "png": f"/registrations/{r['id']}/snapshot.png",
            "pdf_sha256": r["pdf_sha256"],
            "png_sha256": r["png_sha256"],
        },
        "email": {
            "status": mail_state(r["status"], r["last_error"]), "attempts": r["attempts"],
            "last_error": r["last_error"], "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None,
            "to": r["recipient"],
            "next_attempt_at": (r["next_attempt_at"].isoformat()
                                if "next_attempt_at" in r.keys() and r["status"] not in (None, "sent") else None),
        },
        **({"item": r["item_ref"], "platform": r["platform"], "account_id": r["account_id"], "reason": r["reason"]}
           if "item_ref" in r.keys() else {}),
    }


def decision_view(d: Any) -> dict[str, Any]:
    """A moderation decision as the archive shows it: the rules with their clause, confidence and spans."""
    record = json.loads(d["record"])
    return {
        "decision_id": d["decision_id"], "event_id": d["event_id"], "action": d["action"],
        "rules": list(d["rules"]), "decided_at": d["decided_at"].isoformat(),
        "decided_by": record.get("decided_by"), "reviewer": record.get("reviewer"),
        "hits": record.get("rules", []), "confidence": record.get("confidence"),
        "needs_answer": record.get("needs_answer"), "reason": record.get("reason"),
        "supersedes": record.get("supersedes"), "block_author": record.get("block_author"),
        "notification_text": record.get("notification_text"), "model": record.get("model"),
        "speech_act": record.get("speech_act"), "friendly": record.get("friendly"),
    }


def mail_state(outbox_status: str | None, last_error: str | None) -> str | None:
    """What a registrar is told about the e-mail: sent, failed (an attempt failed; retried) or pending."""
    if outbox_status is None:
        return None
    if outbox_status == "sent":
        return "sent"
    return "failed" if last_error else "pending"


async def thread_of(connection: asyncpg.Connection, row: Any, principal: Person) -> list[dict[str, Any]]:
    """Everything archived in the item's thread (post first), masked like the item itself."""
    return await conversation(connection, row["platform"], row["account_id"], row["thread_id"], principal)


async def conversation(connection: asyncpg.Connection, platform: str, account_id: str, thread_id: str,
                       principal: Person) -> list[dict[str, Any]]:
    """A thread (the post first, then in time order) or a DM conversation, masked for the reader."""
    rows = await connection.fetch(
        SEARCH_COLUMNS + " WHERE i.platform = $1 AND i.account_id = $2 AND i.thread_id = $3"
        " ORDER BY (i.platform_item_id = i.thread_id) DESC, i.first_occurred_at, i.id LIMIT 200",
        platform, account_id, thread_id,
    )
    latest = await latest_versions(connection, [r["id"] for r in rows])
    decisions = await decisions_by_event(connection, list(latest.values()))
    return [item_summary(r, principal, decisions.get(latest.get(r["id"], ""))) for r in rows]
