"""``nursery.testing.trio_test`` runs an async function as a synchronous test."""

from __future__ import annotations

import pytest

import nursery
from nursery.abc import Instrument
from nursery.lowlevel import current_clock, current_task
from nursery.testing import MockClock, trio_test


class TaskCounter(Instrument):
    def __init__(self) -> None:
        self.spawned = 0

    def task_spawned(self, task: object) -> None:
        self.spawned += 1


def test_the_wrapper_runs_the_function_and_returns_its_result() -> None:
    @trio_test
    async def body(x: int) -> int:
        await nursery.sleep(0)
        current_task()  # inside a run
        return x * 2

    assert body(21) == 42
    assert not nursery.lowlevel.in_run()


def test_a_clock_argument_becomes_the_runs_clock() -> None:
    seen = []

    @trio_test
    async def body(*, autojump_clock: MockClock) -> None:
        seen.append(current_clock() is autojump_clock)
        await nursery.sleep(1000)  # no real waiting: the clock jumps

    body(autojump_clock=MockClock(autojump_threshold=0))
    assert seen == [True]


def test_instrument_arguments_are_installed() -> None:
    counter = TaskCounter()

    @trio_test
    async def body(*, counter: TaskCounter) -> None:
        async with nursery.open_nursery() as n:
            n.start_soon(nursery.sleep, 0)

    body(counter=counter)
    assert counter.spawned >= 2


def test_two_clocks_are_a_value_error() -> None:
    @trio_test
    async def body(**clocks: MockClock) -> None:  # pragma: no cover - never runs
        pass

    with pytest.raises(ValueError, match="Clock"):
        body(a=MockClock(), b=MockClock())
