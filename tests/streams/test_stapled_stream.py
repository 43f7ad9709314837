"""StapledStream and aclose_forcefully."""

from __future__ import annotations

import pytest

import nursery
from nursery.abc import HalfCloseableStream, ReceiveStream, SendStream
from nursery.testing import (
    MemoryReceiveStream,
    MemorySendStream,
    assert_checkpoints,
    memory_stream_one_way_pair,
)


class RecordingSendStream(SendStream):
    def __init__(self) -> None:
        self.log: list[str] = []

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        self.log.append(f"send_all {bytes(data)!r}")

    async def wait_send_all_might_not_block(self) -> None:
        self.log.append("wait")

    async def aclose(self) -> None:
        self.log.append("aclose")


class SendStreamWithEof(RecordingSendStream):
    async def send_eof(self) -> None:
        self.log.append("send_eof")


class HalfCloseable(RecordingSendStream, HalfCloseableStream):
    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return b""

    async def send_eof(self) -> None:
        self.log.append("half-close")


class FailingReceiveStream(ReceiveStream):
    def __init__(self) -> None:
        self.closed = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return b"from receive"

    async def aclose(self) -> None:
        self.closed = True
        raise OSError("receive side failed to close")


async def test_forwards_each_operation() -> None:
    send = RecordingSendStream()
    receive = MemoryReceiveStream()
    stapled = nursery.StapledStream(send, receive)
    assert stapled.send_stream is send and stapled.receive_stream is receive
    assert isinstance(stapled, HalfCloseableStream)
    await stapled.send_all(b"data")
    await stapled.wait_send_all_might_not_block()
    receive.put_data(b"abc")
    assert await stapled.receive_some(2) == b"ab"
    assert await stapled.receive_some() == b"c"
    await stapled.send_eof()  # no send_eof on the send stream: it is closed
    assert send.log == ["send_all b'data'", "wait", "aclose"]
    assert "StapledStream" in repr(stapled)


async def test_send_eof_prefers_the_send_streams_own() -> None:
    for send in (SendStreamWithEof(), HalfCloseable()):
        stapled = nursery.StapledStream(send, MemoryReceiveStream())
        await stapled.send_eof()
        assert send.log == ["send_eof" if type(send) is SendStreamWithEof else "half-close"]


async def test_attributes_can_be_replaced() -> None:
    stapled = nursery.StapledStream(RecordingSendStream(), MemoryReceiveStream())
    other = RecordingSendStream()
    stapled.send_stream = other
    await stapled.send_all(b"x")
    assert other.log == ["send_all b'x'"]


async def test_aclose_closes_both_even_if_the_first_fails() -> None:
    class FailingSend(RecordingSendStream):
        async def aclose(self) -> None:
            raise OSError("send side failed to close")

    receive = MemoryReceiveStream()
    stapled = nursery.StapledStream(FailingSend(), receive)
    with pytest.raises(OSError, match="send side"):
        await stapled.aclose()
    with pytest.raises(nursery.ClosedResourceError):
        await receive.receive_some()

    # Cancelled while closing the send stream: the receive stream is closed anyway.
    send, _ = memory_stream_one_way_pair()
    receive = MemoryReceiveStream()
    with nursery.CancelScope() as scope:
        scope.cancel()
        await nursery.StapledStream(send, receive).aclose()
    with pytest.raises(nursery.ClosedResourceError):
        await receive.receive_some()
    with pytest.raises(nursery.ClosedResourceError):
        await send.send_all(b"x")


async def test_aclose_error_from_the_second() -> None:
    send = RecordingSendStream()
    receive = FailingReceiveStream()
    with pytest.raises(OSError, match="receive side"):
        await nursery.StapledStream(send, receive).aclose()
    assert send.log == ["aclose"] and receive.closed


async def test_aclose_forcefully_closes_in_a_cancelled_scope() -> None:
    seen: list[bool] = []

    class Graceful(RecordingSendStream):
        async def aclose(self) -> None:
            try:
                await nursery.sleep_forever()  # a goodbye that would take forever
            finally:
                seen.append(True)

    await nursery.aclose_forcefully(Graceful())
    assert seen == [True]

    stream = MemorySendStream()
    with assert_checkpoints():
        await nursery.aclose_forcefully(stream)
    with pytest.raises(nursery.ClosedResourceError):
        await stream.send_all(b"x")
