"""The select paradigm: run several things at once, and keep the first, all, or a stream
of the results, with everything else cancelled and finished before the call returns.

Each helper is a nursery underneath, so no task it starts outlives it, and its errors
follow the nursery's rules: nothing is lost, and the first error cancels the rest.
"""

from __future__ import annotations

import math
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from typing import Any, TypeVar

from ._channel import MemorySendChannel, open_memory_channel
from ._core._cancel_scope import CancelScope
from ._core._exceptions import BrokenResourceError
from ._core._nursery import Nursery, open_nursery
from ._core._parking_lot import ParkingLot
from ._core._traps import CHECKPOINT_TRAP, checkpoint_if_cancelled
from ._core._util import name_of, reject_non_callable
from ._groups import raise_single_error
from .abc import ReceiveChannel

T = TypeVar("T")
ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


# -- race and gather -----------------------------------------------------------------------


async def _contend(
    async_fn: Callable[[], Awaitable[T]], winner: list[T], scope: CancelScope
) -> None:
    value = await async_fn()
    if not winner:
        winner.append(value)
        scope.cancel("race(): another contender finished first")


async def race(*async_fns: Callable[[], Awaitable[T]]) -> T:
    """Run the functions concurrently and return the result of the first to finish.

    As soon as one returns, the others are cancelled, and ``race`` returns once they
    have all finished: nothing is left running. If the first to finish raises instead,
    the others are cancelled too and the error propagates. Errors come out as from a
    nursery (in a ``BaseExceptionGroup`` unless the run says otherwise), and one that a
    loser raises while it unwinds is not lost: it comes out as well, and then no result
    is returned.

    Pass functions that take no arguments (``functools.partial`` binds them). Always a
    checkpoint. ``ValueError`` if no function is given: nothing could ever win.
    """
    if not async_fns:
        raise ValueError("race() needs at least one async function: nothing could win")
    for async_fn in async_fns:
        reject_non_callable(async_fn, "race()")
    # Cancel point up front: in a cancelled scope, start nothing. (The nursery's exit
    # below is the schedule point.)
    await checkpoint_if_cancelled()
    winner: list[T] = []
    async with open_nursery() as n:
        for async_fn in async_fns:
            n.start_soon(_contend, async_fn, winner, n.cancel_scope, name=name_of(async_fn))
    # The nursery ended without an error, so someone returned: either a contender
    # finished, or our own cancel (which only a winner calls) stopped the rest.
    return winner[0]


async def _store(async_fn: Callable[[], Awaitable[T]], results: list[T], index: int) -> None:
    results[index] = await async_fn()


async def gather(*async_fns: Callable[[], Awaitable[T]]) -> list[T]:
    """Run the functions concurrently; return their results, in the order given.

    The first error cancels the others, and the errors come out as from a nursery (in
    a ``BaseExceptionGroup`` unless the run says otherwise). Pass functions that take no
    arguments (``functools.partial`` binds them). Always a checkpoint, even with no
    functions (it then returns ``[]``).
    """
    for async_fn in async_fns:
        reject_non_callable(async_fn, "gather()")
    await checkpoint_if_cancelled()
    results: list[Any] = [None] * len(async_fns)
    async with open_nursery() as n:
        for index, async_fn in enumerate(async_fns):
            n.start_soon(_store, async_fn, results, index, name=name_of(async_fn))
    return results


# -- map_concurrently ------------------------------------------------------------------------


class _Slots:
    """At most ``limit`` items in progress. An item is in progress from the moment its
    call starts until the consumer has received its result, so a slow consumer slows
    the calls down (backpressure) and finished results never pile up in memory."""

    __slots__ = ("free", "lot")

    def __init__(self, limit: int | float) -> None:
        self.free = limit
        self.lot = ParkingLot()

    async def acquire(self) -> None:
        if self.free:
            # Even with a free slot: a schedule point per item, so feeding a huge
            # iterable with a high limit does not hold the loop.
            await CHECKPOINT_TRAP
        while not self.free:
            await self.lot.park()
        self.free -= 1

    def release(self) -> None:
        self.free += 1
        self.lot.unpark()


class _Box:
    __slots__ = ("filled", "value")

    def __init__(self) -> None:
        self.filled = False
        self.value: Any = None


async def _items(
    iterable: Iterable[ItemT] | AsyncIterable[ItemT],
) -> AsyncGenerator[ItemT, None]:
    # Iterated by the feeder task alone, from start to end, so no yield crosses tasks.
    if isinstance(iterable, AsyncIterable):
        async for item in iterable:
            yield item
    else:
        for item in iterable:
            yield item


def _consumer_gone(results: MemorySendChannel[Any]) -> bool:
    return not results._state.open_receive


async def _call_unordered(
    async_fn: Callable[[ItemT], Awaitable[ResultT]],
    item: ItemT,
    results: MemorySendChannel[ResultT],
    slots: _Slots,
) -> None:
    with results:  # this task's clone: the stream ends when the last clone closes
        result = await async_fn(item)
        try:
            await results.send(result)
        except BrokenResourceError:
            pass  # the consumer has left; the feeder notices and stops
        slots.release()


async def _feed_unordered(
    n: Nursery,
    async_fn: Callable[[ItemT], Awaitable[ResultT]],
    iterable: Iterable[ItemT] | AsyncIterable[ItemT],
    results: MemorySendChannel[ResultT],
    slots: _Slots,
) -> None:
    with results:
        # aclosing: if this task is cancelled mid-iteration, the wrapper generator is
        # closed here and now, not later by the garbage collector's hooks.
        async with aclosing(_items(iterable)) as items:
            async for item in items:
                await slots.acquire()
                if _consumer_gone(results):
                    return
                n.start_soon(_call_unordered, async_fn, item, results.clone(), slots)


async def _call_ordered(
    async_fn: Callable[[ItemT], Awaitable[ResultT]], item: ItemT, box: _Box, done: ParkingLot
) -> None:
    box.value = await async_fn(item)
    box.filled = True
    done.unpark_all()  # the deliverer checks whether it was the box it waits for


async def _feed_ordered(
    n: Nursery,
    async_fn: Callable[[ItemT], Awaitable[ResultT]],
    iterable: Iterable[ItemT] | AsyncIterable[ItemT],
    results: MemorySendChannel[ResultT],
    slots: _Slots,
) -> None:
    # Boxes in input order: the deliverer hands their results on in that order. The
    # queue is unbounded, but holds at most `limit` boxes, one per slot.
    boxes_in, boxes_out = open_memory_channel[_Box](math.inf)
    done = ParkingLot()
    n.start_soon(_deliver_ordered, boxes_out, results, slots, done)
    with boxes_in:
        async with aclosing(_items(iterable)) as items:
            async for item in items:
                await slots.acquire()
                if _consumer_gone(results):
                    return
                box = _Box()
                boxes_in.send_nowait(box)
                n.start_soon(_call_ordered, async_fn, item, box, done)


async def _deliver_ordered(
    boxes: ReceiveChannel[_Box],
    results: MemorySendChannel[ResultT],
    slots: _Slots,
    done: ParkingLot,
) -> None:
    with results:
        async for box in boxes:
            while not box.filled:
                await done.park()
            try:
                await results.send(box.value)
            except BrokenResourceError:
                return
            box.value = None  # delivered: do not keep it alive
            slots.release()


def _check_limit(limit: object) -> int | float:
    if isinstance(limit, bool) or not (isinstance(limit, int) or limit == math.inf):
        raise TypeError(
            f"map_concurrently(limit=...): expected an int >= 1 or math.inf, got {limit!r}"
        )
    assert isinstance(limit, (int, float))
    if limit < 1:
        raise ValueError(f"map_concurrently(limit=...): must be >= 1, got {limit!r}")
    return limit


@asynccontextmanager
async def _map(
    async_fn: Callable[[ItemT], Awaitable[ResultT]],
    iterable: Iterable[ItemT] | AsyncIterable[ItemT],
    limit: int | float,
    ordered: bool,
) -> AsyncIterator[ReceiveChannel[ResultT]]:
    results_in, results_out = open_memory_channel[ResultT](0)
    slots = _Slots(limit)
    feed = _feed_ordered if ordered else _feed_unordered
    try:
        async with open_nursery(strict_exception_groups=True) as n:
            n.start_soon(feed, n, async_fn, iterable, results_in, slots)
            with results_out:
                yield results_out
            # The block is over: whatever is still running has no one to report to.
            n.cancel_scope.cancel("the map_concurrently block was exited")
    except BaseExceptionGroup as group:
        raise_single_error(group)


def map_concurrently(
    async_fn: Callable[[ItemT], Awaitable[ResultT]],
    iterable: Iterable[ItemT] | AsyncIterable[ItemT],
    *,
    limit: int | float,
    ordered: bool = True,
) -> AbstractAsyncContextManager[ReceiveChannel[ResultT]]:
    """Call ``async_fn(item)`` for every item of ``iterable``, at most ``limit`` at a
    time, and stream the results through a receive channel::

        async with map_concurrently(fetch, urls, limit=10) as results:
            async for page in results:
                ...

    ``ordered=True`` gives the results in input order, ``ordered=False`` as the calls
    finish. An item counts against ``limit`` from the start of its call until its
    result has been received, so a slow consumer slows the calls down and finished
    results never accumulate. ``iterable`` may be a plain or an async iterable; it is
    read lazily, one item per free slot.

    It is a context manager, not an async iterator, because the calls run in a nursery
    that must be closed by the task that opened it: an async generator would yield out
    of that nursery. Leaving the block (``break`` included) cancels the calls still in
    progress and waits for them. The first error, from a call, the iterable or the
    block, cancels everything else and comes out of the ``async with`` as it is (several
    at once come out in a ``BaseExceptionGroup``).
    """
    reject_non_callable(async_fn, "map_concurrently()")
    if not isinstance(iterable, (Iterable, AsyncIterable)):
        raise TypeError(f"map_concurrently() expected an iterable, got {iterable!r}")
    return _map(async_fn, iterable, _check_limit(limit), bool(ordered))
