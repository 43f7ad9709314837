"""Semaphore: counting, bounded release, FIFO hand-off, cancellation, bad input."""

from __future__ import annotations

import pytest
from sync_helpers import StepHook, start_in_order

import nursery
from nursery import Semaphore, WouldBlock
from nursery.lowlevel import ParkingLotStatistics, checkpoint
from nursery.testing import assert_checkpoints, assert_no_checkpoints, wait_all_tasks_blocked


async def test_counting() -> None:
    sem = Semaphore(2)
    assert (sem.value, sem.max_value) == (2, None)
    with assert_checkpoints():
        await sem.acquire()
    assert sem.value == 1
    with assert_no_checkpoints():
        sem.acquire_nowait()
    assert sem.value == 0
    with pytest.raises(WouldBlock):
        sem.acquire_nowait()
    with assert_no_checkpoints():
        sem.release()
    sem.release()
    sem.release()  # unbounded: may go above the initial value
    assert sem.value == 3
    async with sem:
        assert sem.value == 2
    assert sem.value == 3
    assert sem.statistics() == ParkingLotStatistics(tasks_waiting=0)


async def test_bounded_release() -> None:
    sem = Semaphore(1, max_value=2)
    assert sem.max_value == 2
    sem.release()
    with pytest.raises(ValueError, match="max_value=2"):
        sem.release()
    assert sem.value == 2
    zero = Semaphore(0, max_value=0)
    with pytest.raises(ValueError):
        zero.release()


async def test_waiters_are_served_in_arrival_order() -> None:
    sem = Semaphore(0)
    order: list[str] = []

    async def waiter(name: str) -> None:
        await sem.acquire()
        order.append(name)

    async with nursery.open_nursery() as n:
        await start_in_order(n, waiter, "a", "b", "c", "d")
        assert sem.statistics().tasks_waiting == 4
        for expected in (["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]):
            sem.release()
            # Handed over: the permit never shows in the value, so nobody can barge in.
            assert sem.value == 0
            with pytest.raises(WouldBlock):
                sem.acquire_nowait()
            await wait_all_tasks_blocked()
            assert order == expected
    assert sem.value == 0


async def test_limits_concurrency() -> None:
    sem = Semaphore(3)
    inside = most = 0

    async def worker() -> None:
        nonlocal inside, most
        async with sem:
            inside += 1
            most = max(most, inside)
            await checkpoint()
            inside -= 1

    async with nursery.open_nursery() as n:
        for _ in range(10):
            n.start_soon(worker)
    assert most == 3
    assert sem.value == 3


async def test_cancelled_waiters_lose_no_permit() -> None:
    sem = Semaphore(0)
    scopes: dict[str, nursery.CancelScope] = {}
    got: list[str] = []

    async def waiter(name: str) -> None:
        with nursery.CancelScope() as scopes[name]:
            await sem.acquire()
            got.append(name)
            return
        got.append(f"{name} cancelled")

    async with nursery.open_nursery() as n:
        await start_in_order(n, waiter, "a", "b", "c", "d")
        scopes["a"].cancel()
        await wait_all_tasks_blocked()
        scopes["c"].cancel()
        await wait_all_tasks_blocked()
        assert sem.statistics().tasks_waiting == 2
        sem.release()
        await wait_all_tasks_blocked()
        sem.release()
        await wait_all_tasks_blocked()
        sem.release()  # nobody left waiting: the permit is kept
    assert got == ["a cancelled", "c cancelled", "b", "d"]
    assert sem.value == 1
    assert sem.statistics().tasks_waiting == 0


async def test_cancelled_before_acquire_takes_nothing() -> None:
    sem = Semaphore(1)
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await sem.acquire()
    assert sem.value == 1


async def test_cancel_arriving_just_after_the_permit_was_taken_keeps_it(
    step_hook: StepHook,
) -> None:
    sem = Semaphore(1)
    scope = nursery.CancelScope()
    log: list[str] = []

    async def taker() -> None:
        with scope:
            await sem.acquire()
            log.append(f"got it, value {sem.value}")
            try:
                await checkpoint()
            finally:
                sem.release()

    step_hook.once(lambda: sem.value == 0, scope.cancel)
    async with nursery.open_nursery() as n:
        n.start_soon(taker)
    assert step_hook.fired == 1
    assert log == ["got it, value 0"]
    assert scope.cancelled_caught
    assert sem.value == 1


async def test_timeout_while_waiting(autojump_clock: object) -> None:
    sem = Semaphore(0)
    with nursery.move_on_after(3) as scope:
        await sem.acquire()
    assert scope.cancelled_caught
    assert sem.statistics().tasks_waiting == 0
    assert sem.value == 0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((-1,), {}, ValueError, "initial_value"),
        ((1.0,), {}, TypeError, "initial_value"),
        (("1",), {}, TypeError, "initial_value"),
        ((True,), {}, TypeError, "initial_value"),
        ((2,), {"max_value": 1}, ValueError, "max_value"),
        ((0,), {"max_value": 1.5}, TypeError, "max_value"),
        ((0,), {"max_value": -1}, ValueError, "max_value"),
    ],
)
def test_bad_arguments(
    args: tuple[object, ...], kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Semaphore(*args, **kwargs)  # type: ignore[arg-type]


def test_repr() -> None:
    assert "Semaphore(2, max_value=3)" in repr(Semaphore(2, max_value=3))
