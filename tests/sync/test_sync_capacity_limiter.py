"""CapacityLimiter: token accounting, borrowers, changing the limit while in use,
cancellation at every await, bad input."""

from __future__ import annotations

import math

import pytest
from sync_helpers import StepHook, start_in_order

import nursery
from nursery import CapacityLimiter, CapacityLimiterStatistics, WouldBlock
from nursery.lowlevel import Task, checkpoint, current_task
from nursery.testing import assert_checkpoints, assert_no_checkpoints, wait_all_tasks_blocked


async def test_borrow_and_return() -> None:
    limiter = CapacityLimiter(2)
    assert (limiter.total_tokens, limiter.borrowed_tokens, limiter.available_tokens) == (2, 0, 2)
    with assert_checkpoints():
        await limiter.acquire()
    with assert_no_checkpoints():
        limiter.acquire_on_behalf_of_nowait("thread 1")
    assert (limiter.borrowed_tokens, limiter.available_tokens) == (2, 0)
    stats = limiter.statistics()
    assert stats.borrowed_tokens == 2
    assert stats.total_tokens == 2
    assert set(stats.borrowers) == {current_task(), "thread 1"}
    assert stats.tasks_waiting == 0
    with pytest.raises(WouldBlock):
        limiter.acquire_on_behalf_of_nowait("thread 2")
    with assert_no_checkpoints():
        limiter.release()
    limiter.release_on_behalf_of("thread 1")
    assert limiter.borrowed_tokens == 0
    limiter.acquire_nowait()
    limiter.release()
    async with limiter:
        assert limiter.statistics().borrowers == [current_task()]
    assert limiter.statistics() == CapacityLimiterStatistics(
        borrowed_tokens=0, total_tokens=2, borrowers=[], tasks_waiting=0
    )


async def test_acquire_on_behalf_of_is_a_checkpoint() -> None:
    limiter = CapacityLimiter(1)
    with assert_checkpoints():
        await limiter.acquire_on_behalf_of("someone")
    limiter.release_on_behalf_of("someone")


async def test_one_token_per_borrower() -> None:
    limiter = CapacityLimiter(5)
    async with limiter:
        with pytest.raises(RuntimeError, match="already holds"):
            await limiter.acquire()
        with pytest.raises(RuntimeError, match="already holds"):
            limiter.acquire_nowait()
        with pytest.raises(RuntimeError, match="already holds"):
            await limiter.acquire_on_behalf_of(current_task())
        assert limiter.borrowed_tokens == 1
    await limiter.acquire_on_behalf_of("x")
    with pytest.raises(RuntimeError, match="already holds"):
        limiter.acquire_on_behalf_of_nowait("x")
    assert limiter.borrowed_tokens == 1


async def test_a_borrower_cannot_wait_twice() -> None:
    limiter = CapacityLimiter(0)

    async def wait_for(borrower: object) -> None:
        await limiter.acquire_on_behalf_of(borrower)

    async with nursery.open_nursery() as n:
        await start_in_order(n, wait_for, "x")
        with pytest.raises(RuntimeError, match="already waiting"):
            await limiter.acquire_on_behalf_of("x")
        with pytest.raises(RuntimeError, match="already waiting"):
            limiter.acquire_on_behalf_of_nowait("x")
        limiter.total_tokens = 1
    assert limiter.statistics().borrowers == ["x"]


async def test_release_without_a_token() -> None:
    limiter = CapacityLimiter(1)
    with pytest.raises(RuntimeError, match="holds no token"):
        limiter.release()
    with pytest.raises(RuntimeError, match="holds no token"):
        limiter.release_on_behalf_of("nobody")
    await limiter.acquire_on_behalf_of("a")
    with pytest.raises(RuntimeError, match="holds no token"):
        limiter.release()  # the task is not "a"
    assert limiter.borrowed_tokens == 1


async def test_waiters_are_served_in_arrival_order() -> None:
    limiter = CapacityLimiter(1)
    order: list[str] = []

    async def worker(name: str) -> None:
        async with limiter:
            order.append(name)
            await checkpoint()

    async with nursery.open_nursery() as n:
        await limiter.acquire()
        await start_in_order(n, worker, "a", "b", "c")
        assert limiter.statistics().tasks_waiting == 3
        limiter.release()
        # Handed over: the heir holds the token before it even runs.
        assert limiter.borrowed_tokens == 1
        with pytest.raises(WouldBlock):
            limiter.acquire_nowait()
    assert order == ["a", "b", "c"]


async def test_raising_the_limit_admits_waiters_at_once() -> None:
    limiter = CapacityLimiter(1)
    inside: list[str] = []
    done = nursery.Event()

    async def worker(name: str) -> None:
        async with limiter:
            inside.append(name)
            await done.wait()

    async with nursery.open_nursery() as n:
        await start_in_order(n, worker, "a", "b", "c", "d", "e")
        assert inside == ["a"]
        limiter.total_tokens = 3
        assert limiter.borrowed_tokens == 3  # handed out right away
        await wait_all_tasks_blocked()
        # (Woken together, they run in whichever order the scheduler picks.)
        assert sorted(inside) == ["a", "b", "c"]
        assert limiter.statistics().tasks_waiting == 2
        limiter.total_tokens = math.inf
        await wait_all_tasks_blocked()
        assert sorted(inside) == ["a", "b", "c", "d", "e"]
        done.set()
    assert limiter.borrowed_tokens == 0


async def test_lowering_the_limit_lets_holders_finish() -> None:
    limiter = CapacityLimiter(3)
    release = {name: nursery.Event() for name in "abcd"}
    inside: list[str] = []

    async def worker(name: str) -> None:
        async with limiter:
            inside.append(name)
            await release[name].wait()
        inside.remove(name)

    async with nursery.open_nursery() as n:
        await start_in_order(n, worker, "a", "b", "c", "d")
        assert inside == ["a", "b", "c"]
        limiter.total_tokens = 1
        assert limiter.available_tokens == -2
        release["a"].set()
        await wait_all_tasks_blocked()
        release["b"].set()
        await wait_all_tasks_blocked()
        assert inside == ["c"]  # d still waits: 1 token, and c has it
        assert limiter.statistics().tasks_waiting == 1
        release["c"].set()
        await wait_all_tasks_blocked()
        assert inside == ["d"]
        release["d"].set()
    assert limiter.borrowed_tokens == 0


async def test_zero_tokens_admits_nobody() -> None:
    limiter = CapacityLimiter(0)
    with pytest.raises(WouldBlock):
        limiter.acquire_nowait()
    assert limiter.available_tokens == 0


async def test_cancelled_waiters_leave_the_accounting_intact() -> None:
    limiter = CapacityLimiter(1)
    scopes: dict[str, nursery.CancelScope] = {}
    got: list[str] = []

    async def worker(name: str) -> None:
        with nursery.CancelScope() as scopes[name]:
            await limiter.acquire_on_behalf_of(name)
            got.append(name)
            return
        got.append(f"{name} cancelled")

    async with nursery.open_nursery() as n:
        await limiter.acquire()
        await start_in_order(n, worker, "a", "b", "c", "d", "e")
        scopes["b"].cancel()
        await wait_all_tasks_blocked()
        scopes["d"].cancel()
        await wait_all_tasks_blocked()
        assert limiter.statistics().tasks_waiting == 3
        limiter.release()
        await wait_all_tasks_blocked()
        assert got == ["b cancelled", "d cancelled", "a"]
        # A cancelled borrower may queue again: nothing of it was left behind.
        n.start_soon(worker, "b")
        await wait_all_tasks_blocked()
        limiter.total_tokens = 10
    assert got[:3] == ["b cancelled", "d cancelled", "a"]
    assert sorted(got[3:]) == ["b", "c", "e"]
    stats = limiter.statistics()
    assert stats.tasks_waiting == 0
    assert sorted(stats.borrowers) == ["a", "b", "c", "e"]  # they kept their tokens
    for name in "abce":
        limiter.release_on_behalf_of(name)
    assert limiter.borrowed_tokens == 0


async def test_cancelled_before_acquire_takes_nothing() -> None:
    limiter = CapacityLimiter(1)
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await limiter.acquire()
        with pytest.raises(nursery.Cancelled):
            await limiter.acquire_on_behalf_of("x")
    assert limiter.borrowed_tokens == 0


async def test_cancel_arriving_just_after_the_token_was_taken_keeps_it(
    step_hook: StepHook,
) -> None:
    limiter = CapacityLimiter(1)
    scope = nursery.CancelScope()
    holder: list[Task] = []

    async def taker() -> None:
        with scope:
            await limiter.acquire()
            holder.append(current_task())
            try:
                await checkpoint()
            finally:
                assert limiter.statistics().borrowers == holder
                limiter.release()

    step_hook.once(lambda: limiter.borrowed_tokens == 1, scope.cancel)
    async with nursery.open_nursery() as n:
        n.start_soon(taker)
    assert step_hook.fired == 1
    assert len(holder) == 1
    assert scope.cancelled_caught
    assert limiter.borrowed_tokens == 0


async def test_timeouts_on_a_busy_limiter(autojump_clock: object) -> None:
    # Tasks with little patience queue behind slow holders: whoever gives up leaves no
    # trace, whoever gets in gets exactly one token.
    limiter = CapacityLimiter(2)
    gave_up: list[int] = []
    served: list[int] = []

    async def patient(i: int) -> None:
        with nursery.move_on_after(i / 2):
            await limiter.acquire()
        if limiter.statistics().borrowers.count(current_task()) != 1:
            gave_up.append(i)
            return
        served.append(i)
        await nursery.sleep(3)
        limiter.release()

    async with nursery.open_nursery() as n:
        for i in range(1, 9):
            n.start_soon(patient, i)
    assert sorted(served + gave_up) == list(range(1, 9))
    assert len(gave_up) >= 3 and len(served) >= 2
    assert limiter.statistics() == CapacityLimiterStatistics(
        borrowed_tokens=0, total_tokens=2, borrowers=[], tasks_waiting=0
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (1.5, TypeError),
        ("3", TypeError),
        (True, TypeError),
        (-math.inf, TypeError),
        (math.nan, TypeError),
        (None, TypeError),
    ],
)
def test_bad_total_tokens(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="total_tokens"):
        CapacityLimiter(value)  # type: ignore[arg-type]
    limiter = CapacityLimiter(3)
    with pytest.raises(error, match="total_tokens"):
        limiter.total_tokens = value  # type: ignore[assignment]
    assert limiter.total_tokens == 3


def test_accepted_total_tokens() -> None:
    assert CapacityLimiter(0).total_tokens == 0
    assert CapacityLimiter(math.inf).total_tokens == math.inf
    assert "0/7" in repr(CapacityLimiter(7))
