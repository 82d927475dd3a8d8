"""The review API on the real database and broker: list, confirm, override, and the errors."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
from socialops_common.events import ModerationAction, ModerationDecision, deterministic_id
from socialops_common.testing import read_topic, wait_until
from socialops_common.topics import ACTIONS, MODERATION
from socialops_moderation.main import create_app, export_verdicts
from socialops_moderation.store import ModerationStore, migrate
from socialops_moderation.testing import comment, publish, settings_for

AUTH = {"Authorization": "Bearer s3cret"}


async def test_review_queue_confirm_override_and_errors(kafka_bootstrap, database_url, tmp_path):
    account = f"page-{uuid.uuid4().hex[:8]}"
    other = f"page-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap, database_url, None, account).model_copy(
        update={"machine_tokens": "Louise kommunikatör:editor:s3cret,Arkivet:archivist:arkiv-token"})
    app = create_app(settings)
    service = app.state.service
    await service.start()
    try:
        shortened = comment("Läs om det här: bit.ly/3kF9xQz", account=account)
        liar = comment("Du är en lögnare, Anders.", account=account, author="user-9")
        elsewhere = comment("Kolla tinyurl.com/abc123", account=other)
        await publish(kafka_bootstrap, shortened, liar, elsewhere)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://moderation") as client:
            async def queue(account_id: str) -> list[dict]:
                response = await client.get("/review", params={"account_id": account_id}, headers=AUTH)
                assert response.status_code == 200, response.text
                return response.json()

            items = await wait_until(lambda: _two(queue(account)), timeout=30)
            by_event = {i["event_id"]: i for i in items}
            assert set(by_event) == {shortened.event_id, liar.event_id}
            link_item, attack_item = by_event[shortened.event_id], by_event[liar.event_id]
            assert link_item["action"] == "review" and link_item["suggested_action"] == "review"
            assert attack_item["suggested_action"] == "delete" and attack_item["suggested_block_author"] is True
            # what the reviewer sees of the second opinion and the speech act (issue 14)
            assert attack_item["speech_act"] == "assertion" and attack_item["friendly"] is False
            assert attack_item["model"]["version"].startswith("linear-")
            assert set(attack_item["model"]["scores"]) == {"threat", "hate", "attack", "scam"}
            # the other account's comment may be decided a moment later: wait for it, then compare
            elsewhere_items = await wait_until(lambda: queue(other), timeout=30)
            assert [i["event_id"] for i in elsewhere_items] == [elsewhere.event_id]

            assert (await client.get("/review")).status_code == 401
            assert (await client.get("/review", headers={"Authorization": "Bearer wrong"})).status_code == 401
            missing = await client.post("/review/no-such-id", json={"verdict": "confirm"}, headers=AUTH)
            assert missing.status_code == 404 and "no review item" in missing.json()["detail"]
            no_reason = await client.post(f"/review/{link_item['decision_id']}", json={"verdict": "override", "action": "hide"}, headers=AUTH)
            assert no_reason.status_code == 422 and "reason" in no_reason.text
            bad_action = await client.post(f"/review/{link_item['decision_id']}", json={"verdict": "override", "action": "explode", "reason": "x"}, headers=AUTH)
            assert bad_action.status_code == 422

            # Override: the reviewer deletes and blocks; recorded with who, when and why.
            response = await client.post(
                f"/review/{attack_item['decision_id']}",
                json={"verdict": "override", "action": "delete", "block_author": True, "reason": "Upprepade påhopp på namngiven tjänsteperson"},
                headers=AUTH,
            )
            assert response.status_code == 200, response.text
            resolved = response.json()
            assert resolved["status"] == "resolved" and resolved["resolved_by"] == "Louise kommunikatör"
            again = await client.post(f"/review/{attack_item['decision_id']}", json={"verdict": "confirm"}, headers=AUTH)
            assert again.status_code == 409 and "already resolved by Louise" in again.json()["detail"]

            # Confirm: the link comment stays (review confirmed means nothing to remove).
            confirmed = await client.post(f"/review/{link_item['decision_id']}", json={"verdict": "confirm"}, headers=AUTH)
            assert confirmed.status_code == 200
            assert await queue(account) == []

            decisions = await read_topic(
                kafka_bootstrap, MODERATION, expected=2, timeout=20,
                where=lambda v: v.get("supersedes") in (attack_item["decision_id"], link_item["decision_id"]),
            )
            by_original = {d["supersedes"]: d for _, d in decisions}
            override = by_original[attack_item["decision_id"]]
            assert (override["action"], override["block_author"], override["decided_by"]) == ("delete", True, "Louise kommunikatör")
            assert override["reason"] == "Upprepade påhopp på namngiven tjänsteperson"
            assert override["notification_text"] and "tagit bort" in override["notification_text"]
            assert by_original[link_item["decision_id"]]["action"] == "allow"

            # Without a page token the executor runs dry: recorded, nothing sent.
            outcomes = await read_topic(
                kafka_bootstrap, ACTIONS, expected=2, timeout=20,
                where=lambda v: v.get("type") == "outcome" and v.get("decision_id") == override["decision_id"],
            )
            assert sorted((o["operation"], o["status"]) for _, o in outcomes) == [("block_author", "dry_run"), ("delete", "dry_run")]

            # The two verdicts as labelled comments for the next model (learned/verdicts.py): the
            # masked text and the class, never the author, the reviewer or the reason.
            out = tmp_path / "reviewed" / "verdicts.jsonl"
            exported = await export_verdicts(settings, out, account_id=account)
            rows = {r["text"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
            assert len(exported.rows) == 2 and set(rows) == {shortened.text, liar.text}
            assert (rows[liar.text]["expected_action"], rows[liar.text]["harm"]) == ("delete", "attack")
            assert (rows[shortened.text]["expected_action"], rows[shortened.text]["harm"]) == ("allow", None)
            written = out.read_text("utf-8")
            assert "Louise" not in written and "Upprepade" not in written and "user-9" not in written
            assert (await export_verdicts(settings, out, account_id=other)).rows == []
            # the same rows over HTTP, for a person who reviews (an archivist may not)
            download = await client.get("/review/verdicts.jsonl", params={"account_id": account}, headers=AUTH)
            assert download.status_code == 200 and download.headers["content-type"].startswith("application/x-ndjson")
            assert download.text == written and "attachment" in download.headers["content-disposition"]
            assert json.loads(download.headers["x-verdicts-left-out"]) == dict(exported.left_out)
            later = await client.get("/review/verdicts.jsonl", params={"account_id": account, "since": "2999-01-01"}, headers=AUTH)
            assert later.status_code == 200 and later.text == ""
            refused = await client.get("/review/verdicts.jsonl", headers={"Authorization": "Bearer arkiv-token"})
            assert refused.status_code == 403
            assert (await client.get("/review/verdicts.jsonl")).status_code == 401

            metrics = (await client.get("/metrics")).text
            assert "socialops_moderation_review_queue_size" in metrics
            assert 'socialops_moderation_decisions_total{action="review",rule="links.shortener"}' in metrics
            assert "socialops_moderation_decision_latency_seconds_bucket" in metrics
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
    finally:
        await service.stop()


async def _two(pending):
    items = await pending
    return items if len(items) >= 2 else None


async def test_bulk_confirm_of_one_rule_and_account_and_undo_within_the_window(kafka_bootstrap, database_url, tmp_path):
    account = f"page-{uuid.uuid4().hex[:8]}"
    settings = settings_for(kafka_bootstrap, database_url, None, account).model_copy(
        update={"machine_tokens": "Louise kommunikatör:editor:s3cret,Per:editor:per-token",
                "moderation_undo_seconds": 2.0})
    app = create_app(settings)
    service = app.state.service
    await service.start()
    try:
        texts = ["Läs mer om bygget här: bit.ly/3kF9xQz", "Finns det fler bilder? tinyurl.com/bad7hus",
                 "Kolla schemat för simhallen på bit.ly/sim2026 innan ni åker"]
        shortened = [comment(text, account=account, author=f"user-{n}") for n, text in enumerate(texts)]
        await publish(kafka_bootstrap, *shortened)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://moderation") as client:
            async def waiting() -> list[dict]:
                return (await client.get("/review", params={"account_id": account, "rule": "links"},
                                         headers=AUTH)).json()

            items = await wait_until(lambda: _n(waiting(), 3), timeout=30)
            assert {r["rule_id"] for i in items for r in i["rules"]} >= {"links.shortener"}
            confirmed = await client.post("/review/confirm-all", json={"account_id": account, "rule": "links.shortener"},
                                          headers=AUTH)
            assert confirmed.status_code == 200 and len(confirmed.json()) == 3
            assert all(i["status"] == "resolved" for i in confirmed.json())
            first = confirmed.json()[0]["decision_id"]
            # only the person who gave the verdict may take it back
            per = {"Authorization": "Bearer per-token"}
            assert (await client.post(f"/review/{first}/undo", headers=per)).status_code == 403
            undone = await client.post(f"/review/{first}/undo", headers=AUTH)
            assert undone.status_code == 200 and undone.json()["status"] == "pending"
            assert (await client.post(f"/review/{first}/undo", headers=AUTH)).status_code == 409
            again = await client.post(f"/review/{first}", json={"verdict": "confirm"}, headers=per)
            assert again.status_code == 200 and again.json()["resolved_by"] == "Per"
            await asyncio.sleep(2.2)  # past the window (2 s here; 60 s by default)
            late = await client.post(f"/review/{first}/undo", headers=per)
            assert late.status_code == 409 and "within 2 seconds" in late.json()["detail"]
        decisions = [v for _, v in await read_topic(
            kafka_bootstrap, MODERATION, expected=6, where=lambda v: v.get("account_id") == account)]
        first_event = next(i["event_id"] for i in items if i["decision_id"] == first)
        chain = [d for d in decisions if d["event_id"] == first_event]
        # the rules' decision, Louise's verdict, its undo (superseding it), Per's verdict: four decisions
        assert len(chain) == 4 and len({d["decision_id"] for d in chain}) == 4
        undo_decision = next(d for d in chain if d["reason"] == "verdict undone")
        assert undo_decision["action"] == "review" and undo_decision["supersedes"] in {d["decision_id"] for d in chain}
        # only the verdict that stands is exported: Per's, not Louise's undone one
        exported = await export_verdicts(settings, tmp_path / "verdicts.jsonl", account_id=account)
        assert sorted(r["text"] for r in exported.rows) == sorted(texts)
        assert all(r["expected_action"] == "allow" for r in exported.rows) and not exported.left_out
    finally:
        await service.stop()


async def _n(items, n: int) -> list[dict] | None:  # noqa: ANN001 - a coroutine of a list
    found = await items
    return found if len(found) >= n else None


async def test_comments_decided_in_one_batch_wait_in_the_order_they_came(database_url):
    """One batch's decisions share a decided_at: the queue keeps the topic's order, not the ids' order."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await migrate(pool)
        account = f"page-{uuid.uuid4().hex[:8]}"
        at = datetime.now(UTC)
        events = [comment(f"Kolla tinyurl.com/{n}", account=account, item=f"{account}_{n}") for n in range(6)]
        decided = [ModerationDecision(decision_id=deterministic_id("test.decision", e.event_id), event_id=e.event_id,
                                      platform=e.platform, account_id=account, item_id=e.item_id,
                                      thread_id=e.thread_id, item_kind=e.kind, action=ModerationAction.REVIEW,
                                      decided_at=at) for e in events]
        assert sorted(d.decision_id for d in decided) != [d.decision_id for d in decided]  # ids alone would reorder
        store = ModerationStore(pool)
        await store.save_decisions([(d, None) for d in decided])
        waiting = await store.pending_reviews(account)
        assert [i.decision.item_id for i in waiting] == [e.item_id for e in events]
    finally:
        await pool.close()
