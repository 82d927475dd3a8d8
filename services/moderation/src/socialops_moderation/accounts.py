"""The account inventory as moderation needs it: which policy override each account uses.

Read from the compacted `social.accounts.v1` from the beginning on every start (no consumer
group: every replica needs all of it), then followed.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import ValidationError
from socialops_common.events import AccountRecord
from socialops_common.kafka import dead_letter, publish_dead_letter
from socialops_common.topics import ACCOUNTS

log = structlog.get_logger("moderation.accounts")


class AccountPolicies:
    """The latest inventory record of each account: its policy override, department and editors."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], AccountRecord] = {}

    def update(self, record: AccountRecord) -> None:
        self._records[(record.platform.value, record.external_id)] = record

    def policy_for(self, platform: str, account_id: str) -> str | None:
        record = self._records.get((platform, account_id))
        return record.moderation_policy if record else None

    def record_for(self, platform: str, account_id: str) -> AccountRecord | None:
        return self._records.get((platform, account_id))

    async def follow(self, bootstrap: str, stop: asyncio.Event, producer: AIOKafkaProducer | None = None) -> None:
        consumer = AIOKafkaConsumer(
            ACCOUNTS, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        if record.value is None:
                            continue  # tombstone: nothing to learn
                        try:
                            self.update(AccountRecord.model_validate_json(record.value))
                        except ValidationError as error:
                            log.warning("account record not understood", offset=record.offset, error=str(error)[:300])
                            if producer is not None:  # same id for the same offset: replicas and restarts dedupe
                                await publish_dead_letter(
                                    producer,
                                    dead_letter(
                                        source="moderation.accounts", reason=f"not an AccountRecord: {error}"[:2000],
                                        payload=record.value, topic=record.topic, partition=record.partition,
                                        offset=record.offset, key=record.key,
                                    ),
                                )
        finally:
            await consumer.stop()
