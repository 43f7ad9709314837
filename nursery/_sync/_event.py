"""Event: a flag that goes from false to true once, and wakes everyone waiting for it."""

from __future__ import annotations

from typing import NoReturn

import attrs

from .._core._ki import enable_ki_protection
from .._core._parking_lot import ParkingLot
from .._core._traps import CHECKPOINT_TRAP
from .._core._util import Final


@attrs.frozen
class EventStatistics:
    """``tasks_waiting``: how many tasks are blocked in ``Event.wait()``."""

    tasks_waiting: int


class Event(metaclass=Final):
    """A one-shot flag. ``wait()`` blocks until ``set()`` has been called (at any time,
    before or after the wait began, so no wake-up can be missed).

    There is no ``clear()``: once set, an event stays set. To signal something that
    happens repeatedly, make a fresh ``Event`` for each occurrence (they are cheap), or
    use a ``Condition`` or a ``ParkingLot``.
    """

    __slots__ = ("__weakref__", "_flag", "_lot")

    def __init__(self) -> None:
        self._flag = False
        self._lot = ParkingLot()

    def is_set(self) -> bool:
        """Whether ``set()`` has been called."""
        return self._flag

    @enable_ki_protection
    def set(self) -> None:
        """Set the flag and wake every waiter, in the order they began to wait.
        Synchronous: never blocks and is not a checkpoint. Setting it again does
        nothing."""
        if not self._flag:
            self._flag = True
            self._lot.unpark_all()

    @enable_ki_protection
    async def wait(self) -> None:
        """Block until the flag is set. A checkpoint even when it is already set."""
        if self._flag:
            await CHECKPOINT_TRAP
        else:
            await self._lot.park()

    def statistics(self) -> EventStatistics:
        return EventStatistics(tasks_waiting=len(self._lot))

    def __bool__(self) -> NoReturn:
        # `if event:` would always be true for a plain object, which is never what the
        # writer meant; make the slip loud.
        raise NotImplementedError("an Event has no truth value; use event.is_set()")

    def __repr__(self) -> str:
        state = "set" if self._flag else f"unset, {len(self._lot)} waiting"
        return f"<nursery.Event ({state}) at {id(self):#x}>"
