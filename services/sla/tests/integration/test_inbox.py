"""The inbox on the real broker and database: who sees what, claims, notes, and replies as answers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from prometheus_client import CollectorRegistry
from socialops_common.events import (
    AccountRecord,
    ActionOperation,
    ActionStatus,
    EventKind,
    Platform,
    PlatformActionOutcome,
)
from socialops_common.testing import TestIssuer, wait_until
from socialops_common.topics import ACCOUNTS, ACTIONS, EVENTS
from socialops_sla.app import SlaRuntime, create_app
from socialops_sla.config import ManualClock, SlaSettings
from socialops_sla.testing import TUESDAY_10, item_state, send, social


def outcome(account: str, item: str, status: ActionStatus, *, at, detail: str | None = None) -> PlatformActionOutcome:
    return PlatformActionOutcome(
        action_id=f"reply-{item}-{status.value}", decision_id="request-1", event_id=f"e-{item}",
        platform=Platform.FACEBOOK, account_id=account, item_id=item, thread_id="post",
        operation=ActionOperation.REPLY, status=status, detail=detail, completed_at=at,
        error_code="graph:190" if status is ActionStatus.FAILED else None, created_id=f"{item}_reply")


async def test_the_inbox_of_people_who_answer(kafka_bootstrap, database_url, test_issuer: TestIssuer) -> None:
    account, other = f"page-{uuid.uuid4().hex[:8]}", f"page-{uuid.uuid4().hex[:8]}"
    # departments of their own: other tests on the shared broker and database also have a Kulturförvaltningen
    culture, care = f"Kulturförvaltningen {account}", f"Vård- och omsorgsförvaltningen {other}"
    settings = SlaSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                           sla_consumer_group=f"sla-{account}", sla_refresh_seconds=3600, **test_issuer.settings())
    clock = ManualClock(TUESDAY_10 + timedelta(hours=1))
    runtime = SlaRuntime(settings, clock, CollectorRegistry())
    await runtime.start()
    try:
        await send(kafka_bootstrap,
                   (ACCOUNTS, AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="Biblioteket",
                                            department=culture)),
                   (ACCOUNTS, AccountRecord(platform=Platform.FACEBOOK, external_id=other, name="Hemtjänsten",
                                            department=care)),
                   (EVENTS, social(account, EventKind.COMMENT_CREATED, "q1", text="När öppnar biblioteket igen?",
                                   author_name="Eva Ek")),
                   (EVENTS, social(account, EventKind.COMMENT_CREATED, "q2", text="Har ni öppet på lördag?")),
                   (EVENTS, social(other, EventKind.COMMENT_CREATED, "q3", text="Varför kom ingen i dag?")))
        # all three: a new group reads the shared topic from its start, other tests' poison messages too,
        # and those are retried one by one before they are dead-lettered
        for item_account, item in ((account, "q1"), (account, "q2"), (other, "q3")):
            await wait_until(lambda a=item_account, i=item: item_state(runtime, a, i), timeout=60)
        app = create_app(runtime, manage_lifespan=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sla") as client:
            def as_(name: str, roles: list[str], departments: list[str]) -> dict[str, str]:
                token = test_issuer.token(sub=f"00u-{name}", name=name, roles=roles, departments=departments)
                return {"Authorization": f"Bearer {token}"}

            kim = as_("Kim", ["contact_center"], [culture])
            louise = as_("Louise", ["editor"], [culture])
            archivist = as_("Astrid", ["archivist"], [culture])
            inbox = (await client.get("/inbox", headers=kim)).json()
            mine = {i["item_id"]: i for i in inbox["items"]}
            assert set(mine) == {"q1", "q2"}  # not the other department's question
            q1 = mine["q1"]
            assert (q1["text"], q1["author_name"], q1["state"]) == ("När öppnar biblioteket igen?", "Eva Ek", "open")
            assert q1["working_seconds_left"] == 8 * 3600  # Tuesday 11:00, deadline Wednesday 10:00
            assert inbox["counts"]["state"] == {"open": 2} and inbox["accounts"][0]["name"] == "Biblioteket"
            assert (await client.get("/inbox", headers=archivist)).status_code == 403
            q3_event = social(other, EventKind.COMMENT_CREATED, "q3").event_id
            assert (await client.get(f"/inbox/{q3_event}", headers=kim)).status_code == 404

            # Kim takes it; Louise sees that, cannot take it by accident, then takes it over on purpose
            assert (await client.post(f"/inbox/{q1['event_id']}/claim", headers=kim)).status_code == 200
            seen = (await client.get(f"/inbox/{q1['event_id']}", headers=louise)).json()
            assert seen["claim"]["name"] == "Kim"
            refused = await client.post(f"/inbox/{q1['event_id']}/claim", headers=louise, json={"take_over": False})
            assert refused.status_code == 409 and refused.json()["claim"]["name"] == "Kim"
            taken = await client.post(f"/inbox/{q1['event_id']}/claim", headers=louise, json={"take_over": True})
            assert taken.json()["claim"]["taken_from"] == "Kim"
            assert (await client.get(f"/inbox/{q1['event_id']}", headers=kim)).json()["claim"]["taken_from_subject"] \
                == "00u-Kim"  # Kim's inbox can say it was taken from her
            note = await client.post(f"/inbox/{q1['event_id']}/notes", headers=louise,
                                     json={"text": "Ringer biblioteket först"})
            assert note.status_code == 201
            assert [n["text"] for n in (await client.get(f"/inbox/{q1['event_id']}", headers=kim)).json()["notes_list"]] \
                == ["Ringer biblioteket först"]

            # a failed reply shows the platform's words and the item stays open; a done reply answers it
            failed_at, done_at = TUESDAY_10 + timedelta(hours=1, minutes=1), TUESDAY_10 + timedelta(hours=1, minutes=5)
            await send(kafka_bootstrap, (ACTIONS, outcome(account, "q1", ActionStatus.FAILED, at=failed_at,
                                                          detail="(#190) token expired")))
            await wait_until(lambda: runtime.service.pool.fetchval(
                "SELECT reply_error FROM sla_items WHERE item_id = 'q1' AND account_id = $1", account), timeout=20)
            assert (await client.get(f"/inbox/{q1['event_id']}", headers=kim)).json()["state"] == "open"
            await send(kafka_bootstrap, (ACTIONS, outcome(account, "q1", ActionStatus.DONE, at=done_at)))
            assert await wait_until(lambda: _is(runtime, account, "q1", "met"), timeout=20)
            answered = (await client.get(f"/inbox/{q1['event_id']}", headers=kim)).json()
            assert answered["answered_at"] == done_at.isoformat() and answered["reply_error"] is None
            # the platform's own webhook of that reply, later: nothing changes
            await send(kafka_bootstrap, (EVENTS, social(account, EventKind.REPLY_BY_ACCOUNT, "q1_reply", parent="q1",
                                                        at=done_at + timedelta(seconds=30), by_account=True)))
            await wait_until(lambda: runtime.service.pool.fetchval(
                "SELECT count(*) FROM sla_answers WHERE account_id = $1", account), timeout=20)
            assert await item_state(runtime, account, "q1") == "met"

            # "Inget svar behövs" with a reason: cancelled, and the reason kept as a note
            q2 = mine["q2"]["event_id"]
            closed = await client.post(f"/items/{q2}/no-answer-needed", headers=kim,
                                       json={"reason": "Frågan ställs till andra läsare"})
            assert closed.status_code == 200 and closed.json()["state"] == "cancelled"
            notes = (await client.get(f"/inbox/{q2}", headers=kim)).json()["notes_list"]
            assert notes[0]["text"] == "Inget svar behövs: Frågan ställs till andra läsare"
            assert (await client.get("/inbox", headers=kim)).json()["items"] == []
            closed_view = (await client.get("/inbox", params={"state": "met"}, headers=kim)).json()["items"]
            assert [i["item_id"] for i in closed_view] == ["q1"]
    finally:
        await runtime.stop()


async def _is(runtime: SlaRuntime, account: str, item: str, state: str) -> bool:
    return await item_state(runtime, account, item) == state
