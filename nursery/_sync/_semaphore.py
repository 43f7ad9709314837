"""Semaphore and CapacityLimiter: counted permits, handed to waiters in FIFO order.

Like the locks, both hand a released permit straight to the longest waiter (it is
never put back where a newcomer could grab it first), so a free permit and a queued
waiter never exist at the same time.
"""

from __future__ import annotations

import attrs

from .._core._context import current_task
from .._core._exceptions import WouldBlock
from .._core._ki import enable_ki_protection
from .._core._parking_lot import ParkingLot, ParkingLotStatistics
from .._core._task import Task
from .._core._traps import (
    SHIELDED_CHECKPOINT_TRAP,
    checkpoint_if_cancelled,
)
from .._core._util import Final
from ._common import AsyncContextManagerMixin, check_int, check_int_or_inf


class Semaphore(AsyncContextManagerMixin, metaclass=Final):
    """A counter of permits: ``acquire()`` takes one, waiting while there are none;
    ``release()`` gives one back.

    With ``max_value``, the semaphore is bounded: a ``release()`` that would raise the
    value above it is a ``ValueError`` (it catches releasing more often than acquiring).
    To cap how many tasks do something at once, ``CapacityLimiter`` is usually the
    better fit: it also checks who holds what.
    """

    __slots__ = ("__weakref__", "_lot", "_max_value", "_value")

    def __init__(self, initial_value: int, *, max_value: int | None = None) -> None:
        check_int(initial_value, "Semaphore(initial_value)")
        if max_value is not None:
            check_int(max_value, "Semaphore(max_value=...)")
            if max_value < initial_value:
                raise ValueError(
                    f"Semaphore(max_value=...) must be >= initial_value ({initial_value}), "
                    f"got {max_value!r}"
                )
        self._lot = ParkingLot()
        self._value = initial_value
        self._max_value = max_value

    @property
    def value(self) -> int:
        """How many permits are free now."""
        return self._value

    @property
    def max_value(self) -> int | None:
        """The bound given to the constructor, or None."""
        return self._max_value

    @enable_ki_protection
    def acquire_nowait(self) -> None:
        """Take a permit if one is free, else raise ``WouldBlock``."""
        if self._value > 0:
            self._value -= 1
        else:
            raise WouldBlock

    @enable_ki_protection
    async def acquire(self) -> None:
        """Take a permit, waiting in line while there is none. A checkpoint, even when
        one is free."""
        await checkpoint_if_cancelled()
        if self._value > 0:
            self._value -= 1
            # A schedule point that cannot lose the permit we just took.
            await SHIELDED_CHECKPOINT_TRAP
        else:
            await self._lot.park()  # release() hands us its permit before waking us

    @enable_ki_protection
    def release(self) -> None:
        """Give a permit back (to the longest waiter, if any). Never blocks and is not
        a checkpoint. ``ValueError`` if it would raise the value above ``max_value``."""
        if self._lot:
            # Waiters exist only while the value is 0: the permit goes to one of them.
            self._lot.unpark()
            return
        if self._max_value is not None and self._value >= self._max_value:
            raise ValueError(
                f"Semaphore released too many times: its value would exceed "
                f"max_value={self._max_value}"
            )
        self._value += 1

    def statistics(self) -> ParkingLotStatistics:
        """``tasks_waiting``: how many tasks are blocked in ``acquire()``."""
        return self._lot.statistics()

    def __repr__(self) -> str:
        bound = "" if self._max_value is None else f", max_value={self._max_value}"
        return (
            f"<nursery.Semaphore({self._value}{bound}), {len(self._lot)} waiting at {id(self):#x}>"
        )


@attrs.frozen
class CapacityLimiterStatistics:
    """``borrowed_tokens``: tokens in use; ``total_tokens``: the limit (which may be below
    ``borrowed_tokens`` just after it was lowered); ``borrowers``: who holds the tokens;
    ``tasks_waiting``: how many tasks are blocked acquiring one."""

    borrowed_tokens: int
    total_tokens: int | float
    borrowers: list[object]
    tasks_waiting: int


class CapacityLimiter(AsyncContextManagerMixin, metaclass=Final):
    """At most ``total_tokens`` borrowers at a time (an int >= 0, or ``math.inf``).

    A borrower is the acquiring task, or any hashable object passed to the
    ``*_on_behalf_of`` methods (a thread, a connection). Each borrower holds at most one
    token, and only a token's borrower can give it back, so double acquires and stray
    releases are errors rather than silent miscounts. ``total_tokens`` can be changed
    while tokens are out: raising it lets waiters in at once; lowering it lets the
    current borrowers finish and admits nobody until they are below the new limit.
    """

    __slots__ = (
        "__weakref__",
        "_borrowers",
        "_lot",
        "_pending",
        "_pending_borrowers",
        "_total_tokens",
    )

    def __init__(self, total_tokens: int | float) -> None:
        self._total_tokens = check_int_or_inf(total_tokens, "CapacityLimiter(total_tokens)")
        self._lot = ParkingLot()
        self._borrowers: set[object] = set()
        # A queued task -> the borrower it queues for; and those borrowers, so that a
        # borrower cannot queue twice (it would end up with one token counted once).
        self._pending: dict[Task, object] = {}
        self._pending_borrowers: set[object] = set()

    @property
    def total_tokens(self) -> int | float:
        """The limit. Assignable at any time (same rules as the constructor)."""
        return self._total_tokens

    @total_tokens.setter
    def total_tokens(self, new_total: int | float) -> None:
        self._set_total_tokens(new_total)

    @enable_ki_protection
    def _set_total_tokens(self, new_total: int | float) -> None:
        self._total_tokens = check_int_or_inf(new_total, "CapacityLimiter.total_tokens")
        self._hand_out()

    @property
    def borrowed_tokens(self) -> int:
        """How many tokens are out."""
        return len(self._borrowers)

    @property
    def available_tokens(self) -> int | float:
        """``total_tokens - borrowed_tokens`` (negative just after the limit was lowered
        below the tokens out)."""
        return self._total_tokens - len(self._borrowers)

    def _hand_out(self) -> None:
        # Give every free token to the longest waiters, who own it before they run.
        free = self._total_tokens - len(self._borrowers)
        if free > 0 and self._lot:
            for task in self._lot.unpark(count=free):
                borrower = self._pending.pop(task)
                self._pending_borrowers.discard(borrower)
                self._borrowers.add(borrower)

    def _check_new_borrower(self, borrower: object) -> None:
        if borrower in self._borrowers:
            raise RuntimeError(
                f"{borrower!r} already holds a token of {self!r} (one token per borrower)"
            )
        if borrower in self._pending_borrowers:
            raise RuntimeError(f"{borrower!r} is already waiting for a token of {self!r}")

    @enable_ki_protection
    def acquire_nowait(self) -> None:
        """Borrow a token for the current task, or raise ``WouldBlock``. ``RuntimeError``
        if it already holds one."""
        self.acquire_on_behalf_of_nowait(current_task())

    @enable_ki_protection
    def acquire_on_behalf_of_nowait(self, borrower: object) -> None:
        """Borrow a token for ``borrower`` (any hashable object), or raise
        ``WouldBlock``. ``RuntimeError`` if it already holds or awaits one."""
        self._check_new_borrower(borrower)
        # FIFO: a free token with tasks queued cannot happen, but never jump the queue.
        if len(self._borrowers) < self._total_tokens and not self._lot:
            self._borrowers.add(borrower)
        else:
            raise WouldBlock

    @enable_ki_protection
    async def acquire(self) -> None:
        """Borrow a token for the current task, waiting in line if none is free. A
        checkpoint, even when one is free. ``RuntimeError`` if it already holds one."""
        await self.acquire_on_behalf_of(current_task())

    @enable_ki_protection
    async def acquire_on_behalf_of(self, borrower: object) -> None:
        """Borrow a token for ``borrower`` (any hashable object), waiting in line if none
        is free. A checkpoint, even when one is free. ``RuntimeError`` if it already
        holds or awaits one."""
        await checkpoint_if_cancelled()
        self._check_new_borrower(borrower)
        if len(self._borrowers) < self._total_tokens and not self._lot:
            self._borrowers.add(borrower)
            await SHIELDED_CHECKPOINT_TRAP  # cannot lose the token just taken
            return
        task = current_task()
        self._pending[task] = borrower
        self._pending_borrowers.add(borrower)
        try:
            await self._lot.park()  # _hand_out() makes `borrower` a holder, then wakes us
        except BaseException:
            # Cancelled (or interrupted) while still queued: the token never came.
            del self._pending[task]
            self._pending_borrowers.discard(borrower)
            raise

    @enable_ki_protection
    def release(self) -> None:
        """Give back the current task's token. ``RuntimeError`` if it holds none."""
        self.release_on_behalf_of(current_task())

    @enable_ki_protection
    def release_on_behalf_of(self, borrower: object) -> None:
        """Give back ``borrower``'s token (to the longest waiter, if any). Never blocks
        and is not a checkpoint. ``RuntimeError`` if ``borrower`` holds none."""
        if borrower not in self._borrowers:
            raise RuntimeError(f"{borrower!r} holds no token of {self!r}")
        self._borrowers.remove(borrower)
        self._hand_out()

    def statistics(self) -> CapacityLimiterStatistics:
        return CapacityLimiterStatistics(
            borrowed_tokens=len(self._borrowers),
            total_tokens=self._total_tokens,
            borrowers=list(self._borrowers),
            tasks_waiting=len(self._lot),
        )

    def __repr__(self) -> str:
        return (
            f"<nursery.CapacityLimiter {len(self._borrowers)}/{self._total_tokens} "
            f"borrowed, {len(self._lot)} waiting, at {id(self):#x}>"
        )
