"""Timeouts and sleeping: move_on_*, fail_*, sleep*, deadlines, current_time."""

from __future__ import annotations

import math

import pytest

import nursery
from nursery.lowlevel import checkpoint
from nursery.testing import MockClock, assert_checkpoints, wait_all_tasks_blocked

# ---------------------------------------------------------------- current_time / sleep


async def test_current_time_comes_from_the_runs_clock(mock_clock: MockClock) -> None:
    start = nursery.current_time()
    mock_clock.jump(2.5)
    assert nursery.current_time() == start + 2.5


async def test_sleep_advances_the_clock_by_exactly_its_duration(
    autojump_clock: MockClock,
) -> None:
    await nursery.sleep(3)
    assert nursery.current_time() == 3
    await nursery.sleep(0.5)
    assert nursery.current_time() == 3.5


async def test_sleep_zero_is_a_checkpoint() -> None:
    with assert_checkpoints():
        await nursery.sleep(0)
    with nursery.CancelScope() as scope:
        scope.cancel()
        await nursery.sleep(0)
    assert scope.cancelled_caught


async def test_sleep_until_wakes_at_that_time(autojump_clock: MockClock) -> None:
    await nursery.sleep_until(7)
    assert nursery.current_time() == 7


async def test_sleep_until_a_past_time_is_just_a_checkpoint(mock_clock: MockClock) -> None:
    mock_clock.jump(10)
    with assert_checkpoints():
        await nursery.sleep_until(5)
    assert nursery.current_time() == 10


async def test_sleep_blocks_until_the_clock_reaches_the_deadline(mock_clock: MockClock) -> None:
    woke: list[float] = []

    async def sleeper() -> None:
        await nursery.sleep(10)
        woke.append(nursery.current_time())

    async with nursery.open_nursery() as n:
        n.start_soon(sleeper)
        await wait_all_tasks_blocked()
        mock_clock.jump(9)
        await wait_all_tasks_blocked()
        assert woke == []
        mock_clock.jump(1)
    assert woke == [10]


async def test_sleep_forever_only_ends_by_cancellation(autojump_clock: MockClock) -> None:
    with nursery.move_on_after(1000) as scope:
        await nursery.sleep_forever()
    assert scope.cancelled_caught
    assert nursery.current_time() == 1000


async def test_sleep_is_cancellable(autojump_clock: MockClock) -> None:
    with nursery.move_on_after(1):
        await nursery.sleep(100)
    assert nursery.current_time() == 1


# ---------------------------------------------------------------- move_on_*


async def test_move_on_after_stops_the_block_quietly(autojump_clock: MockClock) -> None:
    reached: list[str] = []
    with nursery.move_on_after(5) as scope:
        await nursery.sleep(10)
        reached.append("end of block")  # pragma: no cover
    assert reached == []
    assert scope.cancelled_caught
    assert nursery.current_time() == 5


async def test_move_on_after_that_does_not_expire(autojump_clock: MockClock) -> None:
    with nursery.move_on_after(5) as scope:
        await nursery.sleep(1)
    assert not scope.cancelled_caught
    assert not scope.cancel_called


async def test_move_on_after_counts_from_entering(mock_clock: MockClock) -> None:
    cm = nursery.move_on_after(5)
    mock_clock.jump(3)
    with cm as scope:
        assert scope.deadline == 8


async def test_move_on_after_accepts_infinity() -> None:
    with nursery.move_on_after(math.inf) as scope:
        await checkpoint()
        assert scope.deadline == math.inf


async def test_move_on_at_uses_an_absolute_deadline(autojump_clock: MockClock) -> None:
    with nursery.move_on_at(4) as scope:
        assert scope.deadline == 4
        await nursery.sleep_forever()
    assert nursery.current_time() == 4


async def test_move_on_at_past_deadline_cancels_at_first_checkpoint(mock_clock: MockClock) -> None:
    mock_clock.jump(10)
    with nursery.move_on_at(1) as scope:
        await checkpoint()
    assert scope.cancelled_caught


async def test_move_on_after_with_shield_ignores_outer_cancel(autojump_clock: MockClock) -> None:
    with nursery.CancelScope() as outer:
        outer.cancel()
        with nursery.move_on_after(5, shield=True) as inner:
            assert inner.shield
            await nursery.sleep(10)  # only the inner timeout can stop this
        assert inner.cancelled_caught
        assert nursery.current_time() == 5
    assert not outer.cancelled_caught


async def test_move_on_at_with_shield(autojump_clock: MockClock) -> None:
    with nursery.CancelScope() as outer:
        outer.cancel()
        with nursery.move_on_at(3, shield=True) as inner:
            await nursery.sleep_forever()
        assert inner.cancelled_caught
    assert nursery.current_time() == 3


# ---------------------------------------------------------------- fail_*


async def test_fail_after_raises_too_slow_error(autojump_clock: MockClock) -> None:
    with pytest.raises(nursery.TooSlowError):
        with nursery.fail_after(5):
            await nursery.sleep(10)
    assert nursery.current_time() == 5


async def test_fail_after_is_quiet_when_in_time(autojump_clock: MockClock) -> None:
    with nursery.fail_after(5) as scope:
        await nursery.sleep(4)
    assert not scope.cancelled_caught


async def test_fail_after_zero_fails_at_the_first_checkpoint() -> None:
    with pytest.raises(nursery.TooSlowError):
        with nursery.fail_after(0):
            await checkpoint()


async def test_fail_at_raises_too_slow_error(autojump_clock: MockClock) -> None:
    with pytest.raises(nursery.TooSlowError):
        with nursery.fail_at(2) as scope:
            assert scope.deadline == 2
            await nursery.sleep_forever()
    assert nursery.current_time() == 2


async def test_fail_after_lets_an_outer_cancellation_through(autojump_clock: MockClock) -> None:
    # Only this scope's own timeout becomes TooSlowError.
    with nursery.CancelScope() as outer:
        with nursery.fail_after(5):
            outer.cancel()
            await nursery.sleep(10)
    assert outer.cancelled_caught
    assert nursery.current_time() == 0


async def test_fail_after_with_shield(autojump_clock: MockClock) -> None:
    with nursery.CancelScope() as outer:
        outer.cancel()
        with pytest.raises(nursery.TooSlowError):
            with nursery.fail_after(3, shield=True) as inner:
                assert inner.shield
                await nursery.sleep(10)
    assert nursery.current_time() == 3


async def test_fail_at_with_shield(autojump_clock: MockClock) -> None:
    with nursery.CancelScope() as outer:
        outer.cancel()
        with pytest.raises(nursery.TooSlowError):
            with nursery.fail_at(3, shield=True):
                await nursery.sleep(10)
    assert nursery.current_time() == 3


def test_too_slow_error_is_an_exception() -> None:
    assert issubclass(nursery.TooSlowError, Exception)


# ---------------------------------------------------------------- current_effective_deadline


async def test_effective_deadline_is_infinite_without_scopes() -> None:
    assert nursery.current_effective_deadline() == math.inf


async def test_effective_deadline_is_the_nearest_enclosing_deadline(mock_clock: MockClock) -> None:
    with nursery.move_on_at(10):
        assert nursery.current_effective_deadline() == 10
        with nursery.move_on_at(20):
            assert nursery.current_effective_deadline() == 10
            with nursery.move_on_at(5):
                assert nursery.current_effective_deadline() == 5
            assert nursery.current_effective_deadline() == 10


async def test_effective_deadline_follows_deadline_changes(mock_clock: MockClock) -> None:
    with nursery.move_on_at(10) as scope:
        scope.deadline = 3
        assert nursery.current_effective_deadline() == 3


async def test_shield_hides_outer_deadlines(mock_clock: MockClock) -> None:
    with nursery.move_on_at(10):
        with nursery.CancelScope(shield=True):
            assert nursery.current_effective_deadline() == math.inf
            with nursery.move_on_at(30):
                assert nursery.current_effective_deadline() == 30


async def test_effective_deadline_is_minus_infinity_when_cancelled() -> None:
    with nursery.CancelScope() as scope:
        scope.cancel()
        assert nursery.current_effective_deadline() == -math.inf


async def test_children_inherit_the_nurserys_deadline(mock_clock: MockClock) -> None:
    seen: list[float] = []

    async def child() -> None:
        seen.append(nursery.current_effective_deadline())

    with nursery.move_on_at(42):
        async with nursery.open_nursery() as n:
            n.start_soon(child)
    assert seen == [42]
