"""The store against a real PostgreSQL: append-only, idempotent, tamper-evident."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest
from socialops_archive.migrations import migrate
from socialops_archive.records import ArchiveBatch
from socialops_archive.store import ArchiveStore
from socialops_archive.verify import verify_archive
from socialops_common.events import (
    ActionOperation,
    ActionStatus,
    EventKind,
    ModerationAction,
    ModerationDecision,
    Platform,
    PlatformActionOutcome,
    RuleHit,
    TextSpan,
)

from ..conftest import comment_event, unique


@pytest.fixture
async def store(database_url: str):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    async with pool.acquire() as connection:
        await migrate(connection)
    try:
        yield ArchiveStore(pool, "KS", "registrator@stad.se")
    finally:
        await pool.close()


async def test_migrations_are_applied_once(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        first = await migrate(connection)
        again = await migrate(connection)
        versions = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await connection.close()
    assert first[0] == "001_store.sql" and again == []
    assert [r["version"] for r in versions] == first


async def test_archived_versions_refuse_update_and_delete(store: ArchiveStore) -> None:
    account, thread = unique("page"), unique("post")
    event = comment_event(account=account, thread=thread, item=unique("c"))
    await store.write(ArchiveBatch(events=[event]))
    async with store.pool.acquire() as connection:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute("UPDATE item_event SET text = 'rewritten' WHERE event_id = $1", event.event_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute("DELETE FROM item_event WHERE event_id = $1", event.event_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("TRUNCATE item_event CASCADE")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("UPDATE item SET author_name = 'someone else'")
        assert await connection.fetchval("SELECT text FROM item_event WHERE event_id = $1", event.event_id) == event.text


async def test_redelivered_batch_changes_nothing(store: ArchiveStore) -> None:
    account, thread, item = unique("page"), unique("post"), unique("c")
    created = comment_event(account=account, thread=thread, item=item, text="första")
    edited = comment_event(account=account, thread=thread, item=item, kind=EventKind.COMMENT_EDITED,
                           text="andra", version="e1")
    first = await store.write(ArchiveBatch(events=[created, edited, created]))
    again = await store.write(ArchiveBatch(events=[edited, created]))
    assert (first.events_archived, first.duplicates) == (2, 1)
    assert (again.events_archived, again.duplicates) == (0, 2)
    rows = await store.pool.fetch("SELECT seq, version_no, text FROM item_event ORDER BY seq")
    assert [(r["seq"], r["version_no"], r["text"]) for r in rows] == [(1, 1, "första"), (2, 2, "andra")]


async def test_executor_hide_and_webhook_hide_are_one_registration_with_gap_free_numbers(
    store: ArchiveStore,
) -> None:
    account, thread = unique("page"), unique("post")
    first, second = unique("c"), unique("c")
    events = [comment_event(account=account, thread=thread, item=i) for i in (first, second)]
    hide_webhook = comment_event(account=account, thread=thread, item=first, kind=EventKind.COMMENT_HIDDEN,
                                 text=None)
    outcome = PlatformActionOutcome(
        action_id=unique("act"), decision_id=unique("dec"), event_id=events[0].event_id,
        platform=Platform.FACEBOOK, account_id=account, item_id=first, thread_id=thread,
        operation=ActionOperation.HIDE, status=ActionStatus.DONE, completed_at=events[0].occurred_at,
    )
    dry_run = outcome.model_copy(update={"action_id": unique("act"), "item_id": second,
                                         "status": ActionStatus.DRY_RUN})
    delete_second = outcome.model_copy(update={"action_id": unique("act"), "item_id": second,
                                               "operation": ActionOperation.DELETE})
    result = await store.write(ArchiveBatch(events=[*events, hide_webhook], actions=[outcome, dry_run]))
    later = await store.write(ArchiveBatch(actions=[delete_second, outcome]))
    assert len(result.registrations) == 1 and len(later.registrations) == 1
    numbers = [r["number"] for r in await store.pool.fetch("SELECT number FROM registration ORDER BY id")]
    assert [n.split("/")[1] for n in numbers] == ["000001", "000002"]
    assert await store.pool.fetchval("SELECT count(*) FROM mail_outbox WHERE status = 'pending'") == 2


async def test_verify_names_a_tampered_row(store: ArchiveStore, database_url: str) -> None:
    account, thread, item = unique("page"), unique("post"), unique("c")
    events = [
        comment_event(account=account, thread=thread, item=item, text="Original"),
        comment_event(account=account, thread=thread, item=item, kind=EventKind.COMMENT_EDITED,
                      text="Redigerad", version="e1"),
    ]
    decision = ModerationDecision(
        decision_id=unique("d"), event_id=events[0].event_id, platform=Platform.FACEBOOK, account_id=account,
        item_id=item, thread_id=thread, item_kind=EventKind.COMMENT_CREATED, action=ModerationAction.ALLOW,
        rules=[RuleHit(rule_id="personal_data.phone", clause="seed 001", confidence=0.9,
                       spans=[TextSpan(start=0, end=3, label="phone")])],
        decided_at=events[0].occurred_at,
    )
    await store.write(ArchiveBatch(events=events, decisions=[decision]))
    async with store.pool.acquire() as connection:
        assert (await verify_archive(connection)).ok
        # Someone with the database owner's rights switches the triggers off and rewrites history.
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            await connection.execute(
                "UPDATE item_event SET text = 'Förfalskad', record = replace(record, 'Original', 'Förfalskad')"
                " WHERE event_id = $1", events[0].event_id)
            await connection.execute(
                "UPDATE moderation_decision SET record = replace(record, 'allow', 'hide')"
                " WHERE decision_id = $1", decision.decision_id)
        report = await verify_archive(connection)
    assert not report.ok
    assert any(events[0].event_id in line and "SHA-256" in line for line in report.broken)
    assert any(decision.decision_id in line for line in report.broken)
    # The command line names it too, and fails.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "socialops_archive.main", "verify", stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "SOCIALOPS_DATABASE_URL": database_url},
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert events[0].event_id in stdout.decode() and "BROKEN" in stdout.decode()


async def test_concurrent_writers_on_one_item_keep_one_unbroken_chain(store: ArchiveStore) -> None:
    """During a rebalance two consumers can briefly write the same partition: the chain stays whole."""
    account, thread, item = unique("page"), unique("post"), unique("c")
    edits = [comment_event(account=account, thread=thread, item=item, kind=EventKind.COMMENT_EDITED,
                           text=f"version {n}", version=str(n)) for n in range(40)]
    await store.write(ArchiveBatch(events=[comment_event(account=account, thread=thread, item=item)]))
    await asyncio.gather(*(store.write(ArchiveBatch(events=edits[n::4], event_partitions={5})) for n in range(4)))
    async with store.pool.acquire() as connection:
        report = await verify_archive(connection)
        seqs = [r["seq"] for r in await connection.fetch("SELECT seq FROM item_event ORDER BY seq")]
    assert report.ok, report.broken
    assert seqs == list(range(1, 42))


async def test_writers_wait_only_for_writers_of_the_same_partition(store: ArchiveStore) -> None:
    """The archive's concurrent writers each have partitions of their own: none waits for another."""
    account = unique("page")

    def batch(partition: int) -> ArchiveBatch:
        thread = unique("post")
        return ArchiveBatch(events=[comment_event(account=account, thread=thread, item=unique("c"))],
                            event_partitions={partition})

    async with store.pool.acquire() as holder, holder.transaction():
        # Another writer is in the middle of a batch from partition 1.
        await holder.execute("SELECT pg_advisory_xact_lock(6083, 1)")
        assert (await asyncio.wait_for(store.write(batch(2)), 10)).events_archived == 1
        same_partition = asyncio.create_task(store.write(batch(1)))
        await asyncio.sleep(0.5)
        assert not same_partition.done()
    assert (await asyncio.wait_for(same_partition, 10)).events_archived == 1


async def test_a_batch_of_new_and_already_archived_items_appends_only_what_is_new(store: ArchiveStore) -> None:
    """Items created by the batch skip the redelivery checks; archived items still get them."""
    account, thread = unique("page"), unique("post")
    known, fresh = unique("c"), unique("c")
    created = comment_event(account=account, thread=thread, item=known, text="Badhuset är stängt")
    await store.write(ArchiveBatch(events=[created]))
    edited = comment_event(account=account, thread=thread, item=known, kind=EventKind.COMMENT_EDITED,
                           text="Simhallen är stängd", version="e1")
    hidden = comment_event(account=account, thread=thread, item=known, kind=EventKind.COMMENT_HIDDEN, text=None)
    newcomer = comment_event(account=account, thread=thread, item=fresh, text="Cykelbanan är avstängd")
    result = await store.write(ArchiveBatch(events=[created, edited, newcomer, hidden]))
    assert (result.events_archived, result.duplicates) == (3, 1)
    async with store.pool.acquire() as connection:
        states = {
            r["platform_item_id"]: r
            for r in await connection.fetch(
                "SELECT i.platform_item_id, s.version_count, s.hidden, s.latest_text,"
                " s.search = to_tsvector('swedish', 'Badhuset är stängt')"
                "   || to_tsvector('swedish', 'Simhallen är stängd') AS both_versions_searchable,"
                " s.search = to_tsvector('swedish', 'Cykelbanan är avstängd') AS newcomer_searchable"
                " FROM item i JOIN item_state s ON s.item_ref = i.id WHERE i.account_id = $1", account)
        }
        assert (await verify_archive(connection)).ok
    assert (states[known]["version_count"], states[known]["hidden"], states[known]["latest_text"]) == (
        2, True, "Simhallen är stängd")
    assert states[known]["both_versions_searchable"] and states[fresh]["newcomer_searchable"]
    assert states[fresh]["version_count"] == 1 and not states[fresh]["hidden"]


async def test_two_writers_creating_one_item_archive_it_once(store: ArchiveStore) -> None:
    """Both see the item missing; the second to commit fails on its unique key and, retried as the
    consumer does, finds the item and appends only what the first did not archive."""
    account, thread, item = unique("page"), unique("post"), unique("c")
    created = comment_event(account=account, thread=thread, item=item, text="första")
    edited = comment_event(account=account, thread=thread, item=item, kind=EventKind.COMMENT_EDITED,
                           text="andra", version="e1")
    batches = [ArchiveBatch(events=[created]), ArchiveBatch(events=[created, edited])]
    outcomes = await asyncio.gather(*(store.write(b) for b in batches), return_exceptions=True)
    for batch, outcome in zip(batches, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, asyncpg.UniqueViolationError), outcome
            await store.write(batch)
    async with store.pool.acquire() as connection:
        rows = await connection.fetch("SELECT seq, version_no, text FROM item_event ORDER BY seq")
        assert (await verify_archive(connection)).ok
        assert await connection.fetchval("SELECT count(*) FROM item") == 1
    assert [(r["seq"], r["version_no"], r["text"]) for r in rows] == [(1, 1, "första"), (2, 2, "andra")]


async def test_concurrent_writers_registering_the_same_removals_neither_deadlock_nor_double(
    store: ArchiveStore,
) -> None:
    """Two writers (the archive's concurrent batches, or two replicas) told of the same removals in
    opposite order: each removal is registered once, the numbers stay gap-free, and no transaction
    is aborted as a deadlock (removals are locked in key order before the registration counter)."""
    account, thread = unique("page"), unique("post")
    items = [unique("c") for _ in range(6)]

    def outcome(item: str) -> PlatformActionOutcome:
        return PlatformActionOutcome(
            action_id=unique("act"), decision_id=unique("dec"), event_id=unique("ev"), platform=Platform.FACEBOOK,
            account_id=account, item_id=item, thread_id=thread, operation=ActionOperation.HIDE,
            status=ActionStatus.DONE, completed_at=comment_event(account=account, thread=thread, item=item).occurred_at,
        )

    forwards = ArchiveBatch(actions=[outcome(i) for i in items])
    backwards = ArchiveBatch(actions=[outcome(i) for i in reversed(items)])
    results = await asyncio.gather(*(store.write(b) for b in (forwards, backwards, forwards, backwards)))
    registered = [n for r in results for n in r.registrations or []]
    assert len(registered) == len(items)
    numbers = sorted(int(n.split("/")[1]) for n in registered)
    assert numbers == list(range(numbers[0], numbers[0] + len(items)))
