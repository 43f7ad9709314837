"""race, gather and map_concurrently: results, errors, cancellation, bounds.

Deterministic: virtual time from the autojump clock, wait_all_tasks_blocked to let
tasks settle, never a real sleep, and no assertion on durations.
"""

from __future__ import annotations

import functools
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import nursery
from nursery import gather, map_concurrently, race
from nursery.testing import MockClock, assert_checkpoints, wait_all_tasks_blocked


async def after(seconds: float, value: object, log: list[str] | None = None) -> object:
    try:
        await nursery.sleep(seconds)
    except nursery.Cancelled:
        if log is not None:
            log.append(f"cancelled {value}")
        raise
    if log is not None:
        log.append(f"finished {value}")
    return value


async def fail_after_(seconds: float, exc: BaseException) -> None:
    await nursery.sleep(seconds)
    raise exc


def leaves(group: BaseException) -> list[BaseException]:
    if isinstance(group, BaseExceptionGroup):
        return [leaf for sub in group.exceptions for leaf in leaves(sub)]
    return [group]


# -- race ------------------------------------------------------------------------------------


async def test_race_returns_the_first_result_and_cancels_the_rest(
    autojump_clock: MockClock,
) -> None:
    log: list[str] = []
    start = nursery.current_time()
    winner = await race(
        functools.partial(after, 3, "slow", log),
        functools.partial(after, 1, "fast", log),
        functools.partial(after, 2, "middle", log),
    )
    assert winner == "fast"
    # The losers were cancelled, and had finished unwinding before race returned.
    assert sorted(log) == ["cancelled middle", "cancelled slow", "finished fast"]
    assert nursery.current_time() - start == 1


async def test_race_waits_for_losers_to_clean_up(autojump_clock: MockClock) -> None:
    log: list[str] = []

    async def slow_to_clean_up() -> str:
        try:
            await nursery.sleep_forever()
        finally:
            with nursery.CancelScope(shield=True):
                await nursery.sleep(5)
            log.append("cleaned up")
        return "never"

    assert await race(slow_to_clean_up, functools.partial(after, 1, "winner")) == "winner"
    assert log == ["cleaned up"]


async def test_race_with_a_none_result() -> None:
    async def nothing() -> int | None:
        return None

    assert await race(nothing, nursery.sleep_forever) is None


async def test_race_error_from_the_first_to_finish_propagates(autojump_clock: MockClock) -> None:
    log: list[str] = []
    with pytest.raises(BaseExceptionGroup) as info:
        await race(
            functools.partial(after, 5, "late", log),
            functools.partial(fail_after_, 1, KeyError("boom")),
        )
    assert [type(e) for e in leaves(info.value)] == [KeyError]
    assert log == ["cancelled late"]


async def test_race_a_loser_failing_while_it_unwinds_is_not_lost(
    autojump_clock: MockClock,
) -> None:
    async def bad_loser() -> str:
        try:
            await nursery.sleep_forever()
        finally:
            raise ValueError("while unwinding")  # noqa: B012

    with pytest.raises(BaseExceptionGroup) as info:
        await race(bad_loser, functools.partial(after, 1, "winner"))
    assert [type(e) for e in leaves(info.value)] == [ValueError]


async def test_race_two_finishing_together_first_one_recorded_wins() -> None:
    async def instant(value: str) -> str:
        return value

    result = await race(functools.partial(instant, "a"), functools.partial(instant, "b"))
    assert result in ("a", "b")


async def test_race_outer_cancellation_cancels_every_contender(
    autojump_clock: MockClock,
) -> None:
    log: list[str] = []
    with nursery.move_on_after(1) as scope:
        await race(
            functools.partial(after, 5, "a", log),
            functools.partial(after, 6, "b", log),
        )
    assert scope.cancelled_caught
    assert sorted(log) == ["cancelled a", "cancelled b"]


async def test_race_argument_errors() -> None:
    with pytest.raises(ValueError, match="at least one"):
        await race()
    coro = after(0, 1)
    with pytest.raises(TypeError, match="coroutine object"):
        await race(coro)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await race(42)  # type: ignore[arg-type]


async def test_race_is_a_checkpoint_even_when_nothing_waits() -> None:
    async def instant() -> int:
        return 1

    with assert_checkpoints():
        await race(instant)
    with nursery.CancelScope() as scope:
        scope.cancel()
        await race(instant)
        pytest.fail("race in a cancelled scope must raise Cancelled")
    assert scope.cancelled_caught


async def test_race_contender_task_names() -> None:
    names: list[str] = []

    async def named_contender() -> None:
        names.append(nursery.lowlevel.current_task().name)

    await race(named_contender)
    assert names[0].endswith("named_contender")


# -- gather ----------------------------------------------------------------------------------


async def test_gather_returns_results_in_argument_order(autojump_clock: MockClock) -> None:
    results = await gather(
        functools.partial(after, 3, "first"),
        functools.partial(after, 1, "second"),
        functools.partial(after, 2, "third"),
    )
    assert results == ["first", "second", "third"]


async def test_gather_runs_concurrently(autojump_clock: MockClock) -> None:
    start = nursery.current_time()
    await gather(*(functools.partial(after, 1, i) for i in range(100)))
    assert nursery.current_time() - start == 1  # virtual time: all at once


async def test_gather_of_nothing() -> None:
    with assert_checkpoints():
        assert await gather() == []
    with nursery.CancelScope() as scope:
        scope.cancel()
        await gather()
    assert scope.cancelled_caught


async def test_gather_first_error_cancels_the_rest(autojump_clock: MockClock) -> None:
    log: list[str] = []
    with pytest.raises(BaseExceptionGroup) as info:
        await gather(
            functools.partial(after, 5, "a", log),
            functools.partial(fail_after_, 1, KeyError("k")),
            functools.partial(after, 5, "b", log),
        )
    assert [type(e) for e in leaves(info.value)] == [KeyError]
    assert sorted(log) == ["cancelled a", "cancelled b"]


async def test_gather_keeps_every_simultaneous_error(autojump_clock: MockClock) -> None:
    with pytest.raises(BaseExceptionGroup) as info:
        await gather(
            functools.partial(fail_after_, 1, KeyError("k")),
            functools.partial(fail_after_, 1, ValueError("v")),
        )
    assert sorted(type(e).__name__ for e in leaves(info.value)) == ["KeyError", "ValueError"]


async def test_gather_outer_cancellation(autojump_clock: MockClock) -> None:
    log: list[str] = []
    with nursery.move_on_after(1):
        await gather(functools.partial(after, 2, "a", log), functools.partial(after, 3, "b", log))
    assert sorted(log) == ["cancelled a", "cancelled b"]


async def test_gather_argument_errors() -> None:
    coro = after(0, 1)
    with pytest.raises(TypeError, match="coroutine object"):
        await gather(coro)  # type: ignore[arg-type]


# -- map_concurrently ------------------------------------------------------------------------


class Tracker:
    """An async function that records how many calls run at once."""

    def __init__(self, delays: dict[int, float] | None = None) -> None:
        self.delays = delays or {}
        self.running = 0
        self.peak = 0
        self.started: list[int] = []
        self.cancelled: list[int] = []

    async def __call__(self, item: int) -> int:
        self.started.append(item)
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await nursery.sleep(self.delays.get(item, 1))
        except nursery.Cancelled:
            self.cancelled.append(item)
            raise
        finally:
            self.running -= 1
        return item * 10


async def test_map_ordered_gives_input_order(autojump_clock: MockClock) -> None:
    work = Tracker({0: 5, 1: 1, 2: 3, 3: 1, 4: 2})
    async with map_concurrently(work, range(5), limit=3) as results:
        got = [r async for r in results]
    assert got == [0, 10, 20, 30, 40]
    assert work.peak == 3


async def test_map_unordered_gives_completion_order(autojump_clock: MockClock) -> None:
    work = Tracker({0: 5, 1: 1, 2: 3})
    async with map_concurrently(work, range(3), limit=3, ordered=False) as results:
        got = [r async for r in results]
    assert got == [10, 20, 0]


@pytest.mark.parametrize("ordered", [True, False])
@pytest.mark.parametrize("limit", [1, 2, 5, 50])
async def test_map_respects_the_limit(ordered: bool, limit: int, autojump_clock: MockClock) -> None:
    work = Tracker({i: (i * 7) % 5 + 1 for i in range(20)})
    async with map_concurrently(work, range(20), limit=limit, ordered=ordered) as results:
        got = [r async for r in results]
    assert sorted(got) == [i * 10 for i in range(20)]
    if ordered:
        assert got == [i * 10 for i in range(20)]
    assert work.peak == min(limit, 20)
    assert work.running == 0


async def test_map_unbounded_limit(autojump_clock: MockClock) -> None:
    work = Tracker()
    async with map_concurrently(work, range(30), limit=math.inf) as results:
        assert len([r async for r in results]) == 30
    assert work.peak == 30


@pytest.mark.parametrize("ordered", [True, False])
async def test_map_a_slow_consumer_holds_the_calls_back(
    ordered: bool, autojump_clock: MockClock
) -> None:
    # An item counts against the limit until its result has been received: with a
    # consumer that never receives, no more than `limit` calls ever start.
    work = Tracker()
    async with map_concurrently(work, range(100), limit=4, ordered=ordered) as results:
        await nursery.sleep(50)
        assert len(work.started) == 4
        # (Unordered: the four finished together, any of them may come first.)
        assert await results.receive() in ((0,) if ordered else (0, 10, 20, 30))
        await nursery.sleep(50)
        assert len(work.started) == 5


async def test_map_of_an_empty_iterable() -> None:
    async with map_concurrently(Tracker(), [], limit=3) as results:
        assert [r async for r in results] == []


async def test_map_of_an_async_iterable(autojump_clock: MockClock) -> None:
    async def numbers() -> AsyncIterator[int]:
        for i in range(6):
            await nursery.sleep(1)
            yield i

    async with map_concurrently(Tracker(), numbers(), limit=2) as results:
        assert [r async for r in results] == [0, 10, 20, 30, 40, 50]


async def test_map_reads_the_iterable_lazily(autojump_clock: MockClock) -> None:
    pulled: list[int] = []

    def items() -> Any:
        for i in range(1000):
            pulled.append(i)
            yield i

    async with map_concurrently(Tracker(), items(), limit=3) as results:
        assert await results.receive() == 0
        await wait_all_tasks_blocked()
        assert len(pulled) <= 5


@pytest.mark.parametrize("ordered", [True, False])
async def test_map_error_in_a_call_cancels_the_rest_and_comes_out_unwrapped(
    ordered: bool, autojump_clock: MockClock
) -> None:
    work = Tracker({i: 10 for i in range(10)})

    async def maybe_fail(item: int) -> int:
        if item == 2:
            await nursery.sleep(1)
            raise KeyError(item)
        return await work(item)

    got: list[int] = []
    with pytest.raises(KeyError):
        async with map_concurrently(maybe_fail, range(10), limit=4, ordered=ordered) as results:
            async for r in results:
                got.append(r)
    assert got == []
    assert sorted(work.cancelled) == [0, 1, 3]
    assert work.running == 0


@pytest.mark.parametrize("ordered", [True, False])
async def test_map_error_in_the_body_comes_out_unwrapped(
    ordered: bool, autojump_clock: MockClock
) -> None:
    work = Tracker()
    with pytest.raises(ValueError, match="body"):
        async with map_concurrently(work, range(10), limit=3, ordered=ordered) as results:
            await results.receive()
            raise ValueError("body")
    assert work.running == 0


async def test_map_error_from_the_iterable(autojump_clock: MockClock) -> None:
    def items() -> Any:
        yield 1
        raise RuntimeError("iterable broke")

    with pytest.raises(RuntimeError, match="iterable broke"):
        async with map_concurrently(Tracker(), items(), limit=3) as results:
            async for _ in results:
                pass


@pytest.mark.parametrize("ordered", [True, False])
async def test_map_break_cancels_calls_in_progress(
    ordered: bool, autojump_clock: MockClock
) -> None:
    work = Tracker({i: i + 1 for i in range(50)})
    async with map_concurrently(work, range(50), limit=5, ordered=ordered) as results:
        async for r in results:
            if r == 20:
                break
    assert work.running == 0
    assert work.cancelled  # the calls still in progress were cancelled, not awaited
    assert len(work.started) < 50


@pytest.mark.parametrize("ordered", [True, False])
async def test_map_consumer_closing_its_end_stops_new_calls(
    ordered: bool, autojump_clock: MockClock
) -> None:
    work = Tracker()
    async with map_concurrently(work, range(50), limit=3, ordered=ordered) as results:
        assert await results.receive() in ((0,) if ordered else (0, 10, 20))
        await results.aclose()
        await nursery.sleep(100)
        assert len(work.started) <= 4 + 3
        assert work.running == 0


async def test_map_outer_cancellation(autojump_clock: MockClock) -> None:
    work = Tracker({i: 10 for i in range(10)})
    with nursery.move_on_after(5) as scope:
        async with map_concurrently(work, range(10), limit=3) as results:
            async for _ in results:
                pass
    assert scope.cancelled_caught
    assert sorted(work.cancelled) == [0, 1, 2]


async def test_map_nothing_outlives_the_block(autojump_clock: MockClock) -> None:
    before = nursery.lowlevel.current_statistics().tasks_living
    async with map_concurrently(Tracker(), range(10), limit=4) as results:
        await results.receive()
    assert nursery.lowlevel.current_statistics().tasks_living == before


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, "2", None])
def test_map_bad_limit(limit: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="limit"):
        map_concurrently(Tracker(), range(3), limit=limit)


def test_map_bad_arguments() -> None:
    with pytest.raises(TypeError, match="iterable"):
        map_concurrently(Tracker(), 42, limit=1)  # type: ignore[arg-type]
    coro = after(0, 1)
    with pytest.raises(TypeError, match="coroutine object"):
        map_concurrently(coro, [1], limit=1)  # type: ignore[arg-type]


async def test_map_with_partial(autojump_clock: MockClock) -> None:
    async def scale(factor: int, item: int) -> int:
        await nursery.sleep(1)
        return factor * item

    fn: Callable[[int], Awaitable[int]] = functools.partial(scale, 3)
    async with map_concurrently(fn, [1, 2, 3], limit=2) as results:
        assert [r async for r in results] == [3, 6, 9]
