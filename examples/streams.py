"""Byte streams: a small protocol written against the Stream interface, tested over
in-memory streams (with hooks and hand pumping), lockstep streams and a stapled pair,
and a stream wrapper checked with the conformance checkers."""

import nursery
import nursery.testing
from nursery.abc import HalfCloseableStream, ReceiveStream, Stream
from nursery.testing import (
    check_half_closeable_stream,
    lockstep_stream_pair,
    memory_stream_one_way_pair,
    memory_stream_pair,
    memory_stream_pump,
)


class LineReader:
    """Lines from a byte stream: the chunks receive_some returns mean nothing, so the
    reader buffers until it has a whole line."""

    def __init__(self, stream: ReceiveStream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def read_line(self) -> bytes | None:
        while b"\n" not in self.buffer:
            chunk = await self.stream.receive_some(1024)
            if not chunk:  # the end of the stream
                return None
            self.buffer += chunk
        line, _, rest = self.buffer.partition(b"\n")
        self.buffer = bytearray(rest)
        return bytes(line)


async def shout_server(stream: Stream) -> None:
    """Answers every line with the same line in capitals, until the client ends."""
    reader = LineReader(stream)
    while (line := await reader.read_line()) is not None:
        await stream.send_all(line.upper() + b"\n")
    await stream.aclose()


async def protocol_over_a_memory_stream_pair(verbose: bool) -> None:
    client, server = memory_stream_pair()
    async with nursery.open_nursery() as n:
        n.start_soon(shout_server, server)
        reader = LineReader(client)
        await client.send_all(b"hello\nstreams\n")  # two lines in one send
        assert await reader.read_line() == b"HELLO"
        assert await reader.read_line() == b"STREAMS"
        await client.send_eof()  # closes the client's sending half only
        assert await reader.read_line() is None  # the server saw the end and left
    if verbose:
        print("memory stream pair: the server answered both lines")


async def data_arriving_in_pieces(verbose: bool) -> None:
    # Without the pumping hook, the test decides when (and how much) data moves: here
    # one byte at a time, the worst a real network could do.
    send_stream, receive_stream = memory_stream_one_way_pair()
    send_stream.send_all_hook = None
    reader = LineReader(receive_stream)
    await send_stream.send_all(b"one line\n")
    async with nursery.open_nursery() as n:

        async def read() -> None:
            assert await reader.read_line() == b"one line"

        n.start_soon(read)
        while memory_stream_pump(send_stream, receive_stream, max_bytes=1):
            await nursery.testing.wait_all_tasks_blocked()
    if verbose:
        print("one byte at a time: the reader still got a whole line")


async def no_buffering_at_all(verbose: bool) -> None:
    # Lockstep streams have no buffer: send_all returns only once the peer has read
    # everything. A protocol that sends a whole request before reading any answer
    # still works; one that needed buffering would deadlock here, in the test.
    client, server = lockstep_stream_pair()
    async with nursery.open_nursery() as n:
        n.start_soon(shout_server, server)
        reader = LineReader(client)
        for word in (b"no", b"buffer"):
            await client.send_all(word + b"\n")
            assert await reader.read_line() == word.upper()
        await client.send_eof()
        assert await reader.read_line() is None
    if verbose:
        print("lockstep: request, answer, request, answer")


async def stapled_pipes_and_closing(verbose: bool) -> None:
    # Two one-way pipes stapled into one two-way stream per side.
    to_server, server_incoming = memory_stream_one_way_pair()
    to_client, client_incoming = memory_stream_one_way_pair()
    client = nursery.StapledStream(to_server, client_incoming)
    server = nursery.StapledStream(to_client, server_incoming)
    await client.send_all(b"ping")
    assert await server.receive_some() == b"ping"
    # aclose_forcefully closes without waiting for anything: in a cancelled scope.
    await nursery.aclose_forcefully(client)
    assert await server.receive_some() == b""  # the end of the stream
    try:
        await server.send_all(b"anyone there?")
    except nursery.BrokenResourceError:
        if verbose:
            print("stapled: the peer closed, so send_all reports a broken stream")
    else:
        raise AssertionError("send_all to a closed peer should fail")


class CountingStream(HalfCloseableStream):
    """A wrapper that counts the bytes passing through another stream."""

    def __init__(self, inner: HalfCloseableStream) -> None:
        self.inner = inner
        self.sent = self.received = 0

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.inner.send_all(data)
        self.sent += memoryview(data).nbytes

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.inner.send_eof()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self.inner.receive_some(max_bytes)
        self.received += len(data)
        return data

    async def aclose(self) -> None:
        await self.inner.aclose()


async def counting_pair() -> tuple[CountingStream, CountingStream]:
    left, right = memory_stream_pair()
    return CountingStream(left), CountingStream(right)


async def clogged_counting_pair() -> tuple[CountingStream, CountingStream]:
    left, right = lockstep_stream_pair()  # always clogged: send_all waits for a reader
    return CountingStream(left), CountingStream(right)


async def check_a_stream_implementation(verbose: bool) -> None:
    # Runs the whole contract against the wrapper: ordering, max_bytes, busy and
    # closed errors, cancellation, closing while blocked, EOF, both directions at once.
    await check_half_closeable_stream(counting_pair, None)
    # The clogged maker adds the checks of blocking sends; lockstep streams'
    # send_eof takes no part in conflict detection, so check two-way behaviour here.
    await nursery.testing.check_two_way_stream(clogged_counting_pair, clogged_counting_pair)
    if verbose:
        print("CountingStream passes the conformance checkers")


async def main(verbose: bool) -> None:
    await protocol_over_a_memory_stream_pair(verbose)
    await data_arriving_in_pieces(verbose)
    await no_buffering_at_all(verbose)
    await stapled_pipes_and_closing(verbose)
    await check_a_stream_implementation(verbose)


if __name__ == "__main__":
    for seed in range(3):  # the same result under several scheduling orders
        nursery.run(main, seed == 0, random_seed=seed)
