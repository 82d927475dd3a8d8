"""The executor: platform-action commands from `social.actions.v1` carried out once each.

Own consumer group. For each command: if its action_id is already done (or dry-run) in
PostgreSQL it is skipped — the same action redelivered is never executed twice; otherwise it is
recorded as started, carried out through its platform's API (`platform.py`: Graph API, X API v2,
LinkedIn; retries with backoff), recorded as finished, and its `PlatformActionOutcome` is published to
the same topic; then the offset is committed. Outcomes on the topic (ours included) are ignored.

A command that crashed mid-way ("started") is tried again when doing it twice does no harm (hide,
delete, block, like); one that creates something (a reply, a notice) is not: it may have gone out
before the crash, so its outcome is `failed` with error code `interrupted`, and a person decides
whether to send it again (within one process, a call whose outcome could not be recorded — the
database went away — is recorded on the retry without calling again). A command already finished
publishes its recorded outcome again (no platform call), so an outcome is never lost between the
database write and the broker's acknowledgement.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from pydantic import TypeAdapter, ValidationError
from socialops_common.events import (
    ActionMessage,
    ActionStatus,
    PlatformActionCommand,
    PlatformActionOutcome,
    thread_key,
    utc_now,
)
from socialops_common.kafka import dead_letter, publish_dead_letter, to_bytes
from socialops_common.observability import database_reachable, kafka_reachable
from socialops_common.resilience import BatchGuard, all_answer
from socialops_common.subscriptions import guarded_batch_subscriber
from socialops_common.topics import ACTIONS

from ..metrics import ACTIONS as ACTIONS_METRIC
from ..metrics import DEAD_LETTERS
from ..store import ModerationStore
from .platform import CallResult, PlatformActions

log = structlog.get_logger("moderation.executor")
MAX_UNRECORDED = 10_000
_ACTION_MESSAGE = TypeAdapter(ActionMessage)


class ActionExecutor:
    def __init__(self, *, bootstrap: str, group_id: str, producer: AIOKafkaProducer, store: ModerationStore,
                 platforms: PlatformActions, concurrency: int = 8) -> None:
        self.concurrency = max(1, concurrency)
        self.group_id = group_id
        self.producer = producer
        self.store = store
        self.platforms = platforms
        # Outcomes of platform calls made but not yet recorded (the database failed in between): the
        # retry records them instead of calling again, or of calling a sent reply "interrupted".
        self._unrecorded: dict[str, PlatformActionOutcome] = {}
        self._pending: list[asyncio.Future] = []
        # Retries with backoff; a circuit while the database or broker is away; a command that
        # fails alone while both answer is dead-lettered with the reason (socialops_common.resilience).
        self.guard: BatchGuard[ConsumerRecord] = BatchGuard(
            "moderation-executor", self._handle_each, self._dead_letter_poison,
            all_answer(database_reachable(store.pool), kafka_reachable(bootstrap)),
        )

    async def _handle_each(self, records: Sequence[ConsumerRecord]) -> None:
        """One attempt: the commands carried out and their outcomes acknowledged, or an error.

        Commands on different threads run concurrently (up to `concurrency` platform calls at a
        time); a thread's commands run in order (hide before unhide, delete before block). One at
        a time, each waiting on its database writes and its HTTP call, the executor fell thousands
        of commands behind at a few hundred comments per second (bench/e2e.py)."""
        self._pending = []
        by_thread: dict[bytes | None, list[ConsumerRecord]] = {}
        for record in records:
            by_thread.setdefault(record.key, []).append(record)  # the key is the thread
        gate = asyncio.Semaphore(self.concurrency)

        async def in_order(thread_records: list[ConsumerRecord]) -> None:
            for record in thread_records:
                async with gate:
                    await self.handle(record)

        # A failure cancels the rest of the attempt: the guard retries the batch (done commands
        # are skipped by their recorded outcome), so nothing runs on behind its back.
        try:
            async with asyncio.TaskGroup() as group:
                for thread_records in by_thread.values():
                    group.create_task(in_order(thread_records))
        except ExceptionGroup as errors:  # the guard (and a dead letter's reason) sees the cause itself
            raise errors.exceptions[0] from errors
        await asyncio.gather(*self._pending)

    async def _dead_letter_poison(self, record: ConsumerRecord, reason: str) -> None:
        await publish_dead_letter(self.producer, dead_letter(
            source="moderation.executor", reason=reason, payload=record.value or b"", topic=record.topic,
            partition=record.partition, offset=record.offset, key=record.key,
        ))
        DEAD_LETTERS.labels("moderation.executor").inc()

    def subscribe(self, broker: KafkaBroker) -> None:
        """The executor's group on the service's FastStream broker: up to 100 commands a batch, through
        the guard; offsets committed once every outcome is acknowledged (socialops_common.subscriptions)."""
        guarded_batch_subscriber(
            broker, ACTIONS, group_id=self.group_id, guard=self.guard, max_records=100,
            title="moderation.executor",
            description="The executor: each platform-action command carried out once, its outcome published.",
        )

    async def handle(self, record: ConsumerRecord) -> PlatformActionOutcome | None:
        try:
            message = _ACTION_MESSAGE.validate_python(json.loads(record.value or b"null"))
        except (ValidationError, ValueError) as error:
            letter = dead_letter(
                source="moderation.executor", reason=f"not a platform action message: {error}"[:2000], payload=record.value or b"",
                topic=record.topic, partition=record.partition, offset=record.offset, key=record.key,
            )
            await publish_dead_letter(self.producer, letter)
            DEAD_LETTERS.labels("moderation.executor").inc()
            return None
        if not isinstance(message, PlatformActionCommand):
            return None  # an outcome: a record of something done, nothing to do
        return await self.execute(message)

    async def execute(self, command: PlatformActionCommand) -> PlatformActionOutcome | None:
        recorded = await self.store.finished_outcome(command.action_id)
        if recorded is not None:
            # Carried out before: never call the platform again; publish the recorded outcome
            # again (same content) in case the first publication was not acknowledged.
            log.info("action already carried out", action_id=command.action_id, operation=command.operation.value)
            await self._publish(recorded)
            return None
        outcome = self._unrecorded.get(command.action_id)
        if outcome is None:
            outcome = self._outcome(command, await self._carry_out(command))
            self._unrecorded[command.action_id] = outcome
            while len(self._unrecorded) > MAX_UNRECORDED:
                self._unrecorded.pop(next(iter(self._unrecorded)))
        await self.store.action_finished(outcome)
        self._unrecorded.pop(command.action_id, None)
        await self._publish(outcome)
        ACTIONS_METRIC.labels(command.platform.value, command.operation.value, outcome.status.value).inc()
        log.info(
            "platform action", action_id=command.action_id, operation=command.operation.value,
            status=outcome.status.value, attempts=outcome.attempts, error_code=outcome.error_code,
            detail=(outcome.detail or "")[:200],
        )
        return outcome

    async def _carry_out(self, command: PlatformActionCommand) -> CallResult:
        first_attempt = await self.store.action_started(
            command.action_id, command.decision_id, command.platform.value, command.account_id, command.item_id,
            command.operation.value,
        )
        if first_attempt or self.platforms.may_repeat(command):
            return await self.platforms.execute(command)
        log.warning("interrupted action not repeated", action_id=command.action_id, operation=command.operation.value)
        return CallResult(
            ActionStatus.FAILED, 0, None,
            "interrupted: an earlier attempt started and did not finish, so it may have been sent; "
            "not sent again — look on the platform before asking again", error_code="interrupted",
        )

    @staticmethod
    def _outcome(command: PlatformActionCommand, result: CallResult) -> PlatformActionOutcome:
        return PlatformActionOutcome(
            action_id=command.action_id,
            decision_id=command.decision_id,
            event_id=command.event_id,
            platform=command.platform,
            account_id=command.account_id,
            item_id=command.item_id,
            thread_id=command.thread_id,
            operation=command.operation,
            status=result.status,
            attempts=result.attempts,
            http_status=result.http_status,
            detail=result.detail,
            completed_at=utc_now(),
            error_code=result.error_code,
            created_id=result.created_id,
        )

    async def _publish(self, outcome: PlatformActionOutcome) -> None:
        sent = await self.producer.send(
            ACTIONS, to_bytes(outcome), key=thread_key(outcome.platform, outcome.account_id, outcome.thread_id)
        )
        self._pending.append(sent)  # awaited before the batch's offsets are committed
