"""Citizens' comments, mentions and DMs in; one decision per item version out.

At-least-once and idempotent: a batch is classified, its new decisions are written to PostgreSQL
(so a redelivered item gets the *same* decision, even though spam history moved on), decisions and
their platform-action commands are published with acks=all, and only then are offsets committed.
A decision already published is not published again; one saved but not yet acknowledged is.
Messages that are not valid events go to the dead-letter topic with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from pydantic import ValidationError
from socialops_common.events import (
    CITIZEN_TEXT_KINDS,
    ModerationDecision,
    SocialEvent,
    utc_now,
)
from socialops_common.kafka import dead_letter, publish_dead_letter, to_bytes
from socialops_common.observability import database_reachable, kafka_reachable
from socialops_common.resilience import BatchGuard, all_answer
from socialops_common.subscriptions import guarded_batch_subscriber
from socialops_common.topics import ACTIONS, EVENTS, MODERATION

from .accounts import AccountPolicies
from .actions.commands import commands_for
from .classify import Classifier
from .metrics import DEAD_LETTERS, DECISION_LATENCY, DECISIONS, REVIEW_QUEUE
from .policy import PolicyBook, decide_with_suggestion, decision_id_for
from .store import ModerationStore

log = structlog.get_logger("moderation.consumer")


class Moderator:
    """Event → decision (no I/O): the classifier, the policy book and the accounts' overrides."""

    def __init__(self, classifier: Classifier, policies: PolicyBook, accounts: AccountPolicies) -> None:
        self.classifier = classifier
        self.policies = policies
        self.accounts = accounts

    def applies_to(self, event: SocialEvent) -> bool:
        return event.kind in CITIZEN_TEXT_KINDS and not event.author.is_account

    def policy_for(self, event: SocialEvent):  # noqa: ANN201 - Policy
        return self.policies.named(self.accounts.policy_for(event.platform.value, event.account_id))

    def decide(self, event: SocialEvent, now: datetime) -> tuple[ModerationDecision, dict | None]:
        findings = self.classifier.classify(
            event.text or "",
            account=f"{event.platform.value}:{event.account_id}",
            author=event.author.id,
            event_id=event.event_id,
            item_id=event.item_id,
            at=event.occurred_at,
        )
        return decide_with_suggestion(event, findings, self.policy_for(event), decided_at=now)


class DecisionConsumer:
    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        producer: AIOKafkaProducer,
        store: ModerationStore,
        moderator: Moderator,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.group_id = group_id
        self.producer = producer
        self.store = store
        self.moderator = moderator
        self.clock = clock
        # Retries with backoff; a circuit while the database or broker is away; a message that
        # fails alone while both answer is dead-lettered with the reason (socialops_common.resilience).
        self.guard: BatchGuard[ConsumerRecord] = BatchGuard(
            "moderation-decisions", self.handle, self._dead_letter_poison,
            all_answer(database_reachable(store.pool), kafka_reachable(bootstrap)),
        )

    async def _dead_letter_poison(self, record: ConsumerRecord, reason: str) -> None:
        await publish_dead_letter(self.producer, dead_letter(
            source="moderation.consumer", reason=reason, payload=record.value or b"", topic=record.topic,
            partition=record.partition, offset=record.offset, key=record.key,
        ))
        DEAD_LETTERS.labels("moderation.consumer").inc()

    def subscribe(self, broker: KafkaBroker) -> None:
        """The consumer group on the service's FastStream broker: a batch at a time, through the guard,
        offsets committed only after every decision in it was acknowledged (socialops_common.subscriptions)."""
        guarded_batch_subscriber(
            broker, EVENTS, group_id=self.group_id, guard=self.guard, max_records=500,
            title="moderation.decisions",
            description="The decision consumer: a decision per citizen comment, mention and DM, and its platform actions.",
        )

    async def handle(self, records: list[ConsumerRecord]) -> list[ModerationDecision]:
        events: list[SocialEvent] = []
        letters = []
        for record in records:
            try:
                events.append(SocialEvent.model_validate_json(record.value or b""))
            except ValidationError as error:
                letters.append(
                    dead_letter(
                        source="moderation.consumer", reason=f"not a SocialEvent: {error}"[:2000], payload=record.value or b"",
                        topic=record.topic, partition=record.partition, offset=record.offset, key=record.key,
                    )
                )
        for letter in letters:
            await publish_dead_letter(self.producer, letter)
            DEAD_LETTERS.labels("moderation.consumer").inc()
            log.warning("dead-lettered an event", reason=letter.reason[:200], offset=letter.offset)
        relevant = [e for e in events if self.moderator.applies_to(e)]
        if not relevant:
            return []
        ids = [decision_id_for(e.event_id, self.moderator.policy_for(e).name) for e in relevant]
        stored = await self.store.decisions(ids)
        now = self.clock()
        fresh: list[tuple[ModerationDecision, dict | None]] = []
        to_publish: list[tuple[SocialEvent, ModerationDecision]] = []
        seen: set[str] = set()
        for event, decision_id in zip(relevant, ids, strict=True):
            if decision_id in seen:
                continue  # the same item twice in one batch
            seen.add(decision_id)
            if decision_id in stored:
                if not stored[decision_id].published:
                    to_publish.append((event, stored[decision_id].decision))
                continue
            decision, suggestion = self.moderator.decide(event, now)
            fresh.append((decision, suggestion))
            to_publish.append((event, decision))
        await self.store.save_decisions(fresh)
        await self._publish([d for _, d in to_publish], now)
        await self.store.mark_published([d.decision_id for _, d in to_publish])
        acknowledged = self.clock()
        for event, decision in to_publish:
            DECISION_LATENCY.observe(max(0.0, (acknowledged - event.received_at).total_seconds()))
            for rule in {h.rule_id for h in decision.rules} or {"none"}:
                DECISIONS.labels(rule, decision.action.value).inc()
        if any(d.action.value == "review" for d, _ in fresh):
            REVIEW_QUEUE.set(await self.store.review_queue_size())
        return [d for _, d in to_publish]

    async def _publish(self, decisions: list[ModerationDecision], now: datetime) -> None:
        futures = []
        for decision in decisions:
            futures.append(await self.producer.send(MODERATION, to_bytes(decision), key=decision.partition_key))
            for command in commands_for(decision, requested_at=now):
                futures.append(await self.producer.send(ACTIONS, to_bytes(command), key=decision.partition_key))
        if futures:
            await asyncio.gather(*futures)  # every send acknowledged (acks=all) or this raises
