"""The review API for editors: what waits for a person, and their verdict on it.

GET  /review                      items awaiting review (filters: account_id, platform, limit)
GET  /review/{decision_id}        one item, pending or resolved
POST /review/{decision_id}        {"verdict": "confirm"} or
                                  {"verdict": "override", "action": "allow|hide|delete",
                                   "block_author": false, "reason": "why"}
Access tokens of the city's identity provider (or machine tokens): reading the queue needs the
`read_review_queue` right, a verdict `review` (socialops_common.identity). The person's name and e-mail
are recorded as `decided_by`, subject and all as `reviewer`. A verdict is published as a new decision (`decided_by`, `reason`, `supersedes`) with
its platform actions, then the item is marked resolved, under a row lock: a second verdict on the
same item answers 409.
"""


import asyncio
from datetime import datetime
from typing import Annotated, Literal, Protocol

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, model_validator
from socialops_common.events import (
    Actor,
    ModelOpinion,
    ModerationAction,
    ModerationDecision,
    deterministic_id,
    utc_now,
)
from socialops_common.identity import Permission, Person
from socialops_common.kafka import to_bytes
from socialops_common.oidc import authenticate
from socialops_common.topics import ACTIONS, MODERATION

from .actions.commands import commands_for
from .metrics import REVIEW_QUEUE, REVIEWS
from .notification import notification_for
from .store import ModerationStore, ReviewItem


class Verdict(BaseModel):
    verdict: Literal["confirm", "override"]
    action: Literal["allow", "hide", "delete"] | None = None
    block_author: bool = False
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _override_says_what_and_why(self) -> "Verdict":
        if self.verdict == "override":
            if self.action is None:
                raise ValueError("an override needs an action: allow, hide or delete")
            if not (self.reason and self.reason.strip()):
                raise ValueError("an override needs a reason (it is recorded with the decision)")
        if self.block_author and self.action not in (None, "delete"):
            raise ValueError("block_author goes with action delete")
        return self


class RuleView(BaseModel):
    rule_id: str
    clause: str
    confidence: float


class ReviewView(BaseModel):
    decision_id: str
    event_id: str
    platform: str
    account_id: str
    item_id: str
    thread_id: str
    item_kind: str
    action: str
    suggested_action: str | None
    suggested_block_author: bool
    confidence: float
    rules: list[RuleView]
    masked_text: str | None
    language: str | None
    needs_answer: bool
    speech_act: str | None = None
    friendly: bool | None = None
    # the second opinion: score per class, version, the words that weighed most (why it is here)
    model: ModelOpinion | None = None
    status: str
    queued_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    reason: str | None = None
    resolution_decision_id: str | None = None


def _view(item: ReviewItem) -> ReviewView:
    d = item.decision
    return ReviewView(
        decision_id=d.decision_id, event_id=d.event_id, platform=d.platform.value, account_id=d.account_id,
        item_id=d.item_id, thread_id=d.thread_id, item_kind=d.item_kind.value, action=d.action.value,
        suggested_action=(item.suggested or {}).get("action"),
        suggested_block_author=bool((item.suggested or {}).get("block_author")),
        confidence=d.confidence, rules=[RuleView(rule_id=h.rule_id, clause=h.clause, confidence=h.confidence) for h in d.rules],
        masked_text=d.masked_text, language=d.language, needs_answer=d.needs_answer,
        speech_act=d.speech_act.value if d.speech_act else None, friendly=d.friendly, model=d.model, status=item.status,
        queued_at=item.queued_at, resolved_by=item.resolved_by, resolved_at=item.resolved_at, reason=item.reason,
        resolution_decision_id=item.resolution_decision_id,
    )


def resolution_for(item: ReviewItem, verdict: Verdict, reviewer: Person, now: datetime) -> ModerationDecision:
    """The reviewer's decision (pure). One per queued item, so its id derives from the original."""
    original = item.decision
    if verdict.verdict == "confirm":
        suggested = item.suggested or {"action": original.action.value, "block_author": original.block_author}
        action = ModerationAction(suggested["action"])
        block = bool(suggested.get("block_author"))
    else:
        action = ModerationAction(verdict.action)  # type: ignore[arg-type]
        block = verdict.block_author
    if action == ModerationAction.REVIEW:
        action = ModerationAction.ALLOW  # "review" confirmed by a person means: nothing to remove
    block = block and action == ModerationAction.DELETE
    return original.model_copy(
        update={
            "decision_id": deterministic_id("moderation.review", original.decision_id),
            "action": action,
            "block_author": block,
            "confidence": 1.0,
            # signed by the person who decided ("signerar sitt svar … med namn och titel")
            "notification_text": notification_for(
                action, [h.rule_id for h in original.rules], block, signature_of(reviewer)
            ),
            "decided_by": reviewer.display_name,
            "reviewer": Actor(**reviewer.as_record()),
            "reason": verdict.reason or ("confirmed" if verdict.verdict == "confirm" else None),
            "supersedes": original.decision_id,
            "decided_at": now,
            # a person judged it: an allowed question still needs its answer
            "needs_answer": original.needs_answer,
        }
    )


def signature_of(person: Person) -> str:
    """Helsingborg (seed 001, "Svara så fort som möjligt"): sign with name and title,
    "vänliga hälsningar, Louise kommunikatör"."""
    return f"Vänliga hälsningar, {person.name}" + (f", {person.title}" if person.title else "")


class ReviewBackend(Protocol):
    """Where verdicts go: the service's store and producer (available once it has started)."""

    store: ModerationStore | None
    producer: AIOKafkaProducer | None


def review_router(backend: ReviewBackend) -> APIRouter:
    def store() -> ModerationStore:
        if backend.store is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="starting")
        return backend.store

    router = APIRouter(prefix="/review", tags=["review"])
    bearer = HTTPBearer(auto_error=False, description="an access token of the city's identity provider")

    def allowed(permission: Permission):  # noqa: ANN202 - a FastAPI dependency
        async def person_with_right(request: Request, _: Annotated[object, Depends(bearer)]) -> Person:
            person = await authenticate(request)
            if not person.may(permission):
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    detail=f"{person.role_names or 'no role'} may not {permission.value.replace('_', ' ')}")
            return person
        return person_with_right

    reader = allowed(Permission.READ_REVIEW_QUEUE)
    reviewer = allowed(Permission.REVIEW)

    @router.get("", response_model=list[ReviewView])
    async def pending(
        _: Annotated[Person, Depends(reader)],
        account_id: str | None = None,
        platform: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[ReviewView]:
        return [_view(i) for i in await store().pending_reviews(account_id, platform, limit)]

    @router.get("/{decision_id}", response_model=ReviewView)
    async def one(decision_id: str, _: Annotated[Person, Depends(reader)]) -> ReviewView:
        item = await store().review_item(decision_id)
        if item is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no review item {decision_id}")
        return _view(item)

    @router.post("/{decision_id}", response_model=ReviewView)
    async def decide(decision_id: str, verdict: Verdict, person: Annotated[Person, Depends(reviewer)]) -> ReviewView:
        db, producer = store(), backend.producer
        assert producer is not None
        async with db.pool.acquire() as conn, conn.transaction():
            item = await db.review_item(decision_id, conn, lock=True)
            if item is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no review item {decision_id}")
            if item.status != "pending":
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    detail=f"already resolved by {item.resolved_by} at {item.resolved_at:%Y-%m-%d %H:%M} UTC",
                )
            now = utc_now()
            resolution = resolution_for(item, verdict, person, now)
            futures = [await producer.send(MODERATION, to_bytes(resolution), key=resolution.partition_key)]
            for command in commands_for(resolution, requested_at=now, previous=item.decision):
                futures.append(await producer.send(ACTIONS, to_bytes(command), key=resolution.partition_key))
            await asyncio.gather(*futures)  # acknowledged before the item counts as resolved
            await db.resolve(conn, item, resolution)
        REVIEWS.labels(verdict.verdict, resolution.action.value).inc()
        REVIEW_QUEUE.set(await db.review_queue_size())
        resolved = await db.review_item(decision_id)
        assert resolved is not None
        return _view(resolved)

    return router
