"""ParkingLot: the FIFO queue of sleeping tasks that every synchronization primitive
is built on. Parking is a checkpoint that can be cancelled; unparking never blocks."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import final

import attrs

from ._context import current_task
from ._exceptions import BrokenResourceError
from ._ki import enable_ki_protection
from ._task import Task
from ._traps import suspend_task
from ._util import Final


@attrs.frozen
class ParkingLotStatistics:
    """``tasks_waiting``: how many tasks are parked in the lot."""

    tasks_waiting: int


def _count_arg(count: int | float, where: str) -> int | float:
    if isinstance(count, bool) or not isinstance(count, (int, float)):
        raise TypeError(f"{where}: count must be an int or math.inf, got {count!r}")
    if count < 0 or (isinstance(count, float) and count != math.inf):
        raise ValueError(f"{where}: count must be >= 0 (or math.inf), got {count!r}")
    return count


@final
class ParkingLot(metaclass=Final):
    """A fair (first in, first out) queue of parked tasks.

    ``await lot.park()`` sleeps until another task calls ``unpark``; a cancelled park
    leaves the queue. Once the lot is broken (``break_lot``, or a breaker task exits),
    parked and future parkers get ``BrokenResourceError``.
    """

    __slots__ = ("__weakref__", "_parked", "broken_by")

    def __init__(self) -> None:
        self._parked: OrderedDict[Task, None] = OrderedDict()
        self.broken_by: list[Task] = []

    def __len__(self) -> int:
        return len(self._parked)

    def __bool__(self) -> bool:
        return bool(self._parked)

    @enable_ki_protection
    async def park(self) -> None:
        """Sleep until unparked (a checkpoint; cancellation removes us from the lot)."""
        if self.broken_by:
            raise BrokenResourceError(
                f"attempted to park in a parking lot broken by {self.broken_by[0]!r}"
            )
        task = current_task()
        self._parked[task] = None
        task.custom_sleep_data = self
        # Cancellation takes the task out of the queue it sleeps in (repark moves it).
        await suspend_task(task, self._parked)

    def _pop_several(self, count: int | float) -> list[Task]:
        parked = self._parked
        taken: list[Task] = []
        while parked and len(taken) < count:
            task, _ = parked.popitem(last=False)
            taken.append(task)
        return taken

    @enable_ki_protection
    def unpark(self, *, count: int | float = 1) -> list[Task]:
        """Wake the ``count`` longest-parked tasks; return them."""
        if count == 1 and type(count) is int:
            # The common case (a lock or channel handing over to one waiter), kept short.
            if not self._parked:
                return []
            task = self._parked.popitem(last=False)[0]
            task._runner.reschedule_value(task, None)
            return [task]
        count = _count_arg(count, "ParkingLot.unpark()")
        tasks = self._pop_several(count)
        for task in tasks:
            task._runner.reschedule_value(task, None)
        return tasks

    def unpark_all(self) -> list[Task]:
        """Wake every parked task; return them."""
        return self.unpark(count=len(self._parked))

    @enable_ki_protection
    def repark(self, new_lot: ParkingLot, *, count: int | float = 1) -> None:
        """Move the ``count`` longest-parked tasks to the back of ``new_lot``, still
        asleep (as if they had parked there)."""
        if not isinstance(new_lot, ParkingLot):
            raise TypeError(f"ParkingLot.repark() expected a ParkingLot, got {new_lot!r}")
        count = _count_arg(count, "ParkingLot.repark()")
        for task in self._pop_several(count):
            new_lot._parked[task] = None
            task.custom_sleep_data = new_lot
            task._abort_func = new_lot._parked  # cancelling it now leaves the new lot

    def repark_all(self, new_lot: ParkingLot) -> None:
        """Move every parked task to ``new_lot``."""
        self.repark(new_lot, count=len(self._parked))

    @enable_ki_protection
    def break_lot(self, task: Task | None = None) -> None:
        """Break the lot: every parked task wakes with ``BrokenResourceError``, and so
        will any later ``park``. ``task`` records who broke it (default: the caller)."""
        if task is None:
            task = current_task()
        if task in self.broken_by:
            return
        self.broken_by.append(task)
        parked, self._parked = self._parked, OrderedDict()
        for waiter in parked:
            waiter._runner.reschedule_error(
                waiter,
                BrokenResourceError(f"parking lot broken by {task!r}"),
            )

    def statistics(self) -> ParkingLotStatistics:
        return ParkingLotStatistics(tasks_waiting=len(self._parked))

    def __repr__(self) -> str:
        return f"<ParkingLot with {len(self._parked)} parked task(s) at {id(self):#x}>"


@enable_ki_protection
def add_parking_lot_breaker(task: Task, lot: ParkingLot) -> None:
    """Break ``lot`` when ``task`` exits (how a Lock held by a dying task breaks).
    ``BrokenResourceError`` if ``task`` has already exited."""
    if task not in task._runner.tasks:
        raise BrokenResourceError(f"{task!r} has already exited, so it cannot break {lot!r}")
    task._runner.parking_lot_breakers.setdefault(task, []).append(lot)


@enable_ki_protection
def remove_parking_lot_breaker(task: Task, lot: ParkingLot) -> None:
    """Undo ``add_parking_lot_breaker``; ``RuntimeError`` if it was not registered."""
    lots = task._runner.parking_lot_breakers.get(task, [])
    try:
        lots.remove(lot)
    except ValueError:
        raise RuntimeError(f"{task!r} is not registered as a breaker of {lot!r}") from None
    if not lots:
        del task._runner.parking_lot_breakers[task]
