"""The insights poller: every inventory account with a token, read on a schedule, published as
metric snapshots on `social.events.v1`, its progress on `social.insights.v1`.

One cycle, for each active account of the inventory (re-read every cycle):
- no token -> not polled; status `no_token` (the monthly report says so);
- a rate limit seen earlier that has not lifted yet for the app, the token or the account -> wait;
- otherwise read the poll window (`window.py`: the last 3 complete days again, from where the last
  full read ended after an outage, posts of the last 35 days), publish the snapshots (acks=all),
  then the status with `covered_until` moved on. The status only moves once the snapshots are on
  the broker: a crash in between reads the same days again, and the same figures give the same
  event ids, which every consumer deduplicates.
Failures (`client.py`): an expired or revoked token -> `token_expired`, retried next cycle with
whatever token is configured then; a rate limit -> `rate_limited` until the instant the platform
gave; an outage after the client's retries -> `failing`. In every case `covered_until` stays,
so the next successful poll reads the missed days.

The poller's own state is the compacted status topic, read back at start: it needs no database,
and one replica polls (a second one would only spend the platforms' rate limits twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from pydantic import ValidationError
from socialops_common.events import (
    AccountRecord,
    AccountStatus,
    InsightsPollStatus,
    Platform,
    PollState,
)
from socialops_common.kafka import read_compacted, to_bytes
from socialops_common.topics import EVENTS, INSIGHTS

from .. import metrics
from ..publisher import EventPublisher, Record
from ..settings import IngestSettings
from . import facebook, instagram, linkedin, x
from .client import InsightsHttp, PollError, RateLimited, TokenRejected, now_utc
from .config import MetricConfig
from .graph import GraphCaller, token_scope
from .readings import Reading, local_today, snapshot_event
from .window import poll_window

log = structlog.get_logger("ingest.insights")


@dataclass
class CycleReport:
    polled: dict[str, PollState] = field(default_factory=dict)  # "platform:account" -> state after the cycle
    snapshots: int = 0

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for state in self.polled.values():
            counts[state.value] = counts.get(state.value, 0) + 1
        states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return f"polled {len(self.polled)} accounts ({states}); published {self.snapshots} snapshots"


def gate_scopes(record: AccountRecord, token: str) -> list[str]:
    """The rate-limit scopes a poll of this account would touch (see the platform modules), and the
    account's own (a limit read back from the status topic after a restart)."""
    platform, account = record.platform, record.external_id
    own = f"restored:{record.key.decode()}"
    if platform in (Platform.FACEBOOK, Platform.INSTAGRAM):
        return ["meta:app", f"meta:token:{token_scope(token)}", f"meta:account:{account}", own]
    return [f"{platform.value}:token:{token_scope(token)}", own]


class InsightsPoller:
    def __init__(self, settings: IngestSettings, publisher: EventPublisher, config: MetricConfig,
                 http: InsightsHttp | None = None, *, clock: Callable[[], datetime] = now_utc,
                 inventory: Callable[[], list[AccountRecord]] | None = None) -> None:
        self.settings = settings
        self.publisher = publisher
        self.config = config
        self.clock = clock
        self.http = http or InsightsHttp(
            timeout_s=settings.insights_http_timeout_s, attempts=settings.insights_http_attempts,
            backoff_s=settings.insights_http_backoff_s, clock=clock,
            on_request=lambda platform: metrics.INSIGHTS_REQUESTS.labels(platform).inc())
        self._inventory = inventory or self._load_inventory
        self.statuses: dict[bytes, InsightsPollStatus] = {}
        self.gates: dict[str, datetime] = {}  # rate-limit scope -> when it lifts
        self.refused: dict[str, set[str]] = {p.value: set() for p in Platform}  # platform -> invalid metrics

    def _load_inventory(self) -> list[AccountRecord]:
        from ..accounts import load_inventory

        return load_inventory(self.settings.accounts_file)

    def tokens(self) -> dict[str, str]:
        """The configured tokens, the file's (read now) over the environment's."""
        tokens = dict(self.settings.insights_tokens)
        if self.settings.insights_tokens_file:
            from ..accounts import inventory_path

            try:
                document = json.loads(inventory_path(self.settings.insights_tokens_file).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as error:
                log.error("the insights token file cannot be read: polling with the environment's tokens",
                          path=self.settings.insights_tokens_file, error=repr(error))
            else:
                tokens.update({str(k): str(v) for k, v in document.items()} if isinstance(document, dict) else {})
        return tokens

    async def restore(self) -> int:
        """Read back every account's last status (and the rate limits still in force)."""
        for key, value in (await read_compacted(self.settings.kafka_bootstrap, INSIGHTS)).items():
            try:
                status = InsightsPollStatus.model_validate_json(value)
            except ValidationError as error:
                log.warning("poll status not understood; that account starts afresh", key=key, error=str(error)[:200])
                continue
            self.statuses[key] = status
            if status.state is PollState.RATE_LIMITED and status.retry_after is not None:
                self.gates[f"restored:{key.decode()}"] = status.retry_after  # still waits after a restart
        return len(self.statuses)

    # --- one cycle ------------------------------------------------------------------------------

    async def run_cycle(self) -> CycleReport:
        report = CycleReport()
        accounts = [a for a in self._inventory() if a.status is AccountStatus.ACTIVE]
        tokens = self.tokens()
        limit = asyncio.Semaphore(max(1, self.settings.insights_concurrency))

        async def one(record: AccountRecord) -> None:
            async with limit:
                status, published = await self.poll_account(record, tokens.get(record.key.decode()))
                report.polled[record.key.decode()] = status.state
                report.snapshots += published

        await asyncio.gather(*(one(record) for record in accounts))
        metrics.INSIGHTS_LAST_CYCLE.set(self.clock().timestamp())
        return report

    async def poll_account(self, record: AccountRecord, token: str | None) -> tuple[InsightsPollStatus, int]:
        key, platform = record.key, record.platform
        previous = self.statuses.get(key)
        covered = previous.covered_until if previous else None
        now = self.clock()
        if not token:
            return await self._settle(record, PollState.NO_TOKEN, now, covered, previous,
                                      detail="no access token is configured: not polled"), 0
        waiting = [self.gates[s] for s in gate_scopes(record, token) if self.gates.get(s, now) > now]
        if waiting:
            return await self._settle(record, PollState.RATE_LIMITED, now, covered, previous, retry_after=max(waiting),
                                      detail=previous.detail if previous else "rate limited"), 0
        window = poll_window(platform.value, now, local_today(now), covered,
                             repoll_days=self.settings.insights_repoll_days,
                             backfill_days=self.settings.insights_backfill_days,
                             post_window_days=self.settings.insights_post_window_days)
        refused_before = set(self.refused[platform.value])
        try:
            readings = await self._read(record, token, window)
        except TokenRejected as error:
            return await self._settle(record, PollState.TOKEN_EXPIRED, now, covered, previous, detail=str(error)), 0
        except RateLimited as error:
            self.gates[error.scope] = error.retry_at
            metrics.INSIGHTS_RATE_LIMITED.labels(platform.value).inc()
            return await self._settle(record, PollState.RATE_LIMITED, now, covered, previous, detail=str(error),
                                      retry_after=error.retry_at), 0
        except PollError as error:
            return await self._settle(record, PollState.FAILING, now, covered, previous, detail=str(error)), 0
        finally:
            for metric in self.refused[platform.value] - refused_before:
                metrics.INSIGHTS_INVALID_METRIC.labels(platform.value, metric).set(1)
                log.warning("the platform refused a configured metric as invalid: it is stored as missing",
                            platform=platform.value, metric=metric)
        events = [snapshot_event(platform, record.external_id, reading, now) for reading in readings]
        await self.publisher.publish([Record(EVENTS, e.partition_key, to_bytes(e)) for e in events])
        for reading in readings:
            metrics.INSIGHTS_SNAPSHOTS.labels(platform.value, reading.level).inc()
        metrics.INSIGHTS_LAST_SUCCESS.labels(platform.value, record.external_id).set(now.timestamp())
        status = await self._settle(
            record, PollState.OK, now, max(filter(None, (covered, window.last_day))), previous, last_success_at=now,
            covered_since=min(filter(None, (previous.covered_since if previous else None,
                                            window.first_day if window.days else None)), default=None),
            posts_covered_since=min(filter(None, (previous.posts_covered_since if previous else None,
                                                  window.posts_since))))
        return status, len(events)

    async def _read(self, record: AccountRecord, token: str, window) -> list[Reading]:
        s, platform = self.settings, record.platform
        refused = self.refused[platform.value]
        if platform is Platform.FACEBOOK:
            return await facebook.poll(GraphCaller(self.http, s.insights_graph_url, "facebook", record.external_id,
                                                   token), window, self.config, refused)
        if platform is Platform.INSTAGRAM:
            return await instagram.poll(GraphCaller(self.http, s.insights_graph_url, "instagram",
                                                    record.external_id, token), window, self.config, refused)
        if platform is Platform.LINKEDIN:
            return await linkedin.poll(linkedin.LinkedInCaller(self.http, s.insights_linkedin_url,
                                                               s.insights_linkedin_version, record.external_id, token),
                                       window, self.config)
        return await x.poll(x.XCaller(self.http, s.insights_x_url, record.external_id, token), window, self.config)

    async def _settle(self, record: AccountRecord, state: PollState, now: datetime, covered, previous,
                      *, detail: str | None = None, retry_after: datetime | None = None,
                      last_success_at: datetime | None = None, covered_since=None,
                      posts_covered_since: datetime | None = None) -> InsightsPollStatus:
        status = InsightsPollStatus(
            platform=record.platform, account_id=record.external_id, state=state, detail=detail,
            covered_until=covered, retry_after=retry_after,
            covered_since=covered_since or (previous.covered_since if previous else None),
            posts_covered_since=posts_covered_since or (previous.posts_covered_since if previous else None),
            last_success_at=last_success_at or (previous.last_success_at if previous else None),
            missing_metrics=sorted(self.refused[record.platform.value]), updated_at=now)
        metrics.INSIGHTS_POLLS.labels(record.platform.value, state.value).inc()
        for candidate in PollState:
            metrics.INSIGHTS_ACCOUNT_STATE.labels(record.platform.value, record.external_id,
                                                  candidate.value).set(float(candidate is state))
        if state is not PollState.OK:
            log.warning("insights poll did not complete", platform=record.platform.value, account=record.external_id,
                        state=state.value, detail=detail)
        unchanged = previous is not None and previous.model_dump(exclude={"updated_at"}) == status.model_dump(
            exclude={"updated_at"})
        if not unchanged or state is PollState.OK:
            await self.publisher.publish([Record(INSIGHTS, status.key, to_bytes(status))])
        self.statuses[record.key] = status
        return status

    # --- the schedule ---------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.run_cycle()
                log.info("insights cycle done", summary=report.summary())
            except asyncio.CancelledError:
                raise
            except Exception as error:  # broker away: the same days are read again next cycle
                log.error("insights cycle failed", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.insights_poll_interval_s)
