"""What the SLA service's tests share: events of a Facebook thread, sending them, reading an item's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from socialops_common.events import Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import to_bytes
from socialops_common.topics import ACCOUNTS, INSIGHTS

from .calendar import STOCKHOLM

TUESDAY_10 = datetime(2026, 11, 24, 10, tzinfo=STOCKHOLM).astimezone(UTC)
DEADLINE = TUESDAY_10 + timedelta(days=1)  # Wednesday 10:00


def social(account: str, kind: EventKind, item: str, *, parent: str | None = "post", at: datetime = TUESDAY_10,
           text: str | None = None, by_account: bool = False, author_name: str | None = None, **extra) -> SocialEvent:
    return SocialEvent(
        event_id=social_event_id(Platform.FACEBOOK, kind, f"{account}:{item}"), kind=kind,
        platform=Platform.FACEBOOK, account_id=account, item_id=item, thread_id="post", parent_id=parent,
        author=Author(id="citizen" if not by_account else account, name=author_name, is_account=by_account),
        text=text, occurred_at=at, received_at=at, **extra,
    )


async def send(bootstrap: str, *messages: tuple[str, Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic, message in messages:
            key = message.key if topic in (ACCOUNTS, INSIGHTS) else message.partition_key
            await producer.send_and_wait(topic, to_bytes(message), key=key)
    finally:
        await producer.stop()


async def item_state(runtime: Any, account: str, item: str) -> str | None:
    return await runtime.service.pool.fetchval(
        "SELECT state FROM sla_items WHERE account_id = $1 AND item_id = $2", account, item)
