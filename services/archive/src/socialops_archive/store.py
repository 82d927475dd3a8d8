"""The archive's write side: one transaction per consumed batch, idempotent under redelivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from socialops_common.events import EventKind, PlatformActionOutcome, SocialEvent

from .records import (
    CONTENT_KINDS,
    GENESIS_HASH,
    ArchiveBatch,
    RemovalNotice,
    action_message_key,
    canonical_record,
    chain_events,
    hashed_record,
    item_type_of,
    json_text,
    sha256_hex,
)

# The lock of a batch that does not say which partitions its events came from.
UNKNOWN_PARTITION = -1


def registration_number(series: str, year: int, sequence: int) -> str:
    """The diarium number as the registrar writes it, e.g. "KS 2026/000123"."""
    return f"{series} {year}/{sequence:06d}"


@dataclass
class WriteResult:
    events_archived: int = 0
    duplicates: int = 0
    decisions: int = 0
    sla_changes: int = 0
    actions: int = 0
    accounts: int = 0
    registrations: list[str] | None = None

    @property
    def new_rows(self) -> int:
        return self.events_archived + self.decisions + self.sla_changes + self.actions


_ITEM_EVENT_COLUMNS = (
    "item_ref", "seq", "version_no", "event_id", "kind", "text", "occurred_at", "received_at",
    "record", "raw", "sha256", "prev_hash", "chain_hash",
)


_ITEM_COLUMNS = (
    "id", "item_key", "platform", "account_id", "platform_item_id", "item_type", "thread_id", "parent_id",
    "author_id", "author_name", "author_is_account", "first_occurred_at",
)


class ArchiveStore:
    def __init__(self, pool: asyncpg.Pool, registration_series: str, registrar_address: str) -> None:
        self.pool = pool
        self.series = registration_series
        self.registrar_address = registrar_address

    async def write(self, batch: ArchiveBatch) -> WriteResult:
        result = WriteResult(registrations=[])
        async with self.pool.acquire() as connection, connection.transaction():
            await self._write_events(connection, batch.events, result, batch.hashed, batch.event_partitions)
            await self._write_decisions(connection, batch, result)
            await self._write_sla(connection, batch, result)
            await self._write_actions(connection, batch, result)
            await self._write_accounts(connection, batch, result)
            # Lock order, so that concurrent writers never wait on each other in a cycle: event
            # partitions (above), then every removal row in key order, then the registration counter.
            notices = sorted(batch.removals(), key=lambda n: (n.platform, n.account_id, n.platform_item_id,
                                                              n.operation))
            removals = [r for r in [await self._record_removal(connection, n) for n in notices] if r is not None]
            for removal_id in removals:
                result.registrations.append(await self._register(connection, removal_id))
        return result

    # --- items and their events -------------------------------------------------------------

    async def _write_events(
        self,
        connection: asyncpg.Connection,
        events: list[SocialEvent],
        result: WriteResult,
        hashed: dict[str, tuple[str, str]],
        partitions: set[int],
    ) -> None:
        metrics = [e for e in events if e.kind is EventKind.METRICS_SNAPSHOT]
        if metrics:
            await connection.executemany(
                "INSERT INTO metric_snapshot (event_id, platform, account_id, occurred_at, record, sha256)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
                [
                    (e.event_id, e.platform.value, e.account_id, e.occurred_at, *_hashed(e, hashed))
                    for e in metrics
                ],
            )
        seen: set[str] = set()
        item_events: list[SocialEvent] = []
        for event in events:
            if event.kind is EventKind.METRICS_SNAPSHOT or event.event_id in seen:
                result.duplicates += event.event_id in seen
                continue
            seen.add(event.event_id)
            item_events.append(event)
        if not item_events:
            return
        # Writers are serialised per partition of social.events.v1, in order (no deadlock cycles): an
        # item's events share a partition (keyed by thread) and each writer has partitions of its
        # own, so writers never wait for each other, except two consumers briefly given the same
        # partition by a rebalance. Locking items instead (256 buckets, as before) made the archive's
        # concurrent writers take turns: bench/archive.py wrote 20–27 % more events/s without it. Should
        # one item's events still arrive on two partitions at once, its unique keys refuse the
        # second write, which is retried.
        await connection.execute(
            "SELECT pg_advisory_xact_lock(6083, p) FROM unnest($1::int[]) AS p ORDER BY p",
            sorted(partitions) if partitions else [UNKNOWN_PARTITION],
        )
        item_refs, created = await self._ensure_items(connection, item_events)
        by_item: dict[int, list[SocialEvent]] = {}
        for event in item_events:
            by_item.setdefault(item_refs[_item_key(event)], []).append(event)
        # An item created by this transaction has no events yet: only the events of items that
        # were already archived can be redeliveries, and only those items have a chain head.
        earlier = [r for r in by_item if r not in created]
        heads: dict[int, tuple[int, int, str]] = {}
        if earlier:
            known = {
                r["event_id"]
                for r in await connection.fetch(
                    "SELECT event_id FROM item_event WHERE event_id = ANY($1::text[])",
                    [e.event_id for r in earlier for e in by_item[r]],
                )
            }
            if known:
                result.duplicates += sum(e.event_id in known for r in earlier for e in by_item[r])
                for ref in earlier:
                    by_item[ref] = [e for e in by_item[ref] if e.event_id not in known]
                    if not by_item[ref]:
                        del by_item[ref]
            # Each item's chain head: one index probe per item (LATERAL ... LIMIT 1).
            heads = {
                r["item_ref"]: (r["seq"], r["versions"], r["chain_hash"])
                for r in await connection.fetch(
                    "SELECT r AS item_ref, h.seq, h.chain_hash,"
                    " (SELECT coalesce(max(version_no), 0) FROM item_event v WHERE v.item_ref = r) AS versions"
                    " FROM unnest($1::bigint[]) AS r,"
                    " LATERAL (SELECT seq, chain_hash FROM item_event e WHERE e.item_ref = r"
                    "   ORDER BY seq DESC LIMIT 1) AS h",
                    [r for r in earlier if r in by_item],
                )
            }
        if not by_item:
            return
        rows: list[tuple[Any, ...]] = []
        states: list[tuple[Any, ...]] = []
        for item_ref, item_events_ in by_item.items():
            seq, versions, head = heads.get(item_ref, (0, 0, GENESIS_HASH))
            chained = chain_events(item_events_, seq, versions, head, hashed)
            for c in chained:
                e = c.event
                rows.append(
                    (item_ref, c.seq, c.version_no, e.event_id, e.kind.value, e.text, e.occurred_at,
                     e.received_at, c.record, json_text(e.raw), c.sha256, c.prev_hash, c.chain_hash)
                )
            states.append(_state_delta(item_ref, item_events_))
        await connection.copy_records_to_table("item_event", records=rows, columns=_ITEM_EVENT_COLUMNS)
        # An item has a state row exactly when it has events (both are written, and disposed of,
        # together), so the chain heads say which items are updated and which are new: each
        # statement touches only its own rows. A state row that should not exist fails the insert
        # loudly (the batch is retried, then dead-lettered) instead of being skipped.
        existing = [s for s in states if s[0] in heads]
        new = [s for s in states if s[0] not in heads]
        if existing:
            await connection.execute(
                "UPDATE item_state AS s SET"
                " latest_text = coalesce(u.t, s.latest_text),"
                " version_count = s.version_count + u.n,"
                " hidden = coalesce(u.h, s.hidden),"
                " deleted_by_city = s.deleted_by_city OR u.dc,"
                " deleted_by_author = s.deleted_by_author OR u.da,"
                " removed_at = coalesce(s.removed_at, u.ra),"
                " search = CASE WHEN u.st IS NULL THEN s.search ELSE s.search || to_tsvector('swedish', u.st) END"
                f" FROM {_STATE_DELTAS} WHERE s.item_ref = u.r",
                _state_json(existing),
            )
        if new:
            await connection.execute(
                "INSERT INTO item_state (item_ref, latest_text, version_count, hidden, deleted_by_city,"
                " deleted_by_author, removed_at, search)"
                " SELECT r, t, n, coalesce(h, false), dc, da, ra, to_tsvector('swedish', coalesce(st, ''))"
                f" FROM {_STATE_DELTAS}",
                _state_json(new),
            )
        result.events_archived += len(rows)

    async def _ensure_items(
        self, connection: asyncpg.Connection, events: list[SocialEvent]
    ) -> tuple[dict[tuple[str, str, str], int], set[int]]:
        """Each event's item id, creating the items not archived yet; also says which were created.

        Known items are looked up and new ones given ids in one query, then the new rows are
        COPYed. Should another writer create the same item meanwhile, the unique key fails this
        transaction, which is retried and then finds the item."""
        first: dict[tuple[str, str, str], SocialEvent] = {}
        for event in events:
            key = _item_key(event)
            # The item's author is the author of its content, not the editor who hid it.
            if key not in first or (
                event.kind in CONTENT_KINDS and first[key].kind not in CONTENT_KINDS
            ):
                first[key] = event
        keys = sorted(first)  # a stable order: concurrent writers never wait on each other in a cycle
        found = await connection.fetch(
            "SELECT k AS item_key, coalesce(i.id, nextval('item_id_seq')) AS id, i.id IS NULL AS created"
            " FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) LEFT JOIN item i ON i.item_key = u.k"
            " ORDER BY u.n",
            [":".join(k) for k in keys],
        )
        refs = {key: row["id"] for key, row in zip(keys, found, strict=True)}
        created = {row["id"] for row in found if row["created"]}
        if created:
            rows = [
                (
                    refs[key], ":".join(key), e.platform.value, e.account_id, e.item_id, item_type_of(e.kind),
                    e.thread_id, e.parent_id,
                    *(
                        (e.author.id, e.author.name, e.author.is_account)
                        if e.kind in CONTENT_KINDS
                        else (None, None, False)
                    ),
                    e.occurred_at,
                )
                for key in keys
                if refs[key] in created
                for e in [first[key]]
            ]
            await connection.copy_records_to_table("item", records=rows, columns=_ITEM_COLUMNS)
        return refs, created

    # --- decisions, SLA, actions, accounts --------------------------------------------------

    async def _write_decisions(self, connection: asyncpg.Connection, batch: ArchiveBatch, result: WriteResult) -> None:
        if not batch.decisions:
            return
        rows = []
        for d in batch.decisions:
            record = canonical_record(d)
            rows.append(
                (d.decision_id, d.event_id, d.platform.value, d.account_id, d.item_id, d.action.value,
                 [h.rule_id for h in d.rules], d.masked_text, d.decided_at, record, sha256_hex(record))
            )
        inserted = await connection.fetch(
            "INSERT INTO moderation_decision (decision_id, event_id, platform, account_id, platform_item_id,"
            " action, rules, masked_text, decided_at, record, sha256)"
            " SELECT a, b, c, d, e, f, CASE WHEN g = '' THEN '{}'::text[] ELSE string_to_array(g, E'\\x1f') END,"
            " h, i, j, k FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
            " $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::text[])"
            " AS u(a, b, c, d, e, f, g, h, i, j, k)"
            " ON CONFLICT (decision_id) DO NOTHING RETURNING 1",
            *_columns(rows, 11, array_column=6),
        )
        result.decisions += len(inserted)

    async def _write_sla(self, connection: asyncpg.Connection, batch: ArchiveBatch, result: WriteResult) -> None:
        if not batch.sla_changes:
            return
        rows = []
        for c in batch.sla_changes:
            record = canonical_record(c)
            rows.append(
                (c.change_id, c.event_id, c.platform.value, c.account_id, c.item_id, c.state.value,
                 c.changed_at, record, sha256_hex(record))
            )
        inserted = await connection.fetch(
            "INSERT INTO sla_change (change_id, event_id, platform, account_id, platform_item_id, state,"
            " changed_at, record, sha256)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
            " $7::timestamptz[], $8::text[], $9::text[])"
            " ON CONFLICT (change_id) DO NOTHING RETURNING 1",
            *_columns(rows, 9),
        )
        result.sla_changes += len(inserted)

    async def _write_actions(self, connection: asyncpg.Connection, batch: ArchiveBatch, result: WriteResult) -> None:
        if not batch.actions:
            return
        rows = []
        for a in batch.actions:
            record = canonical_record(a)
            outcome = isinstance(a, PlatformActionOutcome)
            rows.append(
                (action_message_key(a), a.action_id, a.type, a.platform.value, a.account_id, a.item_id,
                 a.operation.value, a.status.value if outcome else None,
                 a.completed_at if outcome else a.requested_at, record, sha256_hex(record))
            )
        inserted = await connection.fetch(
            "INSERT INTO platform_action (message_key, action_id, message_type, platform, account_id,"
            " platform_item_id, operation, status, at, record, sha256)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
            " $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::text[])"
            " ON CONFLICT (message_key) DO NOTHING RETURNING 1",
            *_columns(rows, 11),
        )
        result.actions += len(inserted)

    async def _write_accounts(self, connection: asyncpg.Connection, batch: ArchiveBatch, result: WriteResult) -> None:
        for account in batch.accounts:
            await connection.execute(
                "INSERT INTO account (platform, external_id, name, department, status, archive_level,"
                " closed_date, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (platform, external_id) DO UPDATE SET name = $3, department = $4,"
                " status = $5, archive_level = $6, closed_date = $7, record = $8, updated_at = now()",
                account.platform.value, account.external_id, account.name, account.department,
                account.status.value, account.archive_level.value, account.closed_date,
                canonical_record(account),
            )
            result.accounts += 1

    # --- removals -> registrations ----------------------------------------------------------

    async def _record_removal(self, connection: asyncpg.Connection, notice: RemovalNotice) -> int | None:
        """The removal's id when it is new (the same hide told by webhook and executor is one).

        Helsingborg guidelines (seed 001, "Dölja eller ta bort kommentar"): "Ta en skärmdump av
        kommentaren och diarieför den" — each city removal is kept and registered (`_register`)."""
        return await connection.fetchval(
            "INSERT INTO removal (platform, account_id, platform_item_id, operation, source, source_id,"
            " removed_by, reason, removed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (platform, account_id, platform_item_id, operation) DO NOTHING RETURNING id",
            notice.platform, notice.account_id, notice.platform_item_id, notice.operation, notice.source,
            notice.source_id, notice.removed_by, notice.reason, notice.removed_at,
        )

    async def _register(self, connection: asyncpg.Connection, removal_id: int) -> str:
        """The removal's registration: the next number of the year's gap-free series, and its e-mail."""
        year = datetime.now(UTC).year
        sequence = await connection.fetchval(
            "INSERT INTO registration_counter (series, year, last_number) VALUES ($1, $2, 1)"
            " ON CONFLICT (series, year) DO UPDATE SET last_number = registration_counter.last_number + 1"
            " RETURNING last_number",
            self.series, year,
        )
        number = registration_number(self.series, year, sequence)
        registration_id = await connection.fetchval(
            "INSERT INTO registration (removal_ref, number, series, year, sequence)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            removal_id, number, self.series, year, sequence,
        )
        await connection.execute(
            "INSERT INTO mail_outbox (registration_ref, recipient, message_id) VALUES ($1, $2, $3)",
            registration_id, self.registrar_address,
            f"<registration-{registration_id}-{sequence}.{year}@socialops.archive>",
        )
        return number


def _item_key(event: SocialEvent) -> tuple[str, str, str]:
    return (event.platform.value, event.account_id, event.item_id)


def _hashed(event: SocialEvent, hashed: dict[str, tuple[str, str]]) -> tuple[str, str]:
    known = hashed.get(event.event_id)
    return known if known is not None else hashed_record(event)


def _columns(rows: list[tuple[Any, ...]], width: int, array_column: int | None = None) -> list[list[Any]]:
    columns = [[row[i] for row in rows] for i in range(width)]
    if array_column is not None:
        # unnest cannot take a 2-D ragged array: pass the rule ids as one text per row, split in SQL.
        columns[array_column] = ["\x1f".join(v) for v in columns[array_column]]
    return columns


# Item state changes go to PostgreSQL as one JSON array rather than eight parallel arrays: asyncpg
# checks every array element against the iterable ABCs, which cost the archive 2.8 µs an item where
# the JSON costs 1.5 (the database's work is the same).
_STATE_DELTAS = ("json_to_recordset($1::json) AS u(r bigint, t text, n int, h bool, dc bool, da bool,"
                 " ra timestamptz, st text)")


def _state_json(states: list[tuple[Any, ...]]) -> str:
    # removed_at as ISO text: the standard encoder, json_text's fallback, takes no datetimes.
    return json_text([
        {"r": r, "t": t, "n": n, "h": h, "dc": dc, "da": da, "ra": ra.isoformat() if ra else None, "st": st}
        for r, t, n, h, dc, da, ra, st in states
    ])


def _state_delta(item_ref: int, events: list[SocialEvent]) -> tuple[Any, ...]:
    """What a run of new events changes in the item's current state."""
    latest_text = None
    versions = 0
    texts: list[str] = []
    hidden: bool | None = None
    deleted_by_city = deleted_by_author = False
    removed_at = None
    for e in events:
        if e.kind in CONTENT_KINDS:
            versions += 1
            latest_text = e.text if e.text is not None else latest_text
            if e.text:
                texts.append(e.text)
        elif e.kind is EventKind.COMMENT_HIDDEN:
            hidden = True
            removed_at = removed_at or e.occurred_at
        elif e.kind is EventKind.COMMENT_UNHIDDEN:
            hidden = False
        elif e.kind is EventKind.COMMENT_DELETED_BY_CITY:
            deleted_by_city = True
            removed_at = removed_at or e.occurred_at
        elif e.kind in (EventKind.COMMENT_DELETED_BY_AUTHOR, EventKind.POST_DELETED):
            deleted_by_author = True
    return (item_ref, latest_text, versions, hidden, deleted_by_city, deleted_by_author, removed_at,
            "\n".join(texts) if texts else None)
