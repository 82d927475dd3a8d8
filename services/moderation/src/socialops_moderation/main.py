"""The moderation service — open this first.

Every citizen comment (new or edited), mention and inbound DM on `social.events.v1` is read by the
city's rules (`classify.py`, `rules/`), turned into a decision by the policy file (`policy.py`,
`data/policy.yaml`, per-account overrides from `social.accounts.v1`) and published on
`social.moderation.v1`. Decisions to hide/delete/block become commands on `social.actions.v1`, and so
do people's replies, likes and notices asked for through the actions API (`actions_api.py`, the
console's back end); the executor (`actions/`) carries them out against the Graph API, X API v2 and
LinkedIn — dry-run unless a token is configured for the account. Uncertain items wait in the review
queue (PostgreSQL) for an editor (`review.py`).

    socialops-moderation serve --port 8081
    socialops-moderation export-verdicts --out /srv/socialops/verdicts/2026-12.jsonl [--since 2026-11-01] [--account ID]

One process: FastAPI (review and actions APIs, /metrics, /healthz, /readyz) and, started by its
lifespan, the decision consumer, the executor and the account follower.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from socialops_common.apidocs import install_api_docs
from socialops_common.contract import asyncapi_routes
from socialops_common.events import AccountRecord
from socialops_common.kafka import ensure_topics, make_broker, make_producer
from socialops_common.lag import LagMonitor
from socialops_common.observability import (
    Health,
    configure_logging,
    database_reachable,
    kafka_reachable,
    metrics_route,
    serve_http,
)
from socialops_common.oidc import install_identity
from socialops_common.subscriptions import stop_broker
from socialops_common.topics import ACTIONS, EVENTS

from .accounts import AccountPolicies
from .actions.executor import ActionExecutor
from .actions.graph import GraphDialect
from .actions.linkedin import LinkedInDialect
from .actions.platform import PlatformActions, PlatformClient
from .actions.x import XDialect
from .actions_api import actions_router
from .classify import Classifier
from .consumer import DecisionConsumer, Moderator
from .learned import verdicts
from .learned.scorer import Model, packaged_model
from .metrics import REVIEW_QUEUE
from .policy import PolicyBook
from .review import review_router
from .rules.links import LinkLists
from .rules.personal_data import PersonalDataConfig
from .rules.spam import SpamConfig, SpamTracker
from .settings import ModerationSettings
from .store import ModerationStore, migrate

SERVICE = "moderation"
log = structlog.get_logger(SERVICE)


def build_moderator(settings: ModerationSettings) -> Moderator:
    classifier = Classifier(
        personal_data=PersonalDataConfig(
            allowed_phone_numbers=settings.allowed_phone_numbers(), allowed_email_domains=settings.allowed_email_domains()
        ),
        links=LinkLists.load(settings.moderation_links_file),
        spam=SpamTracker(SpamConfig(window=timedelta(minutes=settings.moderation_spam_window_minutes))),
        model=Model.load(settings.moderation_model_file) if settings.moderation_model_file else packaged_model(),
    )
    return Moderator(classifier, PolicyBook.load(settings.moderation_policy_file), AccountPolicies())


def platform_actions(settings: ModerationSettings) -> PlatformActions:
    """A client per platform, each with its accounts' tokens and the same retry settings."""
    retries = {"max_attempts": settings.graph_max_attempts, "backoff_s": settings.graph_backoff_s}
    return PlatformActions([
        PlatformClient(GraphDialect(), settings.graph_api_url, settings.graph_tokens, **retries),
        PlatformClient(XDialect(), settings.x_api_url, settings.x_tokens, **retries),
        PlatformClient(LinkedInDialect(settings.linkedin_version), settings.linkedin_api_url, settings.linkedin_tokens,
                       **retries),
    ])


@dataclass
class ModerationService:
    """Everything the process runs, wired in one place."""

    settings: ModerationSettings
    health: Health = field(default_factory=Health)
    pool: asyncpg.Pool | None = None
    producer: AIOKafkaProducer | None = None
    broker: KafkaBroker | None = None
    store: ModerationStore | None = None
    platforms: PlatformActions | None = None
    moderator: Moderator | None = None
    _lag: list[LagMonitor] = field(default_factory=list)

    @property
    def undo_within_s(self) -> float:
        return self.settings.moderation_undo_seconds

    def account(self, platform: str, account_id: str) -> AccountRecord | None:
        """The account's inventory record (who works on it), once the inventory has been read."""
        return self.moderator.accounts.record_for(platform, account_id) if self.moderator else None

    async def start(self) -> None:
        settings = self.settings
        await ensure_topics(settings.kafka_bootstrap)
        self.pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=8)
        applied = await migrate(self.pool)
        self.store = ModerationStore(self.pool)
        REVIEW_QUEUE.set(await self.store.review_queue_size())
        self.producer = make_producer(settings, SERVICE)
        await self.producer.start()
        self.platforms = platform_actions(settings)
        self.moderator = build_moderator(settings)
        decisions = DecisionConsumer(
            bootstrap=settings.kafka_bootstrap, group_id=settings.moderation_consumer_group, producer=self.producer,
            store=self.store, moderator=self.moderator,
        )
        executor = ActionExecutor(
            bootstrap=settings.kafka_bootstrap, group_id=settings.moderation_executor_group, producer=self.producer,
            store=self.store, platforms=self.platforms, concurrency=settings.graph_concurrency,
        )
        # One FastStream broker for the three consumers. It reconnects on its own and logs a handler's
        # error; the decision consumer and the executor hold and retry a batch through their guards,
        # and what the follower cannot read it dead-letters itself. On stop it lets the batch in
        # hand finish (graceful_timeout) before it closes the consumers.
        self.broker = make_broker(settings, SERVICE, logger=logging.getLogger("moderation.faststream"),
                                  log_level=logging.DEBUG, graceful_timeout=settings.moderation_stop_grace_s)
        self.moderator.accounts.subscribe(self.broker, self.producer)
        decisions.subscribe(self.broker)
        executor.subscribe(self.broker)
        await self.broker.start()
        # consumer lag per group and partition: socialops_consumer_lag_messages (alert ConsumerLagHigh)
        self._lag = [LagMonitor(settings.kafka_bootstrap, settings.moderation_consumer_group, [EVENTS]),
                     LagMonitor(settings.kafka_bootstrap, settings.moderation_executor_group, [ACTIONS])]
        for monitor in self._lag:
            monitor.start()
        self.health.add("kafka", kafka_reachable(settings.kafka_bootstrap))
        self.health.add("database", database_reachable(self.pool))
        self.health.started = True
        log.info(
            "moderation started", migrations=applied,
            accounts_with_tokens={"graph": len(settings.graph_tokens), "x": len(settings.x_tokens),
                                  "linkedin": len(settings.linkedin_tokens)},
        )

    async def stop(self) -> None:
        self.health.started = False
        for monitor in self._lag:
            await monitor.stop()
        if self.broker:
            await stop_broker(self.broker, self.settings.moderation_stop_grace_s)
        if self.platforms:
            await self.platforms.close()
        if self.producer:
            await self.producer.stop()
        if self.pool:
            await self.pool.close()


def create_app(settings: ModerationSettings | None = None) -> FastAPI:
    settings = settings or ModerationSettings()
    service = ModerationService(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title="socialops moderation", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_api_docs(app)
    app.state.service = service
    install_identity(app, settings)
    app.include_router(review_router(service))
    app.include_router(actions_router(service))
    for route in [*service.health.routes(), metrics_route(), *asyncapi_routes()]:
        app.router.routes.append(route)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-moderation", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the service (HTTP API + consumers)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (containers pass 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None)
    exporting = commands.add_parser("export-verdicts", help="reviewers' verdicts as labelled comments for `make models`")
    exporting.add_argument("--out", type=Path, required=True, help="a .jsonl file; `learned.build --reviewed` reads its folder")
    exporting.add_argument("--since", help="verdicts from this day on (YYYY-MM-DD, Stockholm)")
    exporting.add_argument("--account", help="one account's verdicts only")
    args = parser.parse_args(argv)
    settings = ModerationSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    if args.command == "serve":
        return serve_http(create_app(settings), host=args.host, port=args.port or settings.http_port, log_config=None)
    if args.command == "export-verdicts":
        result = asyncio.run(export_verdicts(settings, args.out, verdicts.since_date(args.since), args.account))
        log.info("verdicts_exported", out=str(args.out), rows=len(result.rows), left_out=dict(result.left_out))
        return 0
    return 0


async def export_verdicts(settings: ModerationSettings, out: Path, since: datetime | None = None,
                          account_id: str | None = None) -> verdicts.Export:
    """Write the verdicts that stand as labelled JSON lines (learned/verdicts.py says what is in them)."""
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        pairs = await ModerationStore(pool).resolved_reviews(since, account_id)
    finally:
        await pool.close()
    result = verdicts.export(pairs)
    verdicts.write_jsonl(result.rows, out)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
