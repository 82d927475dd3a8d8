"""The registration e-mail through a real SMTP server: retried while it fails, sent exactly once."""

from __future__ import annotations

import asyncio

import asyncpg
from socialops_archive.migrations import migrate
from socialops_archive.records import ArchiveBatch
from socialops_archive.registration import RegistrationDesk
from socialops_archive.settings import ArchiveSettings
from socialops_archive.store import ArchiveStore
from socialops_common.devstack import free_port
from socialops_common.events import EventKind

from ..conftest import MailBox, comment_event, unique


async def test_failed_send_stays_visible_is_retried_and_sent_once(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    async with pool.acquire() as connection:
        await migrate(connection)
    port = free_port()  # nothing listens here yet: the registrar's server is down
    settings = ArchiveSettings(database_url=database_url, smtp_host="127.0.0.1", smtp_port=port,
                               smtp_timeout_s=2, mail_retry_base_s=0.2, mail_retry_max_s=0.2,
                               snapshot_wait_s=0)
    store = ArchiveStore(pool, "KS", "registrator@stad.se")
    account, thread, item = unique("page"), unique("post"), unique("c")
    await store.write(ArchiveBatch(events=[
        comment_event(account=account, thread=thread, item=item),
        comment_event(account=account, thread=thread, item=item, kind=EventKind.COMMENT_DELETED_BY_CITY,
                      text=None),
    ]))
    desk, other_instance = RegistrationDesk(pool, settings), RegistrationDesk(pool, settings)
    try:
        assert await desk.run_once() == (1, 0)
        row = await pool.fetchrow("SELECT status, attempts, last_error FROM mail_outbox")
        assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"]
        assert await desk.run_once() == (0, 0)  # not due yet: backoff

        box = MailBox(port)
        box.start()
        try:
            await asyncio.sleep(0.3)
            # Two desks (two service instances) racing for the same outbox row: one e-mail.
            results = await asyncio.gather(desk.run_once(), other_instance.run_once())
            assert sum(sent for _, sent in results) == 1
            assert await desk.run_once() == (0, 0)
        finally:
            box.stop()
        row = await pool.fetchrow("SELECT status, attempts, last_error, sent_at FROM mail_outbox")
        assert row["status"] == "sent" and row["attempts"] == 2 and row["last_error"] is None
        assert len(box.messages) == 1
        assert "raderad" in box.messages[0]["Subject"]
    finally:
        desk.close()
        other_instance.close()
        await pool.close()
