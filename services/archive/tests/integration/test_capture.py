"""Scheduled account captures against a real database: overview snapshot, package, collection case."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from socialops_archive.capture import AccountCapturer
from socialops_archive.export.worker import ExportWorker
from socialops_archive.main import build_app
from socialops_archive.migrations import migrate
from socialops_archive.records import ArchiveBatch
from socialops_archive.settings import ArchiveSettings
from socialops_archive.store import ArchiveStore
from socialops_common.events import AccountRecord, AccountStatus, ArchiveLevel, EventKind, Platform

from ..conftest import TOKENS, bearer, comment_event, running_app

AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


async def test_yearly_and_closure_captures_follow_each_accounts_level(database_url: str, tmp_path: Path) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    async with pool.acquire() as connection:
        await migrate(connection)
    store = ArchiveStore(pool, "KS", "registrator@stad.se")
    accounts = [
        AccountRecord(platform=Platform.FACEBOOK, external_id="kultur", name="Kultur i stan",
                      department="Kulturförvaltningen", archive_level=ArchiveLevel.UNIQUE, start_date=date(2024, 1, 1)),
        AccountRecord(platform=Platform.FACEBOOK, external_id="gamla", name="Gamla projektet",
                      department="Stadsledningskontoret", archive_level=ArchiveLevel.OVERVIEW,
                      status=AccountStatus.CLOSED, closed_date=date(2026, 1, 2)),
    ]
    events = [
        comment_event(account="kultur", thread="p1", item="p1", kind=EventKind.POST_PUBLISHED, text="Sommarens program", at=AT),
        comment_event(account="kultur", thread="p1", item="c1", text="Ser fram emot det!", at=AT),
        comment_event(account="kultur", thread="conv", item="dm1", kind=EventKind.DM_RECEIVED, text="Hej", at=AT),
        comment_event(account="gamla", thread="p9", item="p9", kind=EventKind.POST_PUBLISHED, text="Projektet slut", at=AT),
    ]
    await store.write(ArchiveBatch(events=events, accounts=accounts))
    settings = ArchiveSettings(database_url=database_url, export_dir=str(tmp_path))
    capturer = AccountCapturer(pool, ExportWorker(pool, settings), "KS")
    try:
        now = datetime(2026, 1, 3, 8, 0, tzinfo=UTC)
        plans = await capturer.run_once(now)
        assert sorted((p.account_id, p.reason, p.year) for p in plans) == [
            ("gamla", "closure", 2026), ("gamla", "yearly", 2025), ("kultur", "yearly", 2025)]
        assert await capturer.run_once(now) == []  # each capture once
        rows = {(r["account_id"], r["reason"]): r for r in await pool.fetch("SELECT * FROM account_capture")}
        cases = {r["year"]: r["number"] for r in await pool.fetch("SELECT * FROM collection_case")}
        assert rows[("kultur", "yearly")]["collection_case"] == cases[2025] == "KS 2025/000001"
        assert rows[("gamla", "closure")]["collection_case"] == cases[2026]
        assert all(bytes(r["overview_pdf"]).startswith(b"%PDF") for r in rows.values())
        assert rows[("gamla", "yearly")]["export_ref"] is None  # overview level: no content package
        package = await pool.fetchrow("SELECT * FROM export_package WHERE id = $1", rows[("kultur", "yearly")]["export_ref"])
        assert package["status"] == "ready" and package["purpose"] == "capture" and package["items"] == 2
        with zipfile.ZipFile(package["path"]) as archive:
            items = [n for n in archive.namelist() if n.endswith("items.json")]
            assert "dm1" not in archive.read(items[0]).decode()  # 'unique' level leaves DMs out
        api_settings = ArchiveSettings(database_url=database_url, machine_tokens=TOKENS, smtp_port=1)
        async with running_app(build_app(api_settings, consume=False, background=False)) as client:
            listed = (await client.get("/captures", params={"account": "kultur"},
                                       headers=bearer("arch-token"))).json()["captures"]
            assert [(c["reason"], c["year"], c["level"]) for c in listed] == [("yearly", 2025, "unique")]
            overview = await client.get(listed[0]["overview"], headers=bearer("arch-token"))
            assert overview.status_code == 200 and overview.content.startswith(b"%PDF")
            assert (await client.get(listed[0]["package"], headers=bearer("reg-token"))).status_code == 200
    finally:
        await pool.close()
