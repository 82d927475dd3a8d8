"""Retention rules, legal hold and disposal runs, through the API against a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from socialops_archive.main import build_app
from socialops_archive.migrations import migrate
from socialops_archive.records import ArchiveBatch
from socialops_archive.retention import Hold, item_class
from socialops_archive.settings import ArchiveSettings
from socialops_archive.store import ArchiveStore
from socialops_archive.verify import verify_archive
from socialops_common.events import EventKind

from ..conftest import TOKENS, bearer, comment_event, running_app

OLD = datetime(2020, 5, 1, tzinfo=UTC)
RECENT = datetime.now(UTC)


@pytest.fixture
async def archive(database_url: str, tmp_path: Path):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    async with pool.acquire() as connection:
        await migrate(connection)
    store = ArchiveStore(pool, "KS", "registrator@stad.se")
    events = [
        comment_event(account="page-a", thread="t1", item="old-plain", at=OLD),
        comment_event(account="page-a", thread="t1", item="old-plain", kind=EventKind.COMMENT_EDITED,
                      text="ändrad", version="1", at=OLD),
        comment_event(account="page-b", thread="t2", item="old-held", at=OLD),
        comment_event(account="page-a", thread="t1", item="old-removed", at=OLD),
        comment_event(account="page-a", thread="t1", item="old-removed", kind=EventKind.COMMENT_DELETED_BY_CITY,
                      text=None, at=OLD),
        comment_event(account="page-a", thread="t1", item="recent", at=RECENT),
    ]
    await store.write(ArchiveBatch(events=events))
    await pool.close()
    settings = ArchiveSettings(database_url=database_url, machine_tokens=TOKENS, export_dir=str(tmp_path),
                               smtp_port=1, mail_retry_base_s=3600)
    async with running_app(build_app(settings, consume=False, background=False)) as client:
        yield client


async def _items(database_url: str) -> set[str]:
    connection = await asyncpg.connect(database_url)
    try:
        return {r["platform_item_id"] for r in await connection.fetch("SELECT platform_item_id FROM item")}
    finally:
        await connection.close()


async def test_disposal_follows_rules_never_touches_held_or_removed_items_and_logs_each(
    archive, database_url: str
) -> None:
    client = archive
    admin = bearer("admin-token")
    assert (await client.put("/retention/rules/comment", json={"keep_days": 365, "decision": "KS 2025/17"},
                             headers=bearer("reg-token"))).status_code == 403
    # No rule yet: nothing is disposed.
    nothing = (await client.post("/disposals", json={"dry_run": False}, headers=admin)).json()
    assert nothing["disposed"] == []
    rule = await client.put("/retention/rules/comment", json={"keep_days": 365, "decision": "KS 2025/17"},
                            headers=admin)
    assert rule.status_code == 200
    hold = await client.post("/holds", json={"account": "page-b", "reason": "begäran om utlämnande"},
                             headers=admin)
    assert hold.status_code == 201
    assert (await client.post("/holds", json={"reason": "utan omfattning"}, headers=admin)).status_code == 422

    dry = (await client.post("/disposals", json={"dry_run": True}, headers=admin)).json()
    assert [d["platform_item_id"] for d in dry["disposed"]] == ["old-plain"] and dry["held_back"] == 1
    assert await _items(database_url) == {"old-plain", "old-held", "old-removed", "recent"}

    run = (await client.post("/disposals", json={"dry_run": False}, headers=admin)).json()
    assert [(d["platform_item_id"], d["class"], d["decision"]) for d in run["disposed"]] == [
        ("old-plain", "comment", "KS 2025/17")]
    assert await _items(database_url) == {"old-held", "old-removed", "recent"}
    log = (await client.get(f"/disposals/{run['id']}", headers=admin)).json()
    assert [(e["platform_item_id"], e["rule_keep_days"], e["events"]) for e in log["log"]] == [("old-plain", 365, 2)]
    assert log["log"][0]["last_chain_hash"]

    connection = await asyncpg.connect(database_url)
    try:
        assert (await verify_archive(connection)).ok  # disposal leaves the remaining chains whole
        with pytest.raises(asyncpg.InsufficientPrivilegeError):  # outside a disposal, still append-only
            await connection.execute("DELETE FROM item_event")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("DELETE FROM disposal_log")
    finally:
        await connection.close()

    # Releasing the hold lets the next run dispose the held comment too.
    assert (await client.post(f"/holds/{hold.json()['id']}/release", headers=admin)).status_code == 200
    again = (await client.post("/disposals", json={"dry_run": False}, headers=admin)).json()
    assert [d["platform_item_id"] for d in again["disposed"]] == ["old-held"]
    assert await _items(database_url) == {"old-removed", "recent"}


def test_item_classes_and_hold_scope() -> None:
    assert item_class("comment", removed_by_city=True) == "removed_comment"
    assert item_class("post", removed_by_city=True) == "post"
    hold = Hold(account_id=None, item_ref=None, period_from=OLD, period_to=datetime(2021, 1, 1, tzinfo=UTC))
    assert hold.covers("any", 1, OLD) and not hold.covers("any", 1, RECENT)
    assert Hold("page-a", None, None, None).covers("page-a", 5, RECENT)
    assert not Hold("page-a", 7, None, None).covers("page-a", 5, RECENT)
