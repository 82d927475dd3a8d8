"""Each command as each platform's documented request, and each platform's answer read right (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from socialops_common.events import ActionOperation, ActionStatus, EventKind, Platform, PlatformActionCommand
from socialops_moderation.actions.capabilities import capabilities, unsupported
from socialops_moderation.actions.graph import GraphDialect, graph_request
from socialops_moderation.actions.linkedin import LinkedInDialect, linkedin_request
from socialops_moderation.actions.platform import Invalid, PlatformRequest, Unsupported, retry_after_s
from socialops_moderation.actions.x import XDialect, x_request

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Op = ActionOperation
COMMENT, DM, MENTION = EventKind.COMMENT_CREATED, EventKind.DM_RECEIVED, EventKind.MENTION
LINKEDIN_COMMENT = "urn:li:comment:(urn:li:activity:7012345,7023456)"


def command(platform: Platform, operation: ActionOperation, *, item: str = "c-1", account: str = "page-9",
            kind: EventKind = COMMENT, text: str | None = None, recipient: str | None = None,
            author: str | None = "u1", notice: str | None = None) -> PlatformActionCommand:
    return PlatformActionCommand(
        action_id="a", decision_id="d", event_id="e", platform=platform, account_id=account, item_id=item,
        thread_id="urn:li:activity:7012345" if platform == Platform.LINKEDIN else "t", author_id=author,
        operation=operation, requested_at=NOW, item_kind=kind, text=text, recipient_id=recipient,
        notification_text=notice,
    )


def test_facebook_replies_likes_messages_and_private_replies():
    fb = Platform.FACEBOOK
    assert graph_request(command(fb, Op.REPLY, text="Hej!")) == PlatformRequest(
        "POST", "/c-1/comments", form={"message": "Hej!"}, idempotent=False)
    assert graph_request(command(fb, Op.LIKE)) == PlatformRequest("POST", "/c-1/likes")
    assert graph_request(command(fb, Op.REPLY, kind=DM, item="m_1", text="Hej!", recipient="psid-7")) == PlatformRequest(
        "POST", "/page-9/messages", idempotent=False,
        json={"recipient": {"id": "psid-7"}, "messaging_type": "RESPONSE", "message": {"text": "Hej!"}})
    assert graph_request(command(fb, Op.NOTIFY, text="Vi har dolt din kommentar.")) == PlatformRequest(
        "POST", "/page-9/messages", idempotent=False,
        json={"recipient": {"comment_id": "c-1"}, "message": {"text": "Vi har dolt din kommentar."}})
    # the decision's notification text is sent when the editor did not write their own
    assert graph_request(command(fb, Op.NOTIFY, notice="Hej! Vi har dolt")).json["message"] == {"text": "Hej! Vi har dolt"}
    assert graph_request(command(fb, Op.REPLY, kind=DM, text="Hej!")) == Invalid("a direct message reply needs the recipient's id")
    assert isinstance(graph_request(command(fb, Op.REPLY)), Invalid)  # no text
    assert graph_request(command(fb, Op.BLOCK_AUTHOR, author=None)) == Invalid("no author id to block")


def test_instagram_replies_messages_and_what_it_cannot_do():
    ig = Platform.INSTAGRAM
    assert graph_request(command(ig, Op.REPLY, text="Tack!")) == PlatformRequest(
        "POST", "/c-1/replies", form={"message": "Tack!"}, idempotent=False)
    assert graph_request(command(ig, Op.REPLY, kind=DM, text="Hej!", recipient="igsid-1", account="1784")) == PlatformRequest(
        "POST", "/1784/messages", json={"recipient": {"id": "igsid-1"}, "message": {"text": "Hej!"}}, idempotent=False)
    assert graph_request(command(ig, Op.NOTIFY, text="Hej", account="1784")) == PlatformRequest(
        "POST", "/1784/messages", json={"recipient": {"comment_id": "c-1"}, "message": {"text": "Hej"}}, idempotent=False)
    assert graph_request(command(ig, Op.HIDE)) == PlatformRequest("POST", "/c-1", form={"hide": "true"})
    like = graph_request(command(ig, Op.LIKE))
    assert isinstance(like, Unsupported) and "no way to like a comment" in like.reason


def test_x_calls():
    x = Platform.X
    assert x_request(command(x, Op.REPLY, item="186", account="44196397", text="Hej!")) == PlatformRequest(
        "POST", "/2/tweets", json={"text": "Hej!", "reply": {"in_reply_to_tweet_id": "186"}}, idempotent=False)
    assert x_request(command(x, Op.REPLY, kind=DM, text="Hej!", recipient="99")) == PlatformRequest(
        "POST", "/2/dm_conversations/with/99/messages", json={"text": "Hej!"}, idempotent=False)
    assert x_request(command(x, Op.HIDE, item="186")) == PlatformRequest("PUT", "/2/tweets/186/hidden", json={"hidden": True})
    assert x_request(command(x, Op.UNHIDE, item="186")) == PlatformRequest("PUT", "/2/tweets/186/hidden", json={"hidden": False})
    assert x_request(command(x, Op.BLOCK_AUTHOR, account="44196397", author="77")) == PlatformRequest(
        "POST", "/2/users/44196397/blocking", json={"target_user_id": "77"})
    assert x_request(command(x, Op.LIKE, item="186", account="44196397")) == PlatformRequest(
        "POST", "/2/users/44196397/likes", json={"tweet_id": "186"})
    assert x_request(command(x, Op.DELETE)) == Unsupported("X lets the account hide a reply, not delete it: the reply is hidden instead")
    assert isinstance(x_request(command(x, Op.NOTIFY, text="Hej")), Unsupported)


def test_linkedin_calls_encode_urns_and_act_as_the_organization():
    li, org = Platform.LINKEDIN, "urn:li:organization:2414183"
    reply = linkedin_request(command(li, Op.REPLY, item=LINKEDIN_COMMENT, account=org, text="Tack!"))
    assert reply == PlatformRequest(
        "POST", "/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7012345%2C7023456%29/comments",
        json={"actor": org, "message": {"text": "Tack!"}, "object": "urn:li:activity:7012345",
              "parentComment": LINKEDIN_COMMENT}, idempotent=False)
    mention = linkedin_request(command(li, Op.REPLY, item="urn:li:share:555", account=org, kind=MENTION, text="Tack!"))
    assert mention == PlatformRequest("POST", "/rest/socialActions/urn%3Ali%3Ashare%3A555/comments", idempotent=False,
                                      json={"actor": org, "message": {"text": "Tack!"}, "object": "urn:li:share:555"})
    assert linkedin_request(command(li, Op.DELETE, item=LINKEDIN_COMMENT, account=org)) == PlatformRequest(
        "DELETE", "/rest/socialActions/urn%3Ali%3Aactivity%3A7012345/comments/7023456", params={"actor": org})
    assert linkedin_request(command(li, Op.LIKE, item=LINKEDIN_COMMENT, account=org)) == PlatformRequest(
        "POST", "/rest/reactions", params={"actor": org}, json={"root": LINKEDIN_COMMENT, "reactionType": "LIKE"})
    assert isinstance(linkedin_request(command(li, Op.DELETE, item="12345", account=org)), Invalid)
    for operation in (Op.HIDE, Op.BLOCK_AUTHOR, Op.NOTIFY):
        assert isinstance(linkedin_request(command(li, operation, item=LINKEDIN_COMMENT, text="x")), Unsupported)
    assert isinstance(linkedin_request(command(li, Op.REPLY, kind=DM, text="x", recipient="r")), Unsupported)


def test_the_capability_table_says_why_for_every_impossible_action():
    table = {(c.platform, c.operation, c.on): c for c in capabilities()}
    assert not table[(Platform.INSTAGRAM, Op.LIKE, "comment")].supported
    assert table[(Platform.FACEBOOK, Op.LIKE, "comment")].supported
    assert table[(Platform.X, Op.REPLY, "comment")].max_text == 280
    assert table[(Platform.X, Op.REPLY, "direct_message")].max_text == 8000
    assert table[(Platform.FACEBOOK, Op.NOTIFY, "comment")].supported
    assert all(c.reason for c in table.values() if not c.supported)
    assert unsupported(Platform.FACEBOOK, Op.LIKE, DM) == "a direct message cannot be liked"


def _headers(**values: str) -> httpx.Headers:
    return httpx.Headers(values)


def graph_body(code: int, subcode: int | None = None, **extra: object) -> bytes:
    error = {"message": "m", "type": "OAuthException", "code": code, **extra}
    if subcode:
        error["error_subcode"] = subcode
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(("code", "retried"), [(4, True), (17, True), (32, True), (613, True), (80001, True), (2, True),
                                               (10, False), (190, False), (200, False), (100, False)])
def test_graph_errors_retried_only_where_meta_says_retry(code: int, retried: bool):
    answer = GraphDialect().read(400, graph_body(code), _headers())
    assert (answer.done, answer.retry, answer.error_code) == (False, retried, f"graph:{code}")


def test_graph_outside_the_window_the_rate_limit_wait_and_created_ids():
    dialect = GraphDialect()
    outside = dialect.read(400, graph_body(10, 2018278), _headers())
    assert (outside.retry, outside.error_code) == (False, "graph:10/2018278")
    usage = json.dumps({"104": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 19}]})
    assert dialect.read(403, graph_body(32), _headers(**{"x-business-use-case-usage": usage})).wait_s == 19 * 60
    assert dialect.read(400, graph_body(1, is_transient=True), _headers()).retry
    assert dialect.read(200, b'{"id": "123_456"}', _headers()).created_id == "123_456"
    assert dialect.read(200, b'{"recipient_id": "1", "message_id": "m_9"}', _headers()).created_id == "m_9"
    assert dialect.read(502, b"Bad Gateway", _headers()).retry  # no Graph body: the shared rules


def test_x_and_linkedin_answers():
    x, linkedin = XDialect(), LinkedInDialect("202610")
    limited = x.read(429, b'{"errors": [{"code": 88}]}', _headers(**{"x-rate-limit-reset": "2000000030"}))
    assert (limited.retry, limited.error_code) == (True, "x:429")
    assert x.read(403, b'{"title": "Forbidden"}', _headers()).retry is False
    assert x.read(201, b'{"data": {"id": "186", "text": "Hej"}}', _headers()).created_id == "186"
    assert x.read(201, b'{"data": {"dm_conversation_id": "1-2", "dm_event_id": "187"}}', _headers()).created_id == "187"
    assert linkedin.read(201, b'{"$URN": "urn:li:comment:(urn:li:activity:1,2)", "id": "2"}',
                         _headers()).created_id == "urn:li:comment:(urn:li:activity:1,2)"
    assert linkedin.read(201, b"", _headers(**{"x-restli-id": "urn:li:reaction:(a,b)"})).created_id == "urn:li:reaction:(a,b)"
    assert linkedin.read(403, b'{"status": 403, "code": "ACCESS_DENIED"}', _headers()).error_code == "linkedin:403"
    assert linkedin.http_request(PlatformRequest("POST", "/rest/reactions"), "tok")["headers"] == {
        "Authorization": "Bearer tok", "LinkedIn-Version": "202610", "X-Restli-Protocol-Version": "2.0.0"}


def test_retry_after_in_seconds_dates_and_x_reset():
    assert retry_after_s(_headers(**{"retry-after": "7"})) == 7
    assert retry_after_s(_headers(**{"retry-after": "Tue, 01 Dec 2026 09:00:30 GMT"}), now=NOW.timestamp()) == 30
    assert retry_after_s(_headers(**{"x-rate-limit-reset": "1000"}), now=990) == 10
    assert retry_after_s(_headers()) is None


async def test_dry_run_says_what_would_have_been_sent_and_unsupported_comes_first():
    from socialops_moderation.actions.platform import PlatformClient

    client = PlatformClient(GraphDialect(), "http://127.0.0.1:9", {})  # no tokens: nothing is sent
    try:
        result = await client.execute(command(Platform.FACEBOOK, Op.REPLY, text="Hej!"))
        assert result.status == ActionStatus.DRY_RUN and result.detail == 'dry run: would POST /c-1/comments {"message": "Hej!"}'
        cannot = await client.execute(command(Platform.INSTAGRAM, Op.LIKE))
        assert (cannot.status, cannot.attempts) == (ActionStatus.UNSUPPORTED, 0) and "Instagram" in cannot.detail
    finally:
        await client.close()
