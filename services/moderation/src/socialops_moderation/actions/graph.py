"""Meta's Graph API: Facebook Pages, Messenger and Instagram (the page access token in `access_token`).

Facebook Page comments (developers.facebook.com/docs/graph-api/reference/comment,
.../reference/object/comments, .../reference/object/likes, .../reference/page/blocked):
    hide      POST   /{comment-id}             is_hidden=true   (unhide: is_hidden=false)
    delete    DELETE /{comment-id}
    block     POST   /{page-id}/blocked        user={user-id}
    reply     POST   /{comment-id}/comments    message=…         → {"id": "<new comment id>"}
    like      POST   /{comment-id}/likes                          → {"success": true}
Messenger Send API (developers.facebook.com/docs/messenger-platform/reference/send-api):
    DM reply  POST   /{page-id}/messages       {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                                                "message": {"text": …}}  → {"recipient_id", "message_id"}
              only inside the 24-hour window after the person's last message: outside it Meta answers
              error 10 / subcode 2018278 (developers.facebook.com/docs/messenger-platform/error-codes).
Private Replies (developers.facebook.com/docs/messenger-platform/discovery/private-replies):
    notice    POST   /{page-id}/messages       {"recipient": {"comment_id": …}, "message": {"text": …}}
              one message per comment, within 7 days of the comment; the platform's error after that.
Instagram (developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment,
.../ig-comment/replies, .../instagram-platform/private-replies, Instagram messaging "Send a message"):
    hide      POST   /{ig-comment-id}          hide=true        (unhide: hide=false)
    delete    DELETE /{ig-comment-id}
    reply     POST   /{ig-comment-id}/replies  message=…         → {"id": …}
    DM reply  POST   /{ig-user-id}/messages    {"recipient": {"id": IGSID}, "message": {"text": …}}
    notice    POST   /{ig-user-id}/messages    {"recipient": {"comment_id": …}, "message": {"text": …}}
    (no block, no like for comments: `unsupported`, capabilities.py)

Errors (developers.facebook.com/docs/graph-api/guides/error-handling): the body is
`{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}`. Retried: codes
1 and 2 (temporary), the throttling codes 4 (app), 17 (user), 32 (page), 341, 613 and the Business Use
Case codes 80001–80014 (…/graph-api/overview/rate-limiting), and any error Meta marks `is_transient`;
the wait comes from `X-Business-Use-Case-Usage` (`estimated_time_to_regain_access`, minutes) when Meta
sends it. Final: 10 (permission / outside the messaging window), 190 (token expired or revoked),
200–299 (permissions), and everything else.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from socialops_common.events import ActionOperation, Platform, PlatformActionCommand

from .capabilities import DIRECT_MESSAGES, unsupported
from .platform import Answer, Dialect, Invalid, PlatformRequest, Unsupported, retry_after_s

Op = ActionOperation

RETRIED_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, *range(80001, 80015)})
# What Meta's terse messages mean, added to the outcome's detail (message_sv says it in Swedish).
MEANINGS = {
    (10, 2018278): "outside the messaging window: more than 24 hours since the person's last message "
                   "(for a Private Reply: more than 7 days since the comment)",
    (190, None): "the access token expired or was revoked: a new page token is needed",
    (4, None): "the app's rate limit", (17, None): "the user's rate limit", (32, None): "the Page's rate limit",
    (613, None): "a rate limit of this call",
}


def graph_request(command: PlatformActionCommand) -> PlatformRequest | Unsupported | Invalid:
    """The Graph API request for a command, or why there is none (pure)."""
    reason = unsupported(command.platform, command.operation, command.item_kind)
    if reason:
        return Unsupported(reason)
    item, op, page = command.item_id, command.operation, command.account_id
    instagram = command.platform == Platform.INSTAGRAM
    if op in (Op.HIDE, Op.UNHIDE):
        flag = "hide" if instagram else "is_hidden"
        return PlatformRequest("POST", f"/{item}", form={flag: "true" if op == Op.HIDE else "false"})
    if op == Op.DELETE:
        return PlatformRequest("DELETE", f"/{item}")
    if op == Op.BLOCK_AUTHOR:
        if not command.author_id:
            return Invalid("no author id to block")
        return PlatformRequest("POST", f"/{page}/blocked", form={"user": command.author_id})
    if op == Op.LIKE:
        return PlatformRequest("POST", f"/{item}/likes")
    # a notice is the decision's notification text unless the editor wrote their own
    text = command.text if op == Op.REPLY else (command.text or command.notification_text)
    if not text:
        return Invalid(f"a {op.value} needs a text")
    if op == Op.NOTIFY:
        return PlatformRequest("POST", f"/{page}/messages", idempotent=False,
                               json={"recipient": {"comment_id": item}, "message": {"text": text}})
    if op == Op.REPLY:
        if command.item_kind in DIRECT_MESSAGES:
            if not command.recipient_id:
                return Invalid("a direct message reply needs the recipient's id")
            message: dict[str, Any] = {"recipient": {"id": command.recipient_id}}
            if not instagram:
                message["messaging_type"] = "RESPONSE"
            message["message"] = {"text": text}
            return PlatformRequest("POST", f"/{page}/messages", json=message, idempotent=False)
        edge = "replies" if instagram else "comments"
        return PlatformRequest("POST", f"/{item}/{edge}", form={"message": text}, idempotent=False)
    return Unsupported(f"no Graph API call for {op.value}")


def business_use_case_wait_s(headers: httpx.Headers) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`, in seconds."""
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access") or 0
        for entries in (usage.values() if isinstance(usage, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    return max(minutes) * 60.0 if minutes else None


class GraphDialect(Dialect):
    platforms = frozenset({Platform.FACEBOOK, Platform.INSTAGRAM})
    prefix = "graph"

    def request_for(self, command: PlatformActionCommand) -> PlatformRequest | Unsupported | Invalid:
        return graph_request(command)

    def http_request(self, request: PlatformRequest, token: str) -> dict[str, Any]:
        # The token in the form for form posts (as Meta's examples), else in the query string.
        if request.method == "POST" and request.json is None:
            return {"data": {**request.form, "access_token": token}}
        return {"params": {**request.params, "access_token": token}, "json": request.json}

    def created_id(self, body: Any, headers: httpx.Headers) -> str | None:
        if isinstance(body, dict):
            created = body.get("id") or body.get("message_id")
            return str(created) if created else None
        return None

    def error(self, status: int, body: Any, headers: httpx.Headers) -> Answer:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("code"), int):
            return super().error(status, body, headers)
        code, subcode = error["code"], error.get("error_subcode")
        retry = code in RETRIED_CODES or bool(error.get("is_transient")) or status >= 500
        wait = (business_use_case_wait_s(headers) or retry_after_s(headers)) if retry else None
        number = f"{code}/{subcode}" if subcode else str(code)
        meaning = MEANINGS.get((code, subcode)) or MEANINGS.get((code, None))
        return Answer(
            done=False, retry=retry, error_code=f"graph:{number}", wait_s=wait,
            detail=f"HTTP {status}: Graph error {number}{f' ({meaning})' if meaning else ''}: "
                   f"{str(error.get('message', ''))[:300]}",
        )
