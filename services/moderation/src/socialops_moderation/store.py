"""PostgreSQL through asyncpg: migrations, decisions, the review queue, executed actions.

Plain SQL; migrations are the `migrations/*.sql` files, applied in name order at start-up, each once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import asyncpg
from socialops_common.events import ModerationDecision, PlatformActionCommand, PlatformActionOutcome

MIGRATION_LOCK = 0x6D6F6465  # advisory lock id ("mode"): one replica migrates at a time


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply the migrations not applied yet; returns their names."""
    applied = []
    files = sorted(
        (f for f in resources.files("socialops_moderation").joinpath("migrations").iterdir() if f.name.endswith(".sql")),
        key=lambda f: f.name,
    )
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS moderation_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM moderation_migrations")}
        for migration in files:
            if migration.name in done:
                continue
            await conn.execute(migration.read_text("utf-8"))
            await conn.execute("INSERT INTO moderation_migrations (name) VALUES ($1)", migration.name)
            applied.append(migration.name)
    return applied


@dataclass(frozen=True)
class StoredDecision:
    decision: ModerationDecision
    suggested: dict[str, Any] | None
    published: bool


@dataclass(frozen=True)
class ReviewItem:
    decision: ModerationDecision
    suggested: dict[str, Any] | None
    status: str
    queued_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    reason: str | None
    resolution_decision_id: str | None
    review_round: int = 0
    resolved_by_subject: str | None = None


@dataclass(frozen=True)
class ActionState:
    """A platform action as far as it got: `pending` until the executor recorded its outcome."""

    action_id: str
    operation: str
    platform: str
    account_id: str
    item_id: str
    status: str  # pending | done | dry_run | failed | unsupported
    outcome: PlatformActionOutcome | None
    command: PlatformActionCommand | None = None  # a person's action: what was asked, by whom
    attempt: int = 0


class ModerationStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def decisions(self, decision_ids: list[str]) -> dict[str, StoredDecision]:
        rows = await self.pool.fetch(
            "SELECT decision, suggested, published_at FROM moderation_decisions WHERE decision_id = ANY($1::text[])",
            decision_ids,
        )
        found = {}
        for row in rows:
            decision = ModerationDecision.model_validate_json(row["decision"])
            suggested = json.loads(row["suggested"]) if row["suggested"] else None
            found[decision.decision_id] = StoredDecision(decision, suggested, row["published_at"] is not None)
        return found

    async def save_decisions(self, items: list[tuple[ModerationDecision, dict[str, Any] | None]]) -> None:
        """Insert new decisions (and queue the review ones) in one transaction; existing ids are kept."""
        if not items:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                """INSERT INTO moderation_decisions
                   (decision_id, event_id, platform, account_id, item_id, action, decision, suggested, decided_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)
                   ON CONFLICT (decision_id) DO NOTHING""",
                [
                    (
                        d.decision_id, d.event_id, d.platform.value, d.account_id, d.item_id, d.action.value,
                        d.model_dump_json(), json.dumps(s) if s else None, d.decided_at,
                    )
                    for d, s in items
                ],
            )
            await conn.executemany(
                """INSERT INTO review_queue (decision_id, platform, account_id, queued_at)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (decision_id) DO NOTHING""",
                [(d.decision_id, d.platform.value, d.account_id, d.decided_at) for d, _ in items if d.action.value == "review"],
            )

    async def mark_published(self, decision_ids: list[str]) -> None:
        await self.pool.execute(
            "UPDATE moderation_decisions SET published_at = now() WHERE decision_id = ANY($1::text[]) AND published_at IS NULL",
            decision_ids,
        )

    async def review_queue_size(self) -> int:
        return await self.pool.fetchval("SELECT count(*) FROM review_queue WHERE status = 'pending'")

    async def pending_reviews(self, account_id: str | None = None, platform: str | None = None, limit: int = 100,
                              rule: str | None = None) -> list[ReviewItem]:
        """Oldest first (in the order they came, within one batch); `rule` is a rule id or its prefix ("abuse" finds "abuse.insult")."""
        rows = await self.pool.fetch(
            """SELECT q.*, d.decision, d.suggested FROM review_queue q JOIN moderation_decisions d USING (decision_id)
               WHERE q.status = 'pending' AND ($1::text IS NULL OR q.account_id = $1) AND ($2::text IS NULL OR q.platform = $2)
               AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(d.decision -> 'rules') r
                                                WHERE r ->> 'rule_id' = $4 OR r ->> 'rule_id' LIKE $4 || '.%'))
               ORDER BY q.queued_at, q.arrival LIMIT $3""",
            account_id, platform, limit, rule,
        )
        return [_review_item(r) for r in rows]

    async def review_item(self, decision_id: str, conn: Any = None, lock: bool = False) -> ReviewItem | None:
        sql = """SELECT q.*, d.decision, d.suggested FROM review_queue q JOIN moderation_decisions d USING (decision_id)
                 WHERE q.decision_id = $1""" + (" FOR UPDATE OF q" if lock else "")
        row = await (conn or self.pool).fetchrow(sql, decision_id)
        return _review_item(row) if row else None

    async def resolve(self, conn: Any, item: ReviewItem, resolution: ModerationDecision) -> None:
        await self._store_decision(conn, resolution)
        await conn.execute(
            """UPDATE review_queue SET status = 'resolved', resolved_by = $2, resolved_at = $3, reason = $4,
               resolution_decision_id = $5, resolved_by_subject = $6 WHERE decision_id = $1""",
            item.decision.decision_id, resolution.decided_by, resolution.decided_at, resolution.reason, resolution.decision_id,
            resolution.reviewer.subject if resolution.reviewer else None,
        )

    async def resolved_reviews(self, since: datetime | None = None, account_id: str | None = None
                               ) -> list[tuple[ModerationDecision, ModerationDecision]]:
        """(queued decision, the verdict that stands on it) for every resolved review item, oldest verdict
        first; an undone verdict no longer stands (its item waits again or has a later verdict)."""
        rows = await self.pool.fetch(
            """SELECT d.decision AS original, r.decision AS verdict FROM review_queue q
               JOIN moderation_decisions d ON d.decision_id = q.decision_id
               JOIN moderation_decisions r ON r.decision_id = q.resolution_decision_id
               WHERE q.status = 'resolved' AND ($1::timestamptz IS NULL OR q.resolved_at >= $1)
                 AND ($2::text IS NULL OR q.account_id = $2)
               ORDER BY q.resolved_at, q.decision_id""",
            since, account_id,
        )
        return [(ModerationDecision.model_validate_json(r["original"]), ModerationDecision.model_validate_json(r["verdict"]))
                for r in rows]

    async def reopen(self, conn: Any, item: ReviewItem, undo: ModerationDecision) -> None:
        """An undone verdict: the undo is stored as a decision and the item waits for a verdict again."""
        await self._store_decision(conn, undo)
        await conn.execute(
            """UPDATE review_queue SET status = 'pending', resolved_by = NULL, resolved_at = NULL, reason = NULL,
               resolution_decision_id = NULL, resolved_by_subject = NULL, review_round = review_round + 1
               WHERE decision_id = $1""", item.decision.decision_id)

    @staticmethod
    async def _store_decision(conn: Any, decision: ModerationDecision) -> None:
        await conn.execute(
            """INSERT INTO moderation_decisions
               (decision_id, event_id, platform, account_id, item_id, action, decision, decided_at, published_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, now()) ON CONFLICT (decision_id) DO NOTHING""",
            decision.decision_id, decision.event_id, decision.platform.value, decision.account_id,
            decision.item_id, decision.action.value, decision.model_dump_json(), decision.decided_at,
        )

    async def recent_decisions(self, since: datetime, account_id: str | None, limit: int, *, actions: tuple[str, ...],
                               friendly_only: bool, follow_up: str) -> list[tuple[ModerationDecision, datetime, Any]]:
        """Items whose latest decision is one of `actions` (and friendly, if asked), first decided after `since`;
        with the first decision's time (the item's age) and the latest person's action `follow_up` on it
        (a notice after a removal, a like of a friendly comment)."""
        rows = await self.pool.fetch(
            """WITH latest AS (
                 SELECT DISTINCT ON (platform, account_id, item_id) platform, account_id, item_id, decision, action,
                        min(decided_at) OVER (PARTITION BY platform, account_id, item_id) AS first_decided_at
                 FROM moderation_decisions WHERE ($2::text IS NULL OR account_id = $2)
                 ORDER BY platform, account_id, item_id, decided_at DESC, decision_id DESC)
               SELECT l.decision, l.first_decided_at, n.status AS follow_up_status, n.detail AS follow_up_detail,
                      n.completed_at AS follow_up_at
               FROM latest l LEFT JOIN LATERAL (
                 SELECT status, detail, completed_at FROM executed_actions x WHERE x.platform = l.platform
                 AND x.account_id = l.account_id AND x.item_id = l.item_id AND x.operation = $5
                 ORDER BY started_at DESC LIMIT 1) n ON true
               WHERE l.action = ANY($4::text[]) AND l.first_decided_at >= $1
                 AND (NOT $6 OR (l.decision ->> 'friendly')::boolean IS TRUE)
               ORDER BY l.first_decided_at DESC LIMIT $3""",
            since, account_id, limit, list(actions), follow_up, friendly_only)
        return [(ModerationDecision.model_validate_json(r["decision"]), r["first_decided_at"], r) for r in rows]

    async def decision(self, decision_id: str, conn: Any = None) -> ModerationDecision | None:
        raw = await (conn or self.pool).fetchval("SELECT decision FROM moderation_decisions WHERE decision_id = $1",
                                                 decision_id)
        return ModerationDecision.model_validate_json(raw) if raw else None

    # --- executed platform actions ---------------------------------------------------------------

    async def finished_outcome(self, action_id: str) -> PlatformActionOutcome | None:
        """The recorded outcome when the action was already carried out (done, dry run or failed)."""
        raw = await self.pool.fetchval(
            "SELECT outcome FROM executed_actions WHERE action_id = $1 AND status <> 'started'", action_id
        )
        return PlatformActionOutcome.model_validate_json(raw) if raw else None

    async def action_started(self, action_id: str, decision_id: str, platform: str, account_id: str, item_id: str,
                             operation: str) -> bool:
        """Record that the action is being carried out; False when an earlier attempt started it already
        (and never finished: the process stopped mid-way)."""
        inserted = await self.pool.fetchval(
            """INSERT INTO executed_actions (action_id, decision_id, platform, account_id, item_id, operation, status)
               VALUES ($1, $2, $3, $4, $5, $6, 'started') ON CONFLICT (action_id) DO NOTHING RETURNING action_id""",
            action_id, decision_id, platform, account_id, item_id, operation,
        )
        return inserted is not None

    async def action_finished(self, outcome: PlatformActionOutcome) -> None:
        await self.pool.execute(
            """UPDATE executed_actions SET status = $2, attempts = $3, http_status = $4, detail = $5, completed_at = $6,
               outcome = $7::jsonb WHERE action_id = $1""",
            outcome.action_id, outcome.status.value, outcome.attempts, outcome.http_status, outcome.detail, outcome.completed_at,
            outcome.model_dump_json(),
        )


    # --- people's actions (reply, like, notify from the console) -----------------------------------

    async def lock_request_key(self, conn: Any, key: str) -> None:
        """Serialise requests for the same action until the transaction ends (two clicks at once: one action)."""
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

    async def latest_person_action(self, conn: Any, key: str) -> ActionState | None:
        row = await conn.fetchrow(
            _PERSON_ACTIONS + " WHERE p.request_key = $1 ORDER BY p.attempt DESC LIMIT 1", key)
        return _person_action(row) if row else None

    async def add_person_action(self, conn: Any, key: str, attempt: int, command: PlatformActionCommand) -> None:
        await conn.execute(
            """INSERT INTO person_actions (action_id, request_key, attempt, request_id, operation, platform, account_id,
                                            item_id, command, requested_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)""",
            command.action_id, key, attempt, command.decision_id, command.operation.value, command.platform.value,
            command.account_id, command.item_id, command.model_dump_json(), command.requested_at,
        )

    async def action_state(self, action_id: str) -> ActionState | None:
        """A person's action (asked for, maybe not carried out yet) or a moderation decision's."""
        row = await self.pool.fetchrow(_PERSON_ACTIONS + " WHERE p.action_id = $1", action_id)
        if row:
            return _person_action(row)
        row = await self.pool.fetchrow(
            "SELECT action_id, operation, platform, account_id, item_id, status, outcome FROM executed_actions "
            "WHERE action_id = $1", action_id)
        if not row:
            return None
        outcome = PlatformActionOutcome.model_validate_json(row["outcome"]) if row["outcome"] else None
        return ActionState(row["action_id"], row["operation"], row["platform"], row["account_id"], row["item_id"],
                           outcome.status.value if outcome else "pending", outcome)

    async def person_actions_on(self, platform: str, account_id: str, item_id: str) -> list[ActionState]:
        rows = await self.pool.fetch(
            _PERSON_ACTIONS + " WHERE p.platform = $1 AND p.account_id = $2 AND p.item_id = $3"
            " ORDER BY p.requested_at, p.attempt", platform, account_id, item_id)
        return [_person_action(r) for r in rows]


_PERSON_ACTIONS = """SELECT p.action_id, p.attempt, p.command, e.outcome FROM person_actions p
                       LEFT JOIN executed_actions e USING (action_id)"""


def _person_action(row: Any) -> ActionState:
    command = PlatformActionCommand.model_validate_json(row["command"])
    outcome = PlatformActionOutcome.model_validate_json(row["outcome"]) if row["outcome"] else None
    return ActionState(
        command.action_id, command.operation.value, command.platform.value, command.account_id, command.item_id,
        outcome.status.value if outcome else "pending", outcome, command, row["attempt"],
    )


def _review_item(row: Any) -> ReviewItem:
    return ReviewItem(
        decision=ModerationDecision.model_validate_json(row["decision"]),
        suggested=json.loads(row["suggested"]) if row["suggested"] else None,
        status=row["status"],
        queued_at=row["queued_at"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        reason=row["reason"],
        resolution_decision_id=row["resolution_decision_id"],
        review_round=row["review_round"],
        resolved_by_subject=row["resolved_by_subject"],
    )
