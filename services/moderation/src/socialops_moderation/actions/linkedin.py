"""LinkedIn's Community Management API (versioned `/rest` endpoints), acting as the organization.

Every call carries `Authorization: Bearer <token>`, `LinkedIn-Version: YYYYMM`
(`SOCIALOPS_LINKEDIN_VERSION`; LinkedIn supports a version for about a year) and
`X-Restli-Protocol-Version: 2.0.0`; URNs in paths and query strings are percent-encoded.
(learn.microsoft.com/linkedin/marketing/community-management/shares/comments-api,
.../shares/reactions-api, .../versioning)

    comment   POST   /rest/socialActions/{urn}/comments   {"actor": <organization URN>, "object": <post URN>,
                                                            "message": {"text": …}[, "parentComment": <URN>]}
              on a citizen's comment: {urn} = that comment's URN, with `parentComment`; on a mention: the post
              → 201 with the new comment (`$URN`, `id`) and `x-restli-id`
    delete    DELETE /rest/socialActions/{post URN}/comments/{comment id}?actor=<organization URN>   → 204
    like      POST   /rest/reactions?actor=<organization URN>   {"root": <URN>, "reactionType": "LIKE"}  → 201
Permissions: w_organization_social (w_organization_social_feed in the newest versions), with the
ADMINISTRATOR role on the page. LinkedIn has no hide, no block and no notice: `unsupported`.

Errors: `{"status", "serviceErrorCode", "code", "message"}`; the error code is the HTTP status
(`linkedin:403`, `linkedin:429`). 429 and 5xx are retried (`Retry-After` when sent); 401 and 403 are final.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
from socialops_common.events import ActionOperation, EventKind, Platform, PlatformActionCommand

from .capabilities import unsupported
from .platform import Dialect, Invalid, PlatformRequest, Unsupported

Op = ActionOperation

# urn:li:comment:(urn:li:activity:7012345,7023456) — the post it belongs to, and its own id
COMMENT_URN = re.compile(r"^urn:li:comment:\((?P<post>urn:li:[A-Za-z]+:[^,()]+),(?P<id>[^,()]+)\)$")


def _urn(value: str) -> str:
    return quote(value, safe="")


def linkedin_request(command: PlatformActionCommand) -> PlatformRequest | Unsupported | Invalid:
    """The Community Management API request for a command, or why there is none (pure)."""
    reason = unsupported(command.platform, command.operation, command.item_kind)
    if reason:
        return Unsupported(reason)
    item, op, organization = command.item_id, command.operation, command.account_id
    comment = COMMENT_URN.match(item)
    actor = {"actor": organization}
    if op == Op.DELETE:
        if not comment:
            return Invalid(f"{item!r} is not a LinkedIn comment URN (urn:li:comment:(<post>,<id>))")
        return PlatformRequest("DELETE", f"/rest/socialActions/{_urn(comment['post'])}/comments/{_urn(comment['id'])}",
                               params=actor)
    if op == Op.LIKE:
        return PlatformRequest("POST", "/rest/reactions", params=actor, json={"root": item, "reactionType": "LIKE"})
    if op == Op.REPLY:
        if not command.text:
            return Invalid("a comment needs a text")
        body: dict[str, Any] = {"actor": organization, "message": {"text": command.text}}
        if comment and command.item_kind != EventKind.MENTION:
            body |= {"object": comment["post"], "parentComment": item}
        else:
            body["object"] = item
        return PlatformRequest("POST", f"/rest/socialActions/{_urn(item)}/comments", json=body, idempotent=False)
    return Unsupported(f"no LinkedIn API call for {op.value}")


class LinkedInDialect(Dialect):
    platforms = frozenset({Platform.LINKEDIN})
    prefix = "linkedin"

    def __init__(self, version: str) -> None:
        self.version = version

    def request_for(self, command: PlatformActionCommand) -> PlatformRequest | Unsupported | Invalid:
        return linkedin_request(command)

    def http_request(self, request: PlatformRequest, token: str) -> dict[str, Any]:
        arguments = super().http_request(request, token)
        arguments["headers"] |= {"LinkedIn-Version": self.version, "X-Restli-Protocol-Version": "2.0.0"}
        return arguments

    def created_id(self, body: Any, headers: httpx.Headers) -> str | None:
        if isinstance(body, dict) and body.get("$URN"):
            return str(body["$URN"])
        return headers.get("x-restli-id") or None
