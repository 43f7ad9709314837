"""Lock, StrictFIFOLock and Condition.

A lock is handed over, not put back: ``release()`` makes the longest waiter the owner
before that waiter runs, so no task arriving later can take the lock in between (the
queue is strictly first come, first served). The invariant this gives, and that the
fast paths rely on: when nobody owns the lock, nobody is queued for it.
"""

from __future__ import annotations

import math
from types import TracebackType

import attrs

from .._core._cancel_scope import CancelScope
from .._core._context import current_task
from .._core._exceptions import BrokenResourceError, WouldBlock
from .._core._ki import enable_ki_protection
from .._core._parking_lot import ParkingLot, add_parking_lot_breaker, remove_parking_lot_breaker
from .._core._task import Task
from .._core._traps import (
    SHIELDED_CHECKPOINT_TRAP,
    checkpoint_if_cancelled,
)
from .._core._util import Final
from ._common import AsyncContextManagerMixin


@attrs.frozen
class LockStatistics:
    """``locked``: whether the lock is held; ``owner``: the task holding it (or None);
    ``tasks_waiting``: how many tasks are blocked in ``acquire()``."""

    locked: bool
    owner: Task | None
    tasks_waiting: int


class _LockBase:
    __slots__ = ("__weakref__", "_lot", "_owner")

    def __init__(self) -> None:
        self._lot = ParkingLot()
        self._owner: Task | None = None

    def locked(self) -> bool:
        """Whether some task holds the lock."""
        return self._owner is not None

    def _take(self, task: Task) -> None:
        self._owner = task
        # Should the owner exit without releasing, the lot breaks and every waiter,
        # present and future, gets BrokenResourceError instead of waiting forever.
        add_parking_lot_breaker(task, self._lot)

    def _reacquire_error(self) -> RuntimeError:
        return RuntimeError(f"the task already holds {self!r}; locks are not re-entrant")

    @enable_ki_protection
    def acquire_nowait(self) -> None:
        """Take the lock if it is free, else raise ``WouldBlock``. ``RuntimeError`` if
        this task already holds it."""
        task = current_task()
        owner = self._owner
        if owner is None:
            self._take(task)
        elif owner is task:
            raise self._reacquire_error()
        else:
            raise WouldBlock

    @enable_ki_protection
    async def acquire(self) -> None:
        """Take the lock, waiting in line if it is held. A checkpoint, even when the
        lock is free. ``RuntimeError`` if this task already holds it;
        ``BrokenResourceError`` if its owner exited without releasing it."""
        owner = self._owner
        if owner is None:
            # Cancelled? Then raise now, before taking anything. (This yields only when
            # it raises, so the lock is still free after it.)
            await checkpoint_if_cancelled()
            self._take(current_task())
            # Still a schedule point, but a cancellation arriving now must not make us
            # drop a lock that we already own.
            await SHIELDED_CHECKPOINT_TRAP
            return
        if owner is current_task():
            await checkpoint_if_cancelled()
            raise self._reacquire_error()
        try:
            # release() makes us the owner before it wakes us. Condition.wait() relies
            # on this being the whole contended path: a task it moves into this lot
            # wakes up holding the lock just the same. park() is a cancel point of its
            # own, so a cancelled task raises there without ever being queued for long.
            await self._lot.park()
        except BrokenResourceError:
            raise BrokenResourceError(
                f"the owner of this lock, {owner!r}, exited without releasing it"
            ) from None

    @enable_ki_protection
    def release(self) -> None:
        """Give the lock up, handing it to the longest waiter if there is one. Never
        blocks and is not a checkpoint. ``RuntimeError`` if this task does not hold
        it."""
        task = current_task()
        if task is not self._owner:
            raise RuntimeError(f"{self!r} can only be released by the task that holds it")
        lot = self._lot
        remove_parking_lot_breaker(task, lot)
        if lot:
            self._take(lot.unpark()[0])
        else:
            self._owner = None

    # `async with lock:` is acquire() and release(), without an extra coroutine frame
    # around each: a contended lock is a hot path.
    __aenter__ = acquire

    @enable_ki_protection
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def statistics(self) -> LockStatistics:
        return LockStatistics(
            locked=self._owner is not None, owner=self._owner, tasks_waiting=len(self._lot)
        )

    def __repr__(self) -> str:
        if self._owner is None:
            state = "unlocked"
        else:
            state = f"locked by {self._owner.name!r}, {len(self._lot)} waiting"
        return f"<nursery.{type(self).__name__} ({state}) at {id(self):#x}>"


class Lock(_LockBase, metaclass=Final):
    """A mutual-exclusion lock: one owner at a time, not re-entrant, and only the task
    that acquired it may release it. Waiters get it in the order they asked.

    ``async with lock:`` acquires on entry and releases on exit. If the owner exits
    while still holding the lock, waiters get ``BrokenResourceError``.
    """

    __slots__ = ()


class StrictFIFOLock(_LockBase, metaclass=Final):
    """A ``Lock`` that promises strict first-come, first-served order, as a contract
    rather than as an implementation detail.

    Today ``Lock`` behaves the same way; use this class when your code's correctness
    depends on the order (say, tasks that must write their chunks to a stream in the
    order they queued them), so that it keeps that guarantee whatever ``Lock`` does.
    """

    __slots__ = ()


@attrs.frozen
class ConditionStatistics:
    """``tasks_waiting``: how many tasks are blocked in ``Condition.wait()``;
    ``lock_statistics``: the underlying lock's ``LockStatistics``."""

    tasks_waiting: int
    lock_statistics: LockStatistics


class Condition(AsyncContextManagerMixin, metaclass=Final):
    """A condition variable: a lock, plus a queue of tasks waiting (with the lock
    released) for another task to ``notify`` them.

    ``lock`` must be a ``Lock`` (a new one by default). ``async with condition:``
    acquires and releases it.
    """

    __slots__ = ("__weakref__", "_lock", "_lot")

    def __init__(self, lock: Lock | None = None) -> None:
        if lock is None:
            lock = Lock()
        elif type(lock) is not Lock:
            raise TypeError(f"Condition(lock): lock must be a nursery.Lock, got {lock!r}")
        self._lock = lock
        self._lot = ParkingLot()

    def locked(self) -> bool:
        """Whether the underlying lock is held."""
        return self._lock.locked()

    def acquire_nowait(self) -> None:
        """``Lock.acquire_nowait()`` on the underlying lock."""
        self._lock.acquire_nowait()

    async def acquire(self) -> None:
        """``Lock.acquire()`` on the underlying lock."""
        await self._lock.acquire()

    def release(self) -> None:
        """``Lock.release()`` on the underlying lock."""
        self._lock.release()

    def _check_owner(self, what: str) -> None:
        if current_task() is not self._lock._owner:
            raise RuntimeError(f"Condition.{what}() requires the caller to hold the lock")

    @enable_ki_protection
    async def wait(self) -> None:
        """Release the lock, sleep until notified, then take the lock back.

        The lock is held again when this returns *and* when it raises, even if it was
        cancelled: the cancellation waits for the lock, so ``async with condition:
        await condition.wait()`` never exits a block it no longer holds the lock of.
        The one exception is ``BrokenResourceError``: a task exited holding the lock,
        so nobody can get it back. ``RuntimeError`` if the caller does not hold the
        lock.
        """
        self._check_owner("wait")
        lock = self._lock
        lock.release()
        try:
            # notify() moves us, still asleep, to the back of the lock's queue, and the
            # lock's release() wakes us as its new owner: no second wake-up, and no
            # window for another task to take the lock first.
            await self._lot.park()
        except BaseException:
            # Woken by an exception (cancelled, or the lock broken), so we do not own
            # the lock: queue for it again, shielded, before letting the error out.
            with CancelScope(shield=True):
                await lock.acquire()
            raise

    def notify(self, n: int = 1) -> None:
        """Wake the ``n`` longest waiters (each returns from ``wait()`` once it gets the
        lock). Not a checkpoint. ``RuntimeError`` if the caller does not hold the lock."""
        if isinstance(n, bool) or (not isinstance(n, int) and n != math.inf):
            raise TypeError(f"Condition.notify(n): n must be an int or math.inf, got {n!r}")
        if n < 0:
            raise ValueError(f"Condition.notify(n): n must be >= 0, got {n!r}")
        self._check_owner("notify")
        self._lot.repark(self._lock._lot, count=n)

    def notify_all(self) -> None:
        """Wake every waiter. ``RuntimeError`` if the caller does not hold the lock."""
        self._check_owner("notify_all")
        self._lot.repark_all(self._lock._lot)

    def statistics(self) -> ConditionStatistics:
        return ConditionStatistics(
            tasks_waiting=len(self._lot), lock_statistics=self._lock.statistics()
        )

    def __repr__(self) -> str:
        return f"<nursery.Condition ({len(self._lot)} waiting) on {self._lock!r}>"
