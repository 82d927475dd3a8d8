"""What every platform module shares: the result of normalising one webhook, and its errors.

Each platform module (`meta`, `x`, `linkedin`) is pure: it verifies a signature or answers a
handshake from bytes and secrets, and turns a decoded payload into canonical `SocialEvent`s.
No I/O happens here, so every rule is unit-tested in microseconds.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from socialops_common.events import (
    Author,
    EventKind,
    MetricSnapshot,
    Platform,
    SocialEvent,
    deterministic_id,
)

AccountLookup = Callable[[Platform, str], bool]


def _everyone_known(_platform: Platform, _account_id: str) -> bool:
    return True


class UnreadablePayload(ValueError):
    """Authentic, but this service cannot understand it: the body goes to the dead-letter topic."""


@dataclass(frozen=True)
class Context:
    """What normalisation needs besides the payload: when it arrived and which accounts we own."""

    received_at: datetime
    is_known_account: AccountLookup = _everyone_known


@dataclass
class Normalized:
    """The outcome of one webhook body.

    `events` are published; `unreadable` are the entries that could not be understood (each with
    its reason; the whole raw body is dead-lettered once with all reasons); `ignored` are entries
    understood but outside the canonical model (likes, read receipts, typing indicators), counted in
    the metrics rather than published.
    """

    events: list[SocialEvent] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def extend(self, other: Normalized) -> None:
        self.events.extend(other.events)
        self.unreadable.extend(other.unreadable)
        self.ignored.extend(other.ignored)


class HandshakeRefused(Exception):
    """A subscription handshake that does not prove the caller knows our secret or token."""


class SignatureError(Exception):
    """The request is not proven to come from the platform: nothing is published."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.missing = missing


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def same_secret_text(expected: str, received: str) -> bool:
    """Constant-time comparison of two ASCII texts (signatures, tokens)."""
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8", "replace"))


# --- small, total helpers for reading untrusted JSON ------------------------------------------------


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_id(value: Any) -> str | None:
    """Platform ids arrive as strings or (older payloads) numbers; booleans are not ids."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def from_epoch(value: Any, *, unit: str) -> datetime | None:
    """Epoch time in `unit` ("s" or "ms") as UTC; strings of digits are accepted.

    Messenger and X send milliseconds, Facebook `feed` sends seconds. A value whose size only
    fits the other unit (a "seconds" value beyond the year 5000) is read as that unit instead.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or value != value or value < 0:
        return None
    seconds = value / 1000.0 if unit == "ms" else float(value)
    if unit == "s" and seconds > 95_617_584_000:  # after year 5000: these were milliseconds
        seconds = value / 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_iso(value: Any) -> datetime | None:
    """ISO-8601 as Meta writes it (`2024-03-01T10:00:00+0000`), always tz-aware UTC."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def make_event(
    ctx: Context,
    *,
    platform: Platform,
    kind: EventKind,
    account_id: str,
    item_id: str,
    thread_id: str,
    occurred_at: datetime | None,
    raw: dict[str, Any],
    parent_id: str | None = None,
    author_id: str | None = None,
    author_name: str | None = None,
    text: str | None = None,
    permalink: str | None = None,
    version: str = "",
    metrics: MetricSnapshot | None = None,
    author_is_account: bool | None = None,
) -> SocialEvent:
    """One canonical event; its id depends only on platform ids (and the redelivered version)."""
    return SocialEvent(
        # == social_event_id(platform, kind, item_id, version), without re-parsing the enums
        # (StrEnum members are their values; skipping `.value` matters on the hot path)
        event_id=deterministic_id("social", platform, kind, item_id, version),
        kind=kind,
        platform=platform,
        account_id=account_id,
        item_id=item_id,
        thread_id=thread_id,
        parent_id=parent_id,
        author=Author(
            id=author_id,
            name=author_name,
            is_account=(author_id is not None and author_id == account_id)
            if author_is_account is None
            else author_is_account,
        ),
        text=text,
        permalink=permalink,
        occurred_at=occurred_at or ctx.received_at,
        received_at=ctx.received_at,
        metrics=metrics,
        account_known=ctx.is_known_account(platform, account_id),
        raw=raw,
    )
