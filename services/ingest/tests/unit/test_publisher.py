"""The publisher's memoised partitioner keeps Kafka's placement of thread keys."""


def test_memoised_partitioner_places_keys_exactly_like_aiokafkas_default():
    from aiokafka.partitioner import DefaultPartitioner
    from socialops_ingest.publisher import thread_partitioner

    partitions = list(range(12))
    keys = [f"facebook:104857600000001:{n}".encode() for n in range(500)]
    assert [thread_partitioner(k, partitions, partitions) for k in keys] == [
        DefaultPartitioner()(k, partitions, partitions) for k in keys]


def test_the_hot_path_shortcuts_give_exactly_the_models_key_bytes_and_id():
    from datetime import UTC, datetime
    from itertools import islice
    from pathlib import Path

    from socialops_common.events import social_event_id
    from socialops_common.kafka import to_bytes
    from socialops_ingest.accounts import load_inventory
    from socialops_ingest.intake import _SERIALIZE, ADAPTERS, _key, decode_and_normalize
    from socialops_ingest.payloads import Secrets
    from socialops_ingest.platforms import Context
    from socialops_ingest.traffic import TrafficGenerator

    accounts = load_inventory(Path(__file__).resolve().parents[4] / "config" / "accounts.yaml")
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    events = []
    for delivery in islice(TrafficGenerator(accounts, Secrets("a", "b", "c"), seed=5).deliveries(start, 5), 100):
        events += decode_and_normalize(ADAPTERS[delivery.platform], delivery.body, Context(received_at=start))[0].events
    assert len(events) == 500
    for event in events:
        assert _key(event) == event.partition_key
        assert _SERIALIZE(event) == to_bytes(event)
    edits = [e for e in events if e.kind.value == "comment.created"]
    assert all(e.event_id == social_event_id(e.platform, e.kind, e.item_id) for e in edits)
