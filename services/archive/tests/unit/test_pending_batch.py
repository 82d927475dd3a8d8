"""Messages polled while a write is under way: kept per partition in order, parsed and hashed once."""

from __future__ import annotations

from aiokafka import ConsumerRecord, TopicPartition
from socialops_archive.consumer import PendingBatch
from socialops_archive.records import GENESIS_HASH, ArchiveBatch, chain_events, hashed_record
from socialops_common import topics
from socialops_common.events import EventKind
from socialops_common.kafka import to_bytes

from ..conftest import comment_event


def _record(partition: int, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(topic=topics.EVENTS, partition=partition, offset=offset, timestamp=0, timestamp_type=0,
                          key=None, value=value, checksum=None, serialized_key_size=0,
                          serialized_value_size=len(value), headers=())


async def test_polls_accumulate_in_partition_order_with_unreadable_messages_set_aside() -> None:
    first, edit, other = (
        comment_event(account="a", thread="t", item="c", text="ett"),
        comment_event(account="a", thread="t", item="c", kind=EventKind.COMMENT_EDITED, text="två", version="1"),
        comment_event(account="a", thread="u", item="d", text="tre"),
    )
    p0, p1 = TopicPartition(topics.EVENTS, 0), TopicPartition(topics.EVENTS, 1)
    pending = PendingBatch()
    await pending.add({p0: [_record(0, 10, to_bytes(first))], p1: [_record(1, 3, to_bytes(other))]})
    await pending.add({p0: [_record(0, 11, b"{not json"), _record(0, 12, to_bytes(edit))]})

    assert pending.count == 4
    assert [r.offset for r in pending.polled[p0]] == [10, 11, 12] and [r.offset for r in pending.polled[p1]] == [3]
    assert [e.event_id for e in pending.batch.events] == [first.event_id, other.event_id, edit.event_id]
    assert [(r.offset, reason.split(":")[0]) for r, reason in pending.letters] == [
        (11, f"invalid {topics.EVENTS} message")]
    assert pending.batch.hashed[edit.event_id] == hashed_record(edit)
    assert pending.batch.event_partitions == {0, 1}  # what the store serialises writers by


def test_an_event_read_twice_keeps_the_hash_of_its_first_copy() -> None:
    original = comment_event(account="a", thread="t", item="c", text="ett")
    changed = original.model_copy(update={"text": "ändrad i omleveransen"})
    batch = ArchiveBatch()
    batch.add_event(original)
    batch.add_event(changed)
    # The store archives the first copy (the second counts as a duplicate): its hash must match it.
    assert batch.hashed[original.event_id] == hashed_record(original)


def test_hashing_on_read_gives_the_same_chain_as_hashing_on_write() -> None:
    events = [
        comment_event(account="a", thread="t", item="c", text="ett"),
        comment_event(account="a", thread="t", item="c", kind=EventKind.COMMENT_HIDDEN, text=None),
        comment_event(account="a", thread="t", item="c", kind=EventKind.COMMENT_EDITED, text="två", version="1"),
    ]
    batch = ArchiveBatch()
    for event in events[:2]:  # the last one is hashed while chaining
        batch.add_event(event)
    assert chain_events(events, 0, 0, GENESIS_HASH, batch.hashed) == chain_events(events, 0, 0, GENESIS_HASH)
