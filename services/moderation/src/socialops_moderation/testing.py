"""Test support for moderation (like socialops_common.testing): canonical comments, publishing them,
settings for an in-process service, and the local servers that speak the platforms' APIs
(`fake_platforms.py`: Graph API, X API v2, LinkedIn), each a real HTTP server on a free port.

Only the platform is faked, and by a server speaking its documented HTTP API, never by patching.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from socialops_common.events import Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import to_bytes
from socialops_common.topics import EVENTS

from .fake_platforms import (  # noqa: F401 - the fakes are part of the test support
    GRAPH_OUTSIDE_WINDOW,
    GRAPH_TOKEN_EXPIRED,
    LINKEDIN_FORBIDDEN,
    X_FORBIDDEN,
    X_UNAUTHORIZED,
    FakeGraphApi,
    FakeLinkedInApi,
    FakePlatform,
    FakeXApi,
    ScriptedAnswer,
    graph_error,
    graph_rate_limit,
    linkedin_error,
    linkedin_rate_limited,
    x_problem,
    x_rate_limited,
)
from .rules.abuse import classify_abuse
from .settings import ModerationSettings


def comment(
    text: str,
    *,
    account: str = "page-1",
    author: str = "user-1",
    item: str | None = None,
    kind: EventKind = EventKind.COMMENT_CREATED,
    platform: Platform = Platform.FACEBOOK,
    at: datetime | None = None,
) -> SocialEvent:
    item = item or f"{account}_{uuid.uuid4().hex[:12]}"
    at = at or datetime.now(UTC)
    return SocialEvent(
        event_id=social_event_id(platform, kind, item),
        kind=kind,
        platform=platform,
        account_id=account,
        item_id=item,
        thread_id=f"{account}_post",
        author=Author(id=author, name="Test Testsson"),
        text=text,
        occurred_at=at,
        received_at=at,
    )


def settings_for(kafka_bootstrap: str, database_url: str, graph: FakeGraphApi | None, account: str, *,
                 x: FakeXApi | None = None, x_account: str | None = None, linkedin: FakeLinkedInApi | None = None,
                 linkedin_account: str | None = None) -> ModerationSettings:
    """Settings for an in-process service: tokens only for the accounts whose platform a fake speaks for."""
    suffix = uuid.uuid4().hex[:8]
    return ModerationSettings(
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        moderation_consumer_group=f"moderation-test-{suffix}",
        moderation_executor_group=f"moderation-actions-test-{suffix}",
        machine_tokens="Louise kommunikatör:editor:s3cret",
        graph_api_url=graph.url if graph else "http://127.0.0.1:9/none",
        graph_tokens={account: "page-token-123"} if graph else {},
        x_api_url=x.url if x else "http://127.0.0.1:9/none",
        x_tokens={x_account or account: "x-user-token-123"} if x else {},
        linkedin_api_url=linkedin.url if linkedin else "http://127.0.0.1:9/none",
        linkedin_tokens={linkedin_account or account: "linkedin-token-123"} if linkedin else {},
        graph_backoff_s=0.01,
    )


async def publish(bootstrap: str, *events) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(EVENTS, to_bytes(event), key=event.partition_key)
    finally:
        await producer.stop()


def abuse_rule_ids(text: str) -> set[str]:
    """Which abuse rules find something in `text`, swearing alone aside (the rule tests' question)."""
    return {h.rule_id for h in classify_abuse(text)} - {"abuse.profanity"}
