"""Signed platform webhooks through the real HTTP server end up as canonical events on the real broker."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

from socialops_common.events import EventKind, SocialEvent
from socialops_common.testing import read_topic
from socialops_common.topics import ACCOUNTS, DEADLETTER, EVENTS
from socialops_ingest import payloads as p

FB_PAGE = "104857600000001"  # Helsingborgs stad in config/accounts.yaml
IG_ACCOUNT = "17841400000000001"
X_ACCOUNT = "19446000"
LI_ORG = "urn:li:organization:2414183"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def unique() -> str:
    return str(uuid.uuid4().int)[:12]


async def events_for(bootstrap: str, item_ids: set[str], expected: int, wait_s: float = 10.0) -> list[SocialEvent]:
    found = await read_topic(bootstrap, EVENTS, expected=expected, timeout=wait_s,
                             where=lambda v: v.get("item_id") in item_ids)
    return [SocialEvent.model_validate(value) for _, value in found]


async def post(client, delivery: p.Delivery):
    return await client.post(delivery.path, content=delivery.body, headers=delivery.headers)


async def test_signed_facebook_feed_comment_and_messenger_message_in_one_batch(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    post_id, comment_id, reply_id, mid = f"{FB_PAGE}_{run}", f"{run}_1", f"{run}_2", f"m_{run}"
    body = p.meta_body("page", [
        p.page_entry(FB_PAGE, AT, [
            p.feed_comment(post_id=post_id, comment_id=comment_id, at=AT, message="Hej! När öppnar Tropikariet igen?",
                           author=("7001", "Anna Andersson")),
            p.feed_comment(post_id=post_id, comment_id=reply_id, at=AT, message="Hej Anna! Den 1 april. /Louise",
                           author=(FB_PAGE, "Helsingborgs stad"), parent_id=comment_id),
        ]),
        p.messaging_entry(FB_PAGE, AT, sender="7002", recipient=FB_PAGE, mid=mid, text="Hur ansöker jag om bygglov?"),
    ])
    async with ingest_client(kafka_bootstrap) as client:
        response = await post(client, p.sign("meta", body, secrets))
    assert response.status_code == 200, response.text
    assert response.json()["events"] == 3

    events = {e.item_id: e for e in await events_for(kafka_bootstrap, {comment_id, reply_id, mid}, expected=3)}
    assert len(events) == 3
    assert events[comment_id].kind is EventKind.COMMENT_CREATED
    assert events[comment_id].text == "Hej! När öppnar Tropikariet igen?"
    assert events[comment_id].account_known
    assert events[reply_id].kind is EventKind.REPLY_BY_ACCOUNT and events[reply_id].author.is_account
    assert events[mid].kind is EventKind.DM_RECEIVED and events[mid].occurred_at == AT  # ms read as ms
    assert events[comment_id].raw["entry"]["changes"][0]["value"]["comment_id"] == comment_id


async def test_keys_keep_a_thread_on_one_partition(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    post_id = f"{FB_PAGE}_{run}"
    ids = {f"{run}_{n}" for n in range(5)}
    body = p.meta_body("page", [p.page_entry(FB_PAGE, AT, [
        p.feed_comment(post_id=post_id, comment_id=cid, at=AT, message="Fråga?", author=("7001", "A")) for cid in sorted(ids)
    ])])
    async with ingest_client(kafka_bootstrap) as client:
        assert (await post(client, p.sign("meta", body, secrets))).status_code == 200
    found = await read_topic(kafka_bootstrap, EVENTS, expected=5, where=lambda v: v.get("item_id") in ids)
    assert {key for key, _ in found} == {f"facebook:{FB_PAGE}:{post_id}".encode()}


async def test_instagram_changes_form_and_instagram_login_form(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    in_changes, in_login, media = f"179{run}1", f"179{run}2", f"180{run}"
    changes = p.meta_body("instagram", [p.instagram_changes_entry(IG_ACCOUNT, AT, "comments", p.instagram_comment_value(
        comment_id=in_changes, media_id=media, text="Vilken fin bild på Sofiero!", author=("42", "kalle_hbg")))])
    login = [p.meta_body("instagram", [p.instagram_login_entry(IG_ACCOUNT, AT, "comments", p.instagram_comment_value(
        comment_id=in_login, media_id=media, text="Var ligger stranden?", author=("43", "lisa.l")))])]
    async with ingest_client(kafka_bootstrap) as client:
        assert (await post(client, p.sign("meta", changes, secrets))).status_code == 200
        assert (await post(client, p.sign("meta", login, secrets))).status_code == 200
    events = {e.item_id: e for e in await events_for(kafka_bootstrap, {in_changes, in_login}, expected=2)}
    assert {e.platform.value for e in events.values()} == {"instagram"}
    assert events[in_changes].thread_id == events[in_login].thread_id == media
    assert events[in_login].author.name == "lisa.l" and events[in_login].kind is EventKind.COMMENT_CREATED


async def test_x_account_activity(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    citizen = ("3001", "medborgare", "Eva Ek")
    city = (X_ACCOUNT, "helsingborg", "Helsingborgs stad")
    question, answer, dm = f"1{run}1", f"1{run}2", f"9{run}"
    body = p.x_body(
        X_ACCOUNT,
        tweet_create_events=[
            p.tweet(tweet_id=question, at=AT, text="@helsingborg när töms soporna i Råå?", user=citizen,
                    in_reply_to=("400", X_ACCOUNT)),
            p.tweet(tweet_id=answer, at=AT, text="@medborgare På tisdagar!", user=city, in_reply_to=(question, "3001")),
        ],
        direct_message_events=[p.x_direct_message(message_id=dm, at=AT, sender="3001", recipient=X_ACCOUNT,
                                                  text="Hej, min adress är Storgatan 1")],
    )
    async with ingest_client(kafka_bootstrap) as client:
        assert (await post(client, p.sign("x", body, secrets))).status_code == 200
    events = {e.item_id: e for e in await events_for(kafka_bootstrap, {question, answer, dm}, expected=3)}
    assert events[question].kind is EventKind.COMMENT_CREATED
    assert events[answer].kind is EventKind.REPLY_BY_ACCOUNT and events[answer].parent_id == question
    assert events[dm].kind is EventKind.DM_RECEIVED and events[dm].thread_id == "dm:3001"


async def test_linkedin_notifications(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    post_urn = f"urn:li:activity:{run}"
    comment = f"urn:li:comment:({post_urn},1)"
    admin = f"urn:li:comment:({post_urn},2)"
    body = p.linkedin_body([
        p.linkedin_notification(notification_id=int(run), organization=LI_ORG, action="COMMENT", post_urn=post_urn,
                                comment_urn=comment, actor="urn:li:person:abc", at=AT,
                                text="Hur söker man sommarjobb inom äldreomsorgen?"),
        p.linkedin_notification(notification_id=int(run) + 1, organization=LI_ORG, action="ADMIN_COMMENT",
                                post_urn=post_urn, comment_urn=admin, actor="urn:li:person:redaktor", at=AT,
                                text="Hej! Via helsingborg.se/sommarjobb"),
    ])
    async with ingest_client(kafka_bootstrap) as client:
        assert (await post(client, p.sign("linkedin", body, secrets))).status_code == 200
    events = {e.item_id: e for e in await events_for(kafka_bootstrap, {comment, admin}, expected=2)}
    assert events[comment].kind is EventKind.COMMENT_CREATED and events[comment].thread_id == post_urn
    assert events[admin].kind is EventKind.REPLY_BY_ACCOUNT and events[admin].author.is_account


async def test_redelivered_webhook_gives_the_same_event_ids(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    body = p.meta_body("page", [p.page_entry(FB_PAGE, AT, [
        p.feed_comment(post_id=f"{FB_PAGE}_{run}", comment_id=f"{run}_1", at=AT, message="Hej", author=("1", "A"))])])
    delivery = p.sign("meta", body, secrets)
    async with ingest_client(kafka_bootstrap) as client:
        assert (await post(client, delivery)).status_code == 200
        assert (await post(client, delivery)).status_code == 200
    events = await events_for(kafka_bootstrap, {f"{run}_1"}, expected=2)
    assert len(events) == 2 and events[0].event_id == events[1].event_id  # consumers dedupe on it


async def test_events_for_accounts_missing_from_the_inventory_are_accepted_and_flagged(
        kafka_bootstrap, ingest_client, secrets):
    run = unique()
    body = p.meta_body("page", [p.page_entry("999000111", AT, [
        p.feed_comment(post_id=f"999000111_{run}", comment_id=f"{run}_1", at=AT, message="Hej", author=("1", "A"))])])
    async with ingest_client(kafka_bootstrap) as client:
        assert (await post(client, p.sign("meta", body, secrets))).status_code == 200
    (event,) = await events_for(kafka_bootstrap, {f"{run}_1"}, expected=1)
    assert event.account_known is False


async def test_account_inventory_is_published_at_start_up(kafka_bootstrap, ingest_client):
    async with ingest_client(kafka_bootstrap):
        found = await read_topic(kafka_bootstrap, ACCOUNTS, expected=12,
                                 where=lambda v: v.get("external_id") in {FB_PAGE, LI_ORG, "17841400000000003"})
    keys = {key for key, _ in found}
    assert {f"facebook:{FB_PAGE}".encode(), f"linkedin:{LI_ORG}".encode()} <= keys
    closed = [v for _, v in found if v["external_id"] == "17841400000000003"]
    assert closed and closed[0]["status"] == "closed" and closed[0]["closed_date"] == "2022-09-30"


# --- handshakes, exactly as the platforms' docs describe them --------------------------------------


async def test_handshakes(kafka_bootstrap, ingest_client, secrets, verify_token):
    async with ingest_client(kafka_bootstrap) as client:
        ok = await client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": verify_token,
                                                        "hub.challenge": "1158201444"})
        assert ok.status_code == 200 and ok.text == "1158201444"
        assert ok.headers["content-type"].startswith("text/plain")
        wrong = await client.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                           "hub.challenge": "1158201444"})
        assert wrong.status_code == 403 and "1158201444" not in wrong.text

        crc = await client.get("/webhooks/x", params={"crc_token": "token-from-x"})
        digest = hmac.new(secrets.x_consumer_secret.encode(), b"token-from-x", hashlib.sha256).digest()
        import base64
        assert crc.status_code == 200
        assert crc.json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}

        code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
        challenge = await client.get("/webhooks/linkedin", params={"challengeCode": code})
        assert challenge.status_code == 200
        assert challenge.json() == {"challengeCode": code, "challengeResponse": hmac.new(
            secrets.linkedin_client_secret.encode(), code.encode(), hashlib.sha256).hexdigest()}
        assert (await client.get("/webhooks/linkedin")).status_code == 400


# --- refusals: each gets its clear answer and nothing is published -----------------------------------


async def test_bad_or_missing_signature_is_refused_and_nothing_is_published(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    body = p.meta_body("page", [p.page_entry(FB_PAGE, AT, [
        p.feed_comment(post_id=f"{FB_PAGE}_{run}", comment_id=f"{run}_1", at=AT, message="Hej", author=("1", "A"))])])
    forged = p.sign("meta", body, p.Secrets("not-the-secret", "x", "y"))
    async with ingest_client(kafka_bootstrap) as client:
        wrong = await post(client, forged)
        missing = await client.post("/webhooks/meta", content=forged.body, headers={"content-type": "application/json"})
        x_forged = await client.post("/webhooks/x", content=b'{"for_user_id":"1"}',
                                     headers={"x-twitter-webhooks-signature": "sha256=AAAA"})
        li_forged = await client.post("/webhooks/linkedin", content=b"{}", headers={"x-li-signature": "00" * 32})
        metrics = (await client.get("/metrics")).text
    assert wrong.status_code == 403 and "does not match" in wrong.json()["error"]
    assert missing.status_code == 401
    assert x_forged.status_code == 403 and li_forged.status_code == 403
    assert 'socialops_ingest_signatures_rejected_total{platform="meta"}' in metrics
    assert await events_for(kafka_bootstrap, {f"{run}_1"}, expected=1, wait_s=2.0) == []
    letters = await read_topic(kafka_bootstrap, DEADLETTER, expected=1, timeout=1.0,
                               where=lambda v: run in v.get("payload", ""))
    assert letters == []


async def test_authentic_but_unreadable_bodies_are_dead_lettered_and_answered_200(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    malformed = b'{"object": "page", "entry": [ ' + run.encode()  # signed, but not JSON
    unknown_object = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": run}]}).encode()
    from socialops_ingest.platforms import meta
    async with ingest_client(kafka_bootstrap) as client:
        answers = [await client.post("/webhooks/meta", content=body,
                                     headers={meta.SIGNATURE_HEADER: meta.signature(body, secrets.meta_app_secret)})
                   for body in (malformed, unknown_object)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["dead_lettered"] for a in answers] == [1, 1]
    letters = {v["payload"]: v for _, v in await read_topic(kafka_bootstrap, DEADLETTER, expected=2,
                                                             where=lambda v: run in v.get("payload", ""))}
    assert letters[malformed.decode()]["reason"].startswith("body is not JSON")
    assert "whatsapp_business_account" in letters[unknown_object.decode()]["reason"]
    assert letters[malformed.decode()]["source"] == "ingest.meta"
    assert letters[malformed.decode()]["headers"][meta.SIGNATURE_HEADER].startswith("sha256=")  # re-verifiable


async def test_a_partly_unreadable_batch_publishes_the_rest_and_dead_letters_the_body(
        kafka_bootstrap, ingest_client, secrets):
    run = unique()
    body = p.meta_body("page", [
        p.page_entry(FB_PAGE, AT, [p.feed_comment(post_id=f"{FB_PAGE}_{run}", comment_id=f"{run}_1", at=AT,
                                                  message="Hej", author=("1", "A"))]),
        p.page_entry(FB_PAGE, AT, [{"field": "ratings", "value": {"review_text": run}}]),
    ])
    async with ingest_client(kafka_bootstrap) as client:
        response = await post(client, p.sign("meta", body, secrets))
    assert response.status_code == 200 and response.json() == {"events": 1, "dead_lettered": 1, "ignored": 0}
    assert len(await events_for(kafka_bootstrap, {f"{run}_1"}, expected=1)) == 1
    (letter,) = [v for _, v in await read_topic(kafka_bootstrap, DEADLETTER, expected=1,
                                                where=lambda v: run in v.get("payload", ""))]
    assert "unknown facebook field 'ratings'" in letter["reason"]


async def test_a_10_mb_body_is_refused_with_413(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    big = p.meta_body("page", [p.page_entry(FB_PAGE, AT, [
        p.feed_comment(post_id=f"{FB_PAGE}_{run}", comment_id=f"{run}_1", at=AT, message="x" * (10 * 1024 * 1024),
                       author=("1", "A"))])])
    async with ingest_client(kafka_bootstrap) as client:
        response = await post(client, p.sign("meta", big, secrets))
    assert response.status_code == 413
    assert await events_for(kafka_bootstrap, {f"{run}_1"}, expected=1, wait_s=2.0) == []


async def test_metrics_count_events_by_platform_and_kind(kafka_bootstrap, ingest_client, secrets):
    run = unique()
    body = p.meta_body("page", [p.page_entry(FB_PAGE, AT, [
        p.feed_comment(post_id=f"{FB_PAGE}_{run}", comment_id=f"{run}_1", at=AT, message="Hej", author=("1", "A"))])])
    async with ingest_client(kafka_bootstrap) as client:
        await post(client, p.sign("meta", body, secrets))
        text = (await client.get("/metrics")).text
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert 'socialops_ingest_events_total{kind="comment.created",platform="facebook"}' in text
    assert 'socialops_ingest_publish_seconds_bucket{le="0.05",platform="meta"}' in text
    assert ready.status_code == 200 and ready.json()["checks"] == {"kafka": "ok"}
    assert alive.status_code == 200


async def test_a_full_size_unreadable_body_still_fits_in_its_dead_letter(kafka_bootstrap, ingest_client, secrets):
    """Escaping can make a dead letter several times the body: it must still be acknowledged, not 503."""
    from socialops_ingest.platforms import meta
    run = unique()
    body = run.encode() + b"\x01" * (1024 * 1024 - 64)  # just under the 1 MiB limit, every byte escaped in JSON
    async with ingest_client(kafka_bootstrap) as client:
        response = await client.post("/webhooks/meta", content=body,
                                     headers={meta.SIGNATURE_HEADER: meta.signature(body, secrets.meta_app_secret)})
    assert response.status_code == 200 and response.json()["dead_lettered"] == 1
    letters = await read_topic(kafka_bootstrap, DEADLETTER, expected=1, where=lambda v: v.get("payload", "").startswith(run))
    assert len(letters) == 1 and len(letters[0][1]["payload"]) == len(body)
