"""One webhook body, from raw bytes to acknowledged records: verify, decode, normalise, publish.

The HTTP routes and `socialops-ingest import` both go through `WebhookIntake.receive`, so a
replayed webhook is treated exactly like a live one.

Answers (the platforms act on the status code):
- 401 / 403: missing / wrong signature; nothing is published.
- 200: every event was acknowledged by the broker (acks=all); authentic bodies (or entries) that
  cannot be understood were acknowledged on `social.deadletter.v1` with the raw body and reasons,
  so the platform does not retry them forever.
- 503: the broker did not acknowledge in time; the platform retries the whole body later.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from socialops_common.events import SocialEvent, utc_now
from socialops_common.kafka import dead_letter, to_bytes
from socialops_common.topics import DEADLETTER, EVENTS

from . import metrics
from .accounts import AccountDirectory
from .platforms import Context, Normalized, SignatureError, UnreadablePayload, linkedin, meta, x
from .publisher import BrokerUnavailable, EventPublisher, Record
from .settings import IngestSettings

log = structlog.get_logger("ingest")


@dataclass(frozen=True)
class PlatformAdapter:
    """How one platform's webhook is verified and read (the pure functions of its module)."""

    name: str
    signature_header: str
    verify: Callable[[bytes, str | None, str], None]
    normalize: Callable[[Any, Context], Normalized]
    secret: Callable[[IngestSettings], str]


ADAPTERS: dict[str, PlatformAdapter] = {
    "meta": PlatformAdapter("meta", meta.SIGNATURE_HEADER, meta.verify_signature, meta.normalize,
                            lambda s: s.meta_app_secret),
    "x": PlatformAdapter("x", x.SIGNATURE_HEADER, x.verify_signature, x.normalize, lambda s: s.x_consumer_secret),
    "linkedin": PlatformAdapter("linkedin", linkedin.SIGNATURE_HEADER, linkedin.verify_signature,
                                linkedin.normalize, lambda s: s.linkedin_client_secret),
}


_SERIALIZE = SocialEvent.__pydantic_serializer__.to_json  # JSON bytes, as `to_bytes` gives, without a str


def _key(event: SocialEvent) -> bytes:
    """`event.partition_key` (platform:account:thread) without re-parsing the platform enum."""
    return f"{event.platform}:{event.account_id}:{event.thread_id}".encode()


@dataclass
class Outcome:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN/Infinity)")


def without_nul(value: Any) -> Any:
    """The payload with every U+0000 removed from its strings (keys included).

    PostgreSQL's text and jsonb cannot hold U+0000, and moderation, sla and archive all store
    events there: an event carrying one would be refused by every store and end up dead-lettered
    instead of moderated and archived. The character is invisible and means nothing in a comment;
    the dead letter of an unreadable body still keeps the exact bytes.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def decode_and_normalize(adapter: PlatformAdapter, body: bytes, ctx: Context) -> tuple[Normalized, list[str]]:
    """Pure: the events of an authentic body, and the reasons it (or parts of it) cannot be read."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        return Normalized(), [f"body is not JSON: {type(error).__name__}: {error}"[:500]]
    if b"\\u0000" in body:  # in JSON, U+0000 can only be written as this escape
        payload = without_nul(payload)
    try:
        normalized = adapter.normalize(payload, ctx)
    except UnreadablePayload as error:
        return Normalized(), [str(error)]
    except RecursionError:
        return Normalized(), ["payload nested too deeply"]
    return normalized, list(normalized.unreadable)


class WebhookIntake:
    def __init__(self, settings: IngestSettings, publisher: EventPublisher, directory: AccountDirectory) -> None:
        self.settings = settings
        self.publisher = publisher
        self.directory = directory

    async def receive(self, platform: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        adapter = ADAPTERS[platform]
        started = time.perf_counter()
        outcome = await self._receive(adapter, body, headers)
        metrics.WEBHOOKS.labels(platform, str(outcome.status)).inc()
        metrics.WEBHOOK_SECONDS.labels(platform).observe(time.perf_counter() - started)
        return outcome

    async def _receive(self, adapter: PlatformAdapter, body: bytes, headers: Mapping[str, str]) -> Outcome:
        signature = headers.get(adapter.signature_header)
        try:
            adapter.verify(body, signature, adapter.secret(self.settings))
        except SignatureError as error:
            metrics.SIGNATURES_REJECTED.labels(adapter.name).inc()
            log.warning("webhook signature rejected", platform=adapter.name, reason=str(error))
            return Outcome(401 if error.missing else 403, {"error": str(error)})

        ctx = Context(received_at=utc_now(), is_known_account=self.directory.is_known)
        normalized, reasons = decode_and_normalize(adapter, body, ctx)
        records = [Record(EVENTS, _key(event), _SERIALIZE(event)) for event in normalized.events]
        if reasons:
            letter = dead_letter(
                source=f"ingest.{adapter.name}", reason="; ".join(reasons)[:4000], payload=body,
                headers={adapter.signature_header: signature or "",
                         "content-type": headers.get("content-type", "")},
            )
            records.append(Record(DEADLETTER, letter.dead_letter_id.encode(), to_bytes(letter)))

        started = time.perf_counter()
        try:
            await self.publisher.publish(records)
        except BrokerUnavailable as error:
            metrics.BROKER_UNAVAILABLE.labels(adapter.name).inc()
            log.warning("broker unavailable: webhook refused with 503", platform=adapter.name, reason=str(error))
            return Outcome(503, {"error": "the event broker is unavailable; retry later"})
        if records:
            metrics.PUBLISH_SECONDS.labels(adapter.name).observe(time.perf_counter() - started)

        # StrEnum members are their values: usable as label values as they are
        for (platform, kind), count in Counter((e.platform, e.kind) for e in normalized.events).items():
            metrics.EVENTS.labels(platform, kind).inc(count)
        unknown = Counter(e.platform for e in normalized.events if not e.account_known)
        for platform, count in unknown.items():
            metrics.UNKNOWN_ACCOUNT.labels(platform).inc(count)
        for reason, count in Counter(normalized.ignored).items():
            metrics.IGNORED.labels(adapter.name, reason).inc(count)
        if reasons:
            metrics.DEAD_LETTERED.labels(adapter.name).inc()
            log.warning("webhook dead-lettered", platform=adapter.name, reasons=reasons[:5])
        return Outcome(200, {"events": len(normalized.events), "dead_lettered": len(reasons),
                             "ignored": len(normalized.ignored)})
