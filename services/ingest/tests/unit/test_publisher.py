"""The publisher's memoised partitioner keeps Kafka's placement of thread keys."""


def test_memoised_partitioner_places_keys_exactly_like_aiokafkas_default():
    from aiokafka.partitioner import DefaultPartitioner
    from socialops_ingest.publisher import thread_partitioner

    partitions = list(range(12))
    keys = [f"facebook:104857600000001:{n}".encode() for n in range(500)]
    assert [thread_partitioner(k, partitions, partitions) for k in keys] == [
        DefaultPartitioner()(k, partitions, partitions) for k in keys]
