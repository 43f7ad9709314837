"""In-memory byte streams for tests: infinite buffering, and hooks that let a test step
in at every operation (to pump data by hand, inject delays, or make a stream fail).

The two halves are separate objects connected by a *pump*: ``MemorySendStream`` keeps
what was sent in its own buffer, and ``memory_stream_pump`` moves it into a
``MemoryReceiveStream``. ``memory_stream_one_way_pair`` wires the pump into the send
stream's hooks, so data flows at once; a test that wants to control the timing clears
the hooks and pumps by hand.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable

from .._conflict import ConflictDetector
from .._core._exceptions import BrokenResourceError, ClosedResourceError, WouldBlock
from .._core._parking_lot import ParkingLot
from .._core._traps import CHECKPOINT_TRAP
from .._stapled_stream import StapledStream
from ..abc import ReceiveStream, SendStream

AsyncHook = Callable[[], Awaitable[object]]
SyncHook = Callable[[], object]


def validate_max_bytes(max_bytes: int | None) -> int | None:
    """``None``, or a positive int: the ``max_bytes`` argument of ``receive_some`` and
    friends. Shared by the test streams so that they all reject the same values."""
    if max_bytes is None:
        return None
    try:
        value = operator.index(max_bytes)
    except TypeError:
        raise TypeError(
            f"max_bytes must be an int or None, got {type(max_bytes).__name__}"
        ) from None
    if value < 1:
        raise ValueError(f"max_bytes must be at least 1, got {value}")
    return value


class _ByteQueue:
    """An unbounded buffer of bytes with one reader at a time.

    Closing it is the end of the data: a read returns what is left, then ``b""``.
    """

    __slots__ = ("_closed", "_data", "_readable", "_reader")

    def __init__(self) -> None:
        self._data = bytearray()
        self._closed = False
        self._readable = ParkingLot()
        self._reader = ConflictDetector("another task is already reading this stream's data")

    def close(self) -> None:
        self._closed = True
        self._readable.unpark_all()

    def close_and_discard(self) -> None:
        self._data.clear()
        self.close()

    def put(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise ClosedResourceError("the virtual connection is closed")
        self._data += data
        self._readable.unpark_all()

    def _take(self, max_bytes: int | None) -> bytes:
        if max_bytes is None:
            max_bytes = len(self._data)
        chunk = bytes(self._data[:max_bytes])
        del self._data[:max_bytes]
        return chunk

    def get_nowait(self, max_bytes: int | None) -> bytes:
        with self._reader:
            max_bytes = validate_max_bytes(max_bytes)
            if not self._data and not self._closed:
                raise WouldBlock
            return self._take(max_bytes)

    async def get(self, max_bytes: int | None) -> bytes:
        with self._reader:
            max_bytes = validate_max_bytes(max_bytes)
            if not self._data and not self._closed:
                # Woken by put() or close(); a cancelled wait has taken nothing.
                await self._readable.park()
            else:
                await CHECKPOINT_TRAP
            return self._take(max_bytes)


class MemorySendStream(SendStream):
    """A ``SendStream`` that keeps everything sent to it in a buffer, for a test to
    read with ``get_data`` / ``get_data_nowait``.

    The hooks are plain attributes, ``None`` or a function, that may be changed at any
    time: ``send_all_hook`` (async) runs at the end of each ``send_all``;
    ``wait_send_all_might_not_block_hook`` (async) at the end of each
    ``wait_send_all_might_not_block``; ``close_hook`` (sync) at the end of ``close``
    and ``aclose``.
    """

    def __init__(
        self,
        send_all_hook: AsyncHook | None = None,
        wait_send_all_might_not_block_hook: AsyncHook | None = None,
        close_hook: SyncHook | None = None,
    ) -> None:
        self._outgoing = _ByteQueue()
        self._sending = ConflictDetector("another task is already sending on this stream")
        self.send_all_hook = send_all_hook
        self.wait_send_all_might_not_block_hook = wait_send_all_might_not_block_hook
        self.close_hook = close_hook

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the buffer (never blocks for room), then run
        ``send_all_hook``."""
        with self._sending:
            # The checkpoint comes first, inside the detector: a cancelled call has
            # sent nothing, and a second task arriving meanwhile sees the stream busy.
            await CHECKPOINT_TRAP
            self._outgoing.put(data)
            if self.send_all_hook is not None:
                await self.send_all_hook()

    async def wait_send_all_might_not_block(self) -> None:
        """Return at once (the buffer is infinite), after running
        ``wait_send_all_might_not_block_hook``."""
        with self._sending:
            await CHECKPOINT_TRAP
            self._outgoing.put(b"")  # raises ClosedResourceError once closed
            if self.wait_send_all_might_not_block_hook is not None:
                await self.wait_send_all_might_not_block_hook()

    def close(self) -> None:
        """Close the stream at once (the data already sent stays readable, followed by
        the end of the stream), then run ``close_hook``."""
        self._outgoing.close()
        if self.close_hook is not None:
            self.close_hook()

    async def aclose(self) -> None:
        """As ``close``, and a checkpoint."""
        self.close()
        await CHECKPOINT_TRAP

    async def get_data(self, max_bytes: int | None = None) -> bytes:
        """Take up to ``max_bytes`` (all, if ``None``) of the data sent so far, waiting
        for some if there is none. Returns ``b""`` once the stream is closed and
        everything was taken. One task at a time (``BusyResourceError``)."""
        return await self._outgoing.get(max_bytes)

    def get_data_nowait(self, max_bytes: int | None = None) -> bytes:
        """As ``get_data``, but raise ``WouldBlock`` instead of waiting."""
        return self._outgoing.get_nowait(max_bytes)


class MemoryReceiveStream(ReceiveStream):
    """A ``ReceiveStream`` whose data a test feeds with ``put_data`` and ends with
    ``put_eof``.

    The hooks are plain attributes, ``None`` or a function: ``receive_some_hook``
    (async) runs at the start of each ``receive_some``, before it looks for data (a
    place to pump some in); ``close_hook`` (sync) at the end of ``close`` and
    ``aclose``.
    """

    def __init__(
        self,
        receive_some_hook: AsyncHook | None = None,
        close_hook: SyncHook | None = None,
    ) -> None:
        self._incoming = _ByteQueue()
        self._closed = False
        self._receiving = ConflictDetector("another task is already receiving on this stream")
        self.receive_some_hook = receive_some_hook
        self.close_hook = close_hook

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Wait for data put with ``put_data`` and return up to ``max_bytes`` of it
        (all, if ``None``); ``b""`` after ``put_eof`` once the data is used up."""
        with self._receiving:
            max_bytes = validate_max_bytes(max_bytes)
            await CHECKPOINT_TRAP
            if self._closed:
                raise ClosedResourceError("this stream was closed")
            if self.receive_some_hook is not None:
                await self.receive_some_hook()
            data = await self._incoming.get(max_bytes)
            # close() wakes a blocked receive with an empty result: tell it apart from
            # the end of the stream.
            if self._closed:
                raise ClosedResourceError("this stream was closed while receiving")
            return data

    def close(self) -> None:
        """Close the stream at once, discarding unread data, then run ``close_hook``.
        A task blocked in ``receive_some`` gets ``ClosedResourceError``."""
        self._closed = True
        self._incoming.close_and_discard()
        if self.close_hook is not None:
            self.close_hook()

    async def aclose(self) -> None:
        """As ``close``, and a checkpoint."""
        self.close()
        await CHECKPOINT_TRAP

    def put_data(self, data: bytes | bytearray | memoryview) -> None:
        """Add ``data`` for ``receive_some`` to return. ``ClosedResourceError`` after
        ``put_eof`` or ``close``."""
        self._incoming.put(data)

    def put_eof(self) -> None:
        """End the stream: once the data already put is received, ``receive_some``
        returns ``b""``."""
        self._incoming.close()


def memory_stream_pump(
    memory_send_stream: MemorySendStream,
    memory_receive_stream: MemoryReceiveStream,
    *,
    max_bytes: int | None = None,
) -> bool:
    """Move up to ``max_bytes`` (all, if ``None``) of the data waiting in
    ``memory_send_stream`` into ``memory_receive_stream``; once the send stream is
    closed and drained, pass the end of the stream on instead.

    Returns ``True`` if it moved something (data or the end), ``False`` if there was
    nothing to move. Raises ``BrokenResourceError`` when the receive stream is closed
    (what a real transport would say to a sender whose peer went away).
    """
    try:
        data = memory_send_stream.get_data_nowait(max_bytes)
    except WouldBlock:
        return False
    try:
        if data:
            memory_receive_stream.put_data(data)
        else:
            memory_receive_stream.put_eof()
    except ClosedResourceError:
        raise BrokenResourceError("the receiving end of the memory stream was closed") from None
    return True


def memory_stream_one_way_pair() -> tuple[MemorySendStream, MemoryReceiveStream]:
    """A connected ``(send_stream, receive_stream)`` pair with infinite buffering:
    ``send_all`` never blocks, and data reaches the receive stream at once.

    The connection is the send stream's ``send_all_hook`` and ``close_hook``, which
    call ``memory_stream_pump``; set them to ``None`` (or to your own functions) to
    decide when data moves.
    """
    send_stream = MemorySendStream()
    receive_stream = MemoryReceiveStream()

    def pump() -> None:
        memory_stream_pump(send_stream, receive_stream)

    async def async_pump() -> None:
        pump()

    send_stream.send_all_hook = async_pump
    send_stream.close_hook = pump
    return send_stream, receive_stream


MemoryStapledStream = StapledStream[MemorySendStream, MemoryReceiveStream]


def memory_stream_pair() -> tuple[MemoryStapledStream, MemoryStapledStream]:
    """Two connected two-way streams, each a ``StapledStream`` of the ends of two
    ``memory_stream_one_way_pair()`` pipes, with infinite buffering.

    ``send_eof`` closes a stream's send half, so the peer sees the end of the stream
    while the other direction stays open.
    """
    send_a, receive_b = memory_stream_one_way_pair()
    send_b, receive_a = memory_stream_one_way_pair()
    return StapledStream(send_a, receive_a), StapledStream(send_b, receive_b)
