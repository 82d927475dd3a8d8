"""The actions API end to end in one process: POST /actions → social.actions.v1 (real broker) → the executor
(real database) → the platform (a local server speaking its API) → GET /actions/{id}. People sign in with
tokens of a real issuer on 127.0.0.1 (socialops_common.testing.TestIssuer).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from socialops_common.devstack import LocalBroker
from socialops_common.events import AccountRecord, Platform
from socialops_common.kafka import to_bytes
from socialops_common.testing import TestIssuer, read_topic, wait_until
from socialops_common.topics import ACCOUNTS, ACTIONS
from socialops_moderation.main import create_app
from socialops_moderation.testing import (
    GRAPH_OUTSIDE_WINDOW,
    GRAPH_TOKEN_EXPIRED,
    FakeGraphApi,
    FakeLinkedInApi,
    FakeXApi,
    settings_for,
)

X_USER, ORG = "44196397", "urn:li:organization:2414183"
DEPARTMENT = "Kulturförvaltningen"


@dataclass
class Running:
    client: httpx.AsyncClient
    graph: FakeGraphApi
    x: FakeXApi
    linkedin: FakeLinkedInApi
    page: str
    issuer: TestIssuer

    def as_(self, *roles: str, **claims: object) -> dict[str, str]:
        """A person of the department that runs the test's accounts (unless `departments` says otherwise)."""
        claims.setdefault("departments", [DEPARTMENT])
        return {"Authorization": f"Bearer {self.issuer.token(roles=list(roles), **claims)}"}

    async def ask(self, role: str = "contact_center", **fields: object) -> httpx.Response:
        body = {"operation": "reply", "event_id": f"event-{uuid.uuid4().hex[:8]}", "platform": "facebook",
                "account_id": self.page, "item_id": f"{self.page}_{uuid.uuid4().hex[:8]}", "thread_id": f"{self.page}_post",
                "item_kind": "comment.created", "text": "Hej! Badhuset öppnar 08.00. Vänliga hälsningar, Louise, kommunikatör",
                "request_id": f"form-{uuid.uuid4().hex[:8]}"}
        body.update(fields)
        return await self.client.post("/actions", json={k: v for k, v in body.items() if v is not None},
                                      headers=self.as_(role))

    async def finished(self, action_id: str) -> dict:
        async def state() -> dict | None:
            response = await self.client.get(f"/actions/{action_id}", headers=self.as_("communications"))
            assert response.status_code == 200, response.text
            return response.json() if response.json()["status"] != "pending" else None
        return await wait_until(state, timeout=30, interval=0.1)


async def publish_accounts(bootstrap: str, *records: AccountRecord) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(ACCOUNTS, to_bytes(record), key=record.key)
    finally:
        await producer.stop()


@asynccontextmanager
async def running(kafka_bootstrap: str, database_url: str, issuer: TestIssuer, **settings_changes: object
                  ) -> AsyncIterator[Running]:
    page = f"page-{uuid.uuid4().hex[:8]}"
    async with FakeGraphApi() as graph, FakeXApi() as x, FakeLinkedInApi() as linkedin:
        settings = settings_for(kafka_bootstrap, database_url, graph, page, x=x, x_account=X_USER, linkedin=linkedin,
                                linkedin_account=ORG).model_copy(update=issuer.settings() | settings_changes)
        app = create_app(settings)
        service = app.state.service
        await service.start()
        try:
            await publish_accounts(kafka_bootstrap, *(
                AccountRecord(platform=platform, external_id=external_id, name="Kultur", department=DEPARTMENT)
                for platform, external_id in ((Platform.FACEBOOK, page), (Platform.INSTAGRAM, page),
                                              (Platform.X, X_USER), (Platform.LINKEDIN, ORG))))
            await wait_until(lambda: service.account("linkedin", ORG) and service.account("facebook", page), timeout=30)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://moderation") as client:
                yield Running(client, graph, x, linkedin, page, issuer)
        finally:
            await service.stop()


@pytest.fixture
async def api(kafka_bootstrap: str, database_url: str, test_issuer: TestIssuer) -> AsyncIterator[Running]:
    async with running(kafka_bootstrap, database_url, test_issuer) as started:
        yield started


async def test_a_reply_goes_out_once_and_its_outcome_is_what_the_sla_needs(api: Running, kafka_bootstrap: str):
    item = f"{api.page}_4711"
    asked = await api.ask(item_id=item, request_id="form-reply-1", event_id="event-4711")
    assert asked.status_code == 202, asked.text
    pending = asked.json()
    assert (pending["status"], pending["operation"], pending["requested_by"]["name"]) == ("pending", "reply", "Testa Testsson")
    again = await api.ask(item_id=item, request_id="form-reply-1", event_id="event-4711")  # a double submit
    assert again.status_code == 200 and again.json()["action_id"] == pending["action_id"]

    done = await api.finished(pending["action_id"])
    assert (done["status"], done["message_sv"], done["attempts"]) == ("done", "Svaret är publicerat.", 1)
    assert done["created_id"] == f"{api.page}_900001" and done["completed_at"]
    assert api.graph.brief() == [{"method": "POST", "path": f"/{item}/comments", "token": "page-token-123",
                                  "data": {"message": "Hej! Badhuset öppnar 08.00. Vänliga hälsningar, Louise, kommunikatör"}}]
    after = await api.ask(item_id=item, request_id="form-reply-1", event_id="event-4711")
    assert after.status_code == 200 and after.json()["status"] == "done" and len(api.graph.calls) == 1

    messages = [v for _, v in await read_topic(kafka_bootstrap, ACTIONS, expected=2, timeout=15,
                                               where=lambda v: v.get("action_id") == pending["action_id"])]
    command, outcome = (next(m for m in messages if m["type"] == kind) for kind in ("command", "outcome"))
    assert len([m for m in messages if m["type"] == "command"]) == 1  # published once, however often asked
    assert command["requested_by"] == {"subject": "00u-test-person", "name": "Testa Testsson",
                                       "email": "testa.testsson@stad.example", "kind": "person"}
    assert (command["decision_id"], command["item_kind"]) == ("form-reply-1", "comment.created")
    assert (outcome["status"], outcome["event_id"], outcome["created_id"]) == ("done", "event-4711", f"{api.page}_900001")
    assert outcome["completed_at"]

    listed = await api.client.get("/actions", params={"platform": "facebook", "account_id": api.page, "item_id": item},
                                  headers=api.as_("editor"))
    assert [a["action_id"] for a in listed.json()] == [pending["action_id"]]
    a_second_answer = await api.ask(item_id=item, request_id="form-reply-2", text="Och simhallen öppnar 06.30.")
    assert a_second_answer.status_code == 202 and a_second_answer.json()["action_id"] != pending["action_id"]


async def test_a_comment_is_liked_once_whoever_clicks_and_a_notice_is_sent_once(api: Running):
    item = f"{api.page}_friendly"
    first = await api.ask(operation="like", item_id=item, text=None, request_id="click-1")
    second = await api.ask(role="editor", operation="like", item_id=item, text=None, request_id="click-2")
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["action_id"] == first.json()["action_id"]
    assert (await api.finished(first.json()["action_id"]))["message_sv"] == "Kommentaren är gillad."

    hidden = f"{api.page}_hidden"
    notice = "Hej! Vi har dolt din kommentar eftersom den innehöll personuppgifter. Vänliga hälsningar, Louise"
    sent = await api.ask(role="editor", operation="notify", item_id=hidden, text=notice, request_id="notice-1")
    assert sent.status_code == 202
    resent = await api.ask(role="editor", operation="notify", item_id=hidden, text=notice, request_id="notice-2")
    assert resent.status_code == 200 and resent.json()["action_id"] == sent.json()["action_id"]
    assert (await api.finished(sent.json()["action_id"]))["status"] == "done"
    assert [(c["method"], c["path"]) for c in api.graph.calls] == [
        ("POST", f"/{item}/likes"), ("POST", f"/{api.page}/messages")]
    assert api.graph.calls[1]["json"] == {"recipient": {"comment_id": hidden}, "message": {"text": notice}}


async def test_rights_validation_and_unknown_actions(api: Running):
    assert (await api.ask(role="contact_center", operation="notify", text="Hej")).status_code == 403  # editors notify
    assert (await api.ask(role="communications")).status_code == 403  # read-only
    assert (await api.ask(role="archivist", operation="like", text=None)).status_code == 403
    no_token = await api.client.post("/actions", json={"operation": "like"})
    assert no_token.status_code == 401
    too_long = await api.ask(platform="x", account_id=X_USER, item_id="186", text="x" * 281)
    assert too_long.status_code == 422 and "280" in too_long.text
    no_recipient = await api.ask(item_kind="dm.received", item_id="m_1")
    assert no_recipient.status_code == 422 and "recipient_id" in no_recipient.text
    empty = await api.ask(text="  ")
    assert empty.status_code == 422 and "needs a text" in empty.text
    assert (await api.client.get("/actions/no-such-action", headers=api.as_("editor"))).status_code == 404
    elsewhere = api.as_("editor", departments=["Vård- och omsorgsförvaltningen"])  # not this account's people
    body = {"operation": "like", "event_id": "e", "platform": "facebook", "account_id": api.page, "item_id": "i",
            "thread_id": "t", "item_kind": "comment.created", "request_id": "r"}
    refused = await api.client.post("/actions", json=body, headers=elsewhere)
    assert refused.status_code == 403 and "works on" in refused.text
    mine = await api.ask(role="editor", operation="like", text=None, item_id="i-mine")
    assert (await api.client.get(f"/actions/{mine.json()['action_id']}", headers=elsewhere)).status_code == 404
    assert (await api.client.get("/actions", headers=elsewhere, params={
        "platform": "facebook", "account_id": api.page, "item_id": "i-mine"})).json() == []
    assert (await api.client.get("/actions/no-such-action", headers=api.as_("archivist"))).status_code == 403
    table = (await api.client.get("/actions/capabilities", headers=api.as_("contact_center"))).json()
    assert {"platform": "instagram", "operation": "like", "on": "comment", "supported": False,
            "reason": "the Instagram API has no way to like a comment: like it in the Instagram app",
            "max_text": None} in table
    await api.finished(mine.json()["action_id"])
    assert [c["path"] for c in api.graph.calls] == ["/i-mine/likes"]  # only what was allowed went out
    assert api.x.calls == api.linkedin.calls == []


async def test_what_a_platform_cannot_do_or_refuses_is_said_and_a_failed_like_can_be_asked_again(api: Running):
    instagram_like = await api.ask(operation="like", platform="instagram", text=None)
    assert (await api.finished(instagram_like.json()["action_id"]))["status"] == "unsupported"

    api.graph.fail_next(GRAPH_OUTSIDE_WINDOW)
    dm = await api.ask(item_kind="dm.received", item_id="m_old", thread_id="dm:psid-5", recipient_id="psid-5",
                       text="Hej! Vi har tittat på ditt ärende.")
    outside = await api.finished(dm.json()["action_id"])
    assert (outside["status"], outside["error_code"], outside["http_status"]) == ("failed", "graph:10/2018278", 400)
    assert "24 timmar" in outside["message_sv"]

    api.graph.fail_next(GRAPH_TOKEN_EXPIRED)
    like = await api.ask(operation="like", item_id=f"{api.page}_nice", text=None, request_id="click-a")
    failed = await api.finished(like.json()["action_id"])
    assert (failed["status"], failed["error_code"], failed["attempt"]) == ("failed", "graph:190/463", 0)
    retried = await api.ask(operation="like", item_id=f"{api.page}_nice", text=None, request_id="click-b")
    assert retried.status_code == 202 and retried.json()["attempt"] == 1
    assert retried.json()["action_id"] != like.json()["action_id"]
    assert (await api.finished(retried.json()["action_id"]))["status"] == "done"
    assert [c["path"] for c in api.graph.calls] == [f"/{api.page}_nice/likes"]


async def test_x_reply_and_linkedin_comment_go_to_their_platforms(api: Running):
    x_reply = await api.ask(platform="x", account_id=X_USER, item_id="1860000000000000111", thread_id="1860000000000000100",
                            text="Hej! Vi svarar här.")
    comment = "urn:li:comment:(urn:li:activity:7012345,7023456)"
    li_reply = await api.ask(platform="linkedin", account_id=ORG, item_id=comment, thread_id="urn:li:activity:7012345",
                             text="Tack för att du delar!")
    x_done, li_done = await api.finished(x_reply.json()["action_id"]), await api.finished(li_reply.json()["action_id"])
    assert (x_done["status"], li_done["status"]) == ("done", "done")
    assert [c["json"] for c in api.x.calls] == [
        {"text": "Hej! Vi svarar här.", "reply": {"in_reply_to_tweet_id": "1860000000000000111"}}]
    assert api.linkedin.calls[0]["json"]["parentComment"] == comment
    assert li_done["created_id"].startswith("urn:li:comment:(urn:li:activity:7012345,")


async def test_two_clicks_at_the_same_moment_send_one_reply(api: Running):
    item = f"{api.page}_twice"
    first, second = await asyncio.gather(*(api.ask(item_id=item, request_id="form-same") for _ in range(2)))
    assert sorted((first.status_code, second.status_code)) == [200, 202]
    assert first.json()["action_id"] == second.json()["action_id"]
    await api.finished(first.json()["action_id"])
    assert len(api.graph.called("POST", f"/{item}/comments")) == 1


@pytest.mark.slow
async def test_without_the_broker_nothing_is_recorded_and_the_console_is_told_to_ask_again(
        fresh_broker: LocalBroker, database_url: str, test_issuer: TestIssuer):
    async with running(fresh_broker.bootstrap, database_url, test_issuer, kafka_request_timeout_ms=2000) as api:
        fresh_broker.stop()
        refused = await api.ask(request_id="form-no-broker", item_id=f"{api.page}_1")
        assert refused.status_code == 503 and "ask again" in refused.json()["detail"]
        listed = await api.client.get("/actions", headers=api.as_("editor"),
                                      params={"platform": "facebook", "account_id": api.page, "item_id": f"{api.page}_1"})
        assert listed.json() == []  # not recorded: the next attempt starts afresh, with the same action id
