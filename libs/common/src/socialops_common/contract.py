"""The platform's event contract: every Kafka topic, what it carries, who writes and who reads it.

Other city systems (a diarium, a case system, a data warehouse) integrate against the topics, so
the contract is published as an AsyncAPI 3.0 document generated from this table, the topic layout
(`topics.ALL_TOPICS`) and the pydantic models (`events`). libs/common/tests/test_contract.py
checks the table against the services' Kafka code, and the committed file against the generator:

    .venv/bin/python -m socialops_common.contract > docs/asyncapi.json

Every service serves it too: `GET /asyncapi` (the JSON) and `GET /docs/asyncapi` (a page).
"""

from __future__ import annotations

import html
import inspect
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .events import (
    AccountRecord,
    DeadLetter,
    InsightsPollStatus,
    ModerationDecision,
    PlatformActionCommand,
    PlatformActionOutcome,
    SlaStateChange,
    SocialEvent,
)
from .topics import ACCOUNTS, ACTIONS, ALL_TOPICS, DEADLETTER, EVENTS, INSIGHTS, MODERATION, SLA, TopicSpec

ASYNCAPI_VERSION = "3.0.0"
# The AsyncAPI 3.0.0 schemas accept Kafka bindings 0.3.0 to 0.5.0; 0.4.0 has every field used here.
KAFKA_BINDING_VERSION = "0.4.0"
SCHEMA_REF = "#/components/schemas/{model}"
DAY_MS = 24 * 3600 * 1000

SERVICES: dict[str, str] = {
    "ingest": "Webhook receivers (Meta, X, LinkedIn), the account inventory, `socialops-ingest import` and the "
              "insights poller (`socialops-ingest poll`).",
    "moderation": "The city's moderation rules and policy, the review and actions APIs, and the executor that "
                  "carries out platform actions.",
    "sla": "The answer promise: tracks every item that needs an answer against the account's working calendar; "
           "follow-up and monthly reports.",
    "archive": "Keeps every post, comment, DM, decision and SLA outcome as a public record (allmän handling), "
               "append-only and tamper-evident.",
}


@dataclass(frozen=True)
class MessageSpec:
    model: type[BaseModel]
    summary: str

    @property
    def name(self) -> str:
        return self.model.__name__

    @property
    def schema_version(self) -> int:
        return self.model.model_fields["schema_version"].default


@dataclass(frozen=True)
class Publisher:
    service: str
    summary: str  # which parts of the service write, and when


@dataclass(frozen=True)
class ConsumerGroup:
    group_id: str
    setting: str  # the environment variable a deployment renames the group with


@dataclass(frozen=True)
class Subscriber:
    service: str
    summary: str
    # None: the topic is read from the beginning with no consumer group (nothing committed, every
    # replica reads all of it): the compacted topics a process keeps in memory.
    group: ConsumerGroup | None


@dataclass(frozen=True)
class Channel:
    spec: TopicSpec
    description: str
    key: str  # what the message key is
    messages: tuple[MessageSpec, ...]
    publishers: tuple[Publisher, ...]
    subscribers: tuple[Subscriber, ...]

    @property
    def topic(self) -> str:
        return self.spec.name


def _spec(name: str) -> TopicSpec:
    return next(spec for spec in ALL_TOPICS if spec.name == name)


THREAD_KEY = ("`platform:account_id:thread_id` (UTF-8): the platform, the platform's id of the city's account "
              "and the thread's root post id (or DM conversation id), so everything about one thread stays in "
              "order on one partition.")
ACCOUNT_KEY = "`platform:external_id` (UTF-8): the platform and the platform's id of the city's account."

MODERATION_GROUP = ConsumerGroup("socialops-moderation", "SOCIALOPS_MODERATION_CONSUMER_GROUP")
EXECUTOR_GROUP = ConsumerGroup("socialops-moderation-actions", "SOCIALOPS_MODERATION_EXECUTOR_GROUP")
SLA_GROUP = ConsumerGroup("socialops-sla", "SOCIALOPS_SLA_CONSUMER_GROUP")
ARCHIVE_GROUP = ConsumerGroup("socialops-archive", "SOCIALOPS_ARCHIVE_GROUP_ID")


CHANNELS: tuple[Channel, ...] = (
    Channel(
        _spec(EVENTS),
        "Every canonical platform event on the cities' accounts: posts, comments, replies, edits, removals, "
        "mentions, direct messages and metric snapshots, normalised from the platforms' webhooks and insights "
        "APIs. Event ids are deterministic: a redelivered webhook gives the same `event_id`.",
        THREAD_KEY,
        (MessageSpec(SocialEvent, "A post, comment, reply, edit, removal, mention, DM or metric snapshot."),),
        (Publisher("ingest", "The webhook receivers, once a body's signature is verified; `socialops-ingest import` "
                             "(replayed files); the insights poller (metric snapshots)."),),
        (
            Subscriber("moderation", "The decision consumer: classifies citizens' comments, mentions and "
                                     "inbound DMs.", MODERATION_GROUP),
            Subscriber("sla", "Items that need an answer and the city's answers; monthly KPIs from the metric "
                              "snapshots.", SLA_GROUP),
            Subscriber("archive", "Every event, kept as a public record.", ARCHIVE_GROUP),
        ),
    ),
    Channel(
        _spec(ACCOUNTS),
        "The account inventory: one record per city account (owning department, editors, archive level, "
        "response calendar and target, moderation policy). Compacted: the latest record per key is the "
        "account's state. No tombstones are written: a closed account has `status` `closed`.",
        ACCOUNT_KEY,
        (MessageSpec(AccountRecord, "One account of the inventory."),),
        (Publisher("ingest", "From config/accounts.yaml at the start of the webhook receivers, and with "
                             "`socialops-ingest accounts publish`."),),
        (
            Subscriber("moderation", "The account follower: per-account policy overrides, read from the beginning "
                                     "on every start.", None),
            Subscriber("sla", "Working calendars, response targets and departments.", SLA_GROUP),
            Subscriber("archive", "Archive levels and ownership of the accounts.", ARCHIVE_GROUP),
        ),
    ),
    Channel(
        _spec(DEADLETTER),
        "What could not be handled, with the reason and the raw payload: authentic webhook bodies that cannot be "
        "understood (no topic), and messages a consumer gave up on (with the topic, partition and offset they "
        "came from). No service reads it: operators list and re-drive dead letters with `socialops-deadletter "
        "list|replay`, which publishes a payload again to its original topic with its original key.",
        "`dead_letter_id`: a UUID derived from the source and the message's position (or payload), so the same "
        "failure gives the same id.",
        (MessageSpec(DeadLetter, "A message that could not be handled, and why."),),
        (
            Publisher("ingest", "Authentic webhook bodies (or entries) that cannot be understood; lines of "
                                "`socialops-ingest import` that are neither an event nor a webhook."),
            Publisher("moderation", "The decision consumer, the executor and the account follower: messages they "
                                    "cannot read, or that keep failing while the database and broker answer."),
            Publisher("sla", "The consumer: messages it cannot read, or that keep failing while the database and "
                             "broker answer."),
            Publisher("archive", "The consumer: messages that cannot be archived, or that keep failing while the "
                                 "database answers."),
        ),
        (),
    ),
    Channel(
        _spec(MODERATION),
        "Moderation decisions: one per citizen item version (allow, review, hide, delete) with the rules that "
        "matched and whether the item needs an answer, and reviewers' verdicts, which override an earlier "
        "decision (`supersedes`).",
        THREAD_KEY,
        (MessageSpec(ModerationDecision, "A decision on one item version, automatic or a reviewer's."),),
        (Publisher("moderation", "The decision consumer (automatic decisions) and the review API (reviewers' "
                                 "verdicts)."),),
        (
            Subscriber("sla", "Whether an item needs an answer; removals take it out of the SLA.", SLA_GROUP),
            Subscriber("archive", "Decisions, kept with the items they concern.", ARCHIVE_GROUP),
        ),
    ),
    Channel(
        _spec(ACTIONS),
        "Platform actions (hide, unhide, delete, block the author, reply, like, notify): the commands and their "
        "outcomes on one topic, so a thread's commands and outcomes stay in order. The field `type` tells them "
        "apart (`command` or `outcome`).",
        THREAD_KEY,
        (
            MessageSpec(PlatformActionCommand, "An action to carry out on a platform."),
            MessageSpec(PlatformActionOutcome, "What came of a command: done, dry run, failed or unsupported."),
        ),
        (Publisher("moderation", "Commands from the decision consumer (hide, delete and block decisions), the "
                                 "review API and the actions API (people's replies, likes and notices from the "
                                 "console); outcomes from the executor once it carried a command out."),),
        (
            Subscriber("moderation", "The executor: carries out each command once; outcomes are ignored.",
                       EXECUTOR_GROUP),
            Subscriber("sla", "Outcomes of replies (the city answered); everything else is ignored.", SLA_GROUP),
            Subscriber("archive", "Commands and outcomes, kept as records.", ARCHIVE_GROUP),
        ),
    ),
    Channel(
        _spec(SLA),
        "SLA state changes of the items that need an answer (open, at risk, breached, met, cancelled), with the "
        "deadline and the response time in working and wall-clock seconds. Change ids are deterministic: the "
        "same transition always has the same `change_id`; a transition repeated after a reopening is a new one, "
        "with an id of its own.",
        THREAD_KEY,
        (MessageSpec(SlaStateChange, "One item entering an SLA state."),),
        (Publisher("sla", "Through an outbox: changes caused by events and decisions, by the scheduler (at risk, "
                          "breached) and by staff (no answer needed)."),),
        (Subscriber("archive", "SLA outcomes, kept with the items.", ARCHIVE_GROUP),),
    ),
    Channel(
        _spec(INSIGHTS),
        "The insights poller's status per account (ok, no token, token expired, rate limited, failing) and how "
        "far the account's figures are complete (`covered_until`). Compacted: the latest record per account; it "
        "is also the poller's own state.",
        ACCOUNT_KEY,
        (MessageSpec(InsightsPollStatus, "How polling one account's insights goes."),),
        (Publisher("ingest", "The insights poller, after each account's poll."),),
        (
            Subscriber("ingest", "The insights poller reads every status back at start, to resume where it "
                                 "stopped.", None),
            Subscriber("sla", "Which accounts' figures are incomplete in the monthly report, and why.",
                       SLA_GROUP),
        ),
    ),
)


# --- the AsyncAPI document ---------------------------------------------------------------------


def operation_id(service: str, action: str, topic: str) -> str:
    return f"{service}.{action}.{topic}"


def retention_text(topic_configuration: dict[str, Any]) -> str:
    if "compact" in topic_configuration.get("cleanup.policy", []):
        return "compacted: the latest message per key is kept"
    if "retention.ms" in topic_configuration:
        return f"{topic_configuration['retention.ms'] / DAY_MS:g} days"
    return "the broker's default"


def _topic_configuration(config: dict[str, str]) -> dict[str, Any]:
    configuration: dict[str, Any] = {}
    if "cleanup.policy" in config:
        configuration["cleanup.policy"] = config["cleanup.policy"].split(",")
    if "retention.ms" in config:
        configuration["retention.ms"] = int(config["retention.ms"])
    return configuration


def _title(name: str) -> str:
    """`PlatformActionCommand` -> `Platform action command`."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z]*", name)
    return " ".join([words[0], *(w if w.isupper() else w.lower() for w in words[1:])])


def _component_schemas(models: Iterable[type[BaseModel]]) -> dict[str, Any]:
    """Each model's JSON schema, with the models and enums it uses hoisted next to it (one name, one schema)."""
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=SCHEMA_REF)
        for name, definition in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            if schemas.setdefault(name, definition) != definition:
                raise ValueError(f"two different schemas are both named {name}")
    return dict(sorted(schemas.items()))


def _message(channel: Channel, message: MessageSpec) -> dict[str, Any]:
    description = inspect.cleandoc(message.model.__doc__ or "") or None
    return {
        "name": message.name,
        "title": _title(message.name),
        "summary": message.summary,
        **({"description": description} if description else {}),
        "contentType": "application/json",
        "payload": {"$ref": SCHEMA_REF.format(model=message.name)},
        "bindings": {"kafka": {"key": {"type": "string", "description": channel.key},
                               "bindingVersion": KAFKA_BINDING_VERSION}},
        "x-schema-version": message.schema_version,
    }


def _channel(channel: Channel) -> dict[str, Any]:
    kafka: dict[str, Any] = {"topic": channel.topic, "partitions": channel.spec.partitions}
    if configuration := _topic_configuration(channel.spec.config):
        kafka["topicConfiguration"] = configuration
    kafka["bindingVersion"] = KAFKA_BINDING_VERSION
    return {
        "address": channel.topic,
        "title": channel.topic,
        "description": channel.description,
        "messages": {m.name: {"$ref": f"#/components/messages/{m.name}"} for m in channel.messages},
        "bindings": {"kafka": kafka},
    }


def _operations(channel: Channel) -> dict[str, Any]:
    channel_ref = {"$ref": f"#/channels/{channel.topic}"}
    messages = [{"$ref": f"#/channels/{channel.topic}/messages/{m.name}"} for m in channel.messages]
    operations: dict[str, Any] = {}
    for publisher in channel.publishers:
        operations[operation_id(publisher.service, "send", channel.topic)] = {
            "action": "send",
            "channel": channel_ref,
            "title": f"{publisher.service} publishes to {channel.topic}",
            "description": publisher.summary,
            "messages": messages,
            "tags": [{"name": publisher.service}],
        }
    for subscriber in channel.subscribers:
        operation: dict[str, Any] = {
            "action": "receive",
            "channel": channel_ref,
            "title": f"{subscriber.service} reads {channel.topic}",
            "description": subscriber.summary,
            "messages": messages,
            "tags": [{"name": subscriber.service}],
        }
        if subscriber.group is None:
            operation["description"] += " No consumer group: reads the whole topic from the beginning, commits nothing."
        else:
            operation["description"] += (f" Consumer group `{subscriber.group.group_id}` (a deployment may rename "
                                         f"it: `{subscriber.group.setting}`).")
            operation["bindings"] = {"kafka": {"groupId": {"type": "string", "enum": [subscriber.group.group_id]},
                                               "bindingVersion": KAFKA_BINDING_VERSION}}
        operations[operation_id(subscriber.service, "receive", channel.topic)] = operation
    return operations


def contract_version() -> str:
    return metadata.version("socialops-common")


DESCRIPTION = """\
The Kafka topics of socialops, the social-media operations platform of the city: what each topic \
carries, its key, its layout, and which services publish and read it.

- Every value is one JSON object (UTF-8) of the message's schema; every key is a UTF-8 string.
- Delivery is at least once: a message can come again, with the same id (`event_id`, `decision_id`, \
`action_id`, `change_id`, `dead_letter_id`); readers deduplicate on it.
- Order holds per key only, and the keys are chosen so that what must stay in order shares one: a \
thread, an account.
- Timestamps are ISO 8601 with an offset, in UTC.
- `schema_version` is on every message. Additive, optional fields keep the version, so readers \
ignore fields they do not know; any other change is a new topic (`.v2`), published side by side \
until the old one drains.
- Partitions and retention are the defaults of `socialops_common.topics`; a deployment may raise \
them (`socialops-topics`: `SOCIALOPS_TOPIC_PARTITIONS`, `SOCIALOPS_TOPIC_RETENTION_DAYS`).

Generated from the code (`python -m socialops_common.contract`); every service serves it at \
`GET /asyncapi`, and as a page at `GET /docs/asyncapi`."""


def asyncapi_document() -> dict[str, Any]:
    """The platform's event contract as an AsyncAPI 3.0.0 document (plain JSON-compatible data)."""
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in CHANNELS:
        for message in channel.messages:
            if message.name in messages:
                raise ValueError(f"{message.name} is on two topics: its key binding would be ambiguous")
            messages[message.name] = _message(channel, message)
        channels[channel.topic] = _channel(channel)
        operations.update(_operations(channel))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "socialops event contract",
            "version": contract_version(),
            "description": DESCRIPTION,
            "tags": [{"name": name, "description": text} for name, text in SERVICES.items()],
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "kafka.example.invalid:9092",
                "protocol": "kafka",
                "title": "The city's Apache Kafka",
                "description": "The city's Apache Kafka. The host is a placeholder: every deployment names its own "
                               "bootstrap servers (`SOCIALOPS_KAFKA_BOOTSTRAP`).",
            }
        },
        "channels": channels,
        "operations": dict(sorted(operations.items())),
        "components": {
            "messages": dict(sorted(messages.items())),
            "schemas": _component_schemas(m.model for c in CHANNELS for m in c.messages),
        },
    }


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- the page ----------------------------------------------------------------------------------


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type_text(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    """A field's type as a person reads it: `string (date-time) or null`, `list of RuleHit`."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        values = schemas.get(name, {}).get("enum")
        return f"{name}: one of {', '.join(map(str, values))}" if values else name
    if "const" in schema:
        return f"always {json.dumps(schema['const'])}"
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "anyOf" in schema:
        return " or ".join(_type_text(option, schemas) for option in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return "list of " + _type_text(schema.get("items", {}), schemas)
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "map of string to " + _type_text(schema["additionalProperties"], schemas)
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    bounds = [f"≥ {schema['minimum']}"] if "minimum" in schema else []
    bounds += [f"≤ {schema['maximum']}"] if "maximum" in schema else []
    return f"{kind} ({', '.join(bounds)})" if bounds else kind


def _field_description(schema: dict[str, Any]) -> str:
    text = schema.get("description", "")
    default = schema.get("default")
    if default not in (None, [], {}) and "const" not in schema:
        shown = json.dumps(default, ensure_ascii=False)
        text = f"{text} (default {shown})" if text else f"default {shown}"
    return text


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _code(text: str) -> str:
    """Backticks of the document's prose as <code>, everything else escaped."""
    parts = re.split(r"`([^`]*)`", text)
    return "".join(f"<code>{_e(p)}</code>" if i % 2 else _e(p) for i, p in enumerate(parts))


def _paragraphs(text: str) -> str:
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    out = []
    for block in blocks:
        lines = block.splitlines()
        if all(line.startswith("- ") for line in lines):
            out.append("<ul>" + "".join(f"<li>{_code(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            out.append(f"<p>{_code(' '.join(lines))}</p>")
    return "\n".join(out)


@dataclass(frozen=True)
class _Participant:
    service: str
    description: str


def _participants(document: dict[str, Any], topic: str, action: str) -> list[_Participant]:
    ref = f"#/channels/{topic}"
    return [_Participant(operation["tags"][0]["name"], operation["description"])
            for operation in document["operations"].values()
            if operation["channel"]["$ref"] == ref and operation["action"] == action]


def _participant_list(participants: list[_Participant]) -> str:
    if not participants:
        return "no service"
    return "<ul>" + "".join(f"<li><strong>{_e(p.service)}</strong>: {_code(p.description)}</li>"
                            for p in participants) + "</ul>"


def _names(participants: list[_Participant]) -> str:
    return ", ".join(sorted({p.service for p in participants})) or "none"


def _fields_table(name: str, schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = []
    for field, definition in schema.get("properties", {}).items():
        rows.append(
            f"<tr><th scope=\"row\"><code>{_e(field)}</code></th><td>{_e(_type_text(definition, schemas))}</td>"
            f"<td>{'yes' if field in required else 'no'}</td><td>{_code(_field_description(definition))}</td></tr>"
        )
    return (
        f"<table>\n<caption>Top-level fields of {_e(name)}</caption>\n"
        "<thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Type</th><th scope=\"col\">Required</th>"
        "<th scope=\"col\">Description</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.45;margin:0 auto;max-width:80rem;padding:1rem}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #888;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "caption{font-weight:bold;text-align:left;padding:.25rem 0}dt{font-weight:bold}"
)


def render_html(document: dict[str, Any]) -> str:
    """The document as one self-contained page: semantic HTML, no scripts, nothing fetched from elsewhere."""
    info, schemas = document["info"], document["components"]["schemas"]
    messages = document["components"]["messages"]
    overview, sections = [], []
    for topic, channel in document["channels"].items():
        kafka = channel["bindings"]["kafka"]
        retention = retention_text(kafka.get("topicConfiguration", {}))
        publishers = _participants(document, topic, "send")
        subscribers = _participants(document, topic, "receive")
        message_names = [_ref_name(m["$ref"]) for m in channel["messages"].values()]
        keys = sorted({messages[name]["bindings"]["kafka"]["key"]["description"] for name in message_names})
        overview.append(
            f"<tr><th scope=\"row\"><a href=\"#{_e(topic)}\"><code>{_e(topic)}</code></a></th>"
            f"<td>{_e(', '.join(message_names))}</td><td>{kafka['partitions']}</td><td>{_e(retention)}</td>"
            f"<td>{_e(_names(publishers))}</td><td>{_e(_names(subscribers))}</td></tr>"
        )
        parts = [
            f"<section aria-labelledby=\"{_e(topic)}\">",
            f"<h2 id=\"{_e(topic)}\"><code>{_e(topic)}</code></h2>",
            _paragraphs(channel["description"]),
            "<dl>",
            "<dt>Key</dt>" + "".join(f"<dd>{_code(key)}</dd>" for key in keys),
            f"<dt>Partitions</dt><dd>{kafka['partitions']}</dd>",
            f"<dt>Retention</dt><dd>{_e(retention)}</dd>",
            f"<dt>Published by</dt><dd>{_participant_list(publishers)}</dd>",
            f"<dt>Read by</dt><dd>{_participant_list(subscribers)}</dd>",
            "<dt>Messages</dt><dd>" + ", ".join(
                f"{_e(name)} (schema version {messages[name]['x-schema-version']})" for name in message_names
            ) + "</dd>",
            "</dl>",
        ]
        for name in message_names:
            message = messages[name]
            parts += [f"<h3>{_e(name)}</h3>", f"<p>{_code(message['summary'])}</p>"]
            if "description" in message:
                parts.append(_paragraphs(message["description"]))
            parts.append(_fields_table(name, schemas[_ref_name(message["payload"]["$ref"])], schemas))
        parts.append("</section>")
        sections.append("\n".join(parts))
    title = f"{info['title']} {info['version']}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>{_e(title)}</h1>
<p>AsyncAPI {_e(document['asyncapi'])} · <a href="../asyncapi">the document as JSON</a></p>
{_paragraphs(info['description'])}
<h2>Topics</h2>
<table>
<caption>Every topic of the platform</caption>
<thead><tr><th scope="col">Topic</th><th scope="col">Messages</th><th scope="col">Partitions</th>\
<th scope="col">Retention</th><th scope="col">Published by</th><th scope="col">Read by</th></tr></thead>
<tbody>
{chr(10).join(overview)}
</tbody>
</table>
{chr(10).join(sections)}
</main>
</body>
</html>
"""


def asyncapi_routes() -> list[Route]:
    """`GET /asyncapi` (the document) and `GET /docs/asyncapi` (the page), built once on first request."""
    rendered: dict[str, str] = {}

    def text(kind: str) -> str:
        if kind not in rendered:
            document = asyncapi_document()
            rendered.update(json=render_json(document), html=render_html(document))
        return rendered[kind]

    async def document_json(_: Request) -> Response:
        return Response(text("json"), media_type="application/json")

    async def document_page(_: Request) -> Response:
        return HTMLResponse(text("html"))

    return [Route("/asyncapi", document_json, methods=["GET"]),
            Route("/docs/asyncapi", document_page, methods=["GET"])]


def main() -> int:
    # bytes, so the file is UTF-8 whatever the terminal's locale
    sys.stdout.buffer.write(render_json(asyncapi_document()).encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
