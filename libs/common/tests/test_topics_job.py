"""`socialops-topics` (the compose stack's one-shot job): layout from configuration, applied to a real broker."""

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from socialops_common.topicadmin import DAY_MS, TopicSettings, configured_topics, main, partitions_to_grow
from socialops_common.topics import ACCOUNTS, ALL_TOPICS, DEADLETTER, EVENTS


def test_defaults_are_the_layout_in_topics_py():
    specs = configured_topics(TopicSettings())
    assert [(s.name, s.partitions, s.config) for s in specs] == [(s.name, s.partitions, s.config) for s in ALL_TOPICS]


def test_partitions_retention_and_min_insync_replicas_come_from_configuration():
    settings = TopicSettings(topic_partitions=f"{EVENTS}=24", topic_retention_days=f"{DEADLETTER}=365",
                             topic_replication_factor=3, topic_min_insync_replicas=2)
    specs = {s.name: s for s in configured_topics(settings)}
    assert specs[EVENTS].partitions == 24
    assert specs[DEADLETTER].config["retention.ms"] == str(365 * DAY_MS)
    assert all(s.config["min.insync.replicas"] == "2" for s in specs.values())
    assert specs[ACCOUNTS].config["cleanup.policy"] == "compact"


@pytest.mark.parametrize("settings, message", [
    (TopicSettings(topic_partitions="social.typo.v1=3"), "unknown topic"),
    (TopicSettings(topic_partitions=EVENTS), "expected name=value"),
    (TopicSettings(topic_retention_days=f"{ACCOUNTS}=7"), "compacted"),
    (TopicSettings(topic_replication_factor=1, topic_min_insync_replicas=2), "cannot exceed"),
])
def test_a_configuration_that_cannot_work_is_refused_with_the_reason(settings, message):
    with pytest.raises(ValueError, match=message):
        configured_topics(settings)


def test_the_console_script_refuses_a_bad_layout_with_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("SOCIALOPS_TOPIC_PARTITIONS", "social.typo.v1=3")
    assert main(["--dry-run"]) == 2
    assert "unknown topic" in capsys.readouterr().err


def test_the_console_script_prints_the_layout_it_would_apply(monkeypatch, capsys):
    monkeypatch.setenv("SOCIALOPS_TOPIC_PARTITIONS", f"{EVENTS}=24")
    assert main(["--dry-run"]) == 0
    assert f"{EVENTS}: 24 partitions, replication 1" in capsys.readouterr().out


async def partition_counts(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics([t.name for t in ALL_TOPICS])}
    finally:
        await admin.close()


def test_the_job_creates_the_topics_and_is_safe_to_run_again(fresh_broker, monkeypatch, capsys):
    # fresh_broker already created the default layout; the job adds nothing and fails on nothing
    monkeypatch.setenv("SOCIALOPS_KAFKA_BOOTSTRAP", fresh_broker.bootstrap)
    assert main([]) == 0
    assert main([]) == 0
    assert "topics ready" in capsys.readouterr().out
    counts = asyncio.run(partition_counts(fresh_broker.bootstrap))
    assert counts == {t.name: t.partitions for t in ALL_TOPICS}


def test_only_topics_with_fewer_partitions_than_configured_are_grown():
    specs = configured_topics(TopicSettings(topic_partitions=f"{DEADLETTER}=5,{EVENTS}=6"))
    existing = {t.name: t.partitions for t in ALL_TOPICS}
    assert partitions_to_grow(existing, specs) == {DEADLETTER: (3, 5)}  # events: 12 -> 6 is not possible


def test_growing_partitions_on_the_broker_is_done_or_refused_with_the_reason(fresh_broker, monkeypatch, capsys):
    """Apache Kafka grows the topic (CreatePartitions); the local test broker (tansu) lacks that API:
    then the job must say so and exit 1, never report success."""
    monkeypatch.setenv("SOCIALOPS_KAFKA_BOOTSTRAP", fresh_broker.bootstrap)
    monkeypatch.setenv("SOCIALOPS_TOPIC_PARTITIONS", f"{DEADLETTER}=5")
    code = main([])
    counts = asyncio.run(partition_counts(fresh_broker.bootstrap))
    if code == 0:
        assert counts[DEADLETTER] == 5 and f"{DEADLETTER}: 3 -> 5 partitions" in capsys.readouterr().out
    else:
        assert code == 1 and counts[DEADLETTER] == 3
        assert "cannot add partitions" in capsys.readouterr().err
