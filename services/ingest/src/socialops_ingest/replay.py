"""`socialops-ingest import FILE.ndjson`: replay exported events, or recorded webhooks, onto Kafka.

Each line of the file is one JSON object, either
- a canonical event exactly as exported from `social.events.v1` (has `event_id` and `kind`): it is
  validated against the event model and published unchanged, keyed by its thread, so consumers
  deduplicate it on its `event_id` if they saw it before; or
- a recorded webhook `{"webhook": "meta"|"x"|"linkedin", "body": "<raw body>", "headers": {...}}`
  (`body_base64` instead of `body` for non-UTF-8 bytes): it goes through the same verify →
  normalise → publish path as a live POST, signature check included.
A line that is neither is sent to `social.deadletter.v1` with its line number and the reason.
Replaying a file twice is harmless: event ids are deterministic.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from socialops_common.events import SocialEvent
from socialops_common.kafka import dead_letter, to_bytes
from socialops_common.topics import DEADLETTER, EVENTS

from .intake import ADAPTERS, WebhookIntake
from .publisher import BrokerUnavailable, EventPublisher, Record, dead_letter_room
from .service import load_directory
from .settings import IngestSettings

CHUNK = 500


@dataclass
class ImportReport:
    lines: int = 0
    events: int = 0
    webhooks: int = 0
    dead_lettered: int = 0
    refused: list[str] = field(default_factory=list)  # webhooks ingest refused (bad signature...)
    stopped_at: int | None = None  # line where the broker stopped acknowledging
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.refused

    def summary(self) -> str:
        text = (f"{self.lines} lines: {self.events} events published, {self.webhooks} webhooks replayed, "
                f"{self.dead_lettered} lines dead-lettered, {len(self.refused)} webhooks refused")
        if self.refused:
            text += "\n  " + "\n  ".join(self.refused[:20])
        if self.error:
            text += f"\nstopped at line {self.stopped_at}: {self.error} (replaying again is safe)"
        return text


def classify(line: str) -> tuple[str, object]:
    """Pure: ("event", SocialEvent) | ("webhook", (platform, body, headers)) | ("bad", reason)."""
    try:
        record = json.loads(line)
    except ValueError as error:
        return "bad", f"not JSON: {error}"
    if not isinstance(record, dict):
        return "bad", "not a JSON object"
    if "webhook" in record:
        platform = record.get("webhook")
        if platform not in ADAPTERS:
            return "bad", f"unknown webhook platform {platform!r} (meta, x or linkedin)"
        headers = record.get("headers") or {}
        if not isinstance(headers, dict):
            return "bad", "'headers' must be an object"
        if isinstance(record.get("body"), str):
            body = record["body"].encode("utf-8")
        elif isinstance(record.get("body_base64"), str):
            try:
                body = base64.b64decode(record["body_base64"], validate=True)
            except ValueError as error:
                return "bad", f"body_base64 is not base64: {error}"
        else:
            return "bad", "a recorded webhook needs 'body' (text) or 'body_base64'"
        return "webhook", (platform, body, {str(k).lower(): str(v) for k, v in headers.items()})
    if "event_id" in record and "kind" in record:
        try:
            return "event", SocialEvent.model_validate(record)
        except ValidationError as error:
            return "bad", f"not a valid canonical event: {error.error_count()} errors, first: {error.errors()[0]['msg']}"
    return "bad", "neither a canonical event (event_id, kind) nor a recorded webhook (webhook, body)"


async def import_file(path: str | Path, settings: IngestSettings) -> ImportReport:
    publisher = EventPublisher(settings, timeout_s=max(settings.publish_timeout_s, 10.0),
                               max_request_bytes=dead_letter_room(settings.max_body_bytes))
    intake = WebhookIntake(settings, publisher, load_directory(settings))
    report = ImportReport()
    pending: list[Record] = []
    number = 0

    async def flush() -> None:
        await publisher.publish(pending)
        pending.clear()

    try:
        # a CLI batch job: nothing else shares this event loop while a line is read
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:  # noqa: ASYNC230
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                report.lines += 1
                kind, value = classify(line)
                if kind == "event":
                    assert isinstance(value, SocialEvent)
                    pending.append(Record(EVENTS, value.partition_key, to_bytes(value)))
                    report.events += 1
                elif kind == "webhook":
                    await flush()  # keep the file's order
                    platform, body, headers = value  # type: ignore[misc]
                    outcome = await intake.receive(platform, body, headers)
                    if outcome.status == 503:
                        raise ConnectionError(outcome.body.get("error", "broker unavailable"))
                    if outcome.status != 200:
                        report.refused.append(f"line {number}: {outcome.status} {outcome.body.get('error')}")
                    else:
                        report.webhooks += 1
                        report.events += int(outcome.body.get("events", 0))
                else:
                    letter = dead_letter(source="ingest.import", reason=f"{Path(path).name} line {number}: {value}",
                                         payload=line.rstrip("\n").encode("utf-8", "surrogateescape"))
                    pending.append(Record(DEADLETTER, letter.dead_letter_id.encode(), to_bytes(letter)))
                    report.dead_lettered += 1
                if len(pending) >= CHUNK:
                    await flush()
            await flush()
    except (BrokerUnavailable, ConnectionError, OSError) as error:  # say where; replaying again is idempotent
        report.stopped_at, report.error = number, f"{type(error).__name__}: {error}"
    finally:
        await publisher.stop()
    return report
