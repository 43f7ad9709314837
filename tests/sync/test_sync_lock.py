"""Lock and StrictFIFOLock: ownership, FIFO hand-off, cancellation at every await,
breaking when the holder exits, and misuse errors."""

from __future__ import annotations

import pytest
from sync_helpers import StepHook, start_in_order

import nursery
from nursery import BrokenResourceError, Lock, LockStatistics, StrictFIFOLock, WouldBlock
from nursery.lowlevel import Task, checkpoint, current_task
from nursery.testing import assert_checkpoints, assert_no_checkpoints, wait_all_tasks_blocked

LockType = type[Lock] | type[StrictFIFOLock]
LOCKS = pytest.mark.parametrize("lock_type", [Lock, StrictFIFOLock], ids=lambda t: t.__name__)


@LOCKS
async def test_acquire_and_release(lock_type: LockType) -> None:
    lock = lock_type()
    assert not lock.locked()
    assert lock.statistics() == LockStatistics(locked=False, owner=None, tasks_waiting=0)
    with assert_checkpoints():
        await lock.acquire()  # free: does not block, but is a checkpoint
    assert lock.locked()
    assert lock.statistics() == LockStatistics(locked=True, owner=current_task(), tasks_waiting=0)
    with assert_no_checkpoints():
        lock.release()
    assert not lock.locked()
    with assert_no_checkpoints():
        lock.acquire_nowait()
    assert lock.statistics().owner is current_task()
    lock.release()
    async with lock:
        assert lock.locked()
    assert not lock.locked()


@LOCKS
async def test_waiters_get_the_lock_in_arrival_order(lock_type: LockType) -> None:
    lock = lock_type()
    order: list[str] = []

    async def worker(name: str) -> None:
        async with lock:
            order.append(name)
            await checkpoint()  # hold it across a checkpoint

    async with nursery.open_nursery() as n:
        await lock.acquire()
        await start_in_order(n, worker, "a", "b", "c", "d")
        assert lock.statistics().tasks_waiting == 4
        lock.release()
    assert order == ["a", "b", "c", "d"]
    assert lock.statistics() == LockStatistics(locked=False, owner=None, tasks_waiting=0)


@LOCKS
async def test_release_hands_the_lock_to_the_next_waiter(lock_type: LockType) -> None:
    # No barging: once released, the lock already belongs to the first waiter, even
    # before it runs, so a task that asks right then has to queue.
    lock = lock_type()
    owners: list[Task] = []

    async def waiter(_: object) -> None:
        async with lock:
            owners.append(current_task())

    async with nursery.open_nursery() as n:
        await lock.acquire()
        await start_in_order(n, waiter, None)
        lock.release()
        heir = lock.statistics().owner
        assert heir is not None and heir is not current_task()
        with pytest.raises(WouldBlock):
            lock.acquire_nowait()
    assert owners == [heir]


async def test_a_contended_lock_is_shared_fairly() -> None:
    # Tasks that loop on the lock take turns: nobody takes it twice in a row while
    # others wait.
    lock = Lock()
    holders: list[int] = []

    async def worker(me: int) -> None:
        for _ in range(5):
            async with lock:
                holders.append(me)
                await checkpoint()

    async with nursery.open_nursery() as n:
        for me in range(4):
            n.start_soon(worker, me)
    assert len(holders) == 20
    assert all(a != b for a, b in zip(holders, holders[1:], strict=False))
    assert sorted(holders[:4]) == [0, 1, 2, 3]
    assert holders[4:] == holders[:4] * 4


@LOCKS
async def test_acquire_nowait_on_a_held_lock_would_block(lock_type: LockType) -> None:
    lock = lock_type()

    async def holder(task_status: nursery.TaskStatus[None]) -> None:
        async with lock:
            task_status.started()
            await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        await n.start(holder)
        with pytest.raises(WouldBlock):
            lock.acquire_nowait()
        assert lock.statistics().tasks_waiting == 0
        n.cancel_scope.cancel()


@LOCKS
async def test_cancelled_before_acquire_takes_nothing(lock_type: LockType) -> None:
    lock = lock_type()
    with nursery.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(nursery.Cancelled):
            await lock.acquire()  # free lock
    assert not lock.locked()

    async def holder(task_status: nursery.TaskStatus[None]) -> None:
        async with lock:
            task_status.started()
            await nursery.sleep_forever()

    async with nursery.open_nursery() as n:
        await n.start(holder)
        with nursery.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(nursery.Cancelled):
                await lock.acquire()  # held lock
        assert lock.statistics().tasks_waiting == 0
        n.cancel_scope.cancel()
    assert not lock.locked()


@LOCKS
async def test_cancelled_while_waiting_leaves_the_queue(lock_type: LockType) -> None:
    lock = lock_type()
    scopes: dict[str, nursery.CancelScope] = {}
    got: list[str] = []

    async def waiter(name: str) -> None:
        with nursery.CancelScope() as scopes[name]:
            async with lock:
                got.append(name)
            return
        got.append(f"{name} cancelled")

    async with nursery.open_nursery() as n:
        await lock.acquire()
        await start_in_order(n, waiter, "a", "b", "c")
        scopes["b"].cancel()
        await wait_all_tasks_blocked()
        assert got == ["b cancelled"]
        assert lock.statistics().tasks_waiting == 2
        assert lock.statistics().owner is current_task()  # untouched
        lock.release()
    # Nothing was lost: the lock went to a, then c, then came back free.
    assert got == ["b cancelled", "a", "c"]
    assert lock.statistics() == LockStatistics(locked=False, owner=None, tasks_waiting=0)


@LOCKS
async def test_cancelled_while_waiting_by_a_deadline(
    lock_type: LockType, autojump_clock: object
) -> None:
    lock = lock_type()
    async with nursery.open_nursery() as n:
        await lock.acquire()

        async def impatient() -> None:
            with nursery.move_on_after(1) as scope:
                await lock.acquire()
            assert scope.cancelled_caught

        n.start_soon(impatient)
    assert lock.statistics().tasks_waiting == 0
    assert lock.statistics().owner is current_task()
    lock.release()


@LOCKS
async def test_cancel_arriving_just_after_the_lock_was_taken_keeps_it(
    lock_type: LockType, step_hook: StepHook
) -> None:
    # acquire() takes a free lock and then yields once more, shielded: a cancellation
    # landing in that window is delivered at the next checkpoint, and the lock is held.
    lock = lock_type()
    scope = nursery.CancelScope()
    seen: list[str] = []

    async def taker() -> None:
        with scope:
            await lock.acquire()
            seen.append(f"acquired, owner is me: {lock.statistics().owner is current_task()}")
            try:
                await checkpoint()
            finally:
                seen.append(f"cancelled: {scope.cancel_called}")
                lock.release()

    step_hook.once(lock.locked, scope.cancel)
    async with nursery.open_nursery() as n:
        n.start_soon(taker)
    assert step_hook.fired == 1
    assert seen == ["acquired, owner is me: True", "cancelled: True"]
    assert scope.cancelled_caught
    assert not lock.locked()


@LOCKS
async def test_cancel_after_the_hand_off_keeps_the_lock(lock_type: LockType) -> None:
    # Once release() has handed the lock over, the new owner's wait cannot be undone:
    # a cancellation arriving before it runs comes at its next checkpoint.
    lock = lock_type()
    scope = nursery.CancelScope()
    seen: list[bool] = []

    async def waiter(_: object) -> None:
        with scope:
            await lock.acquire()
            seen.append(lock.statistics().owner is current_task())
            try:
                await checkpoint()
            finally:
                lock.release()

    async with nursery.open_nursery() as n:
        await lock.acquire()
        await start_in_order(n, waiter, None)
        lock.release()  # hands over; the heir has not run yet
        scope.cancel()
    assert seen == [True]
    assert scope.cancelled_caught
    assert not lock.locked()


@LOCKS
async def test_holder_exiting_breaks_the_lock(lock_type: LockType) -> None:
    lock = lock_type()
    errors: list[str] = []
    holder_task: list[Task] = []
    let_holder_exit = nursery.Event()

    async def forgetful(task_status: nursery.TaskStatus[None]) -> None:
        await lock.acquire()
        holder_task.append(current_task())
        task_status.started()
        await let_holder_exit.wait()
        # returns still holding the lock

    async def waiter(name: str) -> None:
        try:
            await lock.acquire()
        except BrokenResourceError as exc:
            errors.append(f"{name}: {exc}")

    async with nursery.open_nursery() as n:
        await n.start(forgetful)
        await start_in_order(n, waiter, "a", "b")
        assert lock.statistics().tasks_waiting == 2
        let_holder_exit.set()
    assert sorted(error[:2] for error in errors) == ["a:", "b:"]
    assert all("without releasing" in error for error in errors)
    assert all(repr(holder_task[0]) in error for error in errors)
    assert lock.statistics().tasks_waiting == 0
    # Later acquirers fail at once instead of waiting forever.
    with pytest.raises(BrokenResourceError):
        await lock.acquire()
    with pytest.raises(WouldBlock):
        lock.acquire_nowait()
    with pytest.raises(RuntimeError):
        lock.release()  # we never held it


@LOCKS
async def test_a_task_that_was_handed_the_lock_and_exits_breaks_it(
    lock_type: LockType,
) -> None:
    lock = lock_type()
    broken: list[str] = []

    async def heir_that_forgets(_: object) -> None:
        await lock.acquire()  # gets it by hand-off, then exits holding it

    async def waiter(_: object) -> None:
        try:
            await lock.acquire()
        except BrokenResourceError:
            broken.append("waiter")

    async with nursery.open_nursery() as n:
        await lock.acquire()
        await start_in_order(n, heir_that_forgets, None)
        await start_in_order(n, waiter, None)
        lock.release()
    assert broken == ["waiter"]


@LOCKS
async def test_a_task_that_releases_before_exiting_breaks_nothing(lock_type: LockType) -> None:
    lock = lock_type()

    async def polite() -> None:
        async with lock:
            await checkpoint()

    async with nursery.open_nursery() as n:
        for _ in range(3):
            n.start_soon(polite)
    await lock.acquire()  # not broken
    lock.release()


@LOCKS
async def test_release_by_a_task_that_does_not_hold_it(lock_type: LockType) -> None:
    lock = lock_type()
    with pytest.raises(RuntimeError, match="released by the task that holds it"):
        lock.release()

    async def other() -> None:
        with pytest.raises(RuntimeError):
            lock.release()

    async with lock:
        async with nursery.open_nursery() as n:
            n.start_soon(other)
        assert lock.statistics().owner is current_task()


@LOCKS
async def test_reacquire_by_the_owner_is_an_error(lock_type: LockType) -> None:
    lock = lock_type()
    async with lock:
        with pytest.raises(RuntimeError, match="not re-entrant"):
            await lock.acquire()
        with pytest.raises(RuntimeError, match="not re-entrant"):
            lock.acquire_nowait()
        assert lock.statistics() == LockStatistics(
            locked=True, owner=current_task(), tasks_waiting=0
        )
    assert not lock.locked()


@LOCKS
async def test_repr_names_the_state(lock_type: LockType) -> None:
    lock = lock_type()
    assert "unlocked" in repr(lock)
    assert lock_type.__name__ in repr(lock)
    async with lock:
        assert "locked by" in repr(lock)


@pytest.mark.parametrize(
    "cls",
    [
        Lock,
        StrictFIFOLock,
        nursery.Event,
        nursery.Condition,
        nursery.Semaphore,
        nursery.CapacityLimiter,
    ],
    ids=lambda c: c.__name__,
)
def test_primitives_are_final(cls: type) -> None:
    with pytest.raises(TypeError, match="does not support subclassing"):
        type("Sub", (cls,), {})
