"""The actions API: what people do from the console — reply, like, notify — carried out by the executor.

POST /actions                    {operation: reply|like|notify, event_id, platform, account_id, item_id,
                                  thread_id, item_kind, text?, recipient_id?, request_id}
                                 → 202 {action_id, status: "pending", …}: one PlatformActionCommand on
                                 social.actions.v1, acknowledged by the broker (acks=all) before the answer;
                                 → 200 with the existing action when the same action was asked for before
                                 (same request id for a reply; same item for a like or a notice): nothing new
                                 is sent. A like or notice whose last attempt failed is tried again (202).
GET  /actions/{action_id}        {status: pending|done|dry_run|failed|unsupported, detail, error_code,
                                  http_status, attempts, created_id, completed_at, message_sv, …}; also a
                                  moderation decision's hide/delete/block
GET  /actions?platform=&account_id=&item_id=   the people's actions on one item, oldest first
GET  /actions/capabilities       what each platform can and cannot do, and its text limits

Rights (socialops_common.identity): reply and like need `answer`, notify `notify_commenter`, reading
`read_inbox`; and only on the accounts the person works on (`works_on`: their departments claim or the
inventory's `editors`; communications and machine clients everywhere). The person is the command's
`requested_by`. The console is only a client of this API: the
moderation service owns the executor and publishes `social.actions.v1`.
"""


import asyncio
from datetime import datetime
from typing import Annotated, Literal, Protocol

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel
from socialops_common.events import AccountRecord, ActionOperation, Actor, EventKind, Platform, utc_now
from socialops_common.identity import Permission, Person
from socialops_common.kafka import to_bytes
from socialops_common.topics import ACTIONS

from .access import allowed, require, signed_in, started, works_on_account
from .actions.capabilities import capabilities
from .actions.explain import message_sv
from .actions.person import RIGHTS, ActionRequest, command_for, person_action_id, request_key, retry_allowed
from .metrics import PERSON_ACTIONS
from .store import ActionState, ModerationStore

PUBLISH_TIMEOUT_S = 15.0


class ActionView(BaseModel):
    action_id: str
    operation: str
    platform: str
    account_id: str
    item_id: str
    event_id: str | None = None
    item_kind: str | None = None
    status: Literal["pending", "done", "dry_run", "failed", "unsupported"]
    message_sv: str  # what it means, for the person who asked (plain Swedish)
    detail: str | None = None  # the platform's own words
    error_code: str | None = None  # e.g. "graph:10/2018278", "x:403", "linkedin:429"
    http_status: int | None = None
    attempts: int = 0  # HTTP calls made for this attempt
    created_id: str | None = None  # what the platform created: the reply's or message's id
    completed_at: datetime | None = None
    requested_at: datetime | None = None
    requested_by: Actor | None = None
    request_id: str | None = None
    attempt: int = 0  # 0 for the first try of a like or notice, 1 after one failure, …


class CapabilityView(BaseModel):
    platform: str
    operation: str
    on: Literal["comment", "mention", "direct_message"]
    supported: bool
    reason: str | None
    max_text: int | None


def _view(state: ActionState) -> ActionView:
    command, outcome = state.command, state.outcome
    operation, platform = ActionOperation(state.operation), Platform(state.platform)
    item_kind = command.item_kind if command else None
    source = command or outcome
    return ActionView(
        action_id=state.action_id, operation=state.operation, platform=state.platform, account_id=state.account_id,
        item_id=state.item_id, event_id=source.event_id if source else None,
        item_kind=item_kind.value if isinstance(item_kind, EventKind) else None, status=state.status,
        message_sv=message_sv(status=state.status, operation=operation, platform=platform, item_kind=item_kind,
                              error_code=outcome.error_code if outcome else None),
        detail=outcome.detail if outcome else None, error_code=outcome.error_code if outcome else None,
        http_status=outcome.http_status if outcome else None, attempts=outcome.attempts if outcome else 0,
        created_id=outcome.created_id if outcome else None, completed_at=outcome.completed_at if outcome else None,
        requested_at=command.requested_at if command else None, requested_by=command.requested_by if command else None,
        request_id=command.decision_id if command else None, attempt=state.attempt,
    )


class ActionsBackend(Protocol):
    """The service's store and producer (once started), and the account inventory (who works on which account)."""

    store: ModerationStore | None
    producer: AIOKafkaProducer | None

    def account(self, platform: str, account_id: str) -> AccountRecord | None: ...


def actions_router(backend: ActionsBackend) -> APIRouter:
    router = APIRouter(prefix="/actions", tags=["actions"],
                       responses={401: {"description": "no valid access token"},
                                  403: {"description": "the person lacks the right"}})
    reader = allowed(Permission.READ_INBOX)

    def theirs(person: Person, platform: str, account_id: str) -> bool:
        return works_on_account(person, backend.account(platform, account_id))

    @router.post(
        "", status_code=status.HTTP_202_ACCEPTED, response_model=ActionView, summary="Reply, like or notify",
        responses={200: {"model": ActionView, "description": "asked for before: the existing action, nothing sent"},
                   403: {"description": "reply/like need the `answer` right, notify `notify_commenter`; and an "
                                        "account the person works on"},
                   422: {"description": "incomplete: no text, text too long (X: 280), a DM reply without recipient_id"},
                   503: {"description": "the broker did not acknowledge: ask again (never carried out twice)"}},
    )
    async def ask(body: ActionRequest, person: Annotated[Person, Depends(signed_in)], response: Response) -> ActionView:
        """Ask the platform to reply, like or notify (carried out by the executor; poll GET /actions/{id})."""
        require(person, RIGHTS[body.action_operation])
        if not theirs(person, body.platform.value, body.account_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not an account this person works on")
        db, producer = started(backend.store), started(backend.producer)
        key = request_key(body)
        async with db.pool.acquire() as conn, conn.transaction():
            await db.lock_request_key(conn, key)
            latest = await db.latest_person_action(conn, key)
            if latest is not None and not (latest.status == "failed" and retry_allowed(body)):
                PERSON_ACTIONS.labels(body.operation, "repeated").inc()
                response.status_code = status.HTTP_200_OK
                return _view(latest)
            attempt = latest.attempt + 1 if latest is not None else 0
            command = command_for(body, Actor(**person.as_record()), person_action_id(key, attempt), utc_now())
            await db.add_person_action(conn, key, attempt, command)
            try:  # acknowledged before the action counts as asked for; a refusal rolls the row back
                await asyncio.wait_for(
                    producer.send_and_wait(ACTIONS, to_bytes(command), key=command.partition_key), PUBLISH_TIMEOUT_S)
            except Exception as error:  # noqa: BLE001 - any broker failure means: not published
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                    detail=f"the broker did not acknowledge the command ({type(error).__name__}): "
                                           "ask again (the same action is never carried out twice)") from error
        PERSON_ACTIONS.labels(body.operation, "accepted").inc()
        return _view(ActionState(command.action_id, command.operation.value, command.platform.value,
                                 command.account_id, command.item_id, "pending", None, command, attempt))

    @router.get("/capabilities", response_model=list[CapabilityView], summary="What each platform can do")
    async def what_platforms_can_do(_: Annotated[Person, Depends(signed_in)]) -> list[CapabilityView]:
        """What each platform can and cannot do (the reason), and the longest text it takes."""
        return [CapabilityView(platform=c.platform.value, operation=c.operation.value, on=c.on, supported=c.supported,
                               reason=c.reason, max_text=c.max_text) for c in capabilities()]

    @router.get("", response_model=list[ActionView], summary="The people's actions on an item")
    async def on_item(person: Annotated[Person, Depends(reader)], platform: Platform,
                      account_id: Annotated[str, Query(min_length=1)],
                      item_id: Annotated[str, Query(min_length=1)]) -> list[ActionView]:
        """The people's actions on one item (replies, likes, notices), oldest first."""
        if not theirs(person, platform.value, account_id):
            return []
        return [_view(s) for s in await started(backend.store).person_actions_on(platform.value, account_id, item_id)]

    @router.get("/{action_id}", response_model=ActionView, summary="An action's state",
                responses={404: {"description": "no such action on an account the person works on"}})
    async def one(action_id: str, person: Annotated[Person, Depends(reader)]) -> ActionView:
        """How far an action got: pending until the executor has carried it out."""
        state = await started(backend.store).action_state(action_id)
        if state is None or not theirs(person, state.platform, state.account_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no action {action_id}")
        return _view(state)

    return router
