"""Consumer lag as a Prometheus gauge, per consumer group, topic and partition.

Lag = the partition's end offset minus the group's committed offset. Read through the Kafka
protocol (OffsetFetch + ListOffsets), so it works against any Kafka-compatible broker.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import Gauge

CONSUMER_LAG = Gauge(
    "socialops_consumer_lag_messages",
    "Messages on the topic not yet committed by the consumer group",
    ["group", "topic", "partition"],
)


async def measure_lag(bootstrap: str, group: str, topics: list[str]) -> dict[tuple[str, int], int]:
    # A consumer carrying the group id but never subscribing does not join the group (no
    # rebalance); it only asks the coordinator for the committed offsets (OffsetFetch).
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             client_id=f"{group}-lag")
    await probe.start()
    try:
        await probe.topics()  # refreshes metadata so partitions are known
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in (probe.partitions_for_topic(topic) or ())
        ]
        ends = await probe.end_offsets(partitions) if partitions else {}
        lag: dict[tuple[str, int], int] = {}
        for tp, end in ends.items():
            committed = await probe.committed(tp)
            lag[(tp.topic, tp.partition)] = max(0, end - (committed or 0))
        return lag
    finally:
        await probe.stop()


class LagMonitor:
    """Background task that refreshes `socialops_consumer_lag_messages` for one group."""

    def __init__(self, bootstrap: str, group: str, topics: list[str], interval_s: float = 15.0) -> None:
        self.bootstrap, self.group, self.topics, self.interval_s = bootstrap, group, topics, interval_s
        self._task: asyncio.Task | None = None

    async def refresh(self) -> None:
        for (topic, partition), value in (await measure_lag(self.bootstrap, self.group, self.topics)).items():
            CONSUMER_LAG.labels(self.group, topic, str(partition)).set(value)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # lag is best effort; readiness reports the broker
                await self.refresh()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"lag-{self.group}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
