"""Every HTTP API checks the identity provider's access tokens the same way, and names the person.

Against a real issuer on 127.0.0.1 (discovery and JWKS over HTTP: `socialops_common.testing.TestIssuer`),
each API answers 401 to a token from another issuer, for another audience, expired, signed by a key not
in the JWKS, `alg: none`, HS256 signed with the public key, or with a tampered payload; 403 to a valid
token without the right; and what the person did is recorded with their subject, name and e-mail.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from socialops_archive.main import build_app as archive_app
from socialops_archive.settings import ArchiveSettings
from socialops_common.events import AccountRecord, Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import to_bytes
from socialops_common.testing import TestIssuer, forged_tokens, read_topic, wait_until
from socialops_common.topics import ACCOUNTS, ACTIONS, MODERATION
from socialops_moderation.main import create_app as moderation_app
from socialops_moderation.testing import comment, publish
from socialops_moderation.testing import settings_for as moderation_settings
from socialops_sla.app import SlaRuntime
from socialops_sla.app import create_app as sla_app
from socialops_sla.config import SlaSettings


@asynccontextmanager
async def client_for(app) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


async def send_account(bootstrap: str, record: AccountRecord) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(ACCOUNTS, to_bytes(record), key=record.key)
    finally:
        await producer.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def assert_token_contract(client: httpx.AsyncClient, method: str, path: str, issuer: TestIssuer,
                                *, allowed: str, not_allowed: str, **request: object) -> httpx.Response:
    for why, token in forged_tokens(issuer).items():
        response = await client.request(method, path, headers=bearer(token), **request)
        assert response.status_code == 401, f"{method} {path} with {why}: {response.status_code} {response.text}"
    assert (await client.request(method, path, **request)).status_code == 401
    refused = await client.request(method, path, headers=bearer(issuer.token(roles=[not_allowed])), **request)
    assert refused.status_code == 403, refused.text
    accepted = await client.request(method, path, headers=bearer(issuer.token(roles=[allowed])), **request)
    assert accepted.status_code not in (401, 403), accepted.text
    return accepted


async def test_the_archive(test_issuer: TestIssuer, database_url: str, tmp_path) -> None:
    settings = ArchiveSettings(database_url=database_url, export_dir=str(tmp_path), smtp_port=1, **test_issuer.settings())
    app = archive_app(settings, consume=False, background=False)
    async with app.router.lifespan_context(app), client_for(app) as client:
        await assert_token_contract(client, "GET", "/items", test_issuer, allowed="archivist", not_allowed="editor",
                                    params={"q": "badhuset"})
        await assert_token_contract(client, "GET", "/audit", test_issuer, allowed="archive_admin",
                                    not_allowed="registrar")
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT principal, subject, email, role, action, status FROM audit_log ORDER BY id")
    finally:
        await connection.close()
    searched = [r for r in rows if r["action"] == "search" and r["status"] == 200]
    assert searched and searched[0]["principal"] == "Testa Testsson <testa.testsson@stad.example>"
    assert (searched[0]["subject"], searched[0]["email"], searched[0]["role"]) == (
        "00u-test-person", "testa.testsson@stad.example", "archivist")
    assert [r["status"] for r in rows if r["role"] == "editor"] == [403]  # the refusal is audited too


@asynccontextmanager
async def moderation_running(issuer: TestIssuer, kafka_bootstrap: str, database_url: str) -> AsyncIterator[tuple]:
    """The moderation service in this process, accepting the issuer's tokens: (app, its account)."""
    account = f"page-{uuid.uuid4().hex[:8]}"
    settings = moderation_settings(kafka_bootstrap, database_url, None, account).model_copy(update=issuer.settings())
    app = moderation_app(settings)
    await app.state.service.start()
    try:
        # The account is the culture department's: an editor of that department may act on its comments.
        await send_account(kafka_bootstrap, AccountRecord(platform=Platform.FACEBOOK, external_id=account,
                                                          name="Kultur", department="Kulturförvaltningen"))
        yield app, account
    finally:
        await app.state.service.stop()


async def test_moderation_review(test_issuer: TestIssuer, kafka_bootstrap: str, database_url: str) -> None:
    async with moderation_running(test_issuer, kafka_bootstrap, database_url) as (app, account):
        queued = comment("Läs om det här: bit.ly/3kF9xQz", account=account)
        await publish(kafka_bootstrap, queued)
        async with client_for(app) as client:
            editor = bearer(test_issuer.token(roles=["editor"], jobTitle="kommunikatör",
                                              departments=["Kulturförvaltningen"]))
            other = bearer(test_issuer.token(roles=["editor"], departments=["Vård- och omsorgsförvaltningen"]))

            async def waiting() -> list[dict]:
                return (await client.get("/review", params={"account_id": account}, headers=editor)).json()

            (item,) = await wait_until(waiting, timeout=30)
            # an editor of another department neither sees it nor can judge it
            assert (await client.get("/review", params={"account_id": account}, headers=other)).json() == []
            assert (await client.post(f"/review/{item['decision_id']}", json={"verdict": "confirm"},
                                      headers=other)).status_code == 404
            await assert_token_contract(client, "GET", "/review", test_issuer, allowed="communications",
                                        not_allowed="archivist", params={"account_id": account})
            for why, token in forged_tokens(test_issuer).items():
                forged = await client.post(f"/review/{item['decision_id']}", json={"verdict": "confirm"},
                                           headers=bearer(token))
                assert forged.status_code == 401, why
            read_only = bearer(test_issuer.token(roles=["communications"]))
            assert (await client.post(f"/review/{item['decision_id']}", json={"verdict": "confirm"},
                                      headers=read_only)).status_code == 403
            verdict = await client.post(f"/review/{item['decision_id']}", headers=editor, json={
                "verdict": "override", "action": "allow", "reason": "Länken går till kommunens egen sida"})
            assert verdict.status_code == 200 and verdict.json()["resolved_by"] == (
                "Testa Testsson <testa.testsson@stad.example>")
        (published,) = [v for _, v in await read_topic(
            kafka_bootstrap, MODERATION, expected=1, where=lambda v: v.get("supersedes") == item["decision_id"])]
        assert published["reviewer"] == {"subject": "00u-test-person", "name": "Testa Testsson",
                                         "email": "testa.testsson@stad.example", "kind": "person"}


async def test_sla_staff_actions(test_issuer: TestIssuer, kafka_bootstrap: str, database_url: str) -> None:
    account = f"page-{uuid.uuid4().hex[:8]}"
    settings = SlaSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                           sla_consumer_group=f"sla-{account}", sla_refresh_seconds=3600, **test_issuer.settings())
    runtime = SlaRuntime(settings, registry=CollectorRegistry())
    await runtime.start()
    try:
        at = datetime.now(UTC)
        question = SocialEvent(
            event_id=social_event_id(Platform.FACEBOOK, EventKind.DM_RECEIVED, f"{account}:dm-1"),
            kind=EventKind.DM_RECEIVED, platform=Platform.FACEBOOK, account_id=account, item_id="dm-1",
            thread_id="dm:citizen", author=Author(id="citizen"), text="Hej, när öppnar badhuset?",
            occurred_at=at, received_at=at)
        await publish(kafka_bootstrap, question)
        app = sla_app(runtime, manage_lifespan=False)
        async with client_for(app) as client:
            contact = bearer(test_issuer.token(roles=["contact_center"]))

            async def tracked() -> bool:
                return (await client.get(f"/items/{question.event_id}", headers=contact)).status_code == 200

            await wait_until(tracked, timeout=30)
            await assert_token_contract(client, "GET", f"/items/{question.event_id}", test_issuer,
                                        allowed="communications", not_allowed="archivist")
            done = await assert_token_contract(client, "POST", f"/items/{question.event_id}/no-answer-needed",
                                               test_issuer, allowed="contact_center", not_allowed="communications")
            assert done.status_code == 200 and done.json()["by"] == {
                "subject": "00u-test-person", "name": "Testa Testsson", "email": "testa.testsson@stad.example",
                "kind": "person"}
    finally:
        await runtime.stop()


async def test_moderation_actions(test_issuer: TestIssuer, kafka_bootstrap: str, database_url: str) -> None:
    async with moderation_running(test_issuer, kafka_bootstrap, database_url) as (app, culture):
        # The contact center's account, with the test person among its editors (so any role of theirs works on it).
        account = f"{culture}-kc"
        await send_account(kafka_bootstrap, AccountRecord(platform=Platform.FACEBOOK, external_id=account, name="KC",
                                                          department="Kontaktcenter",
                                                          editors=["testa.testsson@stad.example"]))
        await wait_until(lambda: app.state.service.account("facebook", account), timeout=30)
        reply = {"operation": "reply", "event_id": "e-1", "platform": "facebook", "account_id": account,
                 "item_id": f"{account}_1", "thread_id": f"{account}_post", "item_kind": "comment.created",
                 "text": "Hej! Vänliga hälsningar, Testa", "request_id": "form-1"}
        notice = reply | {"operation": "notify", "text": "Vi har dolt din kommentar.", "request_id": "notice-1"}
        async with client_for(app) as client:
            asked = await assert_token_contract(client, "POST", "/actions", test_issuer, allowed="contact_center",
                                                not_allowed="communications", json=reply)
            assert asked.status_code == 202
            notified = await assert_token_contract(client, "POST", "/actions", test_issuer, allowed="editor",
                                                   not_allowed="contact_center", json=notice)
            assert notified.status_code == 202
            await assert_token_contract(client, "GET", f"/actions/{asked.json()['action_id']}", test_issuer,
                                        allowed="communications", not_allowed="archivist")
        (command,) = [v for _, v in await read_topic(
            kafka_bootstrap, ACTIONS, expected=1, where=lambda v: v.get("action_id") == asked.json()["action_id"]
            and v.get("type") == "command")]
        assert command["requested_by"] == {"subject": "00u-test-person", "name": "Testa Testsson",
                                           "email": "testa.testsson@stad.example", "kind": "person"}
