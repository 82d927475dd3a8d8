"""X (Twitter) Account Activity API webhooks.

Challenge-Response Check (X docs, "Securing webhooks"): `GET ?crc_token=T` is answered with
`{"response_token": "sha256=<base64 HMAC-SHA256(consumer secret, T)>"}`.
Signature: `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>`.

Payload: `{"for_user_id": ACCOUNT, "tweet_create_events": [...], "tweet_delete_events": [...],
"direct_message_events": [...], "users": {...}}`; `for_user_id` is the city's account. Times:
`timestamp_ms` / `created_timestamp` are epoch milliseconds.

Threads: the v1.1 tweet objects of Account Activity carry no conversation id, so a tweet's thread
is `conversation_id` when present, else the tweet it replies to, else itself; `parent_id` is always
the tweet it replies to, which is what tells the SLA the city answered a question.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from socialops_common.events import EventKind, Platform

from . import (
    Context,
    HandshakeRefused,
    Normalized,
    SignatureError,
    UnreadablePayload,
    as_dict,
    as_id,
    as_list,
    as_text,
    from_epoch,
    make_event,
    same_secret_text,
)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
KNOWN_KEYS = ("tweet_create_events", "tweet_delete_events", "direct_message_events")
IGNORED_KEYS = ("favorite_events", "follow_events", "unfollow_events", "block_events", "unblock_events",
                "mute_events", "unmute_events", "user_event", "direct_message_indicate_typing_events",
                "direct_message_mark_read_events", "tweet_engagement_events")


def _digest(secret: str, message: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def answer_crc(params: Mapping[str, str], consumer_secret: str) -> dict[str, str]:
    token = params.get("crc_token")
    if not token:
        raise HandshakeRefused("crc_token is missing")
    if not consumer_secret:
        raise HandshakeRefused("no X consumer secret is configured")
    return {"response_token": _digest(consumer_secret, token.encode("utf-8"))}


def signature(body: bytes, consumer_secret: str) -> str:
    return _digest(consumer_secret, body)


def verify_signature(body: bytes, header: str | None, consumer_secret: str) -> None:
    if not header:
        raise SignatureError(f"{SIGNATURE_HEADER} header is missing", missing=True)
    if not consumer_secret:
        raise SignatureError("no X consumer secret is configured: every request is refused")
    if not same_secret_text(signature(body, consumer_secret), header.strip()):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def _created_at(tweet: dict[str, Any]) -> datetime | None:
    moment = from_epoch(tweet.get("timestamp_ms"), unit="ms")
    if moment is not None:
        return moment
    created = tweet.get("created_at")  # "Wed Oct 10 20:19:24 +0000 2018"
    if isinstance(created, str):
        try:
            return datetime.strptime(created, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        except ValueError:
            return None
    return None


def _full_text(tweet: dict[str, Any]) -> str | None:
    return (as_text(as_dict(tweet.get("extended_tweet")).get("full_text"))
            or as_text(tweet.get("full_text")) or as_text(tweet.get("text")))


def normalize(payload: Any, ctx: Context) -> Normalized:
    if not isinstance(payload, dict):
        raise UnreadablePayload(f"expected a JSON object, got {type(payload).__name__}")
    account_id = as_id(payload.get("for_user_id"))
    if account_id is None:
        raise UnreadablePayload("'for_user_id' is missing: whose account is this?")
    result = Normalized()
    if not any(key in payload for key in KNOWN_KEYS):
        ignored = [key for key in IGNORED_KEYS if key in payload]
        if not ignored:
            keys = sorted(k for k in payload if k not in ("for_user_id", "users", "apps"))
            raise UnreadablePayload(f"no known Account Activity event in keys {keys[:10]}")
        result.ignored.extend(f"x.{key}" for key in ignored)
        return result
    for key in KNOWN_KEYS:
        if key in payload and not isinstance(payload[key], list):
            result.unreadable.append(f"{key}: not a list")
    for index, tweet in enumerate(as_list(payload.get("tweet_create_events"))):
        _tweet(account_id, f"tweet_create_events[{index}]", tweet, ctx, result)
    for index, deletion in enumerate(as_list(payload.get("tweet_delete_events"))):
        _deletion(account_id, f"tweet_delete_events[{index}]", deletion, ctx, result)
    users = as_dict(payload.get("users"))
    for index, message in enumerate(as_list(payload.get("direct_message_events"))):
        _direct_message(account_id, f"direct_message_events[{index}]", message, users, ctx, result)
    return result


def _raw(account_id: str, key: str, fragment: Any) -> dict[str, Any]:
    return {"for_user_id": account_id, key: [fragment]}


def _tweet(account_id: str, where: str, tweet: Any, ctx: Context, result: Normalized) -> None:
    if not isinstance(tweet, dict):
        result.unreadable.append(f"{where}: not an object")
        return
    tweet_id = as_id(tweet.get("id_str")) or as_id(tweet.get("id"))
    if tweet_id is None:
        result.unreadable.append(f"{where}: tweet without id")
        return
    user = as_dict(tweet.get("user"))
    author_id = as_id(user.get("id_str")) or as_id(user.get("id"))
    reply_to = as_id(tweet.get("in_reply_to_status_id_str")) or as_id(tweet.get("in_reply_to_status_id"))
    thread_id = as_id(tweet.get("conversation_id_str")) or as_id(tweet.get("conversation_id")) or reply_to or tweet_id
    by_account = author_id == account_id
    if by_account:
        kind = EventKind.REPLY_BY_ACCOUNT if reply_to else EventKind.POST_PUBLISHED
    elif "retweeted_status" in tweet:  # a plain retweet of the city: no new words to handle
        result.ignored.append("x.retweet")
        return
    elif reply_to:
        kind = EventKind.COMMENT_CREATED  # a reply to the city, or further down one of its threads
    else:
        kind = EventKind.MENTION  # mentions and quote tweets
    screen_name = as_text(user.get("screen_name"))
    result.events.append(make_event(
        ctx, platform=Platform.X, kind=kind, account_id=account_id, item_id=tweet_id, thread_id=thread_id,
        parent_id=reply_to, author_id=author_id, author_name=as_text(user.get("name")) or screen_name,
        text=_full_text(tweet), occurred_at=_created_at(tweet),
        permalink=f"https://x.com/{screen_name}/status/{tweet_id}" if screen_name else None,
        raw=_raw(account_id, "tweet_create_events", tweet),
    ))


def _deletion(account_id: str, where: str, deletion: Any, ctx: Context, result: Normalized) -> None:
    """X only tells who owned the deleted tweet: the owner removed it (the city cannot delete others')."""
    status = as_dict(as_dict(deletion).get("status"))
    tweet_id = as_id(status.get("id_str")) or as_id(status.get("id"))
    if tweet_id is None:
        result.unreadable.append(f"{where}: deletion without status.id")
        return
    owner = as_id(status.get("user_id_str")) or as_id(status.get("user_id"))
    kind = EventKind.POST_DELETED if owner == account_id else EventKind.COMMENT_DELETED_BY_AUTHOR
    result.events.append(make_event(
        ctx, platform=Platform.X, kind=kind, account_id=account_id, item_id=tweet_id, thread_id=tweet_id,
        author_id=owner, occurred_at=from_epoch(as_dict(deletion).get("timestamp_ms"), unit="ms"),
        raw=_raw(account_id, "tweet_delete_events", deletion),
    ))


def _direct_message(account_id: str, where: str, message: Any, users: dict[str, Any], ctx: Context,
                    result: Normalized) -> None:
    if not isinstance(message, dict):
        result.unreadable.append(f"{where}: not an object")
        return
    if message.get("type") != "message_create":
        result.ignored.append("x.dm.not_message_create")  # bounded: reasons are metric labels
        return
    message_id = as_id(message.get("id"))
    create = as_dict(message.get("message_create"))
    sender = as_id(create.get("sender_id"))
    recipient = as_id(as_dict(create.get("target")).get("recipient_id"))
    if message_id is None or sender is None:
        result.unreadable.append(f"{where}: direct message without id or sender_id")
        return
    outgoing = sender == account_id
    citizen = recipient if outgoing else sender
    if citizen is None:
        result.unreadable.append(f"{where}: outgoing direct message without recipient_id")
        return
    sender_user = as_dict(users.get(sender))
    result.events.append(make_event(
        ctx, platform=Platform.X, kind=EventKind.DM_SENT if outgoing else EventKind.DM_RECEIVED,
        account_id=account_id, item_id=message_id, thread_id=f"dm:{citizen}", author_id=sender,
        author_name=as_text(sender_user.get("name")) or as_text(sender_user.get("screen_name")),
        text=as_text(as_dict(create.get("message_data")).get("text")),
        occurred_at=from_epoch(message.get("created_timestamp"), unit="ms"),
        raw=_raw(account_id, "direct_message_events", message),
    ))
