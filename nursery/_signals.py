"""Receiving Unix signals in a task: ``open_signal_receiver``.

Python runs a signal handler in the main thread, between two bytecodes of whatever
that thread is doing, which may be the middle of the kernel's own bookkeeping. So the
handler touches no run state: it only hands the signal number to the run through
``RunToken.run_sync_soon`` (re-entrant, and its eventfd write wakes a loop asleep in
``epoll_wait``). The delivery callback then runs inside the run, in the entry-queue
system task, and may queue the number and wake the receiving task.

Coalescing happens twice, on purpose: ``idempotent=True`` keeps a flood of one signal
from growing the entry queue, and the receiver's pending set (an insertion-ordered
dict) holds each number at most once until a task reads it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

from ._conflict import ConflictDetector
from ._core._ki import enable_ki_protection
from ._core._parking_lot import ParkingLot
from ._core._runner import current_token
from ._core._traps import CHECKPOINT_TRAP

_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None

_VALID: Final = frozenset(signal.valid_signals())


def _check_signals(signals: tuple[object, ...]) -> list[int]:
    """The distinct signal numbers asked for, in the order given; the errors name the
    argument and leave every handler as it was (nothing is installed yet)."""
    if not signals:
        raise TypeError(
            "No signals were provided: open_signal_receiver() needs at least one to listen for"
        )
    numbers: list[int] = []
    for position, signum in enumerate(signals):
        if isinstance(signum, bool) or not isinstance(signum, int):
            raise TypeError(
                f"open_signal_receiver() argument {position + 1} must be a signal number "
                f"(an int such as signal.SIGHUP), got {signum!r}"
            )
        if signum not in _VALID:
            raise ValueError(
                f"open_signal_receiver() argument {position + 1} is {signum!r}, not a signal "
                "of this system: signal number out of range"
            )
        if signum in (signal.SIGKILL, signal.SIGSTOP):
            raise ValueError(
                f"open_signal_receiver() argument {position + 1}: "
                f"{signal.Signals(signum).name} cannot be caught"
            )
        if signum not in numbers:
            numbers.append(int(signum))
    return numbers


class SignalReceiver:
    """The async iterator that ``open_signal_receiver`` yields: each ``async for`` step
    waits for a signal and gives its number. Not constructed by users."""

    __slots__ = ("_closed", "_conflict", "_handler", "_lot", "_pending", "_previous")

    def __init__(self, previous: dict[int, _Handler]) -> None:
        self._previous = previous
        self._handler: _Handler = None
        # Insertion-ordered: arrival order, and a number pending twice is held once.
        self._pending: dict[int, None] = {}
        self._lot = ParkingLot()
        self._conflict = ConflictDetector(
            "another task is already iterating over this signal receiver"
        )
        self._closed = False

    def _deliver(self, signum: int) -> None:
        """Run inside the run (from the entry queue), once per batch of one signal."""
        if self._closed:
            # Caught by our handler just before the block exited: the handler that was
            # there before us gets it, as though we had never been listening.
            if signal.getsignal(signum) is self._handler:
                # Receivers that were not nested put ours back after we left (A opens,
                # B opens, A exits, B exits): re-raising would come straight back
                # here, so repair the chain first.
                signal.signal(signum, self._previous[signum])
            signal.raise_signal(signum)
            return
        self._pending[signum] = None
        self._lot.unpark()

    def _close_and_redeliver(self) -> None:
        """Called once the previous handlers are back: what nobody read goes to them."""
        self._closed = True
        pending = list(self._pending)
        self._pending.clear()
        self._lot.unpark_all()  # a task still waiting (in another task's block) learns
        self._raise_each(pending)

    def _raise_each(self, pending: list[int]) -> None:
        # Every signal is re-raised even when a handler raises for an earlier one (the
        # default SIGINT handler raises KeyboardInterrupt); the first error wins.
        if not pending:
            return
        try:
            signal.raise_signal(pending[0])
        finally:
            self._raise_each(pending[1:])

    def _pending_signal_count(self) -> int:
        """How many distinct signals are waiting to be read (for tests)."""
        return len(self._pending)

    def __aiter__(self) -> SignalReceiver:
        return self

    async def __anext__(self) -> int:
        if self._closed:
            raise RuntimeError("the open_signal_receiver() block has already exited")
        with self._conflict:
            if self._pending:
                await CHECKPOINT_TRAP
            else:
                # Cancelled here, the task takes nothing from the pending set: no
                # signal is lost.
                await self._lot.park()
            if self._closed:
                # The block was left (by another task) while this one waited; what
                # was pending has gone to the previous handlers.
                raise RuntimeError("the open_signal_receiver() block exited during the wait")
            # Only this task takes from the set (the conflict detector), and it is
            # woken only once the set has something.
            signum = next(iter(self._pending))
            del self._pending[signum]
            return signum

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._pending)} pending"
        return f"<nursery signal receiver, {state}>"


def get_pending_signal_count(receiver: SignalReceiver) -> int:
    """How many distinct signals ``receiver`` holds unread (for tests)."""
    return receiver._pending_signal_count()


@contextmanager
def open_signal_receiver(*signals: signal.Signals | int) -> Iterator[SignalReceiver]:
    """Listen for ``signals`` for the duration of a ``with`` block, and yield an async
    iterator that gives each signal number as it arrives.

    Signals that arrive more than once before the iterator reads them are given once
    (Unix itself merges repeats of a pending signal). Entering installs this receiver's
    handler for each signal; leaving puts back whatever handler was there before, then
    re-raises any signal that arrived but was not read, so that the previous handler
    sees it. The innermost of nested receivers for one signal gets it.

    Must be used in the main thread (a Python limitation: ``RuntimeError`` elsewhere),
    inside a run. ``TypeError`` if no signals are given.
    """
    numbers = _check_signals(signals)
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "open_signal_receiver() works only in the main thread: Python runs signal "
            "handlers there and nowhere else"
        )
    token = current_token()  # RuntimeError outside a run
    previous: dict[int, _Handler] = {}
    for signum in numbers:
        current = signal.getsignal(signum)
        if current is None:
            raise RuntimeError(
                f"the current handler for {signal.Signals(signum).name} was installed "
                "outside Python and could not be put back afterwards"
            )
        previous[signum] = current

    receiver = SignalReceiver(previous)

    @enable_ki_protection
    def handler(signum: int, frame: FrameType | None) -> None:
        token.run_sync_soon(receiver._deliver, signum, idempotent=True)

    receiver._handler = handler

    installed: list[int] = []
    try:
        for signum in numbers:
            signal.signal(signum, handler)
            installed.append(signum)
        yield receiver
    finally:
        for signum in reversed(installed):
            signal.signal(signum, previous[signum])
        receiver._close_and_redeliver()
