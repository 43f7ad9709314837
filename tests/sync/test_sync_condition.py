"""Condition: wait releases and re-takes the lock (even when cancelled), notify moves
waiters to the lock's queue in order, and the misuse errors."""

from __future__ import annotations

import math

import pytest
from sync_helpers import start_in_order

import nursery
from nursery import Condition, ConditionStatistics, Lock, LockStatistics, StrictFIFOLock
from nursery.lowlevel import checkpoint, current_task
from nursery.testing import Sequencer, assert_no_checkpoints, wait_all_tasks_blocked


async def test_lock_methods_and_async_with() -> None:
    condition = Condition()
    assert not condition.locked()
    await condition.acquire()
    assert condition.locked()

    async def other_task() -> None:
        with pytest.raises(nursery.WouldBlock):
            condition.acquire_nowait()

    async with nursery.open_nursery() as n:
        n.start_soon(other_task)
    condition.release()
    condition.acquire_nowait()
    condition.release()
    async with condition:
        assert condition.statistics() == ConditionStatistics(
            tasks_waiting=0,
            lock_statistics=LockStatistics(locked=True, owner=current_task(), tasks_waiting=0),
        )
    assert not condition.locked()


async def test_uses_the_lock_it_is_given() -> None:
    lock = Lock()
    condition = Condition(lock)
    async with condition:
        assert lock.locked()
        assert lock.statistics().owner is current_task()
    async with lock:
        assert condition.locked()


def test_lock_must_be_a_plain_lock() -> None:
    with pytest.raises(TypeError, match="lock must be a nursery.Lock"):
        Condition(StrictFIFOLock())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lock must be a nursery.Lock"):
        Condition("lock")  # type: ignore[arg-type]


async def test_wait_releases_the_lock_and_has_it_back_on_return() -> None:
    condition = Condition()
    log: list[str] = []

    async def waiter(name: str) -> None:
        async with condition:
            await condition.wait()
            assert condition.statistics().lock_statistics.owner is current_task()
            log.append(name)

    async with nursery.open_nursery() as n:
        await start_in_order(n, waiter, "a")
        assert condition.statistics().tasks_waiting == 1
        assert not condition.locked()  # released while waiting
        async with condition:
            with assert_no_checkpoints():
                condition.notify()
            assert condition.statistics().tasks_waiting == 0
            # Notified, but the lock is ours: it waits for it now.
            assert condition.statistics().lock_statistics.tasks_waiting == 1
            await wait_all_tasks_blocked()
            assert log == []
    assert log == ["a"]


async def test_notify_wakes_the_longest_waiters_in_order() -> None:
    condition = Condition()
    log: list[str] = []

    async def waiter(name: str) -> None:
        async with condition:
            await condition.wait()
            log.append(name)

    async with nursery.open_nursery() as n:
        await start_in_order(n, waiter, "a", "b", "c", "d", "e")
        async with condition:
            condition.notify()
        await wait_all_tasks_blocked()
        assert log == ["a"]
        async with condition:
            condition.notify(2)
        await wait_all_tasks_blocked()
        assert log == ["a", "b", "c"]
        async with condition:
            condition.notify(0)
        await wait_all_tasks_blocked()
        assert log == ["a", "b", "c"]
        async with condition:
            condition.notify_all()
    assert log == ["a", "b", "c", "d", "e"]
    assert condition.statistics().tasks_waiting == 0


async def test_notified_waiters_queue_behind_tasks_already_waiting_for_the_lock() -> None:
    condition = Condition()
    log: list[str] = []

    async def waiter(name: str) -> None:
        async with condition:
            await condition.wait()
            log.append(name)

    async def locker(name: str) -> None:
        async with condition:
            log.append(name)

    async with nursery.open_nursery() as n:
        await start_in_order(n, waiter, "waiter 1", "waiter 2")
        await condition.acquire()
        await start_in_order(n, locker, "locker 1")
        condition.notify_all()
        await start_in_order(n, locker, "locker 2")
        condition.release()
    assert log == ["locker 1", "waiter 1", "waiter 2", "locker 2"]


async def test_notify_with_nobody_waiting_is_harmless() -> None:
    condition = Condition()
    async with condition:
        condition.notify()
        condition.notify(math.inf)  # type: ignore[arg-type]
        condition.notify_all()


async def test_wait_and_notify_require_the_lock() -> None:
    condition = Condition()
    with pytest.raises(RuntimeError, match="hold the lock"):
        await condition.wait()
    with pytest.raises(RuntimeError, match="hold the lock"):
        condition.notify()
    with pytest.raises(RuntimeError, match="hold the lock"):
        condition.notify_all()

    async def other_task() -> None:
        with pytest.raises(RuntimeError, match="hold the lock"):
            await condition.wait()
        with pytest.raises(RuntimeError, match="hold the lock"):
            condition.notify()

    async with condition:
        async with nursery.open_nursery() as n:
            n.start_soon(other_task)


@pytest.mark.parametrize(
    ("n", "error"),
    [(-1, ValueError), (1.5, TypeError), ("1", TypeError), (True, TypeError), (None, TypeError)],
)
async def test_notify_checks_n(n: object, error: type[Exception]) -> None:
    condition = Condition()
    async with condition:
        with pytest.raises(error, match=r"notify\(n\)"):
            condition.notify(n)  # type: ignore[arg-type]


async def test_cancelled_wait_takes_the_lock_back_before_raising() -> None:
    condition = Condition()
    scope = nursery.CancelScope()
    log: list[str] = []

    async def waiter() -> None:
        async with condition:
            with scope:
                try:
                    await condition.wait()
                finally:
                    # Raising, but holding the lock again.
                    log.append(
                        f"owner: {condition.statistics().lock_statistics.owner is current_task()}"
                    )
            log.append(f"cancelled: {scope.cancelled_caught}")

    async with nursery.open_nursery() as n:
        n.start_soon(waiter)
        await wait_all_tasks_blocked()
        await condition.acquire()
        scope.cancel()
        await wait_all_tasks_blocked()
        # It left the condition's queue and now waits for the lock we hold.
        stats = condition.statistics()
        assert stats.tasks_waiting == 0
        assert stats.lock_statistics.tasks_waiting == 1
        assert log == []
        condition.release()
    assert log == ["owner: True", "cancelled: True"]
    assert not condition.locked()


async def test_cancelled_after_notify_while_waiting_for_the_lock() -> None:
    condition = Condition()
    scope = nursery.CancelScope()
    log: list[str] = []

    async def waiter() -> None:
        async with condition:
            with scope:
                await condition.wait()
            owner = condition.statistics().lock_statistics.owner
            log.append(f"cancelled, owner: {owner is current_task()}")

    async def locker(_: object) -> None:
        async with condition:
            log.append("locker")

    async with nursery.open_nursery() as n:
        n.start_soon(waiter)
        await wait_all_tasks_blocked()
        await condition.acquire()
        condition.notify()  # now queued for the lock, first in line
        await start_in_order(n, locker, None)
        scope.cancel()
        await wait_all_tasks_blocked()
        # The cancelled waiter left the lock's queue and joined it again at the back.
        assert condition.statistics().lock_statistics.tasks_waiting == 2
        condition.release()
    assert log == ["locker", "cancelled, owner: True"]


async def test_cancelled_wait_cannot_be_cancelled_out_of_taking_the_lock_back(
    autojump_clock: object,
) -> None:
    # The re-acquire is shielded: even a deadline passing meanwhile cannot make wait()
    # give up on the lock.
    condition = Condition()
    log: list[str] = []

    async def waiter() -> None:
        async with condition:
            with nursery.move_on_after(1) as scope:
                await condition.wait()
            owner = condition.statistics().lock_statistics.owner
            log.append(f"{scope.cancelled_caught}, {owner is current_task()}")

    async with nursery.open_nursery() as n:
        await condition.acquire()
        n.start_soon(waiter)
        await wait_all_tasks_blocked()
        await nursery.sleep(10)  # the deadline passes while we hold the lock
        assert log == []
        condition.release()
    assert log == ["True, True"]


async def test_wait_when_cancelled_before_it_starts() -> None:
    condition = Condition()
    async with condition:
        with nursery.CancelScope() as scope:
            scope.cancel()
            await condition.wait()
        assert scope.cancelled_caught
        assert condition.statistics().lock_statistics.owner is current_task()
        assert condition.statistics().tasks_waiting == 0


async def test_producer_consumer_in_a_set_order() -> None:
    condition = Condition()
    items: list[int] = []
    consumed: list[int] = []
    seq = Sequencer()

    async def consumer() -> None:
        async with seq(0):
            await condition.acquire()
        try:
            while len(consumed) < 3:
                while not items:
                    await condition.wait()
                consumed.append(items.pop(0))
        finally:
            condition.release()

    async def producer() -> None:
        async with seq(1):
            for i in range(3):
                async with condition:
                    items.append(i)
                    condition.notify()
                await checkpoint()

    async with nursery.open_nursery() as n:
        n.start_soon(consumer)
        n.start_soon(producer)
    assert consumed == [0, 1, 2]
    assert condition.statistics().tasks_waiting == 0


async def test_waiter_breaks_with_the_lock_if_the_holder_exits() -> None:
    condition = Condition()
    errors: list[str] = []

    async def waiter() -> None:
        await condition.acquire()
        try:
            await condition.wait()
        except nursery.BrokenResourceError:
            # It never got the lock back: there is nothing to release.
            errors.append("broken")

    async def forgetful() -> None:
        await condition.acquire()
        condition.notify()  # the waiter now waits for a lock that will never come back

    async with nursery.open_nursery() as n:
        n.start_soon(waiter)
        await wait_all_tasks_blocked()
        n.start_soon(forgetful)
    assert errors == ["broken"]
    assert condition.statistics().tasks_waiting == 0
    assert condition.statistics().lock_statistics.tasks_waiting == 0


def test_repr() -> None:
    assert "Condition" in repr(Condition())
