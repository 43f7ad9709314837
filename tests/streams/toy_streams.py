"""A small stream implementation written only for testing the checkers: correct by
default, with named bugs that can be switched on one at a time.

A checker that passes everything is worthless, so each bug here is one that a stream
author could plausibly write, and test_checkers_catch_bugs.py shows that a checker
rejects it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext

import nursery
from nursery._conflict import ConflictDetector
from nursery.abc import HalfCloseableStream, ReceiveStream, SendStream
from nursery.lowlevel import ParkingLot, checkpoint

BUGS = frozenset(
    {
        # sending
        "empty_send_is_not_a_checkpoint",
        "keeps_a_reference_to_sent_data",
        "send_is_not_exclusive",
        "send_after_close_is_accepted",
        "closed_receiver_does_not_break_sender",
        "send_all_swallows_cancellation",
        "close_does_not_wake_blocked_send",
        "wait_never_blocks",
        "wait_does_not_checkpoint",
        # receiving
        "receive_ignores_max_bytes",
        "max_bytes_is_not_validated",
        "receive_is_not_exclusive",
        "receive_after_close_is_accepted",
        "close_does_not_wake_blocked_receive",
        "cancelled_receive_loses_data",
        "end_of_stream_is_reported_once",
        "receives_chunks_newest_first",
        # closing
        "aclose_is_not_a_checkpoint",
        "second_aclose_raises",
        "cancelled_aclose_leaves_it_open",
        # two-way
        "send_and_receive_share_one_lock",
        "corrupts_large_sends",
        # half-closing
        "send_eof_is_not_a_checkpoint",
        "send_after_send_eof_is_accepted",
        "second_send_eof_raises",
        "send_eof_closes_receiving_too",
        "send_eof_is_not_exclusive",
    }
)


class ToyPipe:
    """One direction: chunks in flight, both ends' state, and who is waiting.

    ``lockstep``: ``send_all`` waits until the receiver took all of it (and
    ``wait_send_all_might_not_block`` until a receiver waits): the pipe is clogged.
    Otherwise buffering is infinite.
    """

    def __init__(self, bugs: frozenset[str], *, lockstep: bool) -> None:
        unknown = bugs - BUGS
        assert not unknown, f"unknown bugs: {unknown}"
        self.bugs = bugs
        self.lockstep = lockstep
        self.chunks: deque[bytes | bytearray | memoryview] = deque()
        self.sender_closed = False
        self.eof_sent = False
        self.receiver_closed = False
        self.receiver_waiting = False
        self.end_reported = False
        self.drop_next = False
        self.changed = ParkingLot()
        self.send_detector = ConflictDetector("busy sending")
        self.receive_detector = ConflictDetector("busy receiving")

    def has(self, bug: str) -> bool:
        return bug in self.bugs

    def exclusive(self, detector: ConflictDetector, bug: str) -> AbstractContextManager[None]:
        return nullcontext() if self.has(bug) else detector

    def wake(self) -> None:
        self.changed.unpark_all()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        await checkpoint()
        while not condition():
            await self.changed.park()


class ToySendStream(SendStream):
    def __init__(self, pipe: ToyPipe) -> None:
        self.pipe = pipe
        # Two-way streams replace it with their receive side's, for one bug.
        self.detector = pipe.send_detector

    def closed_for_sending(self) -> bool:
        pipe = self.pipe
        if pipe.eof_sent and not pipe.sender_closed:
            return not pipe.has("send_after_send_eof_is_accepted")
        return pipe.sender_closed and not pipe.has("send_after_close_is_accepted")

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        pipe = self.pipe
        with pipe.exclusive(self.detector, "send_is_not_exclusive"):
            if not data and pipe.has("empty_send_is_not_a_checkpoint"):
                return
            await checkpoint()
            if self.closed_for_sending():
                raise nursery.ClosedResourceError
            if pipe.receiver_closed:
                if pipe.has("closed_receiver_does_not_break_sender"):
                    return
                raise nursery.BrokenResourceError
            if not data:
                return
            if pipe.drop_next:
                pipe.drop_next = False
                return
            if pipe.has("corrupts_large_sends") and len(data) > 4096:
                data = bytes(data)[::-1]
            if not pipe.has("keeps_a_reference_to_sent_data"):
                data = bytes(data)
            pipe.chunks.append(data)
            pipe.wake()
            if pipe.lockstep:
                await self._wait_until_taken()

    async def _wait_until_taken(self) -> None:
        pipe = self.pipe

        def settled() -> bool:
            if pipe.sender_closed and not pipe.has("close_does_not_wake_blocked_send"):
                return True
            return not pipe.chunks or pipe.receiver_closed

        try:
            await pipe.wait_until(settled)
        except nursery.Cancelled:
            if pipe.has("send_all_swallows_cancellation"):
                return
            raise
        finally:
            unsent = bool(pipe.chunks)
            pipe.chunks.clear()
        if pipe.sender_closed:
            raise nursery.ClosedResourceError
        if unsent:
            raise nursery.BrokenResourceError

    async def wait_send_all_might_not_block(self) -> None:
        pipe = self.pipe
        with pipe.exclusive(self.detector, "send_is_not_exclusive"):
            if not pipe.has("wait_does_not_checkpoint"):
                await checkpoint()
            if self.closed_for_sending():
                raise nursery.ClosedResourceError
            if pipe.lockstep and not pipe.has("wait_never_blocks"):
                await pipe.wait_until(
                    lambda: pipe.receiver_waiting or pipe.sender_closed or pipe.receiver_closed
                )
                if pipe.sender_closed:
                    raise nursery.ClosedResourceError

    async def aclose(self) -> None:
        pipe = self.pipe
        if pipe.sender_closed and pipe.has("second_aclose_raises"):
            raise nursery.ClosedResourceError
        if pipe.has("cancelled_aclose_leaves_it_open"):
            await checkpoint()
        pipe.sender_closed = True
        pipe.wake()
        if not pipe.has("aclose_is_not_a_checkpoint"):
            await checkpoint()


class ToyReceiveStream(ReceiveStream):
    def __init__(self, pipe: ToyPipe) -> None:
        self.pipe = pipe
        self.detector = pipe.receive_detector

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        pipe = self.pipe
        with pipe.exclusive(self.detector, "receive_is_not_exclusive"):
            if max_bytes is not None and not pipe.has("max_bytes_is_not_validated"):
                if not isinstance(max_bytes, int):
                    raise TypeError("max_bytes must be an int")
                if max_bytes < 1:
                    raise ValueError("max_bytes must be >= 1")
            await checkpoint()
            if pipe.receiver_closed and not pipe.has("receive_after_close_is_accepted"):
                raise nursery.ClosedResourceError
            pipe.receiver_waiting = True
            pipe.wake()

            def ready() -> bool:
                if pipe.receiver_closed and not pipe.has("close_does_not_wake_blocked_receive"):
                    return True
                return bool(pipe.chunks) or pipe.sender_closed or pipe.eof_sent

            try:
                await pipe.wait_until(ready)
            except nursery.Cancelled:
                if pipe.has("cancelled_receive_loses_data"):
                    pipe.drop_next = True
                raise
            finally:
                pipe.receiver_waiting = False
            if pipe.receiver_closed and not pipe.has("receive_after_close_is_accepted"):
                raise nursery.ClosedResourceError
            if not pipe.chunks:
                if pipe.end_reported and pipe.has("end_of_stream_is_reported_once"):
                    raise nursery.ClosedResourceError
                pipe.end_reported = True
                return b""
            return self._take(max_bytes)

    def _take(self, max_bytes: int | None) -> bytes:
        pipe = self.pipe
        if pipe.has("receives_chunks_newest_first"):
            pipe.chunks.rotate(1)
        if max_bytes is None or pipe.has("receive_ignores_max_bytes"):
            max_bytes = 1 << 30
        head = pipe.chunks.popleft()
        taken = bytes(head[:max_bytes])
        if len(head) > max_bytes:
            pipe.chunks.appendleft(head[max_bytes:])
        pipe.wake()
        return taken

    async def aclose(self) -> None:
        pipe = self.pipe
        if pipe.receiver_closed and pipe.has("second_aclose_raises"):
            raise nursery.ClosedResourceError
        if pipe.has("cancelled_aclose_leaves_it_open"):
            await checkpoint()
        pipe.receiver_closed = True
        pipe.wake()
        if not pipe.has("aclose_is_not_a_checkpoint"):
            await checkpoint()


class ToyStream(HalfCloseableStream):
    def __init__(self, outgoing: ToyPipe, incoming: ToyPipe) -> None:
        self.sender = ToySendStream(outgoing)
        self.receiver = ToyReceiveStream(incoming)
        if outgoing.has("send_and_receive_share_one_lock"):
            self.sender.detector = self.receiver.detector

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.sender.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.sender.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return await self.receiver.receive_some(max_bytes)

    async def send_eof(self) -> None:
        pipe = self.sender.pipe
        with pipe.exclusive(self.sender.detector, "send_eof_is_not_exclusive"):
            if not pipe.has("send_eof_is_not_a_checkpoint"):
                await checkpoint()
            if pipe.eof_sent and pipe.has("second_send_eof_raises"):
                raise nursery.ClosedResourceError
            pipe.eof_sent = True
            pipe.wake()
            if pipe.has("send_eof_closes_receiving_too"):
                await self.receiver.aclose()

    async def aclose(self) -> None:
        try:
            await self.sender.aclose()
        finally:
            await self.receiver.aclose()


def one_way_maker(
    *bugs: str, lockstep: bool = False
) -> Callable[[], Awaitable[tuple[ToySendStream, ToyReceiveStream]]]:
    async def make() -> tuple[ToySendStream, ToyReceiveStream]:
        pipe = ToyPipe(frozenset(bugs), lockstep=lockstep)
        return ToySendStream(pipe), ToyReceiveStream(pipe)

    return make


def two_way_maker(
    *bugs: str, lockstep: bool = False
) -> Callable[[], Awaitable[tuple[ToyStream, ToyStream]]]:
    async def make() -> tuple[ToyStream, ToyStream]:
        a_to_b = ToyPipe(frozenset(bugs), lockstep=lockstep)
        b_to_a = ToyPipe(frozenset(bugs), lockstep=lockstep)
        return ToyStream(a_to_b, b_to_a), ToyStream(b_to_a, a_to_b)

    return make
