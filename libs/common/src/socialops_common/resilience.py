"""Retries with backoff, a circuit around a dependency, and poison messages to the dead-letter topic.

A consumer hands each polled batch to `BatchGuard.handle`; it returns once every record was either
handled or dead-lettered, and only then may the consumer commit its offsets. Two kinds of failure
are told apart, because they need opposite answers:

- the dependency is down (database or broker unreachable — `probe` fails): nothing is the
  message's fault; the circuit opens, the consumer stops hammering the dependency, probes it with
  backoff, and carries on with the same batch once it answers. Nothing is dead-lettered, nothing
  committed, `socialops_circuit_open{circuit}` is 1 meanwhile (alert `CircuitOpen`);
- the dependency answers but the batch still fails `attempts` times: some message in it cannot be
  handled (a poison message). Each record is then tried alone; one that fails `attempts` times
  while the dependency answers goes to `social.deadletter.v1` with the reason, the others are
  handled, and the partition moves on. `socialops-deadletter replay` re-drives it after a fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog
from prometheus_client import Counter, Gauge

log = structlog.get_logger("resilience")
Record = TypeVar("Record")

CIRCUIT_OPEN = Gauge("socialops_circuit_open", "1 while a dependency is unreachable and calls wait", ["circuit"])
RETRIES = Counter("socialops_batch_retries_total", "Batches handled again after a failure", ["circuit"])
POISONED = Counter("socialops_poison_messages_total", "Messages dead-lettered after repeated failures", ["circuit"])


@dataclass
class Backoff:
    """Exponential delays: initial, ×factor each time, capped at maximum."""

    initial_s: float = 0.5
    maximum_s: float = 30.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        self._next = self.initial_s

    def next(self) -> float:
        delay = self._next
        self._next = min(self.maximum_s, self._next * self.factor)
        return delay

    def reset(self) -> None:
        self._next = self.initial_s


def all_answer(*checks: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """One probe from several (e.g. observability's `database_reachable` and `kafka_reachable`)."""

    async def probe() -> None:
        for check in checks:
            await check()

    return probe


class BatchGuard(Generic[Record]):
    def __init__(
        self,
        circuit: str,
        handle: Callable[[Sequence[Record]], Awaitable[object]],
        dead_letter: Callable[[Record, str], Awaitable[None]],
        probe: Callable[[], Awaitable[object]],
        *,
        attempts: int = 3,
        backoff: Backoff | None = None,
        probe_timeout_s: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.circuit, self.attempts = circuit, attempts
        self._handle, self._dead_letter, self._probe = handle, dead_letter, probe
        self._backoff = backoff or Backoff()
        self._probe_timeout_s = probe_timeout_s
        self._sleep = sleep
        CIRCUIT_OPEN.labels(circuit).set(0)

    async def handle(self, records: Sequence[Record]) -> None:
        """Handle the batch; poison records are dead-lettered; returns when the batch may be committed."""
        if not records:
            return
        error = await self._attempts(records)
        if error is None:
            return
        if len(records) == 1:
            await self._poisoned(records[0], error)
            return
        log.warning("batch keeps failing while the dependency answers: trying each message alone",
                    circuit=self.circuit, records=len(records), error=repr(error)[:300])
        for record in records:
            error = await self._attempts([record])
            if error is not None:
                await self._poisoned(record, error)

    async def _attempts(self, records: Sequence[Record]) -> Exception | None:
        """None when handled; the last error after `attempts` failures with the dependency answering."""
        failures = 0
        self._backoff.reset()
        while True:
            try:
                await self._handle(records)
                return None
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - classified below: outage or poison
                if not await self._dependency_answers():
                    await self._wait_until_closed(error)
                    failures = 0  # an outage says nothing about the messages
                    continue
                failures += 1
                if failures >= self.attempts:
                    return error
                RETRIES.labels(self.circuit).inc()
                log.warning("batch failed; retrying", circuit=self.circuit, attempt=failures,
                            records=len(records), error=repr(error)[:300])
                await self._sleep(self._backoff.next())

    async def _dependency_answers(self) -> bool:
        try:
            await asyncio.wait_for(self._probe(), self._probe_timeout_s)
            return True
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - any failure to answer is "down"
            return False

    async def _wait_until_closed(self, error: Exception) -> None:
        CIRCUIT_OPEN.labels(self.circuit).set(1)
        log.error("dependency unreachable: circuit open, waiting", circuit=self.circuit, error=repr(error)[:300])
        self._backoff.reset()
        while not await self._dependency_answers():
            await self._sleep(self._backoff.next())
        CIRCUIT_OPEN.labels(self.circuit).set(0)
        self._backoff.reset()
        log.info("dependency answers again: circuit closed", circuit=self.circuit)

    async def _poisoned(self, record: Record, error: Exception) -> None:
        reason = f"failed {self.attempts} times while {self.circuit} answered: {type(error).__name__}: {error}"
        await self._dead_letter(record, reason[:2000])
        POISONED.labels(self.circuit).inc()
        log.error("poison message dead-lettered", circuit=self.circuit, reason=reason[:300])
