"""The account inventory as moderation needs it: which policy override each account uses.

Read from the compacted `social.accounts.v1` from the beginning on every start (no consumer
group: every replica needs all of it), then followed: a FastStream subscriber on the service's
broker, beside the decision consumer's and the executor's guarded batch subscribers.
"""

from __future__ import annotations

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
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

    def subscribe(self, broker: KafkaBroker, producer: AIOKafkaProducer | None = None) -> None:
        """Follow the inventory on the service's FastStream broker.

        No consumer group and nothing committed: every replica reads the compacted topic from the
        beginning on each start. So a dead letter whose publishing fails is published on the next
        start, under the same id (the id derives from the offset).
        """

        @broker.subscriber(ACCOUNTS, group_id=None, auto_offset_reset="earliest", title="moderation.accounts",
                           description="The account follower: per-account policy overrides, departments, editors.")
        async def on_account_record(message: KafkaMessage) -> None:
            await self.receive(message.raw_message, producer)

    async def receive(self, record: ConsumerRecord, producer: AIOKafkaProducer | None = None) -> None:
        """One inventory record: learnt, or dead-lettered with the reason."""
        if record.value is None:
            return  # tombstone: nothing to learn
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
