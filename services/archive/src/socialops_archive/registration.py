"""Registration of removed comments: render the snapshot, then e-mail it to the registrar.

Both steps run from the database (the registration row is written in the consumer's transaction),
so nothing is lost when the process stops: a registration without a snapshot is rendered on the
next pass, an e-mail that failed is retried with backoff and its status stays visible in
`mail_outbox` (`pending` with `attempts` and `last_error`, or `sent`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from socialops_common.mail import deliver

from . import metrics
from .settings import ArchiveSettings
from .snapshot import ShownItem, ThreadSnapshot, render_pdf, render_png

log = structlog.get_logger("archive.registration")

NEIGHBOURS = 2  # comments shown before and after the removed one


async def load_thread_snapshot(connection: asyncpg.Connection, registration_id: int) -> ThreadSnapshot | None:
    r = await connection.fetchrow(
        "SELECT g.number, m.platform, m.account_id, m.platform_item_id, m.operation, m.removed_by,"
        " m.reason, m.removed_at, m.source, m.archived_at FROM registration g"
        " JOIN removal m ON m.id = g.removal_ref WHERE g.id = $1",
        registration_id,
    )
    if r is None:
        return None
    item = await connection.fetchrow(
        "SELECT * FROM item WHERE platform = $1 AND account_id = $2 AND platform_item_id = $3",
        r["platform"], r["account_id"], r["platform_item_id"],
    )
    account = await connection.fetchval(
        "SELECT name FROM account WHERE platform = $1 AND external_id = $2", r["platform"], r["account_id"]
    )
    reason = await _removal_reason(connection, r)
    post, comments, earlier, permalink = None, [], [], None
    if item is not None:
        versions = await connection.fetch(
            "SELECT text, record FROM item_event WHERE item_ref = $1 AND version_no IS NOT NULL"
            " ORDER BY version_no", item["id"],
        )
        earlier = [v["text"] or "" for v in versions[:-1]]
        if versions:
            permalink = json.loads(versions[-1]["record"]).get("permalink")
        post_row = await connection.fetchrow(
            "SELECT i.*, s.latest_text FROM item i LEFT JOIN item_state s ON s.item_ref = i.id"
            " WHERE i.platform = $1 AND i.account_id = $2 AND i.platform_item_id = $3",
            item["platform"], item["account_id"], item["thread_id"],
        )
        if post_row is not None and post_row["id"] != item["id"]:
            post = ShownItem(_author(post_row), post_row["latest_text"] or "", post_row["first_occurred_at"])
        thread = await connection.fetch(
            "SELECT i.*, s.latest_text, s.version_count FROM item i JOIN item_state s ON s.item_ref = i.id"
            " WHERE i.platform = $1 AND i.account_id = $2 AND i.thread_id = $3 AND i.id <> $4"
            " AND i.platform_item_id <> i.thread_id"
            " AND i.item_type IN ('comment', 'reply') ORDER BY i.first_occurred_at, i.id",
            item["platform"], item["account_id"], item["thread_id"], post_row["id"] if post_row else -1,
        )
        position = next((n for n, t in enumerate(thread) if t["id"] == item["id"]), 0)
        for t in thread[max(0, position - NEIGHBOURS): position + NEIGHBOURS + 1]:
            comments.append(
                ShownItem(_author(t), t["latest_text"] or "", t["first_occurred_at"],
                          removed=t["id"] == item["id"], versions=t["version_count"])
            )
    if not comments:
        comments = [ShownItem("okänd", "(kommentaren finns ännu inte i arkivet)", None, removed=True)]
    return ThreadSnapshot(
        registration_number=r["number"],
        platform=r["platform"],
        account=account or r["account_id"],
        permalink=permalink,
        post=post,
        comments=comments,
        operation=r["operation"],
        removed_by=r["removed_by"] or "okänd",
        removed_at=r["removed_at"],
        reason=reason,
        earlier_versions=earlier,
    )


def _author(row: Any) -> str:
    if row["author_is_account"]:
        return f"{row['author_name'] or 'Kontot'} (kontot)"
    return row["author_name"] or row["author_id"] or "okänd"


async def _removal_reason(connection: asyncpg.Connection, removal: Any) -> str:
    """Why: the latest moderation decision on the item (its rule and guideline clause), if any."""
    decision = await connection.fetchrow(
        "SELECT record FROM moderation_decision WHERE platform = $1 AND account_id = $2"
        " AND platform_item_id = $3 AND action IN ('hide', 'delete') ORDER BY decided_at DESC LIMIT 1",
        removal["platform"], removal["account_id"], removal["platform_item_id"],
    )
    if removal["reason"]:
        return removal["reason"]
    if decision is None:
        return "borttagen av redaktör i plattformen (inget modereringsbeslut i arkivet)"
    record = json.loads(decision["record"])
    rules = ", ".join(f"{h['rule_id']} ({h['clause']})" for h in record.get("rules", []))
    why = record.get("reason")
    return "; ".join(filter(None, [rules or record.get("action"), why]))


def _start_render_worker(niceness: int) -> None:
    """Initialiser of the render process: a lower CPU priority, and gone when its parent is gone.

    A parent killed with SIGKILL (a crash, an OOM kill, the fault tests) cannot shut its pool down;
    without this the render process would wait on its pipe forever, an orphan holding memory.
    """
    os.nice(niceness)
    parent = os.getppid()

    def exit_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_with_parent, name="exit-with-parent", daemon=True).start()


class RegistrationDesk:
    """Renders pending snapshots and sends pending e-mails; `run()` loops, `run_once()` is one pass."""

    def __init__(self, pool: asyncpg.Pool, settings: ArchiveSettings) -> None:
        self.pool = pool
        self.settings = settings
        self._wake = asyncio.Event()
        self._renderer: ProcessPoolExecutor | None = None

    def _render_pool(self) -> ProcessPoolExecutor:
        # Rendering a snapshot costs ~25 ms of CPU. It runs in a process of its own at a lower CPU
        # priority: under load the live pipeline (webhook -> archive) gets the cores and the
        # snapshots catch up after; a registration waits a little, it is never dropped.
        if self._renderer is None:
            self._renderer = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_render_worker, initargs=(self.settings.snapshot_render_nice,),
            )
        return self._renderer

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.shutdown(wait=False, cancel_futures=True)
            self._renderer = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as error:  # database away: keep going, the work stays in the tables
                log.error("registration pass failed", error=repr(error))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_poll_s)
            except TimeoutError:
                pass

    async def run_once(self) -> tuple[int, int]:
        rendered = await self.render_pending()
        sent = await self.send_due()
        return rendered, sent

    async def render_pending(self) -> int:
        rendered = 0
        wait = timedelta(seconds=self.settings.snapshot_wait_s)
        pending = await self.pool.fetch(
            "SELECT g.id, (i.id IS NOT NULL) AS known, g.registered_at FROM registration g"
            " JOIN removal m ON m.id = g.removal_ref"
            " LEFT JOIN item i ON i.platform = m.platform AND i.account_id = m.account_id"
            "  AND i.platform_item_id = m.platform_item_id"
            " WHERE NOT EXISTS (SELECT 1 FROM snapshot s WHERE s.registration_ref = g.id) ORDER BY g.id"
        )
        now = datetime.now(UTC)
        for row in pending:
            # The comment's own events may still be on their way (another topic): wait a little.
            if not row["known"] and now - row["registered_at"] < wait:
                continue
            async with self.pool.acquire() as connection, connection.transaction():
                snapshot = await load_thread_snapshot(connection, row["id"])
                if snapshot is None:
                    continue
                created = datetime.now(UTC)
                # Off the event loop (it blocked the consumer's batches, found by bench/e2e.py).
                pdf, png = await asyncio.get_running_loop().run_in_executor(
                    self._render_pool(), render_snapshot, snapshot, created)
                inserted = await connection.fetchval(
                    "INSERT INTO snapshot (registration_ref, pdf, png, pdf_sha256, png_sha256)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (registration_ref) DO NOTHING RETURNING id",
                    row["id"], pdf, png, hashlib.sha256(pdf).hexdigest(), hashlib.sha256(png).hexdigest(),
                )
            if inserted:
                rendered += 1
                metrics.SNAPSHOTS.inc()
                self._write_files(snapshot.registration_number, pdf, png)
        return rendered

    def _write_files(self, number: str, pdf: bytes, png: bytes) -> None:
        if not self.settings.snapshot_dir:
            return
        folder = Path(self.settings.snapshot_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stem = number.replace(" ", "_").replace("/", "-")
        (folder / f"{stem}.pdf").write_bytes(pdf)
        (folder / f"{stem}.png").write_bytes(png)

    async def send_due(self) -> int:
        """Send each due e-mail while holding its outbox row locked: two workers never send one."""
        sent = 0
        while True:
            async with self.pool.acquire() as connection, connection.transaction():
                row = await connection.fetchrow(
                    "SELECT o.*, g.number, g.registered_at, s.pdf, s.png, m.operation, m.platform,"
                    " m.account_id, m.platform_item_id, m.removed_at FROM mail_outbox o"
                    " JOIN registration g ON g.id = o.registration_ref"
                    " JOIN removal m ON m.id = g.removal_ref"
                    " JOIN snapshot s ON s.registration_ref = g.id"
                    " WHERE o.status <> 'sent' AND o.next_attempt_at <= now()"
                    " ORDER BY o.next_attempt_at LIMIT 1 FOR UPDATE OF o SKIP LOCKED"
                )
                if row is None:
                    return sent
                error, delay = await deliver(connection, self.message(row), self.settings, table="mail_outbox",
                                             key_column="registration_ref", key=row["registration_ref"],
                                             attempts=row["attempts"])
                if error is not None:
                    metrics.MAIL_FAILED.inc()
                    log.warning("registration e-mail failed", number=row["number"], attempts=row["attempts"] + 1,
                                retry_in_s=delay, error=repr(error))
                    continue
                sent += 1
                metrics.MAIL_SENT.inc()
                log.info("registration e-mailed", number=row["number"], to=row["recipient"])

    def message(self, row: Any) -> EmailMessage:
        s = self.settings
        verb = "dold" if row["operation"] == "hide" else "raderad"
        message = EmailMessage()
        message["From"] = s.sender_address
        message["To"] = row["recipient"]
        message["Subject"] = f"Diarieföring {row['number']}: {verb} kommentar ({row['platform']})"
        message["Message-ID"] = row["message_id"]
        message["Date"] = format_datetime(datetime.now(UTC))
        message.set_content(
            f"Registreringsnummer: {row['number']}\n"
            f"Kommentar {row['platform_item_id']} på konto {row['account_id']} ({row['platform']}) "
            f"{verb} {row['removed_at']:%Y-%m-%d %H:%M} UTC.\n\n"
            "Skärmdump av kommentaren i sin tråd bifogas (PDF för arkivet, PNG för förhandsvisning).\n"
            "Kommentaren är bevarad i arkivet som allmän handling.\n"
        )
        stem = row["number"].replace(" ", "_").replace("/", "-")
        message.add_attachment(bytes(row["pdf"]), maintype="application", subtype="pdf", filename=f"{stem}.pdf")
        message.add_attachment(bytes(row["png"]), maintype="image", subtype="png", filename=f"{stem}.png")
        return message


def render_snapshot(snapshot: ThreadSnapshot, created: datetime) -> tuple[bytes, bytes]:
    """The PDF (archival) and PNG (e-mail) of one snapshot: run in the desk's render process."""
    return render_pdf(snapshot, created), render_png(snapshot)
