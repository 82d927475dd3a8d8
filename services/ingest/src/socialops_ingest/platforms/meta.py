"""Meta webhooks: Facebook Page `feed` + Messenger, Instagram comments/mentions/messaging.

Handshake (Graph API "Webhooks — Getting started"): `GET ?hub.mode=subscribe&hub.verify_token=T
&hub.challenge=C` is answered with the plain text `C` when `T` is our verify token.
Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.

Payload forms understood:
- `{"object": "page", "entry": [{"id": PAGE, "time": s, "changes": [{"field": "feed", "value": ...}]}]}`
  with `item` comment / status / post / photo / video / share and `verb` add / edited / remove /
  hide / unhide; `feed` times are epoch **seconds**; `from` may be missing or only `{id}` on removals.
- `{"object": "page", "entry": [{"id": PAGE, "time": ms, "messaging": [...]}]}` (Messenger);
  Messenger times are epoch **milliseconds**; `message.is_echo` marks what the page sent.
- `{"object": "instagram", "entry": [{"id": IG, "changes": [{"field": "comments"|"live_comments"|
  "mentions"|"story_insights", ...}]}]}` (Instagram API with Facebook Login), and the Instagram-Login
  form where `field`/`value` sit directly in the entry without `changes`; Instagram messaging comes
  as `entry[].messaging` like Messenger. The Instagram docs show the body wrapped in a list: accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from socialops_common.events import EventKind, MetricSnapshot, Platform, text_fingerprint

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
    from_iso,
    make_event,
    same_secret_text,
)

SIGNATURE_HEADER = "x-hub-signature-256"
POST_ITEMS = frozenset({"status", "post", "photo", "video", "share", "album", "link", "event", "note"})
IGNORED_FEED_ITEMS = frozenset({"reaction", "like"})
IGNORED_MESSAGING = ("delivery", "read", "reaction", "postback", "referral", "optin", "account_linking",
                     "message_edit", "policy_enforcement", "pass_thread_control", "take_thread_control")

# feed verb -> kind, by whether the page itself is `from` (see `_feed` for why)
COMMENT_VERBS: dict[bool, dict[str, EventKind]] = {
    own: {
        "add": EventKind.REPLY_BY_ACCOUNT if own else EventKind.COMMENT_CREATED,
        "edited": EventKind.COMMENT_EDITED,
        "remove": EventKind.COMMENT_DELETED_BY_CITY if own else EventKind.COMMENT_DELETED_BY_AUTHOR,
        "hide": EventKind.COMMENT_HIDDEN,
        "unhide": EventKind.COMMENT_UNHIDDEN,
    }
    for own in (True, False)
}
POST_VERBS: dict[bool, dict[str, EventKind]] = {
    own: {
        "add": EventKind.POST_PUBLISHED if own else EventKind.COMMENT_CREATED,
        "edited": EventKind.POST_EDITED if own else EventKind.COMMENT_EDITED,
        "remove": EventKind.POST_DELETED if own else EventKind.COMMENT_DELETED_BY_AUTHOR,
        "hide": EventKind.COMMENT_HIDDEN,
        "unhide": EventKind.COMMENT_UNHIDDEN,
    }
    for own in (True, False)
}


def answer_handshake(params: Mapping[str, str], verify_token: str) -> str:
    """The `hub.challenge` to echo, or `HandshakeRefused` (answered 403)."""
    if params.get("hub.mode") != "subscribe":
        raise HandshakeRefused("hub.mode must be 'subscribe'")
    challenge = params.get("hub.challenge")
    if not challenge:
        raise HandshakeRefused("hub.challenge is missing")
    if not verify_token or not same_secret_text(verify_token, params.get("hub.verify_token", "")):
        raise HandshakeRefused("hub.verify_token does not match")
    return challenge


def signature(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body` (used by the simulator and tests)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, app_secret: str) -> None:
    """Constant-time check of the HMAC over the raw bytes, as received (never re-serialised)."""
    if not header:
        raise SignatureError(f"{SIGNATURE_HEADER} header is missing", missing=True)
    if not app_secret:
        raise SignatureError("no Meta app secret is configured: every request is refused")
    if not same_secret_text(signature(body, app_secret), header.strip().lower()):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def normalize(payload: Any, ctx: Context) -> Normalized:
    """Every entry, change and message of one webhook body as canonical events."""
    objects = payload if isinstance(payload, list) else [payload]
    if not objects:
        raise UnreadablePayload("empty list: no webhook object")
    result = Normalized()
    for obj in objects:
        if not isinstance(obj, dict):
            raise UnreadablePayload(f"expected a JSON object, got {type(obj).__name__}")
        kind = obj.get("object")
        if kind == "page":
            platform = Platform.FACEBOOK
        elif kind == "instagram":
            platform = Platform.INSTAGRAM
        else:
            raise UnreadablePayload(f"unknown Meta object type {kind!r} (expected 'page' or 'instagram')")
        entries = obj.get("entry")
        if not isinstance(entries, list):
            raise UnreadablePayload("'entry' is missing or not a list")
        for index, entry in enumerate(entries):
            result.extend(_entry(platform, kind, index, entry, ctx))
    return result


def _entry(platform: Platform, object_kind: str, index: int, entry: Any, ctx: Context) -> Normalized:
    result = Normalized()
    where = f"entry[{index}]"
    if not isinstance(entry, dict):
        result.unreadable.append(f"{where}: not an object")
        return result
    account_id = as_id(entry.get("id"))
    if account_id is None:
        result.unreadable.append(f"{where}: no account id")
        return result
    # Feed entries carry seconds, Messenger entries milliseconds: from_epoch tells them apart.
    entry_time = from_epoch(entry.get("time"), unit="s")
    understood = False

    def envelope(key: str, fragment: Any) -> dict[str, Any]:
        return {"object": object_kind, "entry": {"id": entry.get("id"), "time": entry.get("time"), key: [fragment]}}

    if "changes" in entry:
        understood = True
        changes = entry["changes"]
        if not isinstance(changes, list):
            result.unreadable.append(f"{where}.changes: not a list")
        for c_index, change in enumerate(as_list(changes)):
            result.extend(_change(platform, account_id, entry_time, f"{where}.changes[{c_index}]",
                                  change, envelope("changes", change), ctx))
    if "field" in entry and "value" in entry:  # the Instagram-Login form: no `changes` list
        understood = True
        change = {"field": entry["field"], "value": entry["value"]}
        result.extend(_change(platform, account_id, entry_time, where, change, entry, ctx))
    # `standby` (handover protocol: another app owns the conversation) carries the same messages,
    # and the citizen still waits for the city's answer: read it like `messaging`.
    for key in ("messaging", "standby"):
        if key not in entry:
            continue
        understood = True
        messages = entry[key]
        if not isinstance(messages, list):
            result.unreadable.append(f"{where}.{key}: not a list")
        for m_index, message in enumerate(as_list(messages)):
            result.extend(_messaging(platform, account_id, f"{where}.{key}[{m_index}]",
                                     message, envelope(key, message), ctx))
    if not understood:
        result.unreadable.append(f"{where}: neither 'changes', 'field'/'value' nor 'messaging'")
    return result


def _change(platform: Platform, account_id: str, entry_time: Any, where: str, change: Any,
            raw: dict[str, Any], ctx: Context) -> Normalized:
    result = Normalized()
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        result.unreadable.append(f"{where}: a change needs 'field' and an object 'value'")
        return result
    field, value = change.get("field"), change["value"]
    if platform is Platform.FACEBOOK and field == "feed":
        return _feed(account_id, entry_time, where, value, raw, ctx)
    if platform is Platform.FACEBOOK and field == "mention":
        return _page_mention(account_id, entry_time, where, value, raw, ctx)
    if platform is Platform.INSTAGRAM and field in ("comments", "live_comments"):
        return _instagram_comment(account_id, entry_time, where, value, raw, ctx)
    if platform is Platform.INSTAGRAM and field == "mentions":
        return _instagram_mention(account_id, entry_time, where, value, raw, ctx)
    if platform is Platform.INSTAGRAM and field == "story_insights":
        return _story_insights(account_id, entry_time, where, value, raw, ctx)
    if field in ("messages", "messaging"):  # messaging delivered in the changes form
        return _messaging(platform, account_id, where, value, raw, ctx)
    result.unreadable.append(f"{where}: unknown {platform.value} field {field!r}"[:300])
    return result


def _author(value: dict[str, Any]) -> tuple[str | None, str | None]:
    sender = as_dict(value.get("from"))
    return as_id(sender.get("id")), as_text(sender.get("name")) or as_text(sender.get("username"))


def _feed_time(value: dict[str, Any], entry_time: Any) -> Any:
    created = value.get("created_time")
    return from_epoch(created, unit="s") or from_iso(created) or entry_time


def _version(moment: Any, text: str | None = None) -> str:
    """Something Meta repeats on redelivery: the notification time (and the edited text)."""
    stamp = str(int(moment.timestamp())) if moment is not None else ""
    return f"{stamp}:{text_fingerprint(text)}" if text is not None else stamp


def _feed(account_id: str, entry_time: Any, where: str, value: dict[str, Any], raw: dict[str, Any],
          ctx: Context) -> Normalized:
    """A Page `feed` change: citizens' comments and posts, the page's own posts and replies.

    Helsingborg's guideline ("Riktlinjer vid hantering av kommentarer", seed 001) needs the city's
    own reply told apart from a citizen comment: a comment whose `from.id` is the page is
    `reply.by_account`. A `hide`/`unhide` is always the page's act; a `remove` whose `from` is the
    page is the city's removal; a `remove` from anyone else, or without `from` (Meta omits it on
    some removals), is read as the author's own removal (the executor's removals are known from
    its outcomes on `social.actions.v1` anyway).
    """
    result = Normalized()
    item, verb = as_text(value.get("item")), as_text(value.get("verb"))
    if item in IGNORED_FEED_ITEMS:
        result.ignored.append(f"feed.{item}")
        return result
    author_id, author_name = _author(value)
    by_account = author_id == account_id
    occurred = _feed_time(value, entry_time)
    text = as_text(value.get("message"))
    post_id = as_id(value.get("post_id"))
    post = as_dict(value.get("post"))
    permalink = as_text(post.get("permalink_url")) or as_text(value.get("permalink_url"))
    notified = entry_time or occurred

    if item == "comment":
        comment_id = as_id(value.get("comment_id"))
        if comment_id is None:
            result.unreadable.append(f"{where}: feed comment without comment_id")
            return result
        thread_id = post_id or comment_id.split("_", 1)[0]
        parent_id = as_id(value.get("parent_id")) or post_id
        kinds = COMMENT_VERBS[by_account]
        item_id = comment_id
    elif item in POST_ITEMS:
        item_id = post_id or as_id(value.get("share_id")) or as_id(value.get("photo_id")) or as_id(value.get("video_id"))
        if item_id is None:
            result.unreadable.append(f"{where}: feed {item} without post_id")
            return result
        thread_id, parent_id = item_id, None
        # A post by someone else on the page's wall is citizen writing, moderated like a comment.
        kinds = POST_VERBS[by_account or author_id is None]
    else:
        result.unreadable.append(f"{where}: unknown feed item {value.get('item')!r}"[:300])
        return result

    kind = kinds.get(verb) if verb is not None else None
    if kind is None:
        if verb in ("block", "unblock"):
            result.ignored.append(f"feed.{verb}")
        else:
            result.unreadable.append(f"{where}: unknown feed verb {value.get('verb')!r} for item {item!r}"[:300])
        return result
    if kind in (EventKind.COMMENT_EDITED, EventKind.POST_EDITED):
        version = _version(notified, text)
    elif kind in (EventKind.COMMENT_HIDDEN, EventKind.COMMENT_UNHIDDEN):
        version = _version(notified)
    else:
        version = ""
    result.events.append(make_event(
        ctx, platform=Platform.FACEBOOK, kind=kind, account_id=account_id, item_id=item_id,
        thread_id=thread_id, parent_id=parent_id, author_id=author_id, author_name=author_name,
        text=text, permalink=permalink, occurred_at=occurred, raw=raw, version=version,
        author_is_account=True if kind in (EventKind.COMMENT_HIDDEN, EventKind.COMMENT_UNHIDDEN) else None,
    ))
    return result


def _page_mention(account_id: str, entry_time: Any, where: str, value: dict[str, Any],
                  raw: dict[str, Any], ctx: Context) -> Normalized:
    result = Normalized()
    verb = value.get("verb")
    if verb is not None and verb != "add":
        result.ignored.append("mention.edit" if verb == "edit" else "mention.remove" if verb == "remove" else "mention.other")
        return result
    post_id = as_id(value.get("post_id"))
    item_id = as_id(value.get("comment_id")) or post_id
    if item_id is None:
        result.unreadable.append(f"{where}: mention without post_id")
        return result
    result.events.append(make_event(
        ctx, platform=Platform.FACEBOOK, kind=EventKind.MENTION, account_id=account_id, item_id=item_id,
        thread_id=post_id or item_id, author_id=as_id(value.get("sender_id")),
        author_name=as_text(value.get("sender_name")), text=as_text(value.get("message")),
        occurred_at=_feed_time(value, entry_time), raw=raw,
    ))
    return result


def _instagram_comment(account_id: str, entry_time: Any, where: str, value: dict[str, Any],
                       raw: dict[str, Any], ctx: Context) -> Normalized:
    result = Normalized()
    comment_id = as_id(value.get("id"))
    if comment_id is None:
        result.unreadable.append(f"{where}: Instagram comment without id")
        return result
    author_id, author_name = _author(value)
    media_id = as_id(as_dict(value.get("media")).get("id"))
    parent_id = as_id(value.get("parent_id")) or media_id
    kind = EventKind.REPLY_BY_ACCOUNT if author_id == account_id else EventKind.COMMENT_CREATED
    result.events.append(make_event(
        ctx, platform=Platform.INSTAGRAM, kind=kind, account_id=account_id, item_id=comment_id,
        thread_id=media_id or parent_id or comment_id, parent_id=parent_id, author_id=author_id,
        author_name=author_name, text=as_text(value.get("text")), occurred_at=entry_time, raw=raw,
    ))
    return result


def _instagram_mention(account_id: str, entry_time: Any, where: str, value: dict[str, Any],
                       raw: dict[str, Any], ctx: Context) -> Normalized:
    result = Normalized()
    media_id = as_id(value.get("media_id"))
    item_id = as_id(value.get("comment_id")) or media_id
    if item_id is None:
        result.unreadable.append(f"{where}: Instagram mention without media_id/comment_id")
        return result
    result.events.append(make_event(
        ctx, platform=Platform.INSTAGRAM, kind=EventKind.MENTION, account_id=account_id, item_id=item_id,
        thread_id=media_id or item_id, occurred_at=entry_time, raw=raw,
    ))
    return result


def _count(value: Any) -> int | None:
    """Insights counts; Meta sends -1 for counts below 5, which we keep as unknown."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _story_insights(account_id: str, entry_time: Any, where: str, value: dict[str, Any],
                    raw: dict[str, Any], ctx: Context) -> Normalized:
    result = Normalized()
    media_id = as_id(value.get("media_id"))
    if media_id is None:
        result.unreadable.append(f"{where}: story_insights without media_id")
        return result
    metrics = MetricSnapshot(period="lifetime", reach=_count(value.get("reach")),
                             impressions=_count(value.get("impressions")),
                             interactions=_count(value.get("replies")))
    result.events.append(make_event(
        ctx, platform=Platform.INSTAGRAM, kind=EventKind.METRICS_SNAPSHOT, account_id=account_id,
        item_id=media_id, thread_id=media_id, occurred_at=entry_time, raw=raw, metrics=metrics,
        version=_version(entry_time),
    ))
    return result


def _messaging(platform: Platform, account_id: str, where: str, event: Any, raw: dict[str, Any],
               ctx: Context) -> Normalized:
    """A Messenger / Instagram direct message, in or out (`is_echo`: the page wrote it).

    The conversation is the citizen's scoped id (webhooks carry no conversation id), so that one
    conversation stays on one partition and the SLA sees the city's answer in the same thread.
    """
    result = Normalized()
    if not isinstance(event, dict):
        result.unreadable.append(f"{where}: not an object")
        return result
    message = event.get("message")
    if not isinstance(message, dict):
        for kind in IGNORED_MESSAGING:
            if kind in event:
                result.ignored.append(f"messaging.{kind}")
                return result
        result.unreadable.append(f"{where}: messaging event without 'message'")
        return result
    mid = as_id(message.get("mid"))
    if mid is None:
        result.unreadable.append(f"{where}: message without mid")
        return result
    if message.get("is_deleted") is True:  # Instagram "unsend": no canonical kind yet
        result.ignored.append("messaging.unsent")
        return result
    sender = as_id(as_dict(event.get("sender")).get("id"))
    recipient = as_id(as_dict(event.get("recipient")).get("id"))
    outgoing = message.get("is_echo") is True or (sender is not None and sender == account_id)
    citizen = recipient if outgoing else sender
    if citizen is None:
        result.unreadable.append(f"{where}: message without sender/recipient id")
        return result
    result.events.append(make_event(
        ctx, platform=platform, kind=EventKind.DM_SENT if outgoing else EventKind.DM_RECEIVED,
        account_id=account_id, item_id=mid, thread_id=f"dm:{citizen}", author_id=sender,
        text=as_text(message.get("text")), occurred_at=from_epoch(event.get("timestamp"), unit="ms"),
        raw=raw, author_is_account=outgoing,
    ))
    return result
