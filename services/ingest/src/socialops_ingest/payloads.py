"""Platform webhook bodies shaped like the platforms' documented examples, and signed deliveries.

Pure builders: the traffic generator, the tests and the benchmark use them to talk to ingest
exactly as Meta, X and LinkedIn would (same JSON shapes, same signature headers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .platforms import linkedin, meta, x

PATHS = {"meta": "/webhooks/meta", "x": "/webhooks/x", "linkedin": "/webhooks/linkedin"}


@dataclass(frozen=True)
class Secrets:
    meta_app_secret: str
    x_consumer_secret: str
    linkedin_client_secret: str


@dataclass(frozen=True)
class Delivery:
    """One signed webhook POST, ready to send: `POST target + path` with `headers` and `body`."""

    platform: str  # "meta" | "x" | "linkedin"
    body: bytes
    headers: dict[str, str]
    events: int  # how many canonical events the body should produce

    @property
    def path(self) -> str:
        return PATHS[self.platform]


def sign(platform: str, payload: Any, secrets: Secrets, *, events: int = 1) -> Delivery:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if platform == "meta":
        header = {meta.SIGNATURE_HEADER: meta.signature(body, secrets.meta_app_secret)}
    elif platform == "x":
        header = {x.SIGNATURE_HEADER: x.signature(body, secrets.x_consumer_secret)}
    elif platform == "linkedin":
        header = {linkedin.SIGNATURE_HEADER: linkedin.signature(body, secrets.linkedin_client_secret)}
    else:
        raise ValueError(f"unknown platform {platform!r}")
    return Delivery(platform, body, {"content-type": "application/json", **header}, events)


def epoch_s(moment: datetime) -> int:
    return int(moment.timestamp())


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- Meta -----------------------------------------------------------------------------------------


def meta_body(object_kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": object_kind, "entry": entries}


def page_entry(page_id: str, at: datetime, changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": page_id, "time": epoch_s(at), "changes": changes}


def feed_comment(*, post_id: str, comment_id: str, at: datetime, verb: str = "add", message: str | None = None,
                 author: tuple[str, str] | None = None, parent_id: str | None = None) -> dict[str, Any]:
    """A `feed` change for a comment (`verb` add / edited / remove / hide / unhide); times in seconds."""
    value: dict[str, Any] = {"item": "comment", "verb": verb, "post_id": post_id, "comment_id": comment_id,
                             "parent_id": parent_id or post_id, "created_time": epoch_s(at)}
    if author is not None:
        value["from"] = {"id": author[0], "name": author[1]}
    if message is not None:
        value["message"] = message
    if verb in ("hide", "unhide"):
        value["is_hidden"] = verb == "hide"
    return {"field": "feed", "value": value}


def feed_post(*, page_id: str, post_id: str, at: datetime, message: str, verb: str = "add",
              page_name: str = "") -> dict[str, Any]:
    return {"field": "feed", "value": {
        "item": "status", "verb": verb, "post_id": post_id, "message": message, "published": 1,
        "created_time": epoch_s(at), "from": {"id": page_id, "name": page_name},
        "post": {"id": post_id, "status_type": "mobile_status_update", "is_published": True,
                 "permalink_url": f"https://www.facebook.com/{post_id}"},
    }}


def messaging_entry(account_id: str, at: datetime, *, sender: str, recipient: str, mid: str, text: str,
                    echo: bool = False) -> dict[str, Any]:
    """Messenger / Instagram messaging: entry and event times in milliseconds."""
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message["is_echo"] = True
    return {"id": account_id, "time": epoch_ms(at), "messaging": [{
        "sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": epoch_ms(at), "message": message,
    }]}


def instagram_comment_value(*, comment_id: str, media_id: str, text: str, author: tuple[str, str],
                            parent_id: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"id": comment_id, "text": text, "from": {"id": author[0], "username": author[1]},
                             "media": {"id": media_id, "media_product_type": "FEED"}}
    if parent_id:
        value["parent_id"] = parent_id
    return value


def instagram_changes_entry(account_id: str, at: datetime, field: str, value: dict[str, Any]) -> dict[str, Any]:
    """Instagram API with Facebook Login: `changes` list."""
    return {"id": account_id, "time": epoch_s(at), "changes": [{"field": field, "value": value}]}


def instagram_login_entry(account_id: str, at: datetime, field: str, value: dict[str, Any]) -> dict[str, Any]:
    """Instagram API with Instagram Login: `field`/`value` directly in the entry."""
    return {"id": account_id, "time": epoch_s(at), "field": field, "value": value}


# --- X --------------------------------------------------------------------------------------------


def tweet(*, tweet_id: str, at: datetime, text: str, user: tuple[str, str, str],
          in_reply_to: tuple[str, str] | None = None) -> dict[str, Any]:
    """A v1.1 tweet object as Account Activity delivers it; `user` is (id, screen_name, name)."""
    data: dict[str, Any] = {
        "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "id": int(tweet_id), "id_str": tweet_id, "text": text, "timestamp_ms": str(epoch_ms(at)),
        "user": {"id": int(user[0]), "id_str": user[0], "screen_name": user[1], "name": user[2]},
        "in_reply_to_status_id": None, "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None, "in_reply_to_user_id_str": None,
    }
    if in_reply_to is not None:
        data.update({"in_reply_to_status_id": int(in_reply_to[0]), "in_reply_to_status_id_str": in_reply_to[0],
                     "in_reply_to_user_id": int(in_reply_to[1]), "in_reply_to_user_id_str": in_reply_to[1]})
    return data


def tweet_deletion(*, tweet_id: str, user_id: str, at: datetime) -> dict[str, Any]:
    return {"status": {"id": tweet_id, "user_id": user_id}, "timestamp_ms": str(epoch_ms(at))}


def x_direct_message(*, message_id: str, at: datetime, sender: str, recipient: str, text: str) -> dict[str, Any]:
    return {"type": "message_create", "id": message_id, "created_timestamp": str(epoch_ms(at)),
            "message_create": {"target": {"recipient_id": recipient}, "sender_id": sender,
                               "message_data": {"text": text, "entities": {"hashtags": [], "urls": []}}}}


def x_body(account_id: str, **events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"for_user_id": account_id, **events}


# --- LinkedIn -------------------------------------------------------------------------------------


def linkedin_notification(*, notification_id: int, organization: str, action: str, post_urn: str,
                          comment_urn: str, actor: str, at: datetime, text: str | None = None) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "notificationId": notification_id, "organizationalEntity": organization, "action": action,
        "sourcePost": post_urn, "generatedActivity": comment_urn, "actor": actor,
        "lastModifiedAt": epoch_ms(at), "subscriber": "urn:li:person:redaktor01",
    }
    if text is not None:
        notification["decoratedGeneratedActivity"] = {
            "comment": {"entity": comment_urn, "owner": actor, "text": text, "object": post_urn}}
    return notification


def linkedin_body(notifications: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": linkedin.NOTIFICATION_TYPE, "notifications": notifications}
