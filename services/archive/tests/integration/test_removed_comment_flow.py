"""Through the real broker, database and SMTP server: a comment, its edit and its city removal."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaProducer
from socialops_archive.main import build_app
from socialops_archive.settings import ArchiveSettings
from socialops_common import topics
from socialops_common.events import Author, EventKind
from socialops_common.kafka import to_bytes
from socialops_common.testing import wait_until

from ..conftest import TOKENS, bearer, comment_event, item_once_its_registration_is_sent, running_app, unique


def archive_settings(kafka: str, database: str, smtp: tuple[str, int], **extra: object) -> ArchiveSettings:
    return ArchiveSettings(
        kafka_bootstrap=kafka, database_url=database, archive_group_id=unique("archive-test"),
        machine_tokens=TOKENS, smtp_host=smtp[0], smtp_port=smtp[1], registrar_address="registrator@stad.se",
        registration_series="KS", snapshot_wait_s=0.5, outbox_poll_s=0.1, mail_retry_base_s=0.2,
        archive_batch_timeout_ms=50, **extra,
    )


async def test_comment_edit_and_city_removal_are_archived_registered_and_mailed_once(
    fresh_broker, database_url: str, smtp_server, tmp_path
) -> None:
    # A broker of its own: other tests' removals on the shared broker would be registered here too.
    kafka_bootstrap = fresh_broker.bootstrap
    host, port, mailbox = smtp_server
    account, thread, comment = unique("page"), unique("post"), unique("comment")
    post = comment_event(account=account, thread=thread, item=thread, kind=EventKind.POST_PUBLISHED,
                         text="Badhuset har nya öppettider från måndag.",
                         author=Author(id=account, name="Helsingborgs stad", is_account=True))
    created = comment_event(account=account, thread=thread, item=comment, text="Ni är idioter allihop")
    edited = comment_event(account=account, thread=thread, item=comment, kind=EventKind.COMMENT_EDITED,
                           text="Ni är idioter allihop, ring mig på 070-123 45 67", version="edit-1")
    hidden = comment_event(account=account, thread=thread, item=comment, kind=EventKind.COMMENT_HIDDEN,
                           text=None, author=Author(id=account, name="Redaktör Eva", is_account=True))
    settings = archive_settings(kafka_bootstrap, database_url, (host, port), snapshot_dir=str(tmp_path / "snaps"))
    app = build_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    connection = await asyncpg.connect(database_url)
    try:
        async with running_app(app) as client:
            for event in (post, created, edited, hidden):
                await producer.send_and_wait(topics.EVENTS, to_bytes(event), key=event.partition_key)
            await wait_until(lambda: len(mailbox.messages) >= 1, timeout=30)

            item_id = await connection.fetchval(
                "SELECT id FROM item WHERE platform_item_id = $1", comment)

            detail = await item_once_its_registration_is_sent(client, item_id, "reg-token")
            assert [v["text"] for v in detail["versions"]] == [created.text, edited.text]
            registration = detail["registration"]
            assert registration["number"].startswith("KS 2026/") or registration["number"].startswith("KS ")
            assert registration["email"]["status"] == "sent"
            assert registration["snapshot"]["pdf"].endswith("snapshot.pdf")
            pdf = await client.get(registration["snapshot"]["pdf"], headers=bearer("reg-token"))
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
            assert b"/FontFile2" in pdf.content  # the TrueType font is embedded
            assert list((tmp_path / "snaps").glob("*.pdf")) and list((tmp_path / "snaps").glob("*.png"))

            message = mailbox.messages[0]
            assert registration["number"] in message["Subject"]
            assert message["To"] == "registrator@stad.se"
            attachments = {part.get_filename(): part.get_content_type() for part in message.walk()
                           if part.get_filename()}
            assert sorted(attachments.values()) == ["application/pdf", "image/png"]

            counts_before = await _counts(connection)
            # Redelivery of all three (and the post) changes nothing; a later event in the same thread
            # (same partition, so after them) tells us the consumer got past the redelivered ones.
            for event in (post, created, edited, hidden):
                await producer.send_and_wait(topics.EVENTS, to_bytes(event), key=event.partition_key)
            marker = comment_event(account=account, thread=thread, item=unique("comment"), text="Tack!")
            await producer.send_and_wait(topics.EVENTS, to_bytes(marker), key=marker.partition_key)
            await wait_until(lambda: connection.fetchval(
                "SELECT count(*) FROM item WHERE platform_item_id = $1", marker.item_id), timeout=20)
            await asyncio.sleep(0.5)  # let the desk run a pass, so a second e-mail would show
            after = await _counts(connection)
            assert after == {**counts_before, "items": counts_before["items"] + 1,
                             "events": counts_before["events"] + 1, "versions": counts_before["versions"] + 1}
            assert len(mailbox.messages) == 1
    finally:
        await producer.stop()
        await connection.close()
    assert counts_before == {"items": 2, "events": 4, "versions": 3, "registrations": 1, "snapshots": 1,
                             "sent": 1}


async def _counts(connection: asyncpg.Connection) -> dict[str, int]:
    return {
        "items": await connection.fetchval("SELECT count(*) FROM item"),
        "events": await connection.fetchval("SELECT count(*) FROM item_event"),
        "versions": await connection.fetchval("SELECT count(*) FROM item_event WHERE version_no IS NOT NULL"),
        "registrations": await connection.fetchval("SELECT count(*) FROM registration"),
        "snapshots": await connection.fetchval("SELECT count(*) FROM snapshot"),
        "sent": await connection.fetchval("SELECT count(*) FROM mail_outbox WHERE status = 'sent'"),
    }
