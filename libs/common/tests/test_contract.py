"""The event contract (socialops_common.contract): the committed AsyncAPI file, its structure, and its
publishers and readers against the services' Kafka code."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from socialops_common import topics
from socialops_common.contract import (
    CHANNELS,
    SERVICES,
    asyncapi_document,
    asyncapi_routes,
    render_html,
    render_json,
)
from socialops_common.topics import ALL_TOPICS, DEADLETTER
from starlette.applications import Starlette

REPOSITORY = Path(__file__).resolve().parents[3]
DOCUMENT_FILE = REPOSITORY / "docs" / "asyncapi.json"
REGENERATE = ".venv/bin/python -m socialops_common.contract > docs/asyncapi.json"
TOPIC_NAMES = [spec.name for spec in ALL_TOPICS]
SERVICE_DIRECTORIES = sorted(path.parent.name for path in (REPOSITORY / "services").glob("*/src"))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document()


# --- (a) the committed file ----------------------------------------------------------------------


def test_the_committed_document_is_the_generated_one(document: dict[str, Any]) -> None:
    committed = DOCUMENT_FILE.read_text(encoding="utf-8")
    stale = f"docs/asyncapi.json is not what the code generates: regenerate it with `{REGENERATE}`"
    assert json.loads(committed) == document, stale
    assert committed == render_json(document), stale


# --- (b) the structure ---------------------------------------------------------------------------


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), f"{reference} points outside the document"
    node: Any = document
    for token in reference[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and token in node, f"{reference} does not resolve (at {token!r})"
        node = node[token]
    return node


def test_it_is_an_asyncapi_3_document_for_a_kafka_server(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"]["production"]["protocol"] == "kafka"
    assert "Apache Kafka" in document["servers"]["production"]["description"]


def test_every_reference_resolves_inside_the_document(document: dict[str, Any]) -> None:
    references = list(_references(document))
    assert len(references) > 50
    for reference in references:
        _resolve(document, reference)


def test_every_topic_is_a_channel_with_its_layout(document: dict[str, Any]) -> None:
    assert list(document["channels"]) == TOPIC_NAMES
    for spec in ALL_TOPICS:
        channel = document["channels"][spec.name]
        assert channel["address"] == spec.name
        assert channel["bindings"]["kafka"]["partitions"] == spec.partitions
        configuration = channel["bindings"]["kafka"].get("topicConfiguration", {})
        if "retention.ms" in spec.config:
            assert configuration["retention.ms"] == int(spec.config["retention.ms"])
        if "cleanup.policy" in spec.config:
            assert configuration["cleanup.policy"] == [spec.config["cleanup.policy"]]


def test_channel_messages_are_components_with_a_payload_and_a_key(document: dict[str, Any]) -> None:
    components = document["components"]
    listed = set()
    for topic, channel in document["channels"].items():
        assert channel["messages"], f"{topic} carries no message"
        for name, reference in channel["messages"].items():
            assert reference == {"$ref": f"#/components/messages/{name}"}
            listed.add(name)
    assert listed == set(components["messages"])
    for name, message in components["messages"].items():
        assert message["name"] == name and message["contentType"] == "application/json"
        assert message["payload"]["$ref"].removeprefix("#/components/schemas/") in components["schemas"]
        key = message["bindings"]["kafka"]["key"]
        assert key["type"] == "string" and key["description"]
        assert components["schemas"][name]["properties"]["schema_version"]["const"] == message["x-schema-version"]


def test_operations_name_their_channel_and_only_its_messages(document: dict[str, Any]) -> None:
    assert document["operations"]
    for operation_id, operation in document["operations"].items():
        service, action, topic = operation_id.split(".", 2)
        assert action == operation["action"] and action in {"send", "receive"}
        assert service in SERVICES and operation["tags"] == [{"name": service}]
        assert operation["channel"] == {"$ref": f"#/channels/{topic}"} and topic in document["channels"]
        for reference in operation["messages"]:
            prefix = f"#/channels/{topic}/messages/"
            assert reference["$ref"].startswith(prefix), f"{operation_id} names a message of another channel"
            assert reference["$ref"].removeprefix(prefix) in document["channels"][topic]["messages"]


def test_readers_in_a_consumer_group_name_it_in_the_kafka_binding(document: dict[str, Any]) -> None:
    for channel in CHANNELS:
        for subscriber in channel.subscribers:
            operation = document["operations"][f"{subscriber.service}.receive.{channel.topic}"]
            bound = operation.get("bindings", {}).get("kafka", {}).get("groupId")
            if subscriber.group is None:
                assert bound is None
            else:
                assert bound == {"type": "string", "enum": [subscriber.group.group_id]}


def test_component_names_are_valid_asyncapi_keys(document: dict[str, Any]) -> None:
    for kind in ("messages", "schemas"):
        for name in document["components"][kind]:
            assert re.fullmatch(r"[\w.\-]+", name), f"components.{kind}.{name}"


# The AsyncAPI schema format is a superset of JSON Schema draft 07: keywords pydantic could emit from
# 2020-12 ($defs, prefixItems, ...) or OpenAPI's discriminator object would be misread by AsyncAPI tools.
DRAFT_07_KEYWORDS = {
    "$ref", "$comment", "title", "description", "default", "examples", "readOnly", "writeOnly", "type", "enum",
    "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
    "minLength", "pattern", "items", "additionalItems", "maxItems", "minItems", "uniqueItems", "contains",
    "maxProperties", "minProperties", "required", "properties", "patternProperties", "additionalProperties",
    "dependencies", "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf", "not", "format",
    "contentMediaType", "contentEncoding", "deprecated", "discriminator", "externalDocs",
}


def _subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            yield from _subschemas(child)
    for key in ("items", "additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if",
                "then", "else"):
        if isinstance(schema.get(key), dict):
            yield from _subschemas(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            yield from _subschemas(child)


def test_message_schemas_use_only_keywords_of_the_asyncapi_schema_format(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        for subschema in _subschemas(schema):
            unknown = set(subschema) - DRAFT_07_KEYWORDS
            assert not unknown, f"{name} uses {sorted(unknown)}"
            assert isinstance(subschema.get("discriminator", ""), str), f"{name}: discriminator must be a name"


# --- (c) the contract against the code -----------------------------------------------------------

TOPIC_CONSTANTS = {name: value for name, value in vars(topics).items() if value in TOPIC_NAMES}
SEND_METHODS = {"send", "send_and_wait", "publish", "publisher"}  # AIOKafkaProducer, FastStream
RECORD_TYPES = {"Record"}  # ingest's publisher: Record(topic, key, value)
CONSUMER_CALLS = {"AIOKafkaConsumer", "read_compacted", "guarded_batch_subscriber"}
SUBSCRIBE_METHODS = {"subscribe", "subscriber"}  # aiokafka, and FastStream's @broker.subscriber(...)
# testing.py modules ship with a service for its tests to share: what they publish is test input.
TEST_HELPER_MODULES = {"testing.py"}


class _Module:
    """Which local names of one module are topic constants, or the `topics` module itself."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.constants: dict[str, str] = {}
        self.topic_modules: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = "." * node.level + (node.module or "")
                for alias in node.names:
                    local = alias.asname or alias.name
                    if source in {"socialops_common.topics", ".topics"} and alias.name in TOPIC_CONSTANTS:
                        self.constants[local] = TOPIC_CONSTANTS[alias.name]
                    elif source in {"socialops_common", "."} and alias.name == "topics":
                        self.topic_modules.add(local)

    def topics_of(self, node: ast.AST, aliases: dict[str, set[str]]) -> set[str]:
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return {self.constants[node.id]}
            return aliases.get(node.id, set())
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in self.topic_modules and node.attr in TOPIC_CONSTANTS:
                return {TOPIC_CONSTANTS[node.attr]}
            return set()
        if isinstance(node, ast.Starred):
            return self.topics_of(node.value, aliases)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return set().union(*(self.topics_of(element, aliases) for element in node.elts))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"list", "tuple"}:
            return set().union(*(self.topics_of(argument, aliases) for argument in node.args))
        return set()


def _call_name(call: ast.Call) -> tuple[str | None, bool]:
    """The called name, and whether it is a method (`x.send`) rather than a plain name (`Record`)."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr, True
    if isinstance(call.func, ast.Name):
        return call.func.id, False
    return None, False


def _aliases(modules: list[_Module]) -> dict[str, set[str]]:
    """Names bound to topic constants anywhere in the service (`SUBSCRIBED = (EVENTS, ...)`, a parameter
    defaulting to such a tuple), followed across modules until nothing new is learnt."""
    aliases: dict[str, set[str]] = {}
    changed = True
    while changed:
        changed = False
        for module in modules:
            bindings: list[tuple[str, ast.AST]] = []
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Assign):
                    bindings += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                    bindings.append((node.target.id, node.value))
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    positional = [*node.args.posonlyargs, *node.args.args]
                    bindings += list(zip([a.arg for a in positional[len(positional) - len(node.args.defaults):]],
                                         node.args.defaults, strict=True))
                    bindings += [(a.arg, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults,
                                                            strict=True) if d is not None]
            for name, value in bindings:
                found = module.topics_of(value, aliases)
                if found - aliases.get(name, set()):
                    aliases[name] = aliases.get(name, set()) | found
                    changed = True
    return aliases


def _parse(paths: list[Path]) -> list[_Module]:
    return [_Module(ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in paths]


def _uses_in(module: _Module, scope: ast.AST, aliases: dict[str, set[str]],
             helpers: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """The topics the calls under `scope` publish to, and those they read."""
    sends: set[str] = set()
    receives: set[str] = set()
    for call in (node for node in ast.walk(scope) if isinstance(node, ast.Call)):
        name, method = _call_name(call)
        arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
        mentioned = set().union(*(module.topics_of(argument, aliases) for argument in arguments))
        if (method and name in SEND_METHODS) or (not method and name in RECORD_TYPES):
            sends |= mentioned
        elif name in helpers:
            sends |= helpers[name]
        elif (not method and name in CONSUMER_CALLS) or (method and name in SUBSCRIBE_METHODS):
            receives |= mentioned
    return sends, receives


def _send_helpers() -> dict[str, set[str]]:
    """libs/common's functions that publish to a fixed topic (`publish_dead_letter`): calling one publishes."""
    module = _parse([REPOSITORY / "libs/common/src/socialops_common/kafka.py"])[0]
    helpers: dict[str, set[str]] = {}
    for function in module.tree.body:
        if isinstance(function, ast.AsyncFunctionDef | ast.FunctionDef):
            sends, _ = _uses_in(module, function, {}, {})
            if sends:
                helpers[function.name] = sends
    return helpers


def _kafka_uses(modules: list[_Module], helpers: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """The topics the code publishes to and the topics it reads."""
    aliases = _aliases(modules)
    sends: set[str] = set()
    receives: set[str] = set()
    for module in modules:
        module_sends, module_receives = _uses_in(module, module.tree, aliases, helpers)
        sends |= module_sends
        receives |= module_receives
    return sends, receives


def service_kafka_uses(service: str) -> tuple[set[str], set[str]]:
    paths = sorted(p for p in (REPOSITORY / "services" / service / "src").rglob("*.py")
                   if p.name not in TEST_HELPER_MODULES)
    return _kafka_uses(_parse(paths), _send_helpers())


def contract_uses(service: str) -> tuple[set[str], set[str]]:
    sends = {c.topic for c in CHANNELS for p in c.publishers if p.service == service}
    receives = {c.topic for c in CHANNELS for s in c.subscribers if s.service == service}
    return sends, receives


def test_the_scanner_follows_aliases_and_helpers_and_ignores_lookalikes() -> None:
    source = '''
from socialops_common import topics
from socialops_common.topics import ACTIONS, EVENTS as EVENT_TOPIC
from socialops_common.kafka import publish_dead_letter
from .metrics import SLA
READ = (EVENT_TOPIC, topics.MODERATION)
def consumer(names=READ):
    return AIOKafkaConsumer(*names, group_id="g")
async def write(producer, letter):
    await producer.send_and_wait(ACTIONS, b"", key=b"")
    await publish_dead_letter(producer, letter)
    metrics.SLA.labels("x").inc(); producer.send(SLA, b"")
'''
    sends, receives = _kafka_uses([_Module(ast.parse(source))], _send_helpers())
    assert sends == {topics.ACTIONS, DEADLETTER}
    assert receives == {topics.EVENTS, topics.MODERATION}


def test_every_kafka_service_is_in_the_contract() -> None:
    using_kafka = {service for service in SERVICE_DIRECTORIES if any(service_kafka_uses(service))}
    assert using_kafka == set(SERVICES)


@pytest.mark.parametrize("service", SERVICE_DIRECTORIES)
def test_the_contract_names_exactly_the_topics_a_service_publishes_and_reads(service: str) -> None:
    sends, receives = service_kafka_uses(service)
    declared_sends, declared_receives = contract_uses(service)
    assert declared_sends == sends, f"{service} publishes to {sorted(sends)}; the contract says {sorted(declared_sends)}"
    assert declared_receives == receives, (
        f"{service} reads {sorted(receives)}; the contract says {sorted(declared_receives)}")


def test_every_service_publishes_dead_letters() -> None:
    deadletter = next(c for c in CHANNELS if c.topic == DEADLETTER)
    assert {p.service for p in deadletter.publishers} == set(SERVICES)


def _group_settings(service: str) -> dict[str, str]:
    """A service's consumer-group settings: `<name>_group` / `<name>_group_id` fields and their defaults."""
    found = {}
    for path in (REPOSITORY / "services" / service / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and re.search(r"_group(_id)?$", node.target.id) and isinstance(node.value, ast.Constant)):
                found[node.target.id] = node.value.value
    return found


@pytest.mark.parametrize("service", SERVICE_DIRECTORIES)
def test_consumer_groups_are_the_services_settings_defaults(service: str) -> None:
    declared = {s.group.setting.removeprefix("SOCIALOPS_").lower(): s.group.group_id
                for c in CHANNELS for s in c.subscribers if s.service == service and s.group}
    assert declared == _group_settings(service)


# --- (d) the routes and the page -----------------------------------------------------------------


def _client() -> httpx.AsyncClient:
    app = Starlette(routes=asyncapi_routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://contract")


async def test_get_asyncapi_answers_the_document_as_json(document: dict[str, Any]) -> None:
    async with _client() as client:
        response = await client.get("/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == document


async def test_get_docs_asyncapi_answers_a_page_with_every_topic() -> None:
    async with _client() as client:
        response = await client.get("/docs/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for topic in TOPIC_NAMES:
        assert f'<h2 id="{topic}">' in response.text


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.row_headers: list[str] = []
        self._in_row_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "th":
            self._in_row_header = dict(attrs).get("scope") == "row"

    def handle_data(self, data: str) -> None:
        if self._in_row_header and data.strip():
            self.row_headers.append(data.strip())
            self._in_row_header = False


def test_the_page_is_plain_accessible_html_that_loads_nothing(document: dict[str, Any]) -> None:
    page = render_html(document)
    outline = _Outline()
    outline.feed(page)
    names = [tag for tag, _ in outline.tags]
    assert ("html", {"lang": "en"}) in outline.tags and names.count("main") == 1
    levels = [int(tag[1]) for tag in names if re.fullmatch(r"h[1-6]", tag)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert all(attrs.get("scope") in {"col", "row"} for tag, attrs in outline.tags if tag == "th")
    assert not {"script", "link", "img", "iframe", "object"} & set(names)
    assert "src=" not in page and "@import" not in page and "url(" not in page


def test_the_page_lists_every_top_level_field_of_every_message(document: dict[str, Any]) -> None:
    outline = _Outline()
    outline.feed(render_html(document))
    fields = set(outline.row_headers)
    for name, message in document["components"]["messages"].items():
        schema = document["components"]["schemas"][message["payload"]["$ref"].rsplit("/", 1)[-1]]
        missing = set(schema["properties"]) - fields
        assert not missing, f"{name}: {sorted(missing)} not on the page"
