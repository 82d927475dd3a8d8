"""LinkedIn organization social action notifications.

Validation (LinkedIn API guide, "Webhooks"): `GET ?challengeCode=C` is answered with
`{"challengeCode": C, "challengeResponse": hex HMAC-SHA256(client secret, C)}`.
Signature: `X-LI-Signature` is the hex HMAC-SHA256, keyed with the client secret, of the POST body
prefixed by `hmacsha256=`; some senders also prefix the header value itself with `hmacsha256=`,
which is accepted.

Payload: `{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [{"action":
"COMMENT"|"COMMENT_EDIT"|"COMMENT_DELETE"|"ADMIN_COMMENT"|"SHARE_MENTION"|..., "notificationId": n,
"organizationalEntity": "urn:li:organization:…", "sourcePost": urn, "generatedActivity": urn,
"decoratedGeneratedActivity": {"comment": {"entity", "owner", "text", "object"}}, "actor": urn,
"lastModifiedAt": ms}]}`. LinkedIn redelivers with the same `notificationId`, so edits use it as
their version and redelivered notifications give the same event id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
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
    as_text,
    from_epoch,
    make_event,
    same_secret_text,
)

SIGNATURE_HEADER = "x-li-signature"
NOTIFICATION_TYPE = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"
IGNORED_ACTIONS = frozenset({"LIKE", "SHARE", "REACTION", "REPOST", "INSTANT_REPOST"})
SIGNED_PREFIX = b"hmacsha256="


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def answer_challenge(params: Mapping[str, str], client_secret: str) -> dict[str, str]:
    code = params.get("challengeCode")
    if not code:
        raise HandshakeRefused("challengeCode is missing")
    if not client_secret:
        raise HandshakeRefused("no LinkedIn client secret is configured")
    return {"challengeCode": code, "challengeResponse": _hex(client_secret, code.encode("utf-8"))}


def signature(body: bytes, client_secret: str) -> str:
    return _hex(client_secret, SIGNED_PREFIX + body)


def verify_signature(body: bytes, header: str | None, client_secret: str) -> None:
    if not header:
        raise SignatureError(f"{SIGNATURE_HEADER} header is missing", missing=True)
    if not client_secret:
        raise SignatureError("no LinkedIn client secret is configured: every request is refused")
    received = header.strip().lower()
    if received.startswith("hmacsha256="):
        received = received[len("hmacsha256="):]
    if not same_secret_text(signature(body, client_secret), received):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def normalize(payload: Any, ctx: Context) -> Normalized:
    if not isinstance(payload, dict):
        raise UnreadablePayload(f"expected a JSON object, got {type(payload).__name__}")
    if payload.get("type") != NOTIFICATION_TYPE:
        raise UnreadablePayload(f"unknown LinkedIn notification type {payload.get('type')!r}")
    notifications = payload.get("notifications")
    if not isinstance(notifications, list):
        raise UnreadablePayload("'notifications' is missing or not a list")
    result = Normalized()
    for index, notification in enumerate(notifications):
        _notification(f"notifications[{index}]", notification, ctx, result)
    return result


def _notification(where: str, notification: Any, ctx: Context, result: Normalized) -> None:
    """COMMENT / ADMIN_COMMENT / COMMENT_EDIT / COMMENT_DELETE / SHARE_MENTION as canonical events.

    A comment whose actor is the organization itself, or an ADMIN_COMMENT (an admin writing as the
    page), is the city's reply. A COMMENT_DELETE by the organization is the city's removal; any
    other deletion is the author's.
    """
    if not isinstance(notification, dict):
        result.unreadable.append(f"{where}: not an object")
        return
    action = as_text(notification.get("action"))
    if action in IGNORED_ACTIONS:
        result.ignored.append(f"linkedin.{action.lower()}")
        return
    account_id = as_id(notification.get("organizationalEntity"))
    if account_id is None:
        result.unreadable.append(f"{where}: no organizationalEntity")
        return
    notification_id = as_id(notification.get("notificationId"))
    generated = as_dict(notification.get("decoratedGeneratedActivity"))
    comment = as_dict(generated.get("comment"))
    share = as_dict(generated.get("share"))
    source_post = as_id(notification.get("sourcePost")) or as_id(as_dict(notification.get("decoratedSourcePost")).get("entity"))
    item_id = as_id(notification.get("generatedActivity")) or as_id(comment.get("entity")) or as_id(share.get("entity"))
    actor = as_id(notification.get("actor")) or as_id(comment.get("owner")) or as_id(share.get("owner"))
    text = as_text(comment.get("text")) or as_text(as_dict(comment.get("message")).get("text")) or as_text(share.get("text"))
    occurred = from_epoch(notification.get("lastModifiedAt"), unit="ms")
    by_account = actor == account_id

    if action in ("COMMENT", "ADMIN_COMMENT"):
        kind = EventKind.REPLY_BY_ACCOUNT if action == "ADMIN_COMMENT" or by_account else EventKind.COMMENT_CREATED
        version = ""
    elif action == "COMMENT_EDIT":
        kind, version = EventKind.COMMENT_EDITED, notification_id or ""
    elif action == "COMMENT_DELETE":
        kind = EventKind.COMMENT_DELETED_BY_CITY if by_account else EventKind.COMMENT_DELETED_BY_AUTHOR
        version = ""
    elif action == "SHARE_MENTION":
        kind, version = EventKind.MENTION, ""
    else:
        result.unreadable.append(f"{where}: unknown LinkedIn action {notification.get('action')!r}"[:300])
        return
    if item_id is None:
        result.unreadable.append(f"{where}: {action} without generatedActivity")
        return
    if kind is EventKind.COMMENT_EDITED and not version:
        result.unreadable.append(f"{where}: COMMENT_EDIT without notificationId (edits need it to stay apart)")
        return
    thread_id = source_post or as_id(comment.get("object")) or item_id
    parent_id = as_id(comment.get("parentComment")) or as_id(comment.get("object")) or source_post
    result.events.append(make_event(
        ctx, platform=Platform.LINKEDIN, kind=kind, account_id=account_id, item_id=item_id,
        thread_id=thread_id, parent_id=parent_id if kind is not EventKind.MENTION else None,
        author_id=actor, text=text, occurred_at=occurred, raw={"type": NOTIFICATION_TYPE, "notifications": [notification]},
        version=version,
        author_is_account=True if action == "ADMIN_COMMENT" else None,
    ))
