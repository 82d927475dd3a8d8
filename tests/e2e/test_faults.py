"""Faults in the middle of the stream, in the same harness as the end-to-end test: after each one
the invariants (`invariants.py`) still hold over everything sent so far — nothing lost, nothing
doubled.

- SIGKILL of each consumer service (moderation, sla, archive) and of ingest, restarted at once;
- the database stopped for 20 s;
- the broker frozen (SIGSTOP) for 20 s: ingest answers 503 and the sender retries like the
  platforms do (Meta, X and LinkedIn redeliver a webhook that was not answered 200).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from harness import DeliveryLog, Stack, read_all, send_traffic, wait_settled
from invariants import (
    check_actions,
    check_archived_once,
    check_decisions,
    check_no_dead_letters,
    check_removals,
    check_sla,
    check_sla_api,
    take_snapshot,
)
from socialops_common.topics import DEADLETTER, EVENTS
from test_end_to_end import a_day

pytestmark = pytest.mark.slow

EVENTS_PER_STRETCH = 720  # half a simulated day per fault
FIRST_MONDAY = datetime(2026, 10, 5, 5, 0, tzinfo=UTC)  # each fault gets its own past Monday
RATE = 40  # deliveries/s (3 events each)


@pytest.fixture(scope="module")
def log() -> DeliveryLog:
    """Everything sent to this stack, over all the faults (the invariants are checked on all of it)."""
    return DeliveryLog()


async def stream_with_fault(stack: Stack, log: DeliveryLog, week: int, fault: Callable[[], Awaitable[None]],
                            *, at_share: float = 0.4) -> None:
    """Half a day of traffic on the week's Monday (its own seed: its own ids), the fault after
    `at_share` of it was sent; the sender keeps going meanwhile, retrying what is not accepted."""
    deliveries = a_day(100 + week, start=FIRST_MONDAY + timedelta(weeks=week), events=EVENTS_PER_STRETCH)
    before = log.sent
    sending = asyncio.create_task(send_traffic(stack.services["ingest"].url, deliveries, rate=RATE, log=log))
    while log.sent - before < len(deliveries) * at_share and not sending.done():  # noqa: ASYNC110 - polls a counter
        await asyncio.sleep(0.05)
    await fault()
    await sending
    assert log.refused == [], log.refused[:5]


async def assert_invariants(stack: Stack, log: DeliveryLog) -> dict:
    counts = await wait_settled(stack, log.events_accepted, within_s=240)
    snap = await take_snapshot(stack.database_url, await read_all(stack.broker.bootstrap, EVENTS),
                               stack.mailbox.messages)
    problems = (check_archived_once(snap, log.events_accepted) + check_decisions(snap)
                + check_actions(snap, stack.accounts_with_token) + check_removals(snap, resent_copies_allowed=True)
                + check_sla(snap, datetime.now(UTC)) + await check_sla_api(stack.services["sla"].url, snap)
                + check_no_dead_letters(await read_all(stack.broker.bootstrap, DEADLETTER)))
    assert problems == [], "\n".join(problems[:60])
    assert log.events_accepted == log.events_expected
    return counts


@pytest.mark.parametrize("service", ["moderation", "sla", "archive", "ingest"])
async def test_sigkill_mid_stream_loses_and_doubles_nothing(stack: Stack, log: DeliveryLog, service: str) -> None:
    async def kill_and_restart() -> None:
        stack.services[service].kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(stack.restart, service)

    week = ["moderation", "sla", "archive", "ingest"].index(service)
    await stream_with_fault(stack, log, week, kill_and_restart)
    await assert_invariants(stack, log)


async def test_database_stopped_for_20_seconds(stack: Stack, log: DeliveryLog) -> None:
    async def outage() -> None:
        await asyncio.to_thread(stack.stop_database)
        await asyncio.sleep(20)
        await asyncio.to_thread(stack.start_database)

    await stream_with_fault(stack, log, 4, outage)
    for service in stack.services.values():
        assert service.process.poll() is None, f"{service.name} exited: {service.log_tail()}"
    await assert_invariants(stack, log)


async def test_broker_frozen_for_20_seconds_while_the_platforms_retry(stack: Stack, log: DeliveryLog) -> None:
    retries_before = log.retries

    async def outage() -> None:
        stack.broker.pause()
        await asyncio.sleep(20)
        stack.broker.resume()

    await stream_with_fault(stack, log, 5, outage)
    assert log.retries > retries_before, "ingest never answered 503 while the broker was away"
    assert log.statuses.get(503, 0) > 0, log.statuses
    for service in stack.services.values():
        assert service.process.poll() is None, f"{service.name} exited: {service.log_tail()}"
    await assert_invariants(stack, log)
