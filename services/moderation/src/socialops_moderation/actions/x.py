"""X API v2, with each account's OAuth 2.0 user-context access token (`Authorization: Bearer`).

    reply     POST /2/tweets                         {"text": …, "reply": {"in_reply_to_tweet_id": …}}
                                                      → 201 {"data": {"id", "text"}}
              (docs.x.com/x-api/posts/create-post; scopes tweet.read, tweet.write, users.read)
    DM reply  POST /2/dm_conversations/with/{participant_id}/messages   {"text": …}
                                                      → 201 {"data": {"dm_conversation_id", "dm_event_id"}}
              (docs.x.com/x-api/direct-messages/create-dm-message-by-participant-id; dm.write, dm.read)
    hide      PUT  /2/tweets/{id}/hidden             {"hidden": true}   (unhide: false) → {"data": {"hidden"}}
              only replies in conversations the account started
              (docs.x.com/x-api/posts/hide-replies; tweet.moderate.write)
    block     POST /2/users/{account id}/blocking    {"target_user_id": …} → {"data": {"blocking": true}}
              (docs.x.com/x-api/users/blocks; block.write — X offers it on the Enterprise plan only:
              elsewhere X answers 403, and the outcome says so)
    like      POST /2/users/{account id}/likes       {"tweet_id": …}    → {"data": {"liked": true}}
              (docs.x.com/x-api/posts/likes; like.write)
A citizen's post cannot be deleted by the account, and X has no notice to a commenter: `unsupported`.

Errors are problem documents `{"title", "detail", "type", "status"}`; the error code is the HTTP
status (`x:403`, `x:429`). 429 and 5xx are retried, waiting for `x-rate-limit-reset` (epoch seconds,
docs.x.com/fundamentals/rate-limits); 401 (the token expired: X's user tokens live two hours unless
refreshed) and 403 are final.
"""

from __future__ import annotations

from typing import Any

import httpx
from socialops_common.events import ActionOperation, Platform, PlatformActionCommand

from .capabilities import DIRECT_MESSAGES, unsupported
from .platform import Dialect, Invalid, PlatformRequest, Unsupported

Op = ActionOperation


def x_request(command: PlatformActionCommand) -> PlatformRequest | Unsupported | Invalid:
    """The X API v2 request for a command, or why there is none (pure)."""
    reason = unsupported(command.platform, command.operation, command.item_kind)
    if reason:
        return Unsupported(reason)
    item, op, account = command.item_id, command.operation, command.account_id
    if op in (Op.HIDE, Op.UNHIDE):
        return PlatformRequest("PUT", f"/2/tweets/{item}/hidden", json={"hidden": op == Op.HIDE})
    if op == Op.BLOCK_AUTHOR:
        if not command.author_id:
            return Invalid("no author id to block")
        return PlatformRequest("POST", f"/2/users/{account}/blocking", json={"target_user_id": command.author_id})
    if op == Op.LIKE:
        return PlatformRequest("POST", f"/2/users/{account}/likes", json={"tweet_id": item})
    if op == Op.REPLY:
        if not command.text:
            return Invalid("a reply needs a text")
        if command.item_kind in DIRECT_MESSAGES:
            if not command.recipient_id:
                return Invalid("a direct message reply needs the recipient's id")
            return PlatformRequest("POST", f"/2/dm_conversations/with/{command.recipient_id}/messages",
                                   json={"text": command.text}, idempotent=False)
        return PlatformRequest("POST", "/2/tweets", idempotent=False,
                               json={"text": command.text, "reply": {"in_reply_to_tweet_id": item}})
    return Unsupported(f"no X API call for {op.value}")


class XDialect(Dialect):
    platforms = frozenset({Platform.X})
    prefix = "x"

    def request_for(self, command: PlatformActionCommand) -> PlatformRequest | Unsupported | Invalid:
        return x_request(command)

    def created_id(self, body: Any, headers: httpx.Headers) -> str | None:
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict):
            created = data.get("id") or data.get("dm_event_id")
            return str(created) if created else None
        return None
