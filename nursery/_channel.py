"""Memory channels: passing Python objects between tasks of one run, with backpressure.

A channel is one ``_ChannelState`` shared by any number of send and receive handles
(clones). The state holds the buffer and two FIFO queues of sleeping tasks: senders
waiting for room (with the value each one carries) and receivers waiting for a value.
At most one of the queues is non-empty at any time:

* receivers wait only when the buffer is empty (and then no sender waits), and
* senders wait only when the buffer is full (and then no receiver waits).

A sender that finds a waiting receiver hands its value straight to it; a receiver
that finds a waiting sender takes the head of the buffer (or, unbuffered, the sender's
value directly) and moves the sender's value into the buffer, so FIFO order holds on
both sides and the buffer never holds more than ``max_buffer_size`` items.

Tasks sleep in ``wait_task_rescheduled`` directly, not in a ``ParkingLot``: the send
queue must carry a value per task, and one dictionary operation per wait is all the
bookkeeping a hand-off needs. Each sleeper's abort function removes its own entry, so a
cancelled send has delivered nothing and a cancelled receive has taken nothing; once a
task has been handed its value it is rescheduled, its abort function is gone, and the
operation completes whatever happens to its cancel scopes afterwards.
"""

from __future__ import annotations

import enum
import functools
import inspect
import math
import types
from abc import ABCMeta
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any, Final, Generic, ParamSpec, Self, TypeVar, final

import attrs

from ._core._context import current_task
from ._core._context import get_task_hint as _get_task_hint
from ._core._exceptions import (
    BrokenResourceError,
    ClosedResourceError,
    EndOfChannel,
    WouldBlock,
)
from ._core._ki import enable_ki_protection
from ._core._nursery import open_nursery
from ._core._parking_lot import ParkingLot
from ._core._task import Task
from ._core._traps import (
    CHECKPOINT,
    CHECKPOINT_TRAP,
    SHIELDED_CHECKPOINT,
    SHIELDED_CHECKPOINT_TRAP,
    WAIT,
    WakeWithError,
    suspend_task,
)
from ._core._util import NoPublicConstructor
from ._groups import raise_single_error
from .abc import ReceiveChannel, SendChannel

T = TypeVar("T")
P = ParamSpec("P")


class _HandleMeta(NoPublicConstructor, ABCMeta):
    """The channel handles are abstract-base-class implementations (``ABCMeta``) that
    only ``open_memory_channel`` and ``clone()`` may build, and that are final."""


@attrs.frozen
class MemoryChannelStatistics:
    """A snapshot of a memory channel, shared by all its handles.

    ``current_buffer_used``: items in the buffer now. ``max_buffer_size``: as given to
    ``open_memory_channel``. ``open_send_channels`` / ``open_receive_channels``: handles
    of each kind not yet closed (clones included). ``tasks_waiting_send`` /
    ``tasks_waiting_receive``: tasks blocked in ``send`` / ``receive``, over all clones.
    ``peak_buffer_used``: the most items the buffer has held at once since the channel
    was opened.
    """

    current_buffer_used: int
    max_buffer_size: int | float
    open_send_channels: int
    open_receive_channels: int
    tasks_waiting_send: int
    tasks_waiting_receive: int
    peak_buffer_used: int


class _ChannelState(Generic[T]):
    __slots__ = (
        "buffer",
        "max_buffer_size",
        "open_receive",
        "open_send",
        "peak",
        "receive_waiters",
        "send_waiters",
    )

    def __init__(self, max_buffer_size: int | float) -> None:
        self.max_buffer_size = max_buffer_size
        self.buffer: deque[T] = deque()
        self.open_send = 0
        self.open_receive = 0
        self.peak = 0
        # Sleeping tasks, oldest first. OrderedDict rather than dict: popping the
        # oldest of a dict that keeps losing its head gets slower and slower, an
        # OrderedDict pops it in constant time. The task's custom_sleep_data is the
        # handle it sleeps on, so that closing a handle finds its own sleepers.
        self.send_waiters: OrderedDict[Task, T] = OrderedDict()
        self.receive_waiters: OrderedDict[Task, None] = OrderedDict()

    def statistics(self) -> MemoryChannelStatistics:
        return MemoryChannelStatistics(
            current_buffer_used=len(self.buffer),
            max_buffer_size=self.max_buffer_size,
            open_send_channels=self.open_send,
            open_receive_channels=self.open_receive,
            tasks_waiting_send=len(self.send_waiters),
            tasks_waiting_receive=len(self.receive_waiters),
            peak_buffer_used=self.peak,
        )


class _Wait(enum.Enum):
    WAIT = enum.auto()


# What _take() returns when the receiver has to wait (None is a valid item).
_WAIT: Final = _Wait.WAIT


# The cancel point that send() and receive() make before touching the channel: the
# test that ``checkpoint_if_cancelled()`` makes, written out where it is used, since
# awaiting that coroutine (or even calling a helper) costs a visible share of an item's
# trip through a channel. Only when it must raise does it await ``checkpoint()``, which
# raises with a schedule point, before anything has been sent or taken (or, if the task
# was shielded meanwhile, returns, and the operation goes ahead).
#
#     task = _get_task_hint()
#     if task is None or task._runner.current_task is not task:
#         task = current_task()          # the hint is missing or stale (see _context)
#     if task._cancel_status.effectively_cancelled or task._ki_pending:
#         await CHECKPOINT_TRAP
#     else:
#         task._cancel_mark = True


def _wake_own_waiters(waiters: OrderedDict[Task, Any], handle: object, message: str) -> None:
    """Wake, with ``ClosedResourceError``, the tasks in ``waiters`` that are blocked on
    ``handle`` (a closing handle takes its own sleepers with it; its clones' stay)."""
    for task in [task for task in waiters if task.custom_sleep_data is handle]:
        del waiters[task]
        task._runner.reschedule_error(task, ClosedResourceError(message))


def _check_buffer_size(max_buffer_size: object) -> int | float:
    if isinstance(max_buffer_size, bool) or not (
        isinstance(max_buffer_size, int) or max_buffer_size == math.inf
    ):
        raise TypeError(
            "open_memory_channel(max_buffer_size): expected an int >= 0 or math.inf, "
            f"got {max_buffer_size!r}"
        )
    assert isinstance(max_buffer_size, (int, float))
    if max_buffer_size < 0:
        raise ValueError(
            f"open_memory_channel(max_buffer_size): must be >= 0, got {max_buffer_size!r}"
        )
    return max_buffer_size


# A class, not a function, so that ``open_memory_channel[int](0)`` works as in Trio: the
# subscript picks the item type for a type checker, and is a no-op when the code runs.
@final
class open_memory_channel(tuple["MemorySendChannel[T]", "MemoryReceiveChannel[T]"]):
    """Open a channel for Python objects between tasks of this run; return the pair
    ``(send_channel, receive_channel)`` (data flows left to right).

    ``max_buffer_size`` (an int >= 0, or ``math.inf``) is how many items may wait in
    the channel for a receiver before ``send`` blocks; 0 makes every ``send`` wait for
    a receiver to take its item.

    Both ends may be cloned (``clone()``) to get several senders or receivers; the
    channel ends for receivers (``EndOfChannel``) when every send handle is closed, and
    for senders (``BrokenResourceError``) when every receive handle is. Operations are
    atomic with respect to cancellation: a ``send`` or ``receive`` that raises
    ``Cancelled`` did nothing.
    """

    __slots__ = ()

    def __new__(  # type: ignore[misc]  # returns a plain tuple, by design
        cls, max_buffer_size: int | float
    ) -> tuple[MemorySendChannel[T], MemoryReceiveChannel[T]]:
        state: _ChannelState[T] = _ChannelState(_check_buffer_size(max_buffer_size))
        return MemorySendChannel[T]._create(state), MemoryReceiveChannel[T]._create(state)

    def __init__(self, max_buffer_size: int | float) -> None:  # pragma: no cover
        # Never called (``__new__`` returns a tuple); declared for the signature.
        pass


@final
class MemorySendChannel(SendChannel[T], metaclass=_HandleMeta):
    """The sending end of a memory channel. Made by ``open_memory_channel`` and
    ``clone()``; close it with ``close()``, ``aclose()``, ``with`` or ``async with``."""

    __slots__ = ("__weakref__", "_closed", "_state")

    def __init__(self, state: _ChannelState[T]) -> None:
        self._state = state
        self._closed = False
        state.open_send += 1

    def __repr__(self) -> str:
        closed = " (closed)" if self._closed else ""
        return f"<MemorySendChannel{closed} at {id(self):#x}, channel {id(self._state):#x}>"

    def statistics(self) -> MemoryChannelStatistics:
        """The channel's ``MemoryChannelStatistics`` (the same from every handle)."""
        return self._state.statistics()

    def _put(self, value: T) -> bool:
        """Deliver ``value`` if that does not block, and say whether it was."""
        if self._closed:
            raise ClosedResourceError("this send channel was closed")
        state = self._state
        if state.receive_waiters:
            receiver, _ = state.receive_waiters.popitem(False)
            # The kernel's reschedule without the argument checks of the public
            # reschedule(): this is the hot path, and the task is known to be asleep.
            receiver._runner.reschedule_value(receiver, value)
            return True
        if not state.open_receive:
            raise BrokenResourceError("every receive channel of this channel was closed")
        buffer = state.buffer
        if len(buffer) < state.max_buffer_size:
            buffer.append(value)
            if len(buffer) > state.peak:
                state.peak = len(buffer)
            return True
        return False

    @enable_ki_protection
    def send_nowait(self, value: T) -> None:
        """Send ``value`` if that does not block (a receiver is waiting, or the buffer
        has room); raise ``WouldBlock`` otherwise. Not a checkpoint."""
        if not self._put(value):
            raise WouldBlock

    @enable_ki_protection
    async def send(self, value: T) -> None:
        """Send ``value``, waiting until a receiver takes it or the buffer has room.

        Always a checkpoint. If it raises ``Cancelled``, ``value`` was not sent.
        ``ClosedResourceError`` if this handle is (or gets) closed,
        ``BrokenResourceError`` if every receive handle is (or gets) closed.
        """
        # Cancel point first, so that a cancelled send has done nothing; then, if the
        # send completes at once, a schedule point that cannot be cancelled, since the
        # value is delivered by then. That is checkpoint_if_cancelled() followed by
        # cancel_shielded_checkpoint(), as in Trio, with the first one made cheaper.
        task = _get_task_hint()
        if task is None or task._runner.current_task is not task:
            task = current_task()
        if task._cancel_status.effectively_cancelled or task._ki_pending:
            await CHECKPOINT_TRAP
        else:
            task._cancel_mark = True
        # _put()'s two common cases written out, one call less per item: a receiver
        # is waiting (it gets the value directly), or the buffer has room.
        state = self._state
        if self._closed:
            raise ClosedResourceError("this send channel was closed")
        if state.receive_waiters:
            receiver, _ = state.receive_waiters.popitem(False)
            receiver._runner.reschedule_value(receiver, value)
        else:
            buffer = state.buffer
            if len(buffer) < state.max_buffer_size and state.open_receive:
                buffer.append(value)
                used = len(buffer)
                if used > state.peak:
                    state.peak = used
            elif not self._put(value):
                await suspend_task(task, self._queue(task, value))
                return
        await SHIELDED_CHECKPOINT_TRAP

    def _queue(self, task: Task, value: T) -> OrderedDict[Task, T]:
        """Queue ``task`` as a sender waiting with ``value``; return the queue, which is
        how its wait is aborted (see ``suspend_task``)."""
        waiters = self._state.send_waiters
        waiters[task] = value
        task.custom_sleep_data = self
        return waiters

    @enable_ki_protection
    def clone(self) -> MemorySendChannel[T]:
        """Another send handle on the same channel. Receivers see ``EndOfChannel``
        only once every clone is closed. ``ClosedResourceError`` if this one is."""
        if self._closed:
            raise ClosedResourceError("cannot clone a closed send channel")
        return MemorySendChannel._create(self._state)

    @enable_ki_protection
    def close(self) -> None:
        """Close this handle (synchronous, not a checkpoint; idempotent).

        Tasks blocked in ``send`` on this handle get ``ClosedResourceError``. When it
        is the channel's last open send handle, blocked receivers get
        ``EndOfChannel``, and so do later receives once the buffer is drained.
        """
        if self._closed:
            return
        self._closed = True
        state = self._state
        _wake_own_waiters(state.send_waiters, self, "the send channel was closed during send()")
        state.open_send -= 1
        if not state.open_send:
            # Every send handle is closed, and each took its own sleepers with it.
            assert not state.send_waiters
            waiters, state.receive_waiters = state.receive_waiters, OrderedDict()
            for task in waiters:
                task._runner.reschedule_error(task, EndOfChannel())

    @enable_ki_protection
    async def aclose(self) -> None:
        """``close()``, then a checkpoint (the handle is closed even if that raises
        ``Cancelled``)."""
        self.close()
        await CHECKPOINT_TRAP

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@final
class MemoryReceiveChannel(ReceiveChannel[T], metaclass=_HandleMeta):
    """The receiving end of a memory channel. Made by ``open_memory_channel`` and
    ``clone()``; ``async for item in channel`` receives until ``EndOfChannel``."""

    __slots__ = ("__weakref__", "_closed", "_state")

    def __init__(self, state: _ChannelState[T]) -> None:
        self._state = state
        self._closed = False
        state.open_receive += 1

    def __repr__(self) -> str:
        closed = " (closed)" if self._closed else ""
        return f"<MemoryReceiveChannel{closed} at {id(self):#x}, channel {id(self._state):#x}>"

    def statistics(self) -> MemoryChannelStatistics:
        """The channel's ``MemoryChannelStatistics`` (the same from every handle)."""
        return self._state.statistics()

    def _take(self) -> T | _Wait:
        """The next item if there is one without blocking, else ``_WAIT``."""
        state = self._state
        buffer = state.buffer
        if buffer and not state.send_waiters and not self._closed:
            return buffer.popleft()  # the common case of a stream, first
        if self._closed:
            raise ClosedResourceError("this receive channel was closed")
        if state.send_waiters:
            # The buffer is full (or unbuffered): take its head, and let the oldest
            # waiting sender's value take the free place at its tail.
            sender, value = state.send_waiters.popitem(False)
            sender._runner.reschedule_value(sender, None)
            if buffer:
                buffer.append(value)
                return buffer.popleft()
            return value
        if not state.open_send:
            raise EndOfChannel
        return _WAIT

    def _queue(self, task: Task) -> OrderedDict[Task, None]:
        """Queue ``task`` as a waiting receiver; return the queue, which is how its wait
        is aborted (see ``suspend_task``)."""
        waiters = self._state.receive_waiters
        waiters[task] = None
        task.custom_sleep_data = self
        return waiters

    @enable_ki_protection
    def receive_nowait(self) -> T:
        """Take the next item if one is ready; raise ``WouldBlock`` if none is,
        ``EndOfChannel`` if none will ever be. Not a checkpoint."""
        value = self._take()
        if value is _WAIT:
            raise WouldBlock
        return value

    @enable_ki_protection
    async def receive(self) -> T:
        """Take the next item, waiting until one is sent.

        Always a checkpoint. If it raises ``Cancelled``, nothing was taken from the
        channel. ``EndOfChannel`` once every send handle is closed and the buffer is
        empty; ``ClosedResourceError`` if this handle is (or gets) closed.
        """
        # As in send(): a cancel point before anything is taken, and a schedule point
        # that cannot be cancelled after.
        task = _get_task_hint()
        if task is None or task._runner.current_task is not task:
            task = current_task()
        if task._cancel_status.effectively_cancelled or task._ki_pending:
            await CHECKPOINT_TRAP
        else:
            task._cancel_mark = True
        value = self._take()
        if value is _WAIT:
            received: T = await suspend_task(task, self._queue(task))
            return received
        await SHIELDED_CHECKPOINT_TRAP
        return value

    # receive() again, as a generator-based coroutine rather than an awaited one: it
    # yields the kernel's messages itself, so an item of an ``async for`` over a
    # channel builds no inner coroutine, no trap iterator and no wait generator.
    # (``async for`` always awaits what __anext__ returns, so nothing is lost by its
    # not being an ``async def``: there is no never-awaited call to warn about.)
    @enable_ki_protection
    @types.coroutine
    def __anext__(self) -> Generator[Any, Any, T]:
        task = _get_task_hint()
        if task is None or task._runner.current_task is not task:
            task = current_task()
        if task._cancel_status.effectively_cancelled or task._ki_pending:
            yield CHECKPOINT  # raises Cancelled (or, if shielded meanwhile, returns)
        else:
            task._cancel_mark = True
        state = self._state
        buffer = state.buffer
        if buffer and not state.send_waiters and not self._closed:
            value: T = buffer.popleft()  # _take()'s common case written out
        else:
            if not buffer and not state.send_waiters and state.open_send and not self._closed:
                taken: T | _Wait = _WAIT  # nothing to take yet: also written out
            else:
                try:
                    taken = self._take()
                except EndOfChannel:
                    raise StopAsyncIteration from None
            if taken is _WAIT:
                # suspend_task() written out; the queue is how the wait is aborted.
                waiters = state.receive_waiters
                waiters[task] = None
                task.custom_sleep_data = self
                task._abort_func = waiters
                received = yield WAIT
                if type(received) is WakeWithError:
                    # The last sender closing wakes waiting receivers with EndOfChannel.
                    error = received.take()
                    if type(error) is EndOfChannel:
                        raise StopAsyncIteration from None
                    raise error
                return received  # type: ignore[no-any-return]
            value = taken
        yield SHIELDED_CHECKPOINT
        return value

    @enable_ki_protection
    def clone(self) -> MemoryReceiveChannel[T]:
        """Another receive handle on the same channel (each item still goes to one
        receiver only). Senders see ``BrokenResourceError`` only once every clone is
        closed. ``ClosedResourceError`` if this one is."""
        if self._closed:
            raise ClosedResourceError("cannot clone a closed receive channel")
        return MemoryReceiveChannel._create(self._state)

    @enable_ki_protection
    def close(self) -> None:
        """Close this handle (synchronous, not a checkpoint; idempotent).

        Tasks blocked in ``receive`` on this handle get ``ClosedResourceError``. When
        it is the channel's last open receive handle, the buffered items are dropped
        and blocked senders get ``BrokenResourceError``, as do later sends.
        """
        if self._closed:
            return
        self._closed = True
        state = self._state
        _wake_own_waiters(
            state.receive_waiters, self, "the receive channel was closed during receive()"
        )
        state.open_receive -= 1
        if not state.open_receive:
            assert not state.receive_waiters
            waiters, state.send_waiters = state.send_waiters, OrderedDict()
            for task in waiters:
                task._runner.reschedule_error(
                    task, BrokenResourceError("every receive channel of this channel was closed")
                )
            # Nobody can ever take them.
            state.buffer.clear()

    @enable_ki_protection
    async def aclose(self) -> None:
        """``close()``, then a checkpoint (the handle is closed even if that raises
        ``Cancelled``)."""
        self.close()
        await CHECKPOINT_TRAP

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# -- as_safe_channel ---------------------------------------------------------------------


class _Demand:
    """How many items the consumer has asked for and the generator not yet produced.

    The generator's task advances it only on demand, so it never computes items nobody
    asked for (at most one ahead, when a receive that asked was then cancelled)."""

    __slots__ = ("lot", "wanted")

    def __init__(self) -> None:
        self.wanted = 0
        self.lot = ParkingLot()

    def ask(self) -> None:
        self.wanted += 1
        self.lot.unpark()

    async def wait(self) -> None:
        while not self.wanted:
            await self.lot.park()
        self.wanted -= 1


@final
class _SafeReceiveChannel(ReceiveChannel[T]):
    """What ``as_safe_channel`` yields: a receive channel whose every ``receive``
    first asks the generator's task for one more item."""

    __slots__ = ("_demand", "_receiver")

    def __init__(self, receiver: MemoryReceiveChannel[T], demand: _Demand) -> None:
        self._receiver = receiver
        self._demand = demand

    async def receive(self) -> T:
        self._demand.ask()
        return await self._receiver.receive()

    async def aclose(self) -> None:
        await self._receiver.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._receiver.close()


async def _close_generator(agen: AsyncGenerator[Any, None]) -> None:
    try:
        await agen.aclose()
    except BaseExceptionGroup as group:
        # A generator that was suspended inside a nursery of its own turns the
        # GeneratorExit that aclose() throws in into a group, which aclose() does not
        # recognise as a clean exit. Drop the GeneratorExit; keep anything else.
        _, rest = group.split(GeneratorExit)
        if rest is not None:
            raise rest from None


async def _run_generator(
    agen: AsyncGenerator[T, None], sender: MemorySendChannel[T], demand: _Demand
) -> None:
    # ``with``, not ``async with``: closing must not be a checkpoint, which could raise
    # Cancelled over the generator's own error.
    with sender:
        try:
            while True:
                await demand.wait()
                if not sender._state.open_receive:
                    break  # the consumer closed its end: producing more is pointless
                try:
                    value = await agen.__anext__()
                except StopAsyncIteration:
                    break
                try:
                    await sender.send(value)
                except BrokenResourceError:
                    break
        finally:
            await _close_generator(agen)


@asynccontextmanager
async def _safe_channel(
    fn: Callable[..., AsyncGenerator[T, None]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> AsyncIterator[ReceiveChannel[T]]:
    agen = fn(*args, **kwargs)
    if not (hasattr(agen, "__anext__") and hasattr(agen, "aclose")):
        close = getattr(agen, "close", None)
        if inspect.iscoroutine(agen) and close is not None:
            close()  # no "never awaited" warning on top of the error
        raise TypeError(
            f"as_safe_channel expected an async generator function, but {fn!r} returned {agen!r}"
        )
    sender, receiver = open_memory_channel[T](0)
    try:
        # Strict groups whatever the run's default, so the unwrapping below always
        # sees a group.
        async with open_nursery(strict_exception_groups=True) as n:
            demand = _Demand()
            n.start_soon(_run_generator, agen, sender, demand, name=f"as_safe_channel({fn!r})")
            with _SafeReceiveChannel(receiver, demand) as channel:
                yield channel
            # Leaving the block abandons the generator: stop it now, not when it
            # next asks for demand that will never come.
            n.cancel_scope.cancel("the as_safe_channel block was exited")
    except BaseExceptionGroup as group:
        raise_single_error(group)


def as_safe_channel(
    fn: Callable[P, AsyncGenerator[T, None]],
) -> Callable[P, AbstractAsyncContextManager[ReceiveChannel[T]]]:
    """Decorate an async generator function so that calling it gives an async context
    manager, whose value is a receive channel of the generator's items.

    The generator runs in a task of its own, in a nursery that the context manager
    opens, so it may use nurseries and cancel scopes freely around its ``yield``:
    they are entered and exited by that task, never by the consumer. Items are produced
    on demand (the generator advances only when the consumer asks for the next one).
    Leaving the block cancels the generator and waits for its clean-up.

    An exception from the generator or from the block comes out of the ``async with``
    as it is; when both fail, the two come out together in a ``BaseExceptionGroup``.
    """

    @functools.wraps(fn)
    def wrapper(
        *args: P.args, **kwargs: P.kwargs
    ) -> AbstractAsyncContextManager[ReceiveChannel[T]]:
        return _safe_channel(fn, args, kwargs)

    return wrapper
