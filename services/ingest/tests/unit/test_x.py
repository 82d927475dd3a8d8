"""X Account Activity: CRC, signature and normalisation rules (pure)."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from socialops_common.events import EventKind
from socialops_ingest import payloads as p
from socialops_ingest.platforms import Context, HandshakeRefused, SignatureError, UnreadablePayload, x

CITY = ("19446000", "helsingborg", "Helsingborgs stad")
CITIZEN = ("3001", "medborgare", "Eva Ek")
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CTX = Context(received_at=AT)


def test_crc_answer_is_base64_hmac_of_the_token_as_x_documents():
    expected = base64.b64encode(hmac.new(b"consumer", b"abc123", hashlib.sha256).digest()).decode()
    assert x.answer_crc({"crc_token": "abc123"}, "consumer") == {"response_token": f"sha256={expected}"}
    with pytest.raises(HandshakeRefused):
        x.answer_crc({}, "consumer")


def test_signature_is_base64_hmac_of_the_body():
    body = b'{"for_user_id":"1"}'
    x.verify_signature(body, x.signature(body, "consumer"), "consumer")
    with pytest.raises(SignatureError):
        x.verify_signature(body, x.signature(body, "other"), "consumer")
    with pytest.raises(SignatureError):
        x.verify_signature(body, None, "consumer")


def test_question_reply_by_city_mention_deletion_and_dms():
    question = p.tweet(tweet_id="500", at=AT, text="@helsingborg när töms soporna i Råå?", user=CITIZEN,
                       in_reply_to=("400", CITY[0]))
    answer = p.tweet(tweet_id="501", at=AT, text="@medborgare På tisdagar!", user=CITY, in_reply_to=("500", CITIZEN[0]))
    own_post = p.tweet(tweet_id="502", at=AT, text="Pressmeddelande: ny park", user=CITY)
    mention = p.tweet(tweet_id="503", at=AT, text="Bra jobbat @helsingborg", user=CITIZEN)
    body = p.x_body(
        CITY[0],
        tweet_create_events=[question, answer, own_post, mention],
        tweet_delete_events=[p.tweet_deletion(tweet_id="500", user_id=CITIZEN[0], at=AT)],
        direct_message_events=[
            p.x_direct_message(message_id="9001", at=AT, sender=CITIZEN[0], recipient=CITY[0], text="Hej!"),
            p.x_direct_message(message_id="9002", at=AT, sender=CITY[0], recipient=CITIZEN[0], text="Hej hej"),
        ],
    )
    events = x.normalize(body, CTX).events
    assert [e.kind for e in events] == [
        EventKind.COMMENT_CREATED, EventKind.REPLY_BY_ACCOUNT, EventKind.POST_PUBLISHED, EventKind.MENTION,
        EventKind.COMMENT_DELETED_BY_AUTHOR, EventKind.DM_RECEIVED, EventKind.DM_SENT]
    assert events[1].parent_id == "500" and events[1].author.is_account
    assert events[0].occurred_at == AT and events[0].permalink == "https://x.com/medborgare/status/500"
    assert events[5].thread_id == events[6].thread_id == "dm:3001"


def test_only_favorites_is_ignored_but_unknown_keys_are_unreadable():
    assert x.normalize({"for_user_id": "1", "favorite_events": [{}]}, CTX).ignored == ["x.favorite_events"]
    with pytest.raises(UnreadablePayload):
        x.normalize({"for_user_id": "1", "something_new": []}, CTX)
    with pytest.raises(UnreadablePayload):
        x.normalize({"tweet_create_events": []}, CTX)
