"""BatchGuard: an outage waits (nothing dead-lettered), a poison message is dead-lettered alone."""

from socialops_common.resilience import CIRCUIT_OPEN, POISONED, Backoff, BatchGuard


class Recorder:
    """The consumer's side: which records were handled, which dead-lettered, what was slept."""

    def __init__(self, poison: set[int] = frozenset(), down_for: int = 0) -> None:
        self.poison, self.down_for = poison, down_for
        self.handled: list[int] = []
        self.letters: list[tuple[int, str]] = []
        self.sleeps: list[float] = []
        self.probes = 0

    async def handle(self, records):
        if self.down_for > 0:
            raise ConnectionError("database unreachable")
        bad = [r for r in records if r in self.poison]
        if bad:
            raise ValueError(f"cannot handle {bad[0]}")
        self.handled += records

    async def dead_letter(self, record, reason):
        self.letters.append((record, reason))

    async def probe(self):
        self.probes += 1
        if self.down_for > 0:
            self.down_for -= 1
            raise ConnectionError("database unreachable")

    async def sleep(self, seconds):
        self.sleeps.append(seconds)

    def guard(self, circuit: str, attempts: int = 3) -> BatchGuard:
        return BatchGuard(circuit, self.handle, self.dead_letter, self.probe, attempts=attempts,
                          backoff=Backoff(0.5, 4.0), sleep=self.sleep)


def test_backoff_doubles_up_to_the_cap_and_starts_over_on_reset():
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5


async def test_a_healthy_batch_is_handled_once_without_waiting():
    recorder = Recorder()
    await recorder.guard("test-healthy").handle([1, 2, 3])
    assert recorder.handled == [1, 2, 3] and recorder.letters == [] and recorder.sleeps == []


async def test_a_poison_message_is_dead_lettered_with_the_reason_and_the_rest_is_handled():
    recorder = Recorder(poison={2})
    before = POISONED.labels("test-poison")._value.get()
    await recorder.guard("test-poison", attempts=3).handle([1, 2, 3])
    assert recorder.handled == [1, 3]
    assert [r for r, _ in recorder.letters] == [2]
    assert "failed 3 times" in recorder.letters[0][1] and "cannot handle 2" in recorder.letters[0][1]
    assert POISONED.labels("test-poison")._value.get() == before + 1
    # the batch: 3 attempts (2 sleeps), then alone: 1 ok, 2 three times (2 sleeps), 3 ok
    assert recorder.sleeps == [0.5, 1.0, 0.5, 1.0]


async def test_while_the_dependency_is_down_nothing_is_dead_lettered_and_the_batch_waits():
    recorder = Recorder(poison=set(), down_for=5)
    states = []

    async def sleep(seconds):
        states.append(CIRCUIT_OPEN.labels("test-outage")._value.get())
        recorder.sleeps.append(seconds)

    guard = BatchGuard("test-outage", recorder.handle, recorder.dead_letter, recorder.probe, attempts=2,
                       backoff=Backoff(0.5, 4.0), sleep=sleep)
    await guard.handle([7, 8])
    assert recorder.letters == [] and recorder.handled == [7, 8]
    assert states and set(states) == {1.0}, "the circuit is open while waiting"
    assert CIRCUIT_OPEN.labels("test-outage")._value.get() == 0
    assert recorder.sleeps == [0.5, 1.0, 2.0, 4.0], "probes back off while the circuit is open"


async def test_a_single_poison_record_is_dead_lettered_after_the_attempts():
    recorder = Recorder(poison={9})
    await recorder.guard("test-single", attempts=2).handle([9])
    assert [r for r, _ in recorder.letters] == [9] and recorder.handled == []
