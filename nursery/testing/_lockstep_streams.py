"""Lockstep streams for tests: no buffering at all.

``send_all`` hands its data to the receiver and does not return until the receiver
has taken every byte of it, so a sender can never get ahead of its peer. That is the
harshest flow control a transport can have, and the one that exposes protocols that
deadlock when both sides send at once.
"""

from __future__ import annotations

from collections.abc import Callable

from .._conflict import ConflictDetector
from .._core._exceptions import BrokenResourceError, ClosedResourceError
from .._core._parking_lot import ParkingLot
from .._core._traps import CHECKPOINT_TRAP
from .._stapled_stream import StapledStream
from ..abc import ReceiveStream, SendStream
from ._memory_streams import validate_max_bytes


class _LockstepPipe:
    """The state both ends of one lockstep pipe share.

    ``_data`` holds the bytes of the one ``send_all`` in progress (empty otherwise).
    Every change of state wakes every task waiting on the pipe, and each re-checks
    its own condition: there are at most two of them (a sender and a receiver), so
    waking both is cheaper than bookkeeping.
    """

    __slots__ = (
        "_changed",
        "_data",
        "_receiver",
        "_receiver_closed",
        "_receiver_waiting",
        "_sender",
        "_sender_closed",
    )

    def __init__(self) -> None:
        self._data = bytearray()
        self._sender_closed = False
        self._receiver_closed = False
        self._receiver_waiting = False
        self._changed = ParkingLot()
        self._sender = ConflictDetector("another task is already sending on this stream")
        self._receiver = ConflictDetector("another task is already receiving on this stream")

    def _something_happened(self) -> None:
        self._changed.unpark_all()

    async def _wait_until(self, condition: Callable[[], bool]) -> None:
        """Park until ``condition()`` holds or either end closes; a checkpoint either
        way."""
        if condition() or self._sender_closed or self._receiver_closed:
            await CHECKPOINT_TRAP
            return
        while not (condition() or self._sender_closed or self._receiver_closed):
            await self._changed.park()

    def close_sender(self) -> None:
        self._sender_closed = True
        self._something_happened()

    def close_receiver(self) -> None:
        self._receiver_closed = True
        self._something_happened()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        with self._sender:
            if self._sender_closed:
                raise ClosedResourceError("this stream was closed")
            if self._receiver_closed:
                await CHECKPOINT_TRAP
                raise BrokenResourceError("the receiving end was closed")
            if not data:
                await CHECKPOINT_TRAP
                return
            self._data += data
            self._something_happened()
            try:
                await self._wait_until(lambda: not self._data)
            finally:
                # Cancelled or not, whatever the receiver has not taken is withdrawn:
                # the next send_all starts from an empty pipe.
                unsent = len(self._data)
                self._data.clear()
            if self._sender_closed:
                raise ClosedResourceError("this stream was closed while sending")
            if unsent:
                raise BrokenResourceError("the receiving end was closed while sending")

    async def wait_send_all_might_not_block(self) -> None:
        with self._sender:
            if self._sender_closed:
                raise ClosedResourceError("this stream was closed")
            # send_all would not block for long once a receiver is waiting for data.
            await self._wait_until(lambda: self._receiver_waiting)
            if self._sender_closed:
                raise ClosedResourceError("this stream was closed while waiting")

    async def receive_some(self, max_bytes: int | None) -> bytes:
        with self._receiver:
            max_bytes = validate_max_bytes(max_bytes)
            if self._receiver_closed:
                raise ClosedResourceError("this stream was closed")
            self._receiver_waiting = True
            self._something_happened()
            try:
                await self._wait_until(lambda: bool(self._data))
            finally:
                self._receiver_waiting = False
            if self._receiver_closed:
                raise ClosedResourceError("this stream was closed while receiving")
            if not self._data:
                return b""  # the sender closed: the end of the stream
            if max_bytes is None:
                max_bytes = len(self._data)
            chunk = bytes(self._data[:max_bytes])
            del self._data[:max_bytes]
            self._something_happened()
            return chunk


class _LockstepSendStream(SendStream):
    __slots__ = ("_pipe",)

    def __init__(self, pipe: _LockstepPipe) -> None:
        self._pipe = pipe

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._pipe.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._pipe.wait_send_all_might_not_block()

    def close(self) -> None:
        self._pipe.close_sender()

    async def aclose(self) -> None:
        self.close()
        await CHECKPOINT_TRAP


class _LockstepReceiveStream(ReceiveStream):
    __slots__ = ("_pipe",)

    def __init__(self, pipe: _LockstepPipe) -> None:
        self._pipe = pipe

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return await self._pipe.receive_some(max_bytes)

    def close(self) -> None:
        self._pipe.close_receiver()

    async def aclose(self) -> None:
        self.close()
        await CHECKPOINT_TRAP


def lockstep_stream_one_way_pair() -> tuple[SendStream, ReceiveStream]:
    """A connected ``(send_stream, receive_stream)`` pair with no buffering:
    ``send_all`` returns only once ``receive_some`` calls have taken all its data, and
    ``wait_send_all_might_not_block`` returns once a task is blocked in
    ``receive_some``.

    A cancelled ``send_all`` withdraws what the receiver had not taken yet.
    """
    pipe = _LockstepPipe()
    return _LockstepSendStream(pipe), _LockstepReceiveStream(pipe)


def lockstep_stream_pair() -> tuple[
    StapledStream[SendStream, ReceiveStream], StapledStream[SendStream, ReceiveStream]
]:
    """Two connected two-way streams made of two ``lockstep_stream_one_way_pair()``
    pipes: like ``memory_stream_pair()``, but with no buffering at all."""
    send_a, receive_b = lockstep_stream_one_way_pair()
    send_b, receive_a = lockstep_stream_one_way_pair()
    return StapledStream(send_a, receive_a), StapledStream(send_b, receive_b)
