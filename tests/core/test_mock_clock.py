"""MockClock: a clock tests control, with optional autojump."""

from __future__ import annotations

import math

import pytest

import nursery
from nursery.abc import Clock
from nursery.lowlevel import current_clock
from nursery.testing import MockClock, wait_all_tasks_blocked


def test_mock_clock_is_a_clock() -> None:
    assert isinstance(MockClock(), Clock)


def test_defaults() -> None:
    clock = MockClock()
    assert clock.rate == 0
    assert clock.autojump_threshold == math.inf
    assert clock.current_time() == 0


def test_constructor_arguments() -> None:
    clock = MockClock(rate=2, autojump_threshold=0.5)
    assert clock.rate == 2
    assert clock.autojump_threshold == 0.5


def test_time_stands_still_at_rate_zero() -> None:
    clock = MockClock()
    assert clock.current_time() == clock.current_time() == 0


def test_jump_moves_time_forward() -> None:
    clock = MockClock()
    clock.jump(3)
    clock.jump(0.5)
    assert clock.current_time() == 3.5


def test_jump_backwards_is_a_value_error() -> None:
    clock = MockClock()
    with pytest.raises(ValueError):
        clock.jump(-1)
    assert clock.current_time() == 0


def test_negative_rate_is_a_value_error() -> None:
    clock = MockClock()
    with pytest.raises(ValueError):
        clock.rate = -1
    with pytest.raises(ValueError):
        MockClock(rate=-1)


def test_rate_change_keeps_the_current_time() -> None:
    clock = MockClock()
    clock.jump(10)
    clock.rate = 1
    assert clock.current_time() >= 10
    clock.rate = 0
    frozen = clock.current_time()
    assert frozen >= 10
    assert clock.current_time() == frozen


def test_deadline_to_sleep_time_at_rate_zero() -> None:
    clock = MockClock()
    clock.jump(5)
    assert clock.deadline_to_sleep_time(4) <= 0
    assert clock.deadline_to_sleep_time(5) <= 0
    # The clock only moves when told to, so waiting in real time is useless:
    # any future deadline means "a very long time".
    assert clock.deadline_to_sleep_time(6) > 1000


def test_deadline_to_sleep_time_scales_with_rate() -> None:
    clock = MockClock(rate=4)
    sleep_time = clock.deadline_to_sleep_time(clock.current_time() + 8)
    # 8 clock seconds at 4 clock-seconds per real second: at most 2 seconds.
    assert 0 < sleep_time <= 2


async def test_run_uses_the_mock_clock(mock_clock: MockClock) -> None:
    assert current_clock() is mock_clock
    mock_clock.jump(7)
    assert nursery.current_time() == 7


async def test_sleeper_wakes_when_the_clock_is_jumped(mock_clock: MockClock) -> None:
    woke: list[float] = []

    async def sleeper() -> None:
        await nursery.sleep(10)
        woke.append(nursery.current_time())

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        mock_clock.jump(10)
    assert woke == [10]


async def test_autojump_skips_to_the_next_deadline(autojump_clock: MockClock) -> None:
    await nursery.sleep(100)
    assert nursery.current_time() == 100
    await nursery.sleep_until(250)
    assert nursery.current_time() == 250


async def test_autojump_goes_deadline_by_deadline(autojump_clock: MockClock) -> None:
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, delay: float) -> None:
        await nursery.sleep(delay)
        woke.append((name, nursery.current_time()))

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper, "late", 30)
        n.start_soon(sleeper, "early", 10)
        n.start_soon(sleeper, "middle", 20)
    assert woke == [("early", 10), ("middle", 20), ("late", 30)]


async def test_autojump_threshold_can_be_changed_during_a_run(mock_clock: MockClock) -> None:
    mock_clock.autojump_threshold = 0
    await nursery.sleep(1000)
    assert nursery.current_time() == 1000


async def test_wait_all_tasks_blocked_wins_over_autojump(autojump_clock: MockClock) -> None:
    async with nursery.open_nursery() as n:
        n.start_soon(nursery.sleep, 50)
        await wait_all_tasks_blocked()
        # The waiter counted as activity, so the clock did not jump.
        assert nursery.current_time() == 0
    assert nursery.current_time() == 50


async def test_autojump_does_not_fire_while_tasks_are_runnable(
    autojump_clock: MockClock,
) -> None:
    async def busy() -> None:
        for _ in range(100):
            await nursery.sleep(0)

    async with nursery.open_nursery() as n:
        n.start_soon(busy)
        with nursery.move_on_after(1):
            async with nursery.open_nursery() as inner:
                inner.start_soon(busy)
        assert nursery.current_time() == 0


async def test_wait_all_tasks_blocked_with_a_cushion_under_autojump_goes_before_the_jump(
    mock_clock: MockClock,
) -> None:
    # The idle waiter wakes first, without the clock moving; then the clock jumps to
    # wake the sleeper. (The waiter used to be starved, and the run spun forever.)
    mock_clock.autojump_threshold = 0
    record: list[str] = []

    async def sleeper() -> None:
        await nursery.sleep(100)
        record.append("sleeper")

    async def waiter() -> None:
        await wait_all_tasks_blocked(1)
        record.append("waiter")

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        n.start_soon(waiter)
    assert record == ["waiter", "sleeper"]
