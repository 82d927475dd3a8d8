"""Meta: handshake, signature and normalisation rules (pure, no broker)."""

from datetime import UTC, datetime

import pytest
from socialops_common.events import EventKind, Platform, social_event_id
from socialops_ingest import payloads as p
from socialops_ingest.platforms import Context, HandshakeRefused, SignatureError, UnreadablePayload, meta

PAGE = "104857600000001"
IG = "17841400000000001"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CTX = Context(received_at=datetime(2026, 3, 2, 9, 31, tzinfo=UTC))


def test_handshake_echoes_the_challenge_only_for_our_verify_token():
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert meta.answer_handshake(params, "tok") == "1158201444"
    with pytest.raises(HandshakeRefused):
        meta.answer_handshake({**params, "hub.verify_token": "wrong"}, "tok")
    with pytest.raises(HandshakeRefused):
        meta.answer_handshake({**params, "hub.mode": "unsubscribe"}, "tok")
    with pytest.raises(HandshakeRefused):
        meta.answer_handshake(params, "")  # no token configured: nobody can subscribe


def test_signature_is_hex_hmac_of_the_raw_bytes():
    body = b'{"object":"page","entry":[]}'
    header = meta.signature(body, "s3cret")
    assert header.startswith("sha256=") and len(header) == 7 + 64
    meta.verify_signature(body, header, "s3cret")
    meta.verify_signature(body, header.upper().replace("SHA256=", "sha256="), "s3cret")  # hex case
    with pytest.raises(SignatureError) as wrong:
        meta.verify_signature(body + b" ", header, "s3cret")
    assert not wrong.value.missing
    with pytest.raises(SignatureError) as missing:
        meta.verify_signature(body, None, "s3cret")
    assert missing.value.missing


def test_feed_batch_gives_one_event_per_change_with_the_citys_reply_told_apart():
    body = p.meta_body("page", [
        p.page_entry(PAGE, AT, [
            p.feed_comment(post_id=f"{PAGE}_1", comment_id="1_100", at=AT, message="När öppnar badet?",
                           author=("555", "Anna Andersson")),
            p.feed_comment(post_id=f"{PAGE}_1", comment_id="1_101", at=AT, message="Den 1 juni! /Louise",
                           author=(PAGE, "Helsingborgs stad"), parent_id="1_100"),
        ]),
        p.page_entry(PAGE, AT, [p.feed_comment(post_id=f"{PAGE}_1", comment_id="1_100", at=AT, verb="hide")]),
    ])
    events = meta.normalize(body, CTX).events
    assert [e.kind for e in events] == [EventKind.COMMENT_CREATED, EventKind.REPLY_BY_ACCOUNT, EventKind.COMMENT_HIDDEN]
    question, reply, hidden = events
    assert question.platform is Platform.FACEBOOK and question.account_id == PAGE
    assert question.thread_id == reply.thread_id == hidden.thread_id == f"{PAGE}_1"
    assert question.occurred_at == AT  # feed times are seconds
    assert question.author.name == "Anna Andersson" and not question.author.is_account
    assert reply.author.is_account and reply.parent_id == "1_100"
    assert hidden.author.is_account and hidden.item_id == "1_100"
    assert question.event_id == social_event_id(Platform.FACEBOOK, EventKind.COMMENT_CREATED, "1_100")
    assert question.raw["entry"]["changes"][0]["value"]["message"] == "När öppnar badet?"


def test_removals_by_the_page_are_the_citys_and_others_or_unknown_are_the_authors():
    def removal(author):
        change = p.feed_comment(post_id="1", comment_id="1_7", at=AT, verb="remove", author=author)
        return meta.normalize(p.meta_body("page", [p.page_entry(PAGE, AT, [change])]), CTX).events[0].kind

    assert removal((PAGE, "Helsingborgs stad")) is EventKind.COMMENT_DELETED_BY_CITY
    assert removal(("555", "Anna")) is EventKind.COMMENT_DELETED_BY_AUTHOR
    assert removal(None) is EventKind.COMMENT_DELETED_BY_AUTHOR  # Meta omits `from` on some removals


def test_edits_are_new_versions_and_redelivery_gives_the_same_id():
    def edit(text, at):
        change = p.feed_comment(post_id="1", comment_id="1_7", at=at, verb="edited", message=text, author=("5", "A"))
        return meta.normalize(p.meta_body("page", [p.page_entry(PAGE, at, [change])]), CTX).events[0]

    first, again = edit("ny text", AT), edit("ny text", AT)
    later = edit("ändrad igen", AT.replace(minute=45))
    assert first.kind is EventKind.COMMENT_EDITED
    assert first.event_id == again.event_id
    assert later.event_id != first.event_id


def test_messenger_times_are_milliseconds_and_echoes_are_the_city_writing():
    inbound = p.messaging_entry(PAGE, AT, sender="999", recipient=PAGE, mid="m_1", text="Hej, var hämtar jag säckar?")
    echo = p.messaging_entry(PAGE, AT, sender=PAGE, recipient="999", mid="m_2", text="Hej! På återvinningscentralen.",
                             echo=True)
    events = meta.normalize(p.meta_body("page", [inbound, echo]), CTX).events
    assert [e.kind for e in events] == [EventKind.DM_RECEIVED, EventKind.DM_SENT]
    assert events[0].occurred_at == AT
    assert events[0].thread_id == events[1].thread_id == "dm:999"
    assert events[1].author.is_account and not events[0].author.is_account


def test_instagram_changes_form_and_instagram_login_form_read_the_same():
    value = p.instagram_comment_value(comment_id="1790", media_id="1800", text="Hur söker man?", author=("42", "kalle"))
    changes = meta.normalize(p.meta_body("instagram", [p.instagram_changes_entry(IG, AT, "comments", value)]), CTX)
    login = meta.normalize([p.meta_body("instagram", [p.instagram_login_entry(IG, AT, "comments", value)])], CTX)
    for result in (changes, login):
        (event,) = result.events
        assert event.platform is Platform.INSTAGRAM and event.kind is EventKind.COMMENT_CREATED
        assert (event.item_id, event.thread_id, event.text, event.author.name) == ("1790", "1800", "Hur söker man?", "kalle")
    assert changes.events[0].event_id == login.events[0].event_id


def test_instagram_own_comment_is_a_reply_and_mentions_and_live_comments_are_read():
    own = p.instagram_comment_value(comment_id="1", media_id="2", text="Svar", author=(IG, "helsingborgsstad"))
    live = p.instagram_comment_value(comment_id="3", media_id="4", text="Hej!", author=("7", "lisa"))
    body = p.meta_body("instagram", [
        p.instagram_changes_entry(IG, AT, "comments", own),
        p.instagram_changes_entry(IG, AT, "live_comments", live),
        p.instagram_changes_entry(IG, AT, "mentions", {"media_id": "9", "comment_id": "10"}),
    ])
    assert [e.kind for e in meta.normalize(body, CTX).events] == [
        EventKind.REPLY_BY_ACCOUNT, EventKind.COMMENT_CREATED, EventKind.MENTION]


def test_reactions_are_counted_as_ignored_and_unknown_parts_are_reported_per_entry():
    body = p.meta_body("page", [
        p.page_entry(PAGE, AT, [{"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": "1"}}]),
        p.page_entry(PAGE, AT, [{"field": "ratings", "value": {"x": 1}}]),
        p.page_entry(PAGE, AT, [p.feed_comment(post_id="1", comment_id="1_2", at=AT, message="ok", author=("5", "A"))]),
    ])
    result = meta.normalize(body, CTX)
    assert len(result.events) == 1
    assert result.ignored == ["feed.reaction"]
    assert result.unreadable == ["entry[1].changes[0]: unknown facebook field 'ratings'"]


@pytest.mark.parametrize("payload", [
    {"object": "whatsapp_business_account", "entry": []},
    {"object": "page"},
    [],
    "page",
    None,
])
def test_bodies_of_unknown_shape_are_unreadable(payload):
    with pytest.raises(UnreadablePayload):
        meta.normalize(payload, CTX)


def test_unknown_accounts_are_flagged_not_refused():
    ctx = Context(received_at=CTX.received_at, is_known_account=lambda platform, account: account == PAGE)
    body = p.meta_body("page", [
        p.page_entry(PAGE, AT, [p.feed_comment(post_id="1", comment_id="1_1", at=AT, message="a", author=("5", "A"))]),
        p.page_entry("777", AT, [p.feed_comment(post_id="2", comment_id="2_1", at=AT, message="b", author=("5", "A"))]),
    ])
    assert [e.account_known for e in meta.normalize(body, ctx).events] == [True, False]


def test_standby_messages_are_read_like_messaging_so_no_dm_is_lost_during_handover():
    entry = p.messaging_entry(PAGE, AT, sender="999", recipient=PAGE, mid="m_9", text="Hallå?")
    entry["standby"] = entry.pop("messaging")
    (event,) = meta.normalize(p.meta_body("page", [entry]), CTX).events
    assert event.kind is EventKind.DM_RECEIVED and event.raw["entry"]["standby"][0]["message"]["mid"] == "m_9"
