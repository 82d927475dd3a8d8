"""Consume every topic the archive keeps, in batches: one transaction per batch, then commit offsets.

At-least-once: offsets are committed only after the batch's transaction has committed, and the
store is idempotent, so a crash between the two only means a harmless redelivery.

Why this consumer stays on aiokafka while the other services' groups are FastStream subscribers
(issue 16; `socialops_common.subscriptions`): the archive writes with several concurrent writers
from ONE consumer — a poll is split by partition across `writers` database transactions that run
at once, and the offsets are committed per partition as each writer's transaction commits. A
FastStream batch subscriber hands one batch to one handler and acknowledges it as a whole
(`consumer.commit()` of every position), and its concurrent variants either consume one message
at a time or open a consumer per worker (more group members, more rebalances, and no per-batch
transaction). Either would lose the measured rate (bench/archive.py, bench/e2e.py) or the
commit-what-is-durable guarantee, so the loop below keeps both; its topics are in the AsyncAPI
document all the same (socialops_common.contract).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.producer import AIOKafkaProducer
from pydantic import TypeAdapter, ValidationError
from socialops_common import topics
from socialops_common.events import (
    AccountRecord,
    ActionMessage,
    ModerationDecision,
    SlaStateChange,
    SocialEvent,
)
from socialops_common.kafka import consumer_fetch_options, dead_letter, publish_dead_letter
from socialops_common.observability import Stopwatch, database_reachable
from socialops_common.resilience import BatchGuard

from . import metrics
from .records import ArchiveBatch
from .store import ArchiveStore

log = structlog.get_logger("archive.consumer")

ARCHIVED_TOPICS = (topics.EVENTS, topics.MODERATION, topics.SLA, topics.ACTIONS, topics.ACCOUNTS)
_ACTION = TypeAdapter(ActionMessage)


class UnreadableMessage(ValueError):
    pass


def add_to_batch(batch: ArchiveBatch, record: ConsumerRecord) -> None:
    """Parse one message into the batch; `UnreadableMessage` says why it cannot be archived."""
    topic, value = record.topic, record.value
    if not value:
        raise UnreadableMessage("empty message")
    try:
        if topic == topics.EVENTS:
            batch.add_event(SocialEvent.model_validate_json(value), record.partition)
        elif topic == topics.MODERATION:
            batch.decisions.append(ModerationDecision.model_validate_json(value))
        elif topic == topics.SLA:
            batch.sla_changes.append(SlaStateChange.model_validate_json(value))
        elif topic == topics.ACTIONS:
            batch.actions.append(_ACTION.validate_json(value))
        elif topic == topics.ACCOUNTS:
            batch.accounts.append(AccountRecord.model_validate_json(value))
        else:
            raise UnreadableMessage(f"topic {topic} is not archived")
    except ValidationError as error:
        raise UnreadableMessage(f"invalid {topic} message: {_short(error)}") from error


def _short(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])


def parse_records(records: list[ConsumerRecord]) -> tuple[ArchiveBatch, list[tuple[ConsumerRecord, str]]]:
    """The batch to write, and the records that cannot be archived with the reason why."""
    batch, letters = ArchiveBatch(), []
    for record in records:
        try:
            add_to_batch(batch, record)
        except UnreadableMessage as error:
            letters.append((record, str(error)))
    return batch, letters


# How long a poll waits for more messages while the previous batch is still being written.
_TOP_UP_POLL_MS = 5
# Messages parsed between two chances for the write in flight to continue (a few milliseconds).
_PARSE_CHUNK = 20


class PendingBatch:
    """Messages polled but not yet written: per partition in offset order, parsed as they arrive."""

    def __init__(self) -> None:
        self.polled: dict[TopicPartition, list[ConsumerRecord]] = {}
        self.batch = ArchiveBatch()
        self.letters: list[tuple[ConsumerRecord, str]] = []
        self.count = 0

    async def add(self, polled: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Parse and hash the polled messages, a few at a time: between chunks the event loop lets
        the batch being written send its next statement, so the database never waits for us."""
        parsed = 0
        for partition, records in polled.items():
            if not records:
                continue
            self.polled.setdefault(partition, []).extend(records)
            self.count += len(records)
            for record in records:
                try:
                    add_to_batch(self.batch, record)
                except UnreadableMessage as error:
                    self.letters.append((record, str(error)))
                parsed += 1
                if parsed % _PARSE_CHUNK == 0:
                    await asyncio.sleep(0)


class _Lane:
    """One writer's share of the partitions: what it has polled, and the batch it is writing."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.pending = PendingBatch()
        self.in_flight: asyncio.Task | None = None

    @property
    def writing(self) -> bool:
        return self.in_flight is not None and not self.in_flight.done()


class ArchiveConsumer:
    def __init__(
        self,
        store: ArchiveStore,
        bootstrap: str,
        group_id: str,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 1000,
        batch_timeout_ms: int = 200,
        writers: int = 2,
        topics_: Iterable[str] = ARCHIVED_TOPICS,
        client_id: str = "socialops-archive",
    ) -> None:
        self.store = store
        self.producer = producer
        self.batch_size = batch_size
        self.batch_timeout_ms = batch_timeout_ms
        self.writers = max(1, writers)
        self.consumer = AIOKafkaConsumer(
            *topics_,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=batch_size,
            **consumer_fetch_options(),
        )
        self.on_registered: list[Any] = []  # callbacks (wake the outbox worker)
        self._stopping = asyncio.Event()
        self._running: asyncio.Event | None = None  # set when `run` has finished its last batch
        # A batch that fails while the database is unreachable waits for it (circuit open) instead
        # of being taken for poison: a database outage must not send the archive's input to the
        # dead-letter topic (socialops_common.resilience; found by the e2e fault test).
        # One guard per writer: each keeps its own retry backoff.
        self.guards: list[BatchGuard[ConsumerRecord]] = [
            BatchGuard("archive-database", self._write_records, self._dead_letter, database_reachable(store.pool))
            for _ in range(self.writers)
        ]
        # The batch each writer is retrying, parsed once while polling (keyed by its record list).
        self._parsed: dict[int, tuple[ArchiveBatch, list[tuple[ConsumerRecord, str]]]] = {}

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM: finish the batch in hand (written and its offsets committed), then close.

        Waits for `run` to wind down; should the database be away longer than `grace_s`, the batch
        is left uncommitted and is redelivered to whoever takes the partitions (idempotent)."""
        self._stopping.set()
        if self._running is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._running.wait()), grace_s)
            except TimeoutError:
                log.warning("stopping with a batch not committed; it will be redelivered")
        await self.consumer.stop()

    async def run(self) -> None:
        """Keep polling and parsing while batches are being written; each writer then writes what
        has accumulated for its partitions as its next batch.

        Partitions are shared out among `writers` (partition number modulo writers): a writer
        writes one batch at a time and commits its partitions' offsets after it, so every
        partition stays in order, while the database works on one writer's batch as this process
        prepares another's (one writer left it idle half the time: bench/archive.py). An item's
        events share a partition (keyed by thread), so two writers never write the same item.

        A batch grows with the write's latency (up to `batch_size`): under load the round trips
        and commit are shared by many messages, when idle a message waits no longer than a poll."""
        lanes = [_Lane(n) for n in range(self.writers)]
        self._running = finished = asyncio.Event()
        try:
            while not self._stopping.is_set():
                started = False
                for lane in lanes:
                    pending, writing = lane.pending, lane.writing
                    if pending.count and (not writing or pending.count >= self.batch_size):
                        if lane.in_flight is not None:
                            await lane.in_flight
                        lane.in_flight = asyncio.create_task(
                            self.handle(pending.polled, (pending.batch, pending.letters), lane.index))
                        lane.pending = PendingBatch()
                        started = True
                if started:
                    await asyncio.sleep(0)  # let the writes send their first statements before we parse on
                    continue
                fullest = max(lane.pending.count for lane in lanes)
                # Something to write already: look briefly for more while the writes are under way.
                timeout_ms = _TOP_UP_POLL_MS if fullest else self.batch_timeout_ms
                try:
                    polled = await self.consumer.getmany(timeout_ms=timeout_ms,
                                                         max_records=self.batch_size - fullest)
                except Exception as error:  # the consumer was stopped, or the broker went away: retry
                    if self._stopping.is_set():
                        return
                    log.warning("poll failed", error=repr(error))
                    await asyncio.sleep(1)
                    continue
                for partition, records in polled.items():
                    await lanes[partition.partition % self.writers].pending.add({partition: records})
        finally:
            await asyncio.gather(*(lane.in_flight for lane in lanes if lane.in_flight is not None),
                                 return_exceptions=True)
            finished.set()

    async def handle(
        self,
        polled: dict[TopicPartition, list[ConsumerRecord]],
        parsed: tuple[ArchiveBatch, list[tuple[ConsumerRecord, str]]] | None = None,
        writer: int = 0,
    ) -> None:
        """Archive one poll's records, then commit their offsets (retrying the write until durable)."""
        records = [r for rs in polled.values() for r in rs]
        self._parsed[id(records)] = parsed or parse_records(records)
        try:
            await self.guards[writer].handle(records)  # written, or its poison messages dead-lettered
        finally:
            del self._parsed[id(records)]
        try:
            await self.consumer.commit({tp: rs[-1].offset + 1 for tp, rs in polled.items() if rs})
        except Exception as error:  # e.g. a rebalance: the batch is redelivered, which changes nothing
            log.warning("offset commit failed; the batch will be redelivered", error=repr(error))

    async def _archive(self, batch: ArchiveBatch, letters: list[tuple[ConsumerRecord, str]]) -> None:
        if len(batch):
            with Stopwatch() as watch:
                result = await self.store.write(batch)
            metrics.WRITE_SECONDS.observe(watch.seconds)
            metrics.BATCH_SIZE.observe(len(batch))
            metrics.EVENTS_ARCHIVED.labels(topics.EVENTS).inc(result.events_archived)
            metrics.EVENTS_ARCHIVED.labels(topics.MODERATION).inc(result.decisions)
            metrics.EVENTS_ARCHIVED.labels(topics.SLA).inc(result.sla_changes)
            metrics.EVENTS_ARCHIVED.labels(topics.ACTIONS).inc(result.actions)
            metrics.DUPLICATES.inc(result.duplicates)
            if result.registrations:
                metrics.REGISTRATIONS.inc(len(result.registrations))
                log.info("removals registered", numbers=result.registrations)
                for callback in self.on_registered:
                    callback()
        for record, reason in letters:
            await self._dead_letter(record, reason)

    async def _write_records(self, records: list[ConsumerRecord]) -> None:
        """One attempt at the batch (parsed once, while polling) or at a single message of it."""
        parsed = self._parsed.get(id(records))
        if parsed is not None:
            await self._archive(*parsed)
        else:
            await self._archive(*parse_records(list(records)))

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        letter = dead_letter(
            source="archive.consumer", reason=reason, payload=record.value or b"", topic=record.topic,
            partition=record.partition, offset=record.offset, key=record.key,
        )
        await publish_dead_letter(self.producer, letter)
        metrics.DEAD_LETTERS.labels(reason.split(":")[0][:40]).inc()
        log.warning("dead-lettered", topic=record.topic, offset=record.offset, reason=reason)
