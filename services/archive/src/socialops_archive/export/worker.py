"""Builds requested export packages in the background (and for the `export` command)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from ..settings import ArchiveSettings
from .content import load_export_content
from .eark import write_sip_zip

log = structlog.get_logger("archive.exports")


class ExportWorker:
    def __init__(self, pool: asyncpg.Pool, settings: ArchiveSettings) -> None:
        self.pool = pool
        self.settings = settings
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def request(self, account: str, start: datetime, end: datetime, requested_by: str,
                      purpose: str = "request", include_direct_messages: bool = True) -> str:
        export_id = uuid.uuid4()
        await self.pool.execute(
            "INSERT INTO export_package (id, account_id, period_from, period_to, requested_by, purpose,"
            " include_direct_messages) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            export_id, account, start, end, requested_by, purpose, include_direct_messages,
        )
        return str(export_id)

    async def run(self) -> None:
        while True:
            try:
                pending = await self.pool.fetch(
                    "SELECT id FROM export_package WHERE status = 'pending' ORDER BY requested_at"
                )
                for row in pending:
                    await self.build(str(row["id"]))
            except Exception as error:  # keep serving; the request stays pending and visible
                log.error("export pass failed", error=repr(error))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), 5.0)
            except TimeoutError:
                pass

    async def build(self, export_id: str, out_dir: str | None = None) -> Any:
        key = uuid.UUID(export_id)
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow("SELECT * FROM export_package WHERE id = $1", key)
            try:
                content = await load_export_content(
                    connection, row["account_id"], row["period_from"], row["period_to"],
                    row["include_direct_messages"],
                )
                folder = Path(out_dir or self.settings.export_dir)
                package_id = f"uuid-{export_id}"
                path = await asyncio.to_thread(write_sip_zip, content, package_id, folder)
                digest = await asyncio.to_thread(lambda: hashlib.sha256(path.read_bytes()).hexdigest())
                await connection.execute(
                    "UPDATE export_package SET status = 'ready', items = $2, path = $3, sha256 = $4,"
                    " finished_at = now() WHERE id = $1",
                    key, len(content.items), str(path.resolve()), digest,
                )
                log.info("export ready", id=export_id, items=len(content.items), path=str(path))
            except Exception as error:  # a failed export is visible with its reason
                log.error("export failed", id=export_id, error=repr(error))
                await connection.execute(
                    "UPDATE export_package SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
                    key, f"{type(error).__name__}: {error}"[:500],
                )
            return await connection.fetchrow("SELECT * FROM export_package WHERE id = $1", key)
