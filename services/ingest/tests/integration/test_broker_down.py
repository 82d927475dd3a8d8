"""When the broker does not acknowledge, webhooks get 503 (the platforms retry) and nothing is lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from socialops_common.devstack import LocalBroker, free_port
from socialops_common.kafka import ensure_topics
from socialops_common.testing import read_topic
from socialops_common.topics import EVENTS
from socialops_ingest import payloads as p

FB_PAGE = "104857600000001"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def comment_delivery(secrets, run: str, comments: int = 3) -> p.Delivery:
    body = p.meta_body("page", [p.page_entry(FB_PAGE, AT, [
        p.feed_comment(post_id=f"{FB_PAGE}_{run}", comment_id=f"{run}_{n}", at=AT, message=f"Fråga {n}?",
                       author=("7001", "Anna")) for n in range(comments)])])
    return p.sign("meta", body, secrets, events=comments)


async def test_broker_unreachable_gives_503_and_the_retry_after_it_is_back_publishes_everything(
        ingest_client, secrets):
    port = free_port()  # nothing listens here yet
    bootstrap = f"127.0.0.1:{port}"
    run = uuid.uuid4().hex[:12]
    delivery = comment_delivery(secrets, run)
    async with ingest_client(bootstrap) as client:
        refused = await client.post(delivery.path, content=delivery.body, headers=delivery.headers)
        not_ready = await client.get("/readyz")
        assert refused.status_code == 503
        assert "retry" in refused.json()["error"]
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["kafka"].startswith("failed")

        broker = LocalBroker(port=port).start()
        try:
            await ensure_topics(bootstrap)
            retried = await client.post(delivery.path, content=delivery.body, headers=delivery.headers)
            assert retried.status_code == 200
            assert (await client.get("/readyz")).status_code == 200
            found = await read_topic(bootstrap, EVENTS, expected=3, where=lambda v: str(v.get("item_id", "")).startswith(run))
        finally:
            broker.stop()
    assert sorted(v["item_id"] for _, v in found) == [f"{run}_0", f"{run}_1", f"{run}_2"]


async def test_broker_that_goes_away_gives_503_not_a_half_acknowledged_200(fresh_broker, ingest_client, secrets):
    run = uuid.uuid4().hex[:12]
    async with ingest_client(fresh_broker.bootstrap) as client:
        first = comment_delivery(secrets, f"{run}a")
        assert (await client.post(first.path, content=first.body, headers=first.headers)).status_code == 200
        fresh_broker.stop()
        second = comment_delivery(secrets, f"{run}b", comments=50)
        # answered within the publish timeout (3 s here) rather than left hanging until the platform gives up
        refused = await client.post(second.path, content=second.body, headers=second.headers)
    assert refused.status_code == 503
