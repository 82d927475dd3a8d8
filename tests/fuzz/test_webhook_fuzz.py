"""Bad input against the real ingest (`socialops-ingest serve` as a process) and a real broker.

Hypothesis sends the platforms' JSON shapes with arbitrary values, raw byte garbage, huge and
deeply nested bodies, wrong content types and replayed signatures. For every request:

- no 5xx (the one documented 5xx, 503 when the broker is down, cannot happen here: it is up), and
  the server still answers /healthz afterwards (no crash);
- unsigned or wrongly signed bodies (a signature replayed onto another body included) are refused
  with 401/403, oversized ones with 413: nothing is published for them;
- an authentic body is answered 200 with what was published: `events` canonical events and at
  most one dead letter (correctly signed garbage → a dead letter only, never an event).

The broker is this module's own, so what ingest claims can be counted exactly on the topics:
after each test, the events and dead letters on the broker equal the sum of the answers.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from socialops_common.devstack import LocalBroker, free_port, service_environment, wait_for_port
from socialops_common.kafka import ensure_topics
from socialops_common.topics import DEADLETTER, EVENTS
from socialops_ingest import payloads as p
from socialops_ingest.payloads import Secrets

ROOT = Path(__file__).resolve().parents[2]
SECRETS = Secrets("fuzz-meta-secret", "fuzz-x-secret", "fuzz-linkedin-secret")
MAX_BODY = 64 * 1024
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@dataclass
class Ingest:
    client: httpx.Client
    bootstrap: str
    claimed_events: int = 0
    claimed_letters: int = 0
    counted: dict[str, int] = field(default_factory=dict)

    def post(self, delivery: p.Delivery, *, content_type: str | None = None) -> httpx.Response:
        headers = dict(delivery.headers)
        if content_type is not None:
            headers["content-type"] = content_type
        response = self.client.post(delivery.path, content=delivery.body, headers=headers)
        assert response.status_code < 500, (response.status_code, response.text, delivery.body[:200])
        return response

    def accepted(self, response: httpx.Response) -> dict:
        """An authentic body: 200, and what was published is in the answer."""
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["dead_lettered"] in (0, 1) or answer["dead_lettered"] >= 1
        self.claimed_events += answer["events"]
        self.claimed_letters += 1 if answer["dead_lettered"] else 0
        return answer


def end_offsets(bootstrap: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.topics()
            totals = {}
            for topic in (EVENTS, DEADLETTER):
                partitions = [TopicPartition(topic, n) for n in consumer.partitions_for_topic(topic) or ()]
                totals[topic] = sum((await consumer.end_offsets(partitions)).values())
            return totals
        finally:
            await consumer.stop()

    return asyncio.run(read())


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    broker = LocalBroker().start()
    asyncio.run(ensure_topics(broker.bootstrap))
    port = free_port()
    log = (tmp_path_factory.mktemp("ingest") / "ingest.log").open("wb")
    env = service_environment(
        broker.bootstrap, "postgresql://unused@127.0.0.1:1/unused",
        SOCIALOPS_META_APP_SECRET=SECRETS.meta_app_secret, SOCIALOPS_X_CONSUMER_SECRET=SECRETS.x_consumer_secret,
        SOCIALOPS_LINKEDIN_CLIENT_SECRET=SECRETS.linkedin_client_secret, SOCIALOPS_MAX_BODY_BYTES=str(MAX_BODY),
        SOCIALOPS_ACCOUNTS_FILE=str(ROOT / "config" / "accounts.yaml"), SOCIALOPS_LOG_LEVEL="ERROR",
    )
    process = subprocess.Popen([str(Path(sys.executable).parent / "socialops-ingest"), "serve", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"http://127.0.0.1:{port}", broker.bootstrap
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        broker.stop()


@pytest.fixture
def ingest(server) -> Iterator[Ingest]:
    """Counts what ingest claims during one test and checks it against the broker afterwards."""
    base_url, bootstrap = server
    before = end_offsets(bootstrap)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        state = Ingest(client, bootstrap)
        yield state
        assert client.get("/healthz").status_code == 200, "ingest must survive every input"
    after = end_offsets(bootstrap)
    assert after[EVENTS] - before[EVENTS] == state.claimed_events, "events published but not claimed, or lost"
    assert after[DEADLETTER] - before[DEADLETTER] == state.claimed_letters


# --- strategies: the platforms' shapes, with any values -------------------------------------------

json_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
ids = st.text(min_size=0, max_size=24) | st.integers(min_value=-(2**63), max_value=2**64).map(str)
texts = st.text(max_size=300)
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    """A field as the platform sends it, or replaced by any JSON value, or missing."""
    return st.one_of(value, json_values, st.just(...))


def drop_missing(data: object) -> object:
    if isinstance(data, dict):
        return {k: drop_missing(v) for k, v in data.items() if v is not ...}
    if isinstance(data, list):
        return [drop_missing(v) for v in data if v is not ...]
    return data


@st.composite
def meta_bodies(draw) -> dict:
    at, page = draw(moments), draw(ids)
    change = draw(st.sampled_from(["comment", "post", "message", "instagram", "any"]))
    if change == "comment":
        entry = p.page_entry(page, at, [p.feed_comment(
            post_id=draw(ids), comment_id=draw(ids), at=at, verb=draw(st.sampled_from(["add", "edited", "remove",
                                                                                       "hide", "unhide"]) | texts),
            message=draw(st.none() | texts), author=draw(st.none() | st.tuples(ids, texts)))])
    elif change == "post":
        entry = p.page_entry(page, at, [p.feed_post(page_id=page, post_id=draw(ids), at=at, message=draw(texts))])
    elif change == "message":
        entry = p.messaging_entry(page, at, sender=draw(ids), recipient=draw(ids), mid=draw(ids), text=draw(texts),
                                  echo=draw(st.booleans()))
    elif change == "instagram":
        entry = p.instagram_changes_entry(page, at, draw(st.sampled_from(["comments", "mentions"]) | texts),
                                          p.instagram_comment_value(comment_id=draw(ids), media_id=draw(ids),
                                                                    text=draw(texts), author=draw(st.tuples(ids, texts))))
    else:
        entry = draw(st.dictionaries(st.sampled_from(["id", "time", "changes", "messaging", "field", "value"]),
                                     json_values))
    entry = {key: draw(maybe(st.just(value))) for key, value in entry.items()} if draw(st.booleans()) else entry
    body = {"object": draw(maybe(st.sampled_from(["page", "instagram"]))), "entry": draw(maybe(st.just([entry])))}
    return drop_missing(body)


@st.composite
def x_bodies(draw) -> dict:
    at, account = draw(moments), draw(st.integers(min_value=0, max_value=2**63).map(str))
    kind = draw(st.sampled_from(["tweet", "deletion", "dm", "any"]))
    if kind == "tweet":
        events = {"tweet_create_events": [p.tweet(tweet_id=draw(st.integers(0, 2**63).map(str)), at=at, text=draw(texts),
                                                  user=(draw(st.integers(0, 2**63).map(str)), draw(texts), draw(texts)))]}
    elif kind == "deletion":
        events = {"tweet_delete_events": [p.tweet_deletion(tweet_id=draw(ids), user_id=draw(ids), at=at)]}
    elif kind == "dm":
        events = {"direct_message_events": [p.x_direct_message(message_id=draw(ids), at=at, sender=draw(ids),
                                                               recipient=draw(ids), text=draw(texts))]}
    else:
        events = draw(st.dictionaries(st.sampled_from(["tweet_create_events", "favorite_events", "users"]), json_values))
    body = p.x_body(draw(maybe(st.just(account))), **events)
    return drop_missing({key: draw(maybe(st.just(value))) for key, value in body.items()}
                        if draw(st.booleans()) else body)


@st.composite
def linkedin_bodies(draw) -> dict:
    notification = p.linkedin_notification(
        notification_id=draw(st.integers()), organization=draw(st.just("urn:li:organization:2414183") | ids),
        action=draw(st.sampled_from(["COMMENT", "COMMENT_EDIT", "COMMENT_DELETE", "SHARE_MENTION"]) | texts),
        post_urn=draw(ids), comment_urn=draw(ids), actor=draw(ids), at=draw(moments), text=draw(st.none() | texts))
    if draw(st.booleans()):
        notification = {key: draw(maybe(st.just(value))) for key, value in notification.items()}
    return drop_missing(p.linkedin_body([notification]) if draw(st.booleans())
                        else {"type": draw(maybe(st.just("ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"))),
                              "notifications": draw(maybe(st.just([notification])))})


SHAPES = {"meta": meta_bodies(), "x": x_bodies(), "linkedin": linkedin_bodies()}


def signed_raw(platform: str, body: bytes) -> p.Delivery:
    """`payloads.sign` signs JSON it serialises; garbage is signed byte for byte the same way."""
    template = p.sign(platform, None, SECRETS)
    header = next(k for k in template.headers if k != "content-type")
    module = {"meta": p.meta, "x": p.x, "linkedin": p.linkedin}[platform]
    secret = {"meta": SECRETS.meta_app_secret, "x": SECRETS.x_consumer_secret,
              "linkedin": SECRETS.linkedin_client_secret}[platform]
    return p.Delivery(platform, body, {"content-type": "application/json", header: module.signature(body, secret)}, 0)


platforms = st.sampled_from(sorted(SHAPES))


# --- tests ----------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), platform=platforms)
def test_signed_platform_shapes_with_any_values_never_fail_the_server(ingest, data, platform):
    body = data.draw(SHAPES[platform])
    ingest.accepted(ingest.post(p.sign(platform, body, SECRETS)))


@FUZZ
@given(platform=platforms, garbage=st.binary(max_size=2048))
def test_signed_byte_garbage_is_dead_lettered_and_never_an_event(ingest, platform, garbage):
    try:
        json.loads(garbage)
        return  # valid JSON is the shapes test's job
    except ValueError:
        pass
    answer = ingest.accepted(ingest.post(signed_raw(platform, garbage)))
    assert answer["events"] == 0 and answer["dead_lettered"] == 1


@FUZZ
@given(platform=platforms, body=st.binary(max_size=512),
       signature=st.none() | st.binary(max_size=80) | st.from_regex(r"sha(1|256)=[0-9a-f]{0,64}", fullmatch=True))
def test_unsigned_or_wrongly_signed_bodies_are_refused_and_nothing_is_published(ingest, platform, body, signature):
    delivery = signed_raw(platform, body)
    header = next(k for k in delivery.headers if k != "content-type")
    headers: dict[str, str | bytes] = {"content-type": "application/json"}
    if signature is not None:
        headers[header] = signature  # bytes go on the wire as they are
    try:
        response = ingest.client.post(delivery.path, content=body, headers=headers)
    except httpx.LocalProtocolError:
        return  # not a header value httpx will send (control characters): no platform could either
    # 401: no signature (an empty header counts as none); 403: a signature that does not match;
    # 400: a header value the HTTP server itself refuses (h11), before ingest sees the request
    if signature is None:
        assert response.status_code == 401, response.text
    else:
        assert response.status_code in (400, 401, 403), response.text


@FUZZ
@given(data=st.data(), platform=platforms, other=st.binary(min_size=1, max_size=256))
def test_a_signature_replayed_onto_another_body_is_refused(ingest, data, platform, other):
    original = p.sign(platform, data.draw(SHAPES[platform]), SECRETS)
    if other == original.body:
        return
    response = ingest.client.post(original.path, content=other, headers=original.headers)
    assert response.status_code == 403, response.text


@FUZZ
@given(data=st.data(), platform=platforms,
       content_type=st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                     "application/json; charset=latin-1", "", "application/xml"])
       | st.from_regex(r"[!-~]{1,40}", fullmatch=True))
def test_a_wrong_content_type_changes_nothing_about_safety(ingest, data, platform, content_type):
    """The signature covers the bytes, not the header: an authentic body is read as JSON whatever it says."""
    delivery = p.sign(platform, data.draw(SHAPES[platform]), SECRETS)
    ingest.accepted(ingest.post(delivery, content_type=content_type))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(platform=platforms, depth=st.integers(min_value=1_000, max_value=200_000),
       opener=st.sampled_from(["[", '{"a":']))
def test_deeply_nested_bodies_are_dead_lettered_not_crashed(ingest, platform, depth, opener):
    closer = "]" if opener == "[" else "}"
    body = (opener * depth + "0" + closer * depth).encode()
    if len(body) > MAX_BODY:
        assert ingest.post(signed_raw(platform, body)).status_code == 413
        return
    answer = ingest.accepted(ingest.post(signed_raw(platform, body)))
    assert answer["events"] == 0


def test_bodies_over_the_limit_are_refused_with_413_declared_or_streamed(ingest):
    huge = b'{"object":"page","entry":[' + b'{"id":"1","time":1},' * (MAX_BODY // 10) + b'{}]}'
    for platform in SHAPES:
        delivery = signed_raw(platform, huge)
        assert ingest.post(delivery).status_code == 413

        def chunks(body: bytes = huge) -> Iterator[bytes]:
            for start in range(0, len(body), 8192):
                yield body[start:start + 8192]

        response = ingest.client.post(delivery.path, content=chunks(), headers=delivery.headers)  # no Content-Length
        assert response.status_code == 413, response.text


def test_an_identical_delivery_replayed_is_accepted_again_with_the_same_event_ids(ingest, server):
    """A platform retries a delivery it thinks failed: at-least-once, and the same event ids make
    the consumers' de-duplication work (they are derived from the platform's ids, not from time)."""
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    run = str(time.time_ns())
    body = p.meta_body("page", [p.page_entry("104857600000001", at, [p.feed_comment(
        post_id=f"104857600000001_{run}", comment_id=f"{run}_1", at=at, message="Hej!", author=("7001", "Anna"))])])
    delivery = p.sign("meta", body, SECRETS)
    first, second = ingest.accepted(ingest.post(delivery)), ingest.accepted(ingest.post(delivery))
    assert first == second == {"events": 1, "dead_lettered": 0, "ignored": 0}

    async def ids() -> list[str]:
        from socialops_common.testing import read_topic

        found = await read_topic(server[1], EVENTS, expected=2, timeout=10, where=lambda v: v.get("item_id") == f"{run}_1")
        return [value["event_id"] for _, value in found]

    event_ids = asyncio.run(ids())
    assert len(event_ids) == 2 and event_ids[0] == event_ids[1]
