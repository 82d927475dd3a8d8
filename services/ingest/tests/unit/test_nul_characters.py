"""U+0000 in a platform body: PostgreSQL (moderation, sla, archive) cannot store it, so ingest
removes it before the event exists — the comment is then moderated and archived, not dead-lettered
by every store downstream (found by the poison-message tests of moderation and sla)."""

import json
from datetime import UTC, datetime

from socialops_ingest import payloads as p
from socialops_ingest.intake import ADAPTERS, decode_and_normalize, without_nul
from socialops_ingest.platforms import Context

PAGE = "104857600000001"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CTX = Context(received_at=datetime(2026, 3, 2, 9, 31, tzinfo=UTC))


def test_nul_is_removed_from_every_string_and_key_and_nothing_else_changes():
    assert without_nul({"a\x00b": ["x\x00", 1, None, {"k": "\x00\x00"}], "n": 2.5}) == {"ab": ["x", 1, None, {"k": ""}],
                                                                                      "n": 2.5}


def test_a_comment_with_nul_becomes_an_event_without_it_and_no_dead_letter():
    body = p.meta_body("page", [p.page_entry(PAGE, AT, [p.feed_comment(
        post_id=f"{PAGE}_1", comment_id="c\x001", at=AT, message="Hej\x00 kommunen", author=("7001", "An\x00na"))])])
    raw = json.dumps(body).encode()
    assert b"\\u0000" in raw
    normalized, reasons = decode_and_normalize(ADAPTERS["meta"], raw, CTX)
    assert reasons == []
    [event] = normalized.events
    assert (event.text, event.item_id, event.author.name) == ("Hej kommunen", "c1", "Anna")
    assert "\\u0000" not in event.model_dump_json()


def test_an_escaped_backslash_followed_by_u0000_is_text_and_kept():
    body = p.meta_body("page", [p.page_entry(PAGE, AT, [p.feed_comment(
        post_id=f"{PAGE}_1", comment_id="c2", at=AT, message="C:\\u0000 är en sökväg", author=("7001", "Anna"))])])
    normalized, _ = decode_and_normalize(ADAPTERS["meta"], json.dumps(body).encode(), CTX)
    assert normalized.events[0].text == "C:\\u0000 är en sökväg"
