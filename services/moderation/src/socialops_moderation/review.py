"""The review API for editors: what waits for a person, and their verdict on it.

GET  /review                      items awaiting review, oldest first, for the accounts the person works on
                                  (filters: account_id, platform, rule, limit)
GET  /review/{decision_id}        one item, pending or resolved
POST /review/{decision_id}        {"verdict": "confirm"} or
                                  {"verdict": "override", "action": "allow|hide|delete",
                                   "block_author": false, "reason": "why"}
POST /review/{decision_id}/undo   the same person, within a minute: the verdict is superseded by a decision
                                  that restores what was before it, and the item waits again
POST /review/confirm-all          {"account_id", "rule"}: confirm every waiting item of one account and rule
GET  /review/friendly             friendly comments that stand (for likes), last 7 days, with whether liked
GET  /review/removals             comments hidden or deleted in the last 7 days on the person's accounts, with
                                  the notice text for the commenter and whether it was sent (the console's
                                  "Meddela skribenten"; the notice itself goes through POST /actions)
Access tokens of the city's identity provider (or machine tokens): reading the queue needs the
`read_review_queue` right, a verdict `review` (socialops_common.identity). The person's name and e-mail
are recorded as `decided_by`, subject and all as `reviewer`. A verdict is published as a new decision (`decided_by`, `reason`, `supersedes`) with
its platform actions, then the item is marked resolved, under a row lock: a second verdict on the
same item answers 409.
"""


import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, Field, model_validator
from socialops_common.events import (
    AccountRecord,
    Actor,
    ModelOpinion,
    ModerationAction,
    ModerationDecision,
    deterministic_id,
    utc_now,
)
from socialops_common.identity import Permission, Person
from socialops_common.kafka import to_bytes
from socialops_common.topics import ACTIONS, MODERATION

from .access import allowed, started, works_on_account
from .learned import verdicts
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


class SpanView(BaseModel):
    start: int
    end: int
    label: str


class RuleView(BaseModel):
    rule_id: str
    clause: str
    confidence: float
    spans: list[SpanView] = []


class BulkConfirm(BaseModel):
    account_id: str = Field(min_length=1, max_length=200)
    rule: str = Field(min_length=1, max_length=200, description="one rule id, e.g. links.shortener")




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
    resolved_by_subject: str | None = None
    # from the inventory, for people who read it: "Helsingborgs stad", "Kulturförvaltningen"
    account_name: str | None = None
    department: str | None = None


def _view(item: ReviewItem, record: AccountRecord | None = None) -> ReviewView:
    d = item.decision
    return ReviewView(
        decision_id=d.decision_id, event_id=d.event_id, platform=d.platform.value, account_id=d.account_id,
        item_id=d.item_id, thread_id=d.thread_id, item_kind=d.item_kind.value, action=d.action.value,
        suggested_action=(item.suggested or {}).get("action"),
        suggested_block_author=bool((item.suggested or {}).get("block_author")),
        confidence=d.confidence,
        rules=[RuleView(rule_id=h.rule_id, clause=h.clause, confidence=h.confidence,
                        spans=[SpanView(start=x.start, end=x.end, label=x.label) for x in h.spans]) for h in d.rules],
        masked_text=d.masked_text, language=d.language, needs_answer=d.needs_answer,
        speech_act=d.speech_act.value if d.speech_act else None, friendly=d.friendly, model=d.model, status=item.status,
        queued_at=item.queued_at, resolved_by=item.resolved_by, resolved_at=item.resolved_at, reason=item.reason,
        resolution_decision_id=item.resolution_decision_id, resolved_by_subject=item.resolved_by_subject,
        account_name=record.name if record else None, department=record.department if record else None,
    )


# Meta's Private Replies: one message per comment, within 7 days of it; X and LinkedIn have none.
NOTICE_WINDOW = timedelta(days=7)
NOTICE_PLATFORMS = frozenset({"facebook", "instagram"})


def verdict_id(original_decision_id: str, review_round: int) -> str:
    """One verdict per round of review (a round ends when its verdict is undone)."""
    if review_round == 0:  # the id verdicts had before undo existed: replays still match
        return deterministic_id("moderation.review", original_decision_id)
    return deterministic_id("moderation.review", original_decision_id, str(review_round))


def undo_for(item: ReviewItem, verdict: ModerationDecision, person: Person, now: datetime) -> ModerationDecision:
    """The decision that takes a verdict back (pure): the original's action again, superseding the verdict."""
    original = item.decision
    return original.model_copy(update={
        "decision_id": deterministic_id("moderation.review.undo", verdict.decision_id),
        "decided_by": person.display_name, "reviewer": Actor(**person.as_record()),
        "reason": "verdict undone", "supersedes": verdict.decision_id, "decided_at": now,
        "notification_text": None,
    })


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
            "decision_id": verdict_id(original.decision_id, item.review_round),
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
            # a person judged it: an allowed question still needs its answer, also one that was held
            # as possible abuse (and so did not need one while it waited)
            "needs_answer": original.needs_answer or (
                action == ModerationAction.ALLOW and bool((item.suggested or {}).get("needs_answer_if_allowed"))),
        }
    )


def signature_of(person: Person) -> str:
    """Helsingborg (seed 001, "Svara så fort som möjligt"): sign with name and title,
    "vänliga hälsningar, Louise kommunikatör"."""
    return f"Vänliga hälsningar, {person.name}" + (f", {person.title}" if person.title else "")


class ReviewBackend(Protocol):
    """Where verdicts go: the service's store and producer (available once it has started), and the
    account inventory (who works on which account)."""

    store: ModerationStore | None
    producer: AIOKafkaProducer | None

    def account(self, platform: str, account_id: str) -> AccountRecord | None: ...

    @property
    def undo_within_s(self) -> float: ...


def review_router(backend: ReviewBackend) -> APIRouter:
    def store() -> ModerationStore:
        return started(backend.store)

    router = APIRouter(prefix="/review", tags=["review"])

    reader = allowed(Permission.READ_REVIEW_QUEUE)
    reviewer = allowed(Permission.REVIEW)

    def view(item: ReviewItem) -> ReviewView:
        return _view(item, backend.account(item.decision.platform.value, item.decision.account_id))

    def theirs(person: Person, platform: str, account_id: str) -> bool:
        return works_on_account(person, backend.account(platform, account_id))

    async def publish_and_store(conn, item: ReviewItem, decision: ModerationDecision,  # noqa: ANN001
                                previous: ModerationDecision, now: datetime) -> None:
        producer = backend.producer
        assert producer is not None
        futures = [await producer.send(MODERATION, to_bytes(decision), key=decision.partition_key)]
        for command in commands_for(decision, requested_at=now, previous=previous):
            futures.append(await producer.send(ACTIONS, to_bytes(command), key=decision.partition_key))
        await asyncio.gather(*futures)  # acknowledged before the queue changes

    async def give_verdict(item: ReviewItem, verdict: Verdict, person: Person, conn) -> ModerationDecision:  # noqa: ANN001
        now = utc_now()
        resolution = resolution_for(item, verdict, person, now)
        await publish_and_store(conn, item, resolution, item.decision, now)
        await store().resolve(conn, item, resolution)
        REVIEWS.labels(verdict.verdict, resolution.action.value).inc()
        return resolution

    @router.get("", response_model=list[ReviewView])
    async def pending(
        person: Annotated[Person, Depends(reader)],
        account_id: str | None = None,
        platform: str | None = None,
        rule: Annotated[str | None, Query(max_length=200, description="rule id or prefix")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[ReviewView]:
        # Filtered in the query, then to the person's accounts: a page may hold fewer than `limit`.
        items = await store().pending_reviews(account_id, platform, limit, rule)
        return [view(i) for i in items if theirs(person, i.decision.platform.value, i.decision.account_id)]

    @router.post("/confirm-all", response_model=list[ReviewView])
    async def confirm_all(body: BulkConfirm, person: Annotated[Person, Depends(reviewer)]) -> list[ReviewView]:
        """Confirm, one by one, every item waiting for one account and one rule (no wider bulk)."""
        db = store()
        items = [i for i in await db.pending_reviews(body.account_id, None, 500, body.rule)
                 if body.rule in {h.rule_id for h in i.decision.rules}]
        if items and not theirs(person, items[0].decision.platform.value, body.account_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not an account this person works on")
        done = []
        for listed in items:
            async with db.pool.acquire() as conn, conn.transaction():
                item = await db.review_item(listed.decision.decision_id, conn, lock=True)
                if item is None or item.status != "pending":
                    continue  # someone else was quicker: theirs stands
                await give_verdict(item, Verdict(verdict="confirm"), person, conn)
            done.append(listed.decision.decision_id)
        REVIEW_QUEUE.set(await db.review_queue_size())
        return [view(i) for i in [await db.review_item(d) for d in done] if i is not None]

    def listed(decision: ModerationDecision, first_at: datetime, follow_up: Any) -> dict:
        record = backend.account(decision.platform.value, decision.account_id)
        return {
            "decision_id": decision.decision_id, "event_id": decision.event_id,
            "platform": decision.platform.value, "account_id": decision.account_id,
            "account_name": record.name if record else None, "item_id": decision.item_id,
            "thread_id": decision.thread_id, "item_kind": decision.item_kind.value,
            "action": decision.action.value, "rules": [h.rule_id for h in decision.rules],
            "masked_text": decision.masked_text, "notification_text": decision.notification_text,
            "decided_by": decision.decided_by, "first_decided_at": first_at.isoformat(),
            "follow_up": None if follow_up["follow_up_status"] is None else {
                "status": follow_up["follow_up_status"], "detail": follow_up["follow_up_detail"],
                "at": follow_up["follow_up_at"].isoformat() if follow_up["follow_up_at"] else None},
        }

    @router.get("/removals")
    async def removals(person: Annotated[Person, Depends(reader)], account_id: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
        found = await store().recent_decisions(utc_now() - NOTICE_WINDOW, account_id, limit, actions=("hide", "delete"),
                                               friendly_only=False, follow_up="notify")
        return [{**(entry := listed(d, first_at, notice)), "notice": entry["follow_up"],
                 "notice_possible_until": (first_at + NOTICE_WINDOW).isoformat(),
                 "notice_platform": d.platform.value in NOTICE_PLATFORMS}
                for d, first_at, notice in found if theirs(person, d.platform.value, d.account_id)]

    @router.get("/friendly")
    async def friendly(person: Annotated[Person, Depends(reader)], account_id: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
        """Thanks and praise that stand (the guideline: "ge gärna en like … till vänliga kommentarer"),
        the last 7 days on the person's accounts, with whether the account has liked it."""
        found = await store().recent_decisions(utc_now() - NOTICE_WINDOW, account_id, limit, actions=("allow",),
                                               friendly_only=True, follow_up="like")
        return [{**(entry := listed(d, first_at, like)), "like": entry["follow_up"]}
                for d, first_at, like in found if theirs(person, d.platform.value, d.account_id)]

    @router.get("/verdicts.jsonl", response_class=Response,
                responses={200: {"content": {"application/x-ndjson": {}}, "description": "one labelled comment per line"}})
    async def verdicts_export(
        person: Annotated[Person, Depends(reviewer)],
        since: Annotated[date | None, Query(description="verdicts from this day on (Stockholm)")] = None,
        account_id: str | None = None,
    ) -> Response:
        """The verdicts that stand on the person's accounts as labelled comments for the city's own model
        (`learned.build --reviewed`): masked text, class and split, never the author, the reviewer or
        the reason (learned/verdicts.py). The same rows as `socialops-moderation export-verdicts`."""
        pairs = await store().resolved_reviews(verdicts.since_date(since.isoformat() if since else None), account_id)
        result = verdicts.export([(original, verdict) for original, verdict in pairs
                                  if theirs(person, original.platform.value, original.account_id)])
        return Response(verdicts.to_jsonl(result.rows), media_type="application/x-ndjson", headers={
            "Content-Disposition": f'attachment; filename="verdicts-{utc_now().date().isoformat()}.jsonl"',
            "X-Verdicts-Left-Out": json.dumps(dict(result.left_out), sort_keys=True)})

    @router.get("/{decision_id}", response_model=ReviewView)
    async def one(decision_id: str, person: Annotated[Person, Depends(reader)]) -> ReviewView:
        item = await store().review_item(decision_id)
        if item is None or not theirs(person, item.decision.platform.value, item.decision.account_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no review item {decision_id}")
        return view(item)

    @router.post("/{decision_id}/undo", response_model=ReviewView)
    async def undo(decision_id: str, person: Annotated[Person, Depends(reviewer)]) -> ReviewView:
        db = store()
        async with db.pool.acquire() as conn, conn.transaction():
            item = await db.review_item(decision_id, conn, lock=True)
            if item is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no review item {decision_id}")
            if item.status != "resolved" or item.resolution_decision_id is None:
                raise HTTPException(status.HTTP_409_CONFLICT, detail="there is no verdict to undo")
            if item.resolved_by_subject != person.subject:
                raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the person who gave a verdict can undo it")
            now = utc_now()
            window = backend.undo_within_s
            if item.resolved_at is None or (now - item.resolved_at).total_seconds() > window:
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    detail=f"a verdict can be undone within {window:g} seconds")
            verdict = await db.decision(item.resolution_decision_id, conn)
            assert verdict is not None
            if verdict.action == ModerationAction.DELETE:
                raise HTTPException(status.HTTP_409_CONFLICT,
                                    detail="a deleted comment cannot be brought back on the platform")
            taken_back = undo_for(item, verdict, person, now)
            await publish_and_store(conn, item, taken_back, verdict, now)
            await db.reopen(conn, item, taken_back)
        REVIEW_QUEUE.set(await db.review_queue_size())
        reopened = await db.review_item(decision_id)
        assert reopened is not None
        return view(reopened)

    @router.post("/{decision_id}", response_model=ReviewView)
    async def decide(decision_id: str, verdict: Verdict, person: Annotated[Person, Depends(reviewer)]) -> ReviewView:
        db = store()
        async with db.pool.acquire() as conn, conn.transaction():
            item = await db.review_item(decision_id, conn, lock=True)
            if item is None or not theirs(person, item.decision.platform.value, item.decision.account_id):
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no review item {decision_id}")
            if item.status != "pending":
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    detail=f"already resolved by {item.resolved_by} at {item.resolved_at:%Y-%m-%d %H:%M} UTC",
                )
            await give_verdict(item, verdict, person, conn)
        REVIEW_QUEUE.set(await db.review_queue_size())
        resolved = await db.review_item(decision_id)
        assert resolved is not None
        return view(resolved)

    return router
