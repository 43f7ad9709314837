"""A tool for tests that need code in several tasks to run in a set order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nursery
from nursery._core._traps import CHECKPOINT_TRAP
from nursery.lowlevel import ParkingLot


class Sequencer:
    """Makes blocks of code in different tasks run one after another, in the
    order of the numbers they are given.

    ``async with seq(n):`` enters at once for ``n == 0``; for any other ``n``
    it waits until the block numbered ``n - 1`` has been left (normally or by
    an exception). Each number may be used once.

    If a task is cancelled while it waits for its turn, the order can no longer
    be kept: the sequencer becomes broken, that task and every task waiting or
    arriving later get :exc:`RuntimeError`.

    Example::

        seq = Sequencer()

        async def first() -> None:
            async with seq(0):
                ...  # runs before anything in second()
            async with seq(2):
                ...

        async def second() -> None:
            async with seq(1):
                ...
    """

    def __init__(self) -> None:
        # Tasks waiting for their turn, by the number they wait to enter.
        self._waiting: dict[int, ParkingLot] = {}
        # Numbers whose turn has come: 0, and n + 1 once block n was left.
        self._ready: set[int] = {0}
        self._claimed: set[int] = set()
        self._broken = False

    @asynccontextmanager
    async def __call__(self, position: int) -> AsyncIterator[None]:
        if position in self._claimed:
            raise RuntimeError(f"sequence point {position} was already used")
        if self._broken:
            raise RuntimeError("sequencer is broken: a task was cancelled while waiting")
        self._claimed.add(position)
        if position != 0:
            await self._wait_for_turn(position)
        try:
            yield
        finally:
            self._open(position + 1)

    async def _wait_for_turn(self, position: int) -> None:
        try:
            if position in self._ready:
                # Entering is still a checkpoint, as any wait would be.
                await CHECKPOINT_TRAP
            else:
                lot = self._waiting.setdefault(position, ParkingLot())
                await lot.park()
        except nursery.Cancelled:
            self._break()
            raise RuntimeError(
                f"cancelled while waiting for sequence point {position}; "
                "the sequencer is now broken"
            ) from None
        if self._broken:
            raise RuntimeError("sequencer is broken: a task was cancelled while waiting")

    def _open(self, position: int) -> None:
        self._ready.add(position)
        lot = self._waiting.pop(position, None)
        if lot is not None:
            lot.unpark_all()

    def _break(self) -> None:
        self._broken = True
        # Wake everyone so they can see the sequencer is broken.
        for lot in self._waiting.values():
            lot.unpark_all()
        self._waiting.clear()
