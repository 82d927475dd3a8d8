"""LinkedIn organization social actions: challenge, signature and normalisation rules (pure)."""

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from socialops_common.events import EventKind
from socialops_ingest import payloads as p
from socialops_ingest.platforms import Context, HandshakeRefused, SignatureError, UnreadablePayload, linkedin

ORG = "urn:li:organization:2414183"
POST = "urn:li:activity:7094637247890620418"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CTX = Context(received_at=AT)


def test_challenge_response_is_hex_hmac_of_the_code():
    code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
    expected = hmac.new(b"client", code.encode(), hashlib.sha256).hexdigest()
    assert linkedin.answer_challenge({"challengeCode": code}, "client") == {
        "challengeCode": code, "challengeResponse": expected}
    with pytest.raises(HandshakeRefused):
        linkedin.answer_challenge({}, "client")


def test_signature_covers_the_body_prefixed_by_hmacsha256():
    body = b'{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}'
    expected = hmac.new(b"client", b"hmacsha256=" + body, hashlib.sha256).hexdigest()
    assert linkedin.signature(body, "client") == expected
    linkedin.verify_signature(body, expected, "client")
    linkedin.verify_signature(body, "hmacsha256=" + expected, "client")
    with pytest.raises(SignatureError):
        linkedin.verify_signature(body, hmac.new(b"client", body, hashlib.sha256).hexdigest(), "client")


def _note(notification_id, action, comment, actor, text=None):
    return p.linkedin_notification(notification_id=notification_id, organization=ORG, action=action, post_urn=POST,
                                   comment_urn=f"urn:li:comment:({POST},{comment})", actor=actor, at=AT, text=text)


def test_comment_admin_reply_edit_delete_and_mention():
    body = p.linkedin_body([
        _note(1, "COMMENT", 11, "urn:li:person:abc", "Söker ni sjuksköterskor?"),
        _note(2, "ADMIN_COMMENT", 12, "urn:li:person:redaktor", "Ja! Se helsingborg.se/jobb"),
        _note(3, "COMMENT_EDIT", 11, "urn:li:person:abc", "Söker ni undersköterskor?"),
        _note(4, "COMMENT_DELETE", 11, "urn:li:person:abc"),
        _note(5, "COMMENT_DELETE", 13, ORG),
        _note(6, "LIKE", 14, "urn:li:person:abc"),
    ])
    result = linkedin.normalize(body, CTX)
    assert [e.kind for e in result.events] == [
        EventKind.COMMENT_CREATED, EventKind.REPLY_BY_ACCOUNT, EventKind.COMMENT_EDITED,
        EventKind.COMMENT_DELETED_BY_AUTHOR, EventKind.COMMENT_DELETED_BY_CITY]
    assert result.ignored == ["linkedin.like"]
    comment, reply, edit = result.events[:3]
    assert comment.thread_id == POST and comment.text == "Söker ni sjuksköterskor?" and comment.occurred_at == AT
    assert reply.author.is_account


def test_redelivered_notification_gives_the_same_id_and_a_new_edit_a_new_one():
    first = linkedin.normalize(p.linkedin_body([_note(3, "COMMENT_EDIT", 11, "urn:li:person:a", "x")]), CTX).events[0]
    again = linkedin.normalize(p.linkedin_body([_note(3, "COMMENT_EDIT", 11, "urn:li:person:a", "x")]), CTX).events[0]
    other = linkedin.normalize(p.linkedin_body([_note(8, "COMMENT_EDIT", 11, "urn:li:person:a", "y")]), CTX).events[0]
    assert first.event_id == again.event_id != other.event_id


def test_other_notification_types_are_unreadable():
    with pytest.raises(UnreadablePayload):
        linkedin.normalize({"type": "LEAD_ACTION", "notifications": []}, CTX)
